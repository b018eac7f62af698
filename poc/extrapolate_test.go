package poc

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gammaTail is P(X_1+...+X_n >= t) for independent standard exponentials.
func gammaTail(n int, t float64) float64 {
	sum, term := 0.0, 1.0
	for k := 0; k < n; k++ {
		if k > 0 {
			term *= t / float64(k)
		}
		sum += term
	}
	return math.Exp(-t) * sum
}

// exponentialScores stands in for a matcher whose impostor scores are
// standard exponential, so the fused tails are known exactly.
func exponentialScores(n int, seed uint64) *Scores {
	r := rand.New(rand.NewPCG(seed, 1))
	sc := &Scores{Impostor: make([]float64, n), Genuine: make([]float64, 2000)}
	for i := range sc.Impostor {
		sc.Impostor[i] = r.ExpFloat64()
	}
	for i := range sc.Genuine {
		sc.Genuine[i] = 30 + 3*r.NormFloat64()
	}
	return sc
}

func TestThresholdForFMR(t *testing.T) {
	sc := exponentialScores(100_000, 1)
	th, err := ThresholdForFMR(sc.Impostor, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, s := range sc.Impostor {
		if s >= th {
			k++
		}
	}
	if k > 100 || k < 95 {
		t.Errorf("%d of 100,000 scores at or above the threshold for FMR 1e-3: want 100 or just under", k)
	}
	if _, err := ThresholdForFMR(sc.Impostor, 1e-6); err == nil {
		t.Error("FMR 1e-6 from 100,000 scores: no error")
	}
}

func TestEstimateTailCoversTruth(t *testing.T) {
	sc := exponentialScores(200_000, 2)
	t1 := -math.Log(1e-3) // true single-finger FMR 1e-3
	for _, n := range []int{1, 2, 4, 10} {
		e, err := EstimateTail(sc, n, t1*math.Sqrt(float64(n)), 0.95)
		if err != nil {
			t.Fatal(err)
		}
		truth := gammaTail(n, t1*math.Sqrt(float64(n)))
		t.Logf("n=%d: truth %.3g, estimate %.3g [%.3g, %.3g], observed %d/%d", n, truth, e.FMR, e.Low, e.High, e.Observed, e.Tuples)
		if !(e.Low <= truth && truth <= e.High) {
			t.Errorf("n=%d: true FMR %.3g outside the stated bounds [%.3g, %.3g]", n, truth, e.Low, e.High)
		}
		if !(e.Low <= e.FMR && e.FMR <= e.High) {
			t.Errorf("n=%d: estimate %.3g outside its own bounds [%.3g, %.3g]", n, e.FMR, e.Low, e.High)
		}
		if math.Abs(e.FMR-truth) > 0.25*truth {
			t.Errorf("n=%d: estimate %.3g more than 25%% from the truth %.3g", n, e.FMR, truth)
		}
		if e.FNMR > 0.01 {
			t.Errorf("n=%d: FNMR %.3g for genuine scores far above the threshold", n, e.FNMR)
		}
	}
}

func TestEstimateTailBelowResolution(t *testing.T) {
	sc := exponentialScores(10_000, 3)
	// A threshold above every impostor score: nothing observed, the upper
	// bound is the resolution of the sample, not zero.
	e, err := EstimateTail(sc, 1, 20, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if !e.BelowResolution || e.FMR != 0 || e.High < 3e-4 || e.High > 4e-4 {
		t.Errorf("no exceedance in 10,000: below_resolution %v, FMR %g, high %g: want true, 0, about 3.7e-4", e.BelowResolution, e.FMR, e.High)
	}
	e10, err := EstimateTail(sc, 10, 20*math.Sqrt(10), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if e10.High <= 0 {
		t.Errorf("10 fingers, far tail: upper bound %g: want the unseen tail to count", e10.High)
	}
}
