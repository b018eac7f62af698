package node

import (
	"flag"
	"math"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
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

// TestTailFMRAt checks that FMRAt inverts ScoreAt, inside the measured
// points and on the extrapolated tail.
func TestTailFMRAt(t *testing.T) {
	tl := FingerEngine{}.Tail()
	for _, f := range []float64{0.05, 1e-2, 3e-4, 1e-6, 1e-9} {
		if got := tl.FMRAt(tl.ScoreAt(f)); math.Abs(math.Log10(got)-math.Log10(f)) > 1e-9 {
			t.Errorf("FMRAt(ScoreAt(%g)) = %g", f, got)
		}
	}
	if got := tl.FMRAt(0); got != tl.Points[0].FMR {
		t.Errorf("FMRAt(0) = %g, want the first point's FMR", got)
	}
}

// TestConfiguredTail gives a node a measured impostor tail: its thresholds
// follow that tail, not the engine's, and a malformed tail is refused with
// the field named.
func TestConfiguredTail(t *testing.T) {
	heavy := Tail{Mean: 0.06, Points: []TailPoint{{Score: 0.074, FMR: 1e-1}, {Score: 0.102, FMR: 1e-2}, {Score: 0.131, FMR: 1e-3}}}
	tn := newTestNode(t, func(c *Config) { c.ImpostorTails = map[biometric.Modality]Tail{biometric.Finger: heavy} })
	enrolPeople(t, tn, 10)
	pol := tn.policy(biometric.Finger)
	want := heavy.ScoreAt(tn.cfg.FPIRHit / 10)
	if math.Abs(pol.Hit-want) > 1e-12 || pol.Mean != heavy.Mean {
		t.Fatalf("hit threshold %v, mean %v; want %v and %v from the configured tail", pol.Hit, pol.Mean, want, heavy.Mean)
	}
	if def := (FingerEngine{}).Tail().ScoreAt(tn.cfg.FPIRHit / 10); pol.Hit <= def {
		t.Fatalf("configured heavier tail gives hit %v, not above the built-in %v", pol.Hit, def)
	}
	for _, bad := range []Tail{
		{},
		{Points: []TailPoint{{Score: 0.1, FMR: 1e-2}, {Score: 0.2, FMR: 1e-1}}},
		{Points: []TailPoint{{Score: 0.2, FMR: 1e-1}, {Score: 0.1, FMR: 1e-2}}},
		{Points: []TailPoint{{Score: math.NaN(), FMR: 1e-1}}},
	} {
		c := &Config{ImpostorTails: map[biometric.Modality]Tail{biometric.Finger: bad}}
		c.Defaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "impostor_tails.finger") {
			t.Errorf("tail %+v: Validate said %v", bad, err)
		}
	}
}
