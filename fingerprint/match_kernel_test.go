package fingerprint

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
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
	testEmitWindow(t, func(a *[mccStrideConst]uint64, g []uint64, norms []mccNorm, normA float32, i uint32, lo, hi int, out *mccCand) int {
		return mccEmitWindowPOPCNT(a, &g[lo*mccStrideConst], &norms[lo], &mccSqrt[0], normA, i|uint32(lo)<<8, hi-lo, out)
	}, false)
}

// TestEmitWindowAVX512 is TestEmitWindowPOPCNT for the AVX-512 loop, one
// window a call.
func TestEmitWindowAVX512(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 with VPOPCNTDQ on this processor")
	}
	testEmitWindow(t, emitOneJob, true)
}

// emitOneJob calls mccEmitJobsAVX512 for one window, the probe cylinder a
// placed at index i of a probe template.
func emitOneJob(a *[mccStrideConst]uint64, g []uint64, norms []mccNorm, normA float32, i uint32, lo, hi int, out *mccCand) int {
	pbits := make([]uint64, (i+1)*mccStrideConst)
	copy(pbits[i*mccStrideConst:], a[:])
	pnorms := make([]mccNorm, i+1)
	pnorms[i] = mccNorm{normA, 1}
	jobs := []uint32{i | uint32(lo)<<8 | uint32(hi-lo)<<16}
	return mccEmitJobsAVX512(jobs, &pbits[0], &pnorms[0], &g[0], &norms[0], out)
}

// TestEmitJobsAVX512 checks the AVX-512 loop over lists of windows of
// several probe cylinders against the Go loops run window by window.
func TestEmitJobsAVX512(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 with VPOPCNTDQ on this processor")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for round := 0; round < 500; round++ {
		na, nb := 1+rng.IntN(mccCap), 1+rng.IntN(mccCap)
		randomBits := func(n int) ([]uint64, []mccNorm) {
			b := make([]uint64, n*mccStrideConst)
			norms := make([]mccNorm, n)
			density := rng.Float64()
			for j := range n {
				ones := 0
				for w := range mccWordsConst {
					for k := range 64 {
						if rng.Float64() < density && w*64+k < mccGeo.cells*mccNd {
							b[j*mccStrideConst+w] |= 1 << k
						}
					}
					ones += bits.OnesCount64(b[j*mccStrideConst+w])
				}
				b[j*mccStrideConst+mccWordsConst] = rng.Uint64()
				norms[j] = mccNorm{float32(math.Sqrt(float64(ones))), float32(rng.IntN(4) / 3)}
			}
			return b, norms
		}
		pbits, pnorms := randomBits(na)
		gbits, gnorms := randomBits(nb)
		// Some probe cylinders are copies of gallery ones (similarity 1).
		for range rng.IntN(4) {
			i, j := rng.IntN(na), rng.IntN(nb)
			copy(pbits[i*mccStrideConst:(i+1)*mccStrideConst], gbits[j*mccStrideConst:])
			pnorms[i].norm = gnorms[j].norm
		}
		var jobs []uint32
		var want [mccCap * mccCap]mccCand
		nw := 0
		for i := range na {
			if pnorms[i].norm == 0 || rng.IntN(3) == 0 {
				continue // not a usable probe cylinder, or not sure
			}
			for range 1 + rng.IntN(2) {
				lo := rng.IntN(nb)
				hi := lo + 1 + rng.IntN(min(nb-lo, 50))
				jobs = append(jobs, uint32(i)|uint32(lo)<<8|uint32(hi-lo)<<16)
				var px [mccCap]uint16
				a := (*[mccStrideConst]uint64)(pbits[i*mccStrideConst:])
				mccDiffBits(a, gbits, mccIndices[lo:hi], &px)
				nw = mccEmit(pnorms[i].norm, uint32(i), gnorms, mccIndices[lo:hi], &px, &want, nw)
			}
		}
		if len(jobs) == 0 {
			continue
		}
		var got [mccCap * mccCap]mccCand
		ng := mccEmitJobsAVX512(jobs, &pbits[0], &pnorms[0], &gbits[0], &gnorms[0], &got[0])
		if ng != nw {
			t.Fatalf("round %d: %d candidates kept, Go loops keep %d", round, ng, nw)
		}
		for k := range nw {
			if got[k] != want[k] {
				t.Fatalf("round %d, candidate %d: %+v, Go loops %+v", round, k, got[k], want[k])
			}
		}
		if slices.ContainsFunc(got[ng:], func(c mccCand) bool { return c != mccCand{} }) {
			t.Fatalf("round %d: written beyond the %d kept candidates", round, ng)
		}
	}
}

