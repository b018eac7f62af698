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
func Load(t testing.TB) *pipeline.Pipeline {
	t.Helper()
	once.Do(func() { p, err = pipeline.Load(models.DefaultDir()) })
	if errors.Is(err, models.ErrMissing) {
		testneed.Missing(t, "face model weights: %v (./test.sh does this)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// SkipUnderRace skips a test that runs many photos through the pipeline when
// -race is on, which makes the networks' Go loops many times slower:
// ./test.sh runs the face packages a second time without it.
func SkipUnderRace(t testing.TB) {
	t.Helper()
	if underRace {
		t.Skip("runs without -race (./test.sh's second pass)")
	}
}
