// Package pipelinetest loads the face pipeline for tests, or stops the test
// through testneed when the model weights are not installed.
package pipelinetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/ebsp/ebsp/face/models"
	"github.com/ebsp/ebsp/face/pipeline"
	"github.com/ebsp/ebsp/internal/testneed"
)

var (
	once sync.Once
	p    *pipeline.Pipeline
	err  error
)

// Load returns the pipeline with the models of models.DefaultDir (./test.sh
// sets EBSP_MODELS_DIR and fetches them), loaded once per test binary.
//
// Under -race, which makes the networks' Go loops tens of times slower, it
// skips: ./test.sh runs the face packages a second time without it.
func Load(t testing.TB) *pipeline.Pipeline {
	t.Helper()
	if underRace {
		t.Skip("face pipeline tests run without -race (./test.sh's second pass)")
	}
	once.Do(func() { p, err = pipeline.Load(models.DefaultDir()) })
	if errors.Is(err, models.ErrMissing) {
		testneed.Missing(t, "face model weights: %v (./test.sh does this)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}