// emitFunc runs a similarity loop for probe cylinder a (probe minutia i,
// norm normA) against gallery cylinders lo to hi−1 of g.
type emitFunc func(a *[mccStrideConst]uint64, g []uint64, norms []mccNorm, normA float32, i uint32, lo, hi int, out *mccCand) int

func testEmitWindow(t *testing.T, emit emitFunc, keptOnly bool) {
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
		if round < mccGeo.cells*mccNd/mccCap+1 {
			sweepEmitWindow(t, emit, round)
			continue
		}
		n := 1 + rng.IntN(mccCap)
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
		i := uint32(rng.IntN(mccCap))

		var want, got [mccCap * mccCap]mccCand
		var px [mccCap]uint16
		cand := mccIndices[lo:hi]
		mccDiffBits(&a, g, cand, &px)
		nw := mccEmit(normA, i, norms, cand, &px, &want, 0)
		ng := emit(&a, g, norms, normA, i, lo, hi, &got[0])
		if ng != nw {
			t.Fatalf("round %d: %d candidates kept, Go loops keep %d", round, ng, nw)
		}
		for k := 0; k < nw; k++ {
			if got[k].key != want[k].key || math.Float32bits(got[k].sim) != math.Float32bits(want[k].sim) {
				t.Fatalf("round %d, candidate %d: %08x %v, Go loops %08x %v", round, k, got[k].key, got[k].sim, want[k].key, want[k].sim)
			}
		}
		// A loop that writes only the kept candidates leaves the rest of
		// the buffer alone.
		if keptOnly && slices.ContainsFunc(got[ng:], func(c mccCand) bool { return c != mccCand{} }) {
			t.Fatalf("round %d: written beyond the %d kept candidates", round, ng)
		}
	}
}

// TestSqrtTable checks that mccSqrt holds the correctly rounded float32
// square root of every count, which is what the AVX-512 loop's VSQRTPS
// computes instead of reading the table: each entry r has x between the
// squares of the midpoints to its float32 neighbours (exact in float64,
// as the midpoints have 25 significant bits).
func TestSqrtTable(t *testing.T) {
	for x, r := range mccSqrt {
		if x == 0 {
			if r != 0 {
				t.Fatalf("sqrt(0) = %v", r)
			}
			continue
		}
		lo := (float64(r) + float64(math.Nextafter32(r, 0))) / 2
		hi := (float64(r) + float64(math.Nextafter32(r, 2*r))) / 2
		if !(lo*lo < float64(x) && float64(x) < hi*hi) {
			t.Fatalf("sqrt(%d) = %v is not the nearest float32", x, r)
		}
	}
}

