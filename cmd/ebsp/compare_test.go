package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// TestCompareCommand runs `ebsp compare --pairs` on FVC2002 DB1: an
// impression against another of its finger and against another finger.
// The genuine pair scores higher, with relaxed pairs and a verification
// term that the score holds; the text form says what the term is; an
// unreadable file is reported and the exit code is 1.
func TestCompareCommand(t *testing.T) {
	d := shareddata.Dir(t, "fingerprints/fvc2002_DB1_B")
	probe, mate, other := filepath.Join(d, "101_1.tif"), filepath.Join(d, "101_2.tif"), filepath.Join(d, "102_1.tif")
	out, code := captureStdout(t, func() int { return runCompare([]string{"--pairs", "--json", probe, mate, other}) })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var got struct {
		Results []struct {
			File         string            `json:"file"`
			Score        float64           `json:"score"`
			Pairs        []json.RawMessage `json:"pairs"`
			Verification float64           `json:"verification"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Results) != 2 {
		t.Fatalf("%v: %s", err, out)
	}
	g, i := got.Results[0], got.Results[1]
	if g.Score <= i.Score || len(g.Pairs) == 0 {
		t.Errorf("genuine %.4f with %d pairs, impostor %.4f", g.Score, len(g.Pairs), i.Score)
	}
	if g.Verification <= 0 || g.Verification > 1 || g.Score < 0.2*g.Verification {
		t.Errorf("genuine verification term %.3f, score %.4f", g.Verification, g.Score)
	}
	text, code := captureStdout(t, func() int { return runCompare([]string{"--pairs", probe, mate, filepath.Join(d, "none.tif")}) })
	if code != 1 || !strings.Contains(text, "global verification:") || !strings.Contains(text, "probe ") {
		t.Errorf("exit %d, text %q", code, text)
	}
}
