package privacy

import (
	"fmt"
	"math"
	"testing"
)

// TestStepPolynomial checks the composite step polynomials in
// exact-enough arithmetic over the whole range of similarities: within
// 2^-23 of the step outside the margin (the generators reported 2^-24.0
// for the symmetric composite and at most 2^-24 for the lopsided ones),
// within [0, 1] (up to 2^-23) inside it, and of the depth the modulus chain
// provides: 11 for the symmetric composite, 9 for a lopsided one.
func TestStepPolynomial(t *testing.T) {
	check := func(t *testing.T, th float64, dim, depth int) {
		if d := signDepth(th, dim); d != depth {
			t.Fatalf("depth %d, want %d", d, depth)
		}
		p, err := NewParams(12, dim, th)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.probeLevel(); got != depth+1 {
			t.Fatalf("probe level %d, want %d", got, depth+1)
		}
		var worst float64
		const n = 400000
		for i := 0; i <= n; i++ {
			x := -simMax + 2*simMax*float64(i)/n
			s := stepPlain(th, dim, x)
			if math.Abs(x-th) < p.Margin() {
				if s < -math.Exp2(-23) || s > 1+math.Exp2(-23) {
					t.Fatalf("step(%.6f) = %.6f outside [0, 1]", x, s)
				}
				continue
			}
			want := 0.0
			if x > th {
				want = 1
			}
			worst = max(worst, math.Abs(s-want))
		}
		if worst > math.Exp2(-23) {
			t.Fatalf("largest error outside the margin 2^%.1f", math.Log2(worst))
		}
		t.Logf("largest error outside the margin 2^%.1f", math.Log2(worst))
	}
	t.Run("symmetric", func(t *testing.T) { check(t, 0.35, 64, 11) })
	// Dimensions above lopsidedMaxDim fall back to the symmetric composite.
	t.Run("wide", func(t *testing.T) { check(t, 0.87, 256, 11) })
	if len(stepTable) == 0 {
		t.Fatal("no lopsided composites")
	}
	for h := range stepTable {
		th := float64(h) / 100
		t.Run(fmt.Sprintf("lopsided%d", h), func(t *testing.T) { check(t, th, 64, 9) })
	}
}