// sweepEmitWindow checks emit against the Go loops for a probe cylinder
// with every content bit set against gallery cylinders with the first
// j bits set, j from part·mccCap on: together the parts give every count
// of differing bits.
func sweepEmitWindow(t *testing.T, emit emitFunc, part int) {
	bitsIn := mccGeo.cells * mccNd
	set := func(w []uint64, nbits int) {
		for b := 0; b < nbits; b++ {
			w[b/64] |= 1 << (b % 64)
		}
	}
	var a [mccStrideConst]uint64
	set(a[:mccWordsConst], bitsIn)
	normA := float32(math.Sqrt(float64(bitsIn)))
	lo := part * mccCap
	n := min(mccCap, bitsIn+1-lo)
	g := make([]uint64, n*mccStrideConst)
	norms := make([]mccNorm, n)
	for j := range n {
		set(g[j*mccStrideConst:j*mccStrideConst+mccWordsConst], lo+j)
		norms[j] = mccNorm{float32(math.Sqrt(float64(lo + j))), 1}
	}
	var want, got [mccCap * mccCap]mccCand
	var px [mccCap]uint16
	cand := mccIndices[:n]
	mccDiffBits(&a, g, cand, &px)
	nw := mccEmit(normA, 0, norms, cand, &px, &want, 0)
	ng := emit(&a, g, norms, normA, 0, 0, n, &got[0])
	if ng != nw || nw == 0 {
		t.Fatalf("sweep %d: %d candidates kept, Go loops keep %d", part, ng, nw)
	}
	for k := range nw {
		if got[k] != want[k] {
			t.Fatalf("sweep %d, candidate %d: %+v, Go loops %+v", part, k, got[k], want[k])
		}
	}
}

// TestCompatPairs checks the assembly compatibility loop against
// mccCompatPairsGo on random templates and random choices of pairs, bit
// for bit.
func TestCompatPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	randomPrepared := func() *Prepared {
		n := 2 + rng.IntN(mccCap-1)
		tpl := Template{Width: 300, Height: 400, DPI: 500}
		for range n {
			tpl.Minutiae = append(tpl.Minutiae, Minutia{X: rng.IntN(300), Y: rng.IntN(400), Angle: rng.Float64() * 2 * math.Pi, Type: Ending, Quality: 50})
		}
		// Up to mccCap minutiae, the bound of any prepared form.
		return prepareAtMost(tpl, mccCap)
	}
	kept := 0
	for round := 0; round < 400; round++ {
		pa, pg := randomPrepared(), randomPrepared()
		ia, ib := rng.Perm(pa.n), rng.Perm(pg.n)
		if round%2 == 0 {
			// The template against itself, most pairs true ones: many
			// pairs of pairs are compatible.
			pg = pa
			ib = slices.Clone(ia)
			for range 3 {
				x, y := rng.IntN(pa.n), rng.IntN(pa.n)
				ib[x], ib[y] = ib[y], ib[x]
			}
		}
		n := 1 + rng.IntN(min(pa.n, pg.n, mccMaxNR))
		var want mccRelaxScratch
		for k := 0; k < n; k++ {
			want.ak[k], want.bk[k] = uint8(ia[k]), uint8(ib[k])
			// Near-identical turns for some pairs, so that many are
			// compatible.
			want.turn[k] = uint8(rng.IntN(16) - 8)
			if rng.IntN(2) == 0 {
				want.turn[k] = uint8(rng.IntN(256))
			}
		}
		nw := mccCompatPairsGo(&want, pa.pair, pa.n, pg.pair, pg.n, n)
		// mccCompatPairs, then the fastest form (AVX-512 where present),
		// which must write nothing beyond its entries.
		for form := range 2 {
			var got mccRelaxScratch
			got.ak, got.bk, got.turn = want.ak, want.bk, want.turn
			var ng int
			if form == 0 {
				ng = mccCompatPairs(&got, pa.pair, pa.n, pg.pair, pg.n, n)
			} else {
				ng = mccCompatPairsBest(&got, pa.pair, pa.n, pg.pair, pg.n, n, new(mccPairGeo))
			}
			if ng != nw {
				t.Fatalf("round %d, form %d: %d compatible pairs of pairs, Go loop %d", round, form, ng, nw)
			}
			for i := range nw {
				if got.half[i] != want.half[i] {
					t.Fatalf("round %d, form %d, entry %d: %016x, Go loop %016x", round, form, i, got.half[i], want.half[i])
				}
			}
			if form == 1 && slices.ContainsFunc(got.half[ng:], func(h uint64) bool { return h != 0 }) {
				t.Fatalf("round %d: written beyond the %d entries", round, ng)
			}
		}
		kept += nw
	}
	// Random minutiae are rarely compatible; without enough kept pairs
	// the test would check only the rejections.
	if kept < 100 {
		t.Fatalf("%d compatible pairs of pairs in all rounds: too few to check", kept)
	}
	t.Logf("%d compatible pairs of pairs", kept)
}

