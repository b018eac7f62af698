package fingerprint

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestExKth compares the radix selection with a sort, on random
// non-negative values with many ties, zeros and infinities.
func TestExKth(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	for trial := 0; trial < 300; trial++ {
		n := 1 + rng.IntN(3000)
		v := make([]float32, n)
		for i := range v {
			switch rng.IntN(6) {
			case 0:
				v[i] = 0
			case 1:
				v[i] = float32(rng.IntN(5)) // ties
			case 2:
				v[i] = float32(math.Inf(1))
			case 3:
				v[i] = math.Float32frombits(rng.Uint32N(1 << 23)) // subnormal
			default:
				v[i] = rng.Float32() * float32(math.Pow(10, float64(rng.IntN(12)-6)))
			}
		}
		orig := slices.Clone(v)
		sorted := slices.Clone(v)
		slices.Sort(sorted)
		for _, k := range []int{0, n / 2, n * 9 / 10, n - 1, rng.IntN(n)} {
			if got := exKth(v, k); math.Float32bits(got) != math.Float32bits(sorted[k]) {
				t.Fatalf("n %d, k %d: %v, sorted %v", n, k, got, sorted[k])
			}
		}
		if !slices.Equal(v, orig) {
			t.Fatal("exKth changed its input")
		}
	}
}
