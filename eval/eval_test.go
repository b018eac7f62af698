package eval

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// Four genuine and four impostor scores, worked by hand:
//
//	genuine  0.2 0.6 0.7 0.9
//	impostor 0.1 0.3 0.4 0.8
//
//	t     FMR   FNMR
//	0.1   4/4   0/4
//	0.2   3/4   0/4
//	0.3   3/4   1/4
//	0.4   2/4   1/4
//	0.6   1/4   1/4   <- FMR = FNMR: EER 0.25
//	0.7   1/4   2/4
//	0.8   1/4   3/4
//	0.9   0/4   3/4
//	+Inf  0/4   4/4
func TestHandWorked(t *testing.T) {
	gen := []float64{0.7, 0.2, 0.9, 0.6}
	imp := []float64{0.4, 0.1, 0.8, 0.3}
	pts, err := DET(gen, imp)
	if err != nil {
		t.Fatal(err)
	}
	want := []DETPoint{
		{0.1, 1, 0}, {0.2, 0.75, 0}, {0.3, 0.75, 0.25}, {0.4, 0.5, 0.25}, {0.6, 0.25, 0.25},
		{0.7, 0.25, 0.5}, {0.8, 0.25, 0.75}, {0.9, 0, 0.75}, {math.Inf(1), 0, 1},
	}
	if len(pts) != len(want) {
		t.Fatalf("DET = %v\nwant %v", pts, want)
	}
	for i := range want {
		if pts[i] != want[i] {
			t.Errorf("point %d = %+v, want %+v", i, pts[i], want[i])
		}
	}
	if e, _ := EER(gen, imp); !near(e, 0.25) {
		t.Errorf("EER = %v, want 0.25", e)
	}
	// FMR ≤ 0.25 first at t = 0.6 (FNMR 0.25).
	if f, th, _ := FNMRAtFMR(gen, imp, 0.25); !near(f, 0.25) || th != 0.6 {
		t.Errorf("FNMR@FMR 0.25 = %v at %v, want 0.25 at 0.6", f, th)
	}
	// FMR ≤ 0.1 only at 0.9 and beyond: FNMR 0.75.
	if f, th, _ := FNMRAtFMR(gen, imp, 0.1); !near(f, 0.75) || th != 0.9 {
		t.Errorf("FNMR@FMR 0.1 = %v at %v, want 0.75 at 0.9", f, th)
	}
}

// Without a threshold where the rates are equal, the EER is the middle of
// FVC's [EERlow, EERhigh]:
//
//	genuine  0.5 0.9     impostor 0.1 0.6 0.7
//	t=0.5: FMR 2/3 FNMR 0    t=0.6: FMR 2/3 FNMR 1/2   t=0.7: FMR 1/3 FNMR 1/2
//	t1 = 0.6 (last FNMR ≤ FMR), t2 = 0.7 (first FNMR ≥ FMR)
//	sum at t1 = 7/6 > sum at t2 = 5/6, so [EERlow, EERhigh] = [FMR(t2), FNMR(t2)]
//	= [1/3, 1/2], EER = 5/12.
func TestEERInterval(t *testing.T) {
	e, err := EER([]float64{0.9, 0.5}, []float64{0.1, 0.6, 0.7})
	if err != nil {
		t.Fatal(err)
	}
	if !near(e, 5.0/12) {
		t.Errorf("EER = %v, want 5/12", e)
	}
}

func TestSeparated(t *testing.T) {
	gen := []float64{0.8, 0.9, 0.95}
	imp := []float64{0.1, 0.2, 0.3, 0.4}
	if e, _ := EER(gen, imp); e != 0 {
		t.Errorf("EER = %v, want 0", e)
	}
	if f, _, _ := FNMRAtFMR(gen, imp, 0); f != 0 {
		t.Errorf("FNMR@FMR0 = %v, want 0", f)
	}
}

func TestAllTied(t *testing.T) {
	// Every score equal: at t = s all is accepted (FMR 1, FNMR 0), above
	// nothing is (FMR 0, FNMR 1); t1 = s, t2 = +Inf, sums equal, so the
	// interval is [FNMR(t1), FMR(t1)] = [0, 1] and EER = 0.5.
	s := []float64{0.5, 0.5}
	if e, _ := EER(s, s); !near(e, 0.5) {
		t.Errorf("EER = %v, want 0.5", e)
	}
}

func TestEmpty(t *testing.T) {
	if _, err := EER(nil, []float64{1}); err != ErrNoScores {
		t.Errorf("err = %v", err)
	}
	if _, _, err := FNMRAtFMR([]float64{1}, nil, 0.1); err != ErrNoScores {
		t.Errorf("err = %v", err)
	}
}
