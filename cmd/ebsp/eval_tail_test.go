package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/engine"
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

// TestFVCFingerTailReproduced runs the commands engine.FVCFingerTail's
// comment gives, on the five shared FVC sets, and checks every point of the
// node's default fingerprint tail against what they print: the measured
// points and the extrapolated ones down to FMR 1e-12 (Fit is
// deterministic), so that a matcher or extractor change that moves the
// real-image tail cannot leave the default behind unnoticed.
func TestFVCFingerTailReproduced(t *testing.T) {
	if underRace {
		t.Skip("extracting 400 images under -race takes minutes: test.sh runs cmd/ebsp again without it")
	}
	dir := t.TempDir()
	pooled := filepath.Join(dir, "pooled.csv")
	run := append([]string{"fingerprint", "--json", "--scores", pooled, "--same-finger", fvcSameFinger}, fvcSetArgs(t)...)
	if text, rc := captureStdout(t, func() int { return runEval(run) }); rc != 0 {
		t.Fatalf("eval fingerprint: exit %d: %s", rc, text)
	}
	args := []string{"tail", "--fit", "--source", "fvc-real", "--json", "--out", filepath.Join(dir, "tail.json"), "--scores", pooled}
	if text, rc := captureStdout(t, func() int { return runEval(args) }); rc != 0 {
		t.Fatalf("eval tail: exit %d: %s", rc, text)
	}
	b, err := os.ReadFile(filepath.Join(dir, "tail.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got engine.Tail
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := engine.FVCFingerTail
	if got.Comparisons != want.Comparisons || got.MeasuredFMR != want.MeasuredFMR || got.Source != want.Source || got.ScoreScale != want.ScoreScale ||
		len(got.Points) != len(want.Points) || math.Abs(got.Mean-want.Mean) > 1e-5 {
		t.Fatalf("measured %d comparisons to FMR %g (%s, scale %q), %d points, mean %.5f; engine.FVCFingerTail says %d, %g (%s, %q), %d, %.5f",
			got.Comparisons, got.MeasuredFMR, got.Source, got.ScoreScale, len(got.Points), got.Mean, want.Comparisons, want.MeasuredFMR, want.Source, want.ScoreScale, len(want.Points), want.Mean)
	}
	for i, p := range got.Points {
		// The constants are the measured scores rounded up to 5 decimals.
		if w := want.Points[i]; w.FMR != p.FMR && math.Abs(w.FMR-p.FMR) > 1e-9*w.FMR || w.Score < p.Score || w.Score-p.Score > 1e-5 {
			t.Errorf("FMR %g: measured %.6f, engine.FVCFingerTail says %.5f at %g", p.FMR, p.Score, w.Score, w.FMR)
		}
	}
}

// fvcSameFinger names one finger that is in four of the five shared FVC
// sets under four names (most likely one volunteer who gave prints to both
// collections, on four sensors): TestFVCSameFinger shows why. Its pairs
// across sets are mates, so the pooled impostor sample of
// engine.FVCFingerTail leaves them out.
const fvcSameFinger = "fvc2002_DB1_B/109,fvc2002_DB2_B/110,fvc2002_DB3_B/108,fvc2004_DB3_B/102"

// TestFVCSameFinger scores every pair of impressions across the five
// shared FVC sets and checks the evidence for fvcSameFinger: of the 1,000
// pairs of fingers of two different sets, the three whose 64 impression
// pairs have the highest median score are links between its names, each
// above every pair of different fingers within a set (225), where
// unrelated fingers' medians lie.
func TestFVCSameFinger(t *testing.T) {
	if underRace {
		t.Skip("extracting 400 images under -race takes minutes: test.sh runs cmd/ebsp again without it")
	}
	csvPath := filepath.Join(t.TempDir(), "all.csv")
	run := append([]string{"fingerprint", "--json", "--scores", csvPath}, fvcSetArgs(t)...)
	if text, rc := captureStdout(t, func() int { return runEval(run) }); rc != 0 {
		t.Fatalf("eval fingerprint: exit %d: %s", rc, text)
	}
	// The finger of "SET/FINGER_IMPRESSION.tif" is "SET/FINGER".
	finger := func(name string) string { return name[:strings.LastIndex(name, "_")] }
	scores := map[[2]string][]float64{}
	err := readScoreRows(csvPath, func(probe, gallery, kind string, score float64) {
		if kind == "impostor" {
			k := [2]string{finger(probe), finger(gallery)}
			scores[k] = append(scores[k], score)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	type pair struct {
		fingers [2]string
		median  float64
	}
	var across []pair
	within := 0.0
	for k, v := range scores {
		slices.Sort(v)
		med := (v[(len(v)-1)/2] + v[len(v)/2]) / 2
		if path.Dir(k[0]) == path.Dir(k[1]) {
			within = max(within, med)
			continue
		}
		across = append(across, pair{k, med})
	}
	slices.SortFunc(across, func(a, b pair) int { return cmp.Compare(b.median, a.median) })
	if len(across) != 1000 {
		t.Fatalf("%d pairs of fingers across sets, want 1,000", len(across))
	}
	same := strings.Split(fvcSameFinger, ",")
	for _, p := range across[:3] {
		if !slices.Contains(same, p.fingers[0]) || !slices.Contains(same, p.fingers[1]) || p.median <= within {
			t.Errorf("fingers %v: median score %.3f across sets (highest within a set %.3f); want the top three to link names of %s",
				p.fingers, p.median, within, fvcSameFinger)
		}
	}
	t.Logf("top medians across sets: %v %.3f, %v %.3f, %v %.3f, then %v %.3f; highest within a set %.3f",
		across[0].fingers, across[0].median, across[1].fingers, across[1].median, across[2].fingers, across[2].median,
		across[3].fingers, across[3].median, within)
}
