package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalTail pools two score files with known impostor scores and checks
// the measured tail, the file written for a node's configuration, and that
// the built-in threshold's FPIR on these (heavier) impostors is reported
// above the target.
func TestEvalTail(t *testing.T) {
	dir := t.TempDir()
	// 2 × 500 impostor scores 0.000, 0.001, ..., 0.999 between them, and
	// genuine rows that must be left out.
	for f := range 2 {
		var b strings.Builder
		b.WriteString("probe,gallery,kind,std,score\n")
		for i := f; i < 1000; i += 2 {
			fmt.Fprintf(&b, "1_%d.tif,2_1.tif,impostor,false,%g\n", i, float64(i)/1000)
			fmt.Fprintf(&b, "1_%d.tif,1_2.tif,genuine,false,0.5\n", i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%d.csv", f)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "tail.json")
	text, rc := captureStdout(t, func() int {
		return runEval([]string{"tail", "--scores", filepath.Join(dir, "s0.csv"), "--scores", filepath.Join(dir, "s1.csv"), "--json", "--out", out})
	})
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, text)
	}
	var res struct {
		Impostors int `json:"impostor_comparisons"`
		Measured  struct {
			Mean   float64 `json:"mean"`
			Points []struct{ Score, FMR float64 }
		} `json:"measured"`
		Sizes []struct {
			FPIR float64 `json:"fpir_of_builtin_threshold"`
		} `json:"sizes"`
	}
	if err := json.Unmarshal([]byte(text), &res); err != nil {
		t.Fatalf("%v: %s", err, text)
	}
	// 1000 scores resolve FMR 1e-1 (the 100th highest, 0.900) and 1e-2
	// (the 10th highest, 0.990).
	if res.Impostors != 1000 || math.Abs(res.Measured.Mean-0.4995) > 1e-9 || len(res.Measured.Points) != 2 ||
		res.Measured.Points[0].Score != 0.9 || res.Measured.Points[1].Score != 0.99 {
		t.Fatalf("measured %+v from %d impostors", res.Measured, res.Impostors)
	}
	if len(res.Sizes) == 0 || res.Sizes[0].FPIR != 1 {
		t.Fatalf("built-in threshold on these impostors: %+v, want FPIR 1", res.Sizes)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), `"points"`) {
		t.Fatalf("--out file: %v %s", err, b)
	}
	// A file that is not a score file is refused, naming it.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b,c,d,e\n"), 0o644)
	if _, rc := captureStdout(t, func() int { return runEval([]string{"tail", "--scores", bad}) }); rc != 1 {
		t.Fatalf("bad header: exit %d, want 1", rc)
	}
}
