package fingerprint

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestEmitWindowPOPCNT checks the assembly similarity loop against the Go
// loops it replaces (mccDiffBits, mccEmit), bit for bit, on random
// cylinders: sparse and dense ones, identical ones (similarity 1),
// unusable gallery cylinders, and windows of every length.
func TestEmitWindowPOPCNT(t *testing.T) {
	if !usePOPCNT {
		t.Skip("no POPCNT: the Go loops are the only path")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(density float64) uint64 {
		var w uint64
		for b := 0; b < 64; b++ {
			if rng.Float64() < density {
				w |= 1 << b
			}
		}
		return w
	}
	for round := 0; round < 2000; round++ {
		n := 1 + rng.IntN(mccMaxMinutiae)
		density := rng.Float64()
		g := make([]uint64, n*mccStrideConst)
		norms := make([]mccNorm, n)
		for j := 0; j < n; j++ {
			ones := 0
			for w := 0; w < mccWordsConst; w++ {
				g[j*mccStrideConst+w] = word(density)
				if w == mccWordsConst-1 {
					// Only the low bits of the last word are content.
					g[j*mccStrideConst+w] &= 1<<(mccGeo.cells*mccNd-64*(mccWordsConst-1)) - 1
				}
				ones += bits.OnesCount64(g[j*mccStrideConst+w])
			}
			g[j*mccStrideConst+mccWordsConst] = rng.Uint64() // cell masks: ignored
			norms[j] = mccNorm{float32(math.Sqrt(float64(ones))), float32(rng.IntN(4) / 3)}
		}
		var a [mccStrideConst]uint64
		src := rng.IntN(n)
		copy(a[:], g[src*mccStrideConst:])
		if rng.IntN(3) == 0 {
			for w := 0; w < mccWordsConst; w++ {
				a[w] ^= word(0.05)
			}
			a[mccWordsConst-1] &= 1<<(mccGeo.cells*mccNd-64*(mccWordsConst-1)) - 1
		}
		ones := 0
		for w := 0; w < mccWordsConst; w++ {
			ones += bits.OnesCount64(a[w])
		}
		if ones == 0 {
			continue // not a usable probe cylinder
		}
		normA := float32(math.Sqrt(float64(ones)))
		lo := rng.IntN(n)
		hi := lo + 1 + rng.IntN(n-lo)
		i := uint32(rng.IntN(mccMaxMinutiae))

		var want, got [mccMaxMinutiae * mccMaxMinutiae]mccCand
		var px [64]uint16
		cand := mccIndices[lo:hi]
		mccDiffBits(&a, g, cand, &px)
		nw := mccEmit(normA, i, norms, cand, &px, &want, 0)
		ng := mccEmitWindowPOPCNT(&a, &g[lo*mccStrideConst], &norms[lo], &mccSqrt[0], normA, i|uint32(lo)<<8, hi-lo, &got[0])
		if ng != nw {
			t.Fatalf("round %d: %d candidates kept, Go loops keep %d", round, ng, nw)
		}
		for k := 0; k < nw; k++ {
			if got[k].key != want[k].key || math.Float32bits(got[k].sim) != math.Float32bits(want[k].sim) {
				t.Fatalf("round %d, candidate %d: %08x %v, Go loops %08x %v", round, k, got[k].key, got[k].sim, want[k].key, want[k].sim)
			}
		}
	}
}
