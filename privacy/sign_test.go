package privacy

import (
	"math"
	"testing"
)

// TestStepPolynomial checks the composite step polynomial in exact-enough
// arithmetic: within 2^-23 of the step wherever |z| ≥ 2^-5 (the generator
// reported 2^-24.0), bounded in [0, 1] in between, and of depth 11.
func TestStepPolynomial(t *testing.T) {
	if d := signDepth(); d != 11 {
		t.Fatalf("depth %d, want 11", d)
	}
	alpha := math.Exp2(-signLogAlpha)
	var worst float64
	for i := 0; i <= 200000; i++ {
		z := -1 + 2*float64(i)/200000
		s := stepPlain(z)
		if math.Abs(z) < alpha {
			if s < -1e-9 || s > 1+1e-9 {
				t.Fatalf("step(%.6f) = %.6f outside [0, 1]", z, s)
			}
			continue
		}
		want := 0.0
		if z > 0 {
			want = 1
		}
		worst = max(worst, math.Abs(s-want))
	}
	if worst > math.Exp2(-23) {
		t.Fatalf("largest error outside the margin 2^%.1f", math.Log2(worst))
	}
	t.Logf("largest error outside the margin 2^%.1f", math.Log2(worst))
}
