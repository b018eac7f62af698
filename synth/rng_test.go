package synth

import (
	"hash/fnv"
	"math"
	"testing"
)

// TestDeriveSeedFNV checks the written-out FNV-1a of deriveSeed against
// hash/fnv, so that every stream stays what it was.
func TestDeriveSeedFNV(t *testing.T) {
	for _, domain := range []string{"", "finger-master", "finger-impression-minutiae", "face\x00\xff"} {
		h := fnv.New64a()
		h.Write([]byte(domain))
		want := mix64(mix64(5^h.Sum64()) ^ mix64(9+0x632be59bd9b4e019))
		if got := deriveSeed(5, domain, 9); got != want {
			t.Errorf("deriveSeed(5, %q, 9) = %x, want %x", domain, got, want)
		}
	}
}

// TestSplitMixVariates checks the uniform, integer and normal variates of
// splitMix against their distributions: moments, and for the normal the
// fraction beyond several points of its tail against the normal CDF (the
// ziggurat's base strip, wedges and tail each have their own code path).
func TestSplitMixVariates(t *testing.T) {
	g := newSplitMix(1, "test")
	const n = 2_000_000
	var s1, s2, s4 float64
	beyond := []float64{0.5, 1, 2, 3, 3.442619855899, 4}
	count := make([]int, len(beyond))
	var u1 float64
	var ints [7]int
	for range n {
		z := g.NormFloat64()
		s1 += z
		s2 += z * z
		s4 += z * z * z * z
		for i, b := range beyond {
			if math.Abs(z) > b {
				count[i]++
			}
		}
		u := g.Float64()
		if u < 0 || u >= 1 {
			t.Fatalf("Float64 gave %v", u)
		}
		u1 += u
		ints[g.IntN(7)]++
	}
	mean, vr := s1/n, s2/n-(s1/n)*(s1/n)
	if math.Abs(mean) > 0.004 || math.Abs(vr-1) > 0.005 || math.Abs(s4/n-3) > 0.03 {
		t.Errorf("normal: mean %.4f variance %.4f fourth moment %.4f, want 0, 1, 3", mean, vr, s4/n)
	}
	for i, b := range beyond {
		want := math.Erfc(b / math.Sqrt2)
		got := float64(count[i]) / n
		// Binomial standard error, 5 sd.
		if se := math.Sqrt(want * (1 - want) / n); math.Abs(got-want) > 5*se+1e-7 {
			t.Errorf("normal: P(|z| > %.3f) = %.6f, want %.6f", b, got, want)
		}
	}
	if m := u1 / n; math.Abs(m-0.5) > 0.002 {
		t.Errorf("Float64 mean %.4f", m)
	}
	for k, c := range ints {
		if math.Abs(float64(c)/n-1.0/7) > 0.002 {
			t.Errorf("IntN(7) gave %d %d times in %d", k, c, n)
		}
	}
}