// TestBucketOrder checks the assembly counting sort against
// mccBucketOrderGo on random candidate lists, with many ties.
func TestBucketOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 200; round++ {
		cand := make([]mccCand, 1+rng.IntN(mccCap*mccCap))
		spread := 1 + rng.IntN(256)
		for k := range cand {
			q := uint32(rng.IntN(spread))
			cand[k] = mccCand{uint32(rng.IntN(mccCap)) | uint32(rng.IntN(mccCap))<<8 | q<<16, rng.Float32()}
		}
		var bw, bg [257]int32
		want, got := make([]int32, len(cand)), make([]int32, len(cand))
		mccBucketOrderGo(cand, &bw, want)
		mccBucketOrder(cand, &bg, got)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: order differs from the Go loop", round)
		}
		// The fastest form (AVX-512 where present), its counts dirty from
		// the last round as the Matcher's are.
		mccBucketOrderBest(cand, &bg, got)
		if !slices.Equal(got, want) || bg != bw {
			t.Fatalf("round %d: order or counts of the fastest form differ from the Go loop", round)
		}
	}
}

// TestLamOrder checks mccLamOrderBest (AVX-512 where present) against the
// insertion sort of mccLamOrderGo on random relaxed similarities with
// many ties and stale values beyond n.
func TestLamOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 5000; round++ {
		var lam [mccNRSpace]float32
		levels := 1 + rng.IntN(40)
		for i := range lam {
			lam[i] = float32(rng.IntN(levels)) / float32(levels)
			if rng.IntN(8) == 0 {
				lam[i] = 0
			}
		}
		n := 1 + rng.IntN(mccNRSpace)
		var want, got [mccNRSpace]int32
		mccLamOrderGo(&lam, n, &want)
		mccLamOrderBest(&lam, n, &got)
		if want != got {
			t.Fatalf("round %d, n %d: %v, insertion sort %v", round, n, got[:n], want[:n])
		}
	}
}

// TestRelaxRounds checks relaxation's rounds in the fastest form the
// processor has (AVX-512 where present) against mccRelaxRoundsGo, bit for
// bit, on random compatible pairs of pairs.
func TestRelaxRounds(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512: mccRelaxRoundsGo is the only path")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var dense [mccNRSpace][mccNRSpace]float32
	for round := 0; round < 3000; round++ {
		n := 2 + rng.IntN(mccNRSpace-1)
		var half []uint64
		p := rng.Float64()
		for a := 0; a < n; a++ {
			for b := a + 1; b < n; b++ {
				if rng.Float64() < p {
					r := float32(mccRhoMin + rng.Float64()*(1-mccRhoMin))
					half = append(half, uint64(a)|uint64(b)<<8|uint64(math.Float32bits(r))<<32)
				}
			}
		}
		var cur, next, lam [mccNRSpace]float32
		for i := range cur {
			cur[i] = float32(0.25 + 0.75*rng.Float64())
			if i >= n {
				cur[i] = rng.Float32() * 100 // stale values beyond n
			}
		}
		lam = cur
		inv := (1 - mccWR) / float32(n-1)
		want := mccRelaxRoundsGo(half, n, &cur, &next, inv)
		var h0 uint64
		hp := &h0
		if len(half) > 0 {
			hp = &half[0]
		}
		mccRelaxAVX512(hp, len(half), n, &lam, inv, mccWR, &dense, mccRelIter)
		for i := range n {
			if math.Float32bits(lam[i]) != math.Float32bits(want[i]) {
				t.Fatalf("round %d, n %d, %d entries: pair %d %v, Go %v", round, n, len(half), i, lam[i], want[i])
			}
		}
	}
}
