package eval

import (
	"math"
	"testing"
)

func TestBinomialSF(t *testing.T) {
	for _, tc := range []struct {
		k, n int64
		p    float64
		want float64
	}{
		{3, 10, 0.5, 968.0 / 1024},
		{0, 10, 0.3, 1},
		{11, 10, 0.3, 0},
		{1, 5, 0.2, 1 - math.Pow(0.8, 5)},
		{10, 10, 0.9, math.Pow(0.9, 10)},
		{1, 10_000_000, 1e-7, -math.Expm1(1e7 * math.Log1p(-1e-7))},
	} {
		// lgamma differences lose about 1e-8 relative precision at n = 1e7,
		// far below any uncertainty this package reports.
		if got := binomialSF(tc.k, tc.n, tc.p); math.Abs(got-tc.want) > 1e-7*math.Max(1, tc.want) {
			t.Errorf("P(K >= %d | n=%d, p=%g) = %.12g: want %.12g", tc.k, tc.n, tc.p, got, tc.want)
		}
	}
}

func TestClopperPearson(t *testing.T) {
	// Reference values from the definition: k=5, n=10 at 95% is
	// [0.187086, 0.812914]; k=0, n=10 has upper bound 1-0.025^(1/10).
	for _, tc := range []struct {
		k, n   int64
		lo, hi float64
	}{
		{5, 10, 0.1870860, 0.8129140},
		{0, 10, 0, 1 - math.Pow(0.025, 0.1)},
		{10, 10, math.Pow(0.025, 0.1), 1},
		{0, 1_000_000, 0, 3.6889e-6},
	} {
		lo, hi := ClopperPearson(tc.k, tc.n, 0.95)
		if math.Abs(lo-tc.lo) > 1e-6*math.Max(tc.lo, 1e-3) || math.Abs(hi-tc.hi) > 1e-4*tc.hi {
			t.Errorf("CP(%d/%d) = [%.7g, %.7g]: want [%.7g, %.7g]", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
	// Coverage by construction: at the bounds the tail probabilities are α/2.
	lo, hi := ClopperPearson(7, 1000, 0.95)
	if p := binomialSF(7, 1000, lo); math.Abs(p-0.025) > 1e-6 {
		t.Errorf("P(K >= 7 | lo) = %g: want 0.025", p)
	}
	if p := binomialCDF(7, 1000, hi); math.Abs(p-0.025) > 1e-6 {
		t.Errorf("P(K <= 7 | hi) = %g: want 0.025", p)
	}
}

func TestBinomialQuantile(t *testing.T) {
	if q := BinomialQuantile(0.5, 100, 0.5); q != 50 {
		t.Errorf("median of Bin(100, .5) = %d: want 50", q)
	}
	// Bin(1e7, 1e-5): mean 100, sd 10.
	lo, hi := BinomialQuantile(0.025, 10_000_000, 1e-5), BinomialQuantile(0.975, 10_000_000, 1e-5)
	if lo < 78 || lo > 82 || hi < 118 || hi > 122 {
		t.Errorf("95%% range of Bin(1e7, 1e-5) = [%d, %d]: want about [80, 120]", lo, hi)
	}
}
