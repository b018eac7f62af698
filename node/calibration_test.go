package node

import (
	"flag"
	"math"
	"testing"
)

var tailFingers = flag.Int("tail-fingers", 0, "fingers for TestFingerTail (0: a small default)")

// TestFingerTail measures the fingerprint matcher's impostor tail on fresh
// synthetic fingers and checks the engine's constants against it: the mean,
// and each point the measurement resolves, within the sampling error of
// that many comparisons. With -v it prints the measured tail, which is how
// the constants were made (-tail-fingers 1000).
func TestFingerTail(t *testing.T) {
	n := *tailFingers
	if n == 0 {
		n = 160
		if raceEnabled {
			n = 60
		}
	}
	got, gen := MeasureFingerTail(7, n)
	t.Logf("%d fingers, %d impostor comparisons: mean %.5f", n, n*(n-1), got.Mean)
	for _, p := range got.Points {
		t.Logf("{Score: %.5f, FMR: %g},", p.Score, p.FMR)
	}
	want := FingerEngine{}.Tail()
	if d := math.Abs(got.Mean - want.Mean); d > 0.002 {
		t.Errorf("impostor mean %.5f, engine says %.5f", got.Mean, want.Mean)
	}
	for _, p := range got.Points {
		// A tail point from k = FMR·N comparisons is uncertain by about
		// 1/√k in FMR, i.e. a fraction of the score step per decade.
		if d := math.Abs(p.Score - want.ScoreAt(p.FMR)); d > 0.003 {
			t.Errorf("at FMR %g: measured %.5f, engine says %.5f", p.FMR, p.Score, want.ScoreAt(p.FMR))
		}
	}
	// The thresholds a 1000-identity gallery gets still find nearly every
	// genuine pair of the same fingers.
	hit := want.ScoreAt(1e-3 / 1000)
	found := 0
	for _, s := range gen {
		if s >= hit {
			found++
		}
	}
	if f := float64(found) / float64(len(gen)); f < 0.85 {
		t.Errorf("only %.3f of genuine scores reach the hit threshold %.4f of a 1000-identity gallery", f, hit)
	}
}

func TestTailScoreAt(t *testing.T) {
	tl := Tail{Points: []TailPoint{{Score: 1, FMR: 1e-1}, {Score: 2, FMR: 1e-2}, {Score: 3, FMR: 1e-3}}}
	for _, c := range []struct{ fmr, want float64 }{{0.5, 1}, {1e-1, 1}, {math.Sqrt(1e-3), 1.5}, {1e-3, 3}, {1e-5, 5}} {
		if got := tl.ScoreAt(c.fmr); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("ScoreAt(%g) = %v, want %v", c.fmr, got, c.want)
		}
	}
	g := gaussianTail(0, 1)
	if s := g.ScoreAt(1e-3); math.Abs(s-3.0902) > 1e-3 {
		t.Errorf("gaussian tail at 1e-3: %v, want 3.0902", s)
	}
}
