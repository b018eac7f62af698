package privacy

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// TestChebyshevEval evaluates polynomials of every degree the evaluator
// takes (full, odd, with zero coefficients) on encrypted values spread over
// [-1, 1] and compares each slot with Clenshaw's recurrence in float64;
// it also checks the levels consumed (3, or 2 up to degree 3).
func TestChebyshevEval(t *testing.T) {
	p, err := NewParams(12, 64, 0.87)
	if err != nil {
		t.Fatal(err)
	}
	req, resp := testParties(t, p)
	joint := rlwe.NewSecretKey(p.CKKS)
	p.CKKS.RingQP().Add(req.sk.Value, resp.sk.Value, joint.Value)
	ecd := ckks.NewEncoder(p.CKKS)
	r := rand.New(rand.NewPCG(5, 6))
	vals := make([]float64, p.Slots())
	for i := range vals {
		vals[i] = 2*r.Float64() - 1
	}
	vals[0], vals[1], vals[2] = -1, 1, 0
	level := p.probeLevel() - 1
	pt := ckks.NewPlaintext(p.CKKS, level)
	if err := ecd.Encode(vals, pt); err != nil {
		t.Fatal(err)
	}
	x, err := rlwe.NewEncryptor(p.CKKS, joint).EncryptNew(pt)
	if err != nil {
		t.Fatal(err)
	}
	random := func(n int, odd bool) []float64 {
		c := make([]float64, n)
		for k := range c {
			if !odd || k%2 == 1 {
				c[k] = r.Float64() - 0.5
			}
		}
		return c
	}
	cases := map[string][]float64{
		"degree 7":       random(8, false),
		"degree 7, odd":  random(8, true),
		"degree 6":       random(7, false),
		"degree 5, odd":  random(6, true),
		"degree 4":       random(5, false),
		"degree 3":       random(4, false),
		"degree 3, odd":  random(4, true),
		"degree 2":       random(3, false),
		"degree 1":       random(2, false),
		"lopsided first": stepCoeffs(0.87, 64)[0],
		"step last":      stepCoeffs(0.87, 64)[2],
	}
	w := resp.newWorker()
	dec := rlwe.NewDecryptor(p.CKKS, joint)
	got := make([]float64, p.Slots())
	for name, c := range cases {
		out, err := w.chebyshevEval(x.CopyNew(), c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := level - 3
		if len(c) <= 4 {
			want = level - 2
		}
		if out.Level() != want || out.Degree() != 1 {
			t.Fatalf("%s: level %d degree %d, want level %d degree 1", name, out.Level(), out.Degree(), want)
		}
		if err := ecd.Decode(dec.DecryptNew(out), got); err != nil {
			t.Fatal(err)
		}
		var worst float64
		for i, v := range vals {
			worst = max(worst, math.Abs(got[i]-chebyshev(c, v)))
		}
		if worst > 1e-6 {
			t.Errorf("%s: largest error %.3g", name, worst)
		}
		t.Logf("%s: largest error 2^%.1f", name, math.Log2(worst))
	}
	if _, err := w.chebyshevEval(x.CopyNew(), make([]float64, 9)); err == nil {
		t.Error("degree 8 accepted")
	}
}
