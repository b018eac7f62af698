package fingerprint

import "golang.org/x/sys/cpu"

// usePOPCNT selects mccEmitWindowPOPCNT for the similarity loop. Go's
// default amd64 target (GOAMD64=v1) tests for POPCNT before every count;
// the assembly loop counts with the instruction directly and keeps the
// whole loop in registers.
var usePOPCNT = cpu.X86.HasPOPCNT

// mccEmitWindowPOPCNT is mccDiffBits followed by mccEmit for the n
// gallery cylinders starting at gal (consecutive, mccStrideConst words
// each) with their norms at norms: it writes each candidate at out[kept]
// with key base + k<<8 (k the candidate's position in the window) and
// returns kept, the number usable and at least mccMinLocal similar. The
// arithmetic is the same float32 operations in the same order, so the
// similarities and keys are bit for bit those of the Go loops
// (TestEmitWindowPOPCNT).
//
//go:noescape
func mccEmitWindowPOPCNT(a *[mccStrideConst]uint64, gal *uint64, norms *mccNorm, sqrtTab *float32, normA float32, base uint32, n int, out *mccCand) int

// mccCompatPairs is mccCompatPairsGo in assembly: the Go loop keeps too
// many values live for the registers and spills them on every pair. The
// tables must hold every entry the relaxed pairs index (na·na, nb·nb).
//
//go:noescape
func mccCompatPairs(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, n int) int

// mccBucketOrder is mccBucketOrderGo in assembly. cand is not empty and
// order is as long as cand.
//
//go:noescape
func mccBucketOrder(cand []mccCand, buck *[257]int32, order []int32)

// useAVX512 selects the AVX-512 loops: mccEmitJobsAVX512 over
// mccEmitWindowPOPCNT, mccCompatPairsAVX512, mccLamOrderAVX512.
var useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ &&
	cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VPOPCNTDQ && cpu.X86.HasPOPCNT

// mccEmitJobsAVX512 is mccEmitWindowPOPCNT for a list of windows, each
// job i | lo<<8 | n<<16 (probe cylinder i of pbits, with its norm in
// pnorms, against gallery cylinders lo to lo+n−1 of gbits and gnorms),
// in one call, eight gallery cylinders at a time with AVX-512: the
// candidates, keys and similarities that mccEmitWindowPOPCNT gives window
// after window, bit for bit (TestEmitJobsAVX512), except that only the
// kept candidates are written.
//
//go:noescape
func mccEmitJobsAVX512(jobs []uint32, pbits *uint64, pnorms *mccNorm, gbits *uint64, gnorms *mccNorm, out *mccCand) int

// mccCompatPairsAVX512 is mccCompatPairs sixteen pairs of pairs at a time,
// with AVX-512: tk is mccPairList[n], geo space for its copies. The same
// entries to the bit
// (TestCompatPairs).
//
//go:noescape
func mccCompatPairsAVX512(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, tk []uint16, n int, geo *mccPairGeo) int

// mccPairList[n] lists the pairs of pairs (t, k), t < k < n, as t | k<<8
// in mccCompatPairsGo's row order, padded with zeros to a multiple of 16
// entries, for mccCompatPairsAVX512.
var mccPairList [mccNRSpace + 1][]uint16

// mccZPerm holds, for mccCompatPairsAVX512's register lookups, the part
// of mccZTurn around no turn (entry i is mccZTurn[i−32], 64 entries) and
// of mccZDistSigned around no difference (entry 64+i is
// mccZDistSigned[i+15], 128 entries): every entry of those tables that
// is at least mccRhoMin, which mccZPermCovers checks.
var mccZPerm [192]float32

// useCompatAVX512 selects mccCompatPairsAVX512: AVX-512, and mccZPerm
// holds every factor that can make ρ reach mccRhoMin.
var useCompatAVX512 bool

func init() {
	for n := range mccPairList {
		var l []uint16
		for t := 0; t < n; t++ {
			for k := t + 1; k < n; k++ {
				l = append(l, uint16(t|k<<8))
			}
		}
		for len(l)%16 != 0 {
			l = append(l, 0)
		}
		mccPairList[n] = l
	}
	for i := range 64 {
		mccZPerm[i] = mccZTurn[uint8(i-32)]
	}
	for i := range 128 {
		mccZPerm[64+i] = mccZDistSigned[i+15]
	}
	useCompatAVX512 = useAVX512 && mccZPermCovers()
}

// mccZPermCovers reports whether every entry of mccZTurn and
// mccZDistSigned that is at least mccRhoMin lies in the part mccZPerm
// holds.
func mccZPermCovers() bool {
	for b, z := range mccZTurn {
		if z >= mccRhoMin && uint8(b+32) >= 64 {
			return false
		}
	}
	for d, z := range mccZDistSigned {
		if z >= mccRhoMin && uint(d-15) >= 128 {
			return false
		}
	}
	return true
}

// mccCompatPairsBest is mccCompatPairs in the fastest form the processor
// has; geo is scratch space for the AVX-512 form.
func mccCompatPairsBest(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, n int, geo *mccPairGeo) int {
	if useCompatAVX512 {
		return mccCompatPairsAVX512(s, apair, na, gpair, nb, mccPairList[n], n, geo)
	}
	return mccCompatPairs(s, apair, na, gpair, nb, n)
}

// The assembly finds the gallery template's copies in mccPairGeo 2048
// bytes after the probe's: both array lengths are zero exactly then.
var (
	_ [len(mccPairGeo{}[0])*4 - 2048]struct{}
	_ [2048 - len(mccPairGeo{}[0])*4]struct{}
)

// mccLamOrderAVX512 is mccLamOrderGo by ranks: pair t goes to the place
// given by the number of pairs of greater lam and of the earlier pairs of
// equal lam, counted sixteen lanes at a time (AVX-512F). lam holds no NaN.
// The same order (TestLamOrder).
//
//go:noescape
func mccLamOrderAVX512(lam *[mccNRSpace]float32, n int, order *[mccNRSpace]int32)

// mccLamOrderBest is mccLamOrderGo in the fastest form the processor has.
func mccLamOrderBest(lam *[mccNRSpace]float32, n int, order *[mccNRSpace]int32) {
	if useAVX512 && n > 0 {
		mccLamOrderAVX512(lam, n, order)
		return
	}
	mccLamOrderGo(lam, n, order)
}

// mccBucketOrderAVX512 is mccBucketOrder with the counts cleared and summed
// sixteen at a time (AVX-512). The same order (TestBucketOrder).
//
//go:noescape
func mccBucketOrderAVX512(cand []mccCand, buck *[257]int32, order []int32)

// mccBucketOrderBest is mccBucketOrder in the fastest form the processor
// has. cand is not empty and order is as long as cand.
func mccBucketOrderBest(cand []mccCand, buck *[257]int32, order []int32) {
	if useAVX512 {
		mccBucketOrderAVX512(cand, buck, order)
		return
	}
	mccBucketOrder(cand, buck, order)
}

// mccRelaxAVX512 is mccRelaxRoundsGo with AVX-512, leaving the result in
// lam (which holds the similarities on entry): the nh entries of half go
// into the symmetric matrix dense (rows and columns 0 to n−1, zero
// elsewhere), and each of the iters rounds adds ρ·λ over the partners in
// increasing order for all 32 pairs at once, column by column. That is
// the order mccRelaxRoundsGo adds each pair's terms in, and the terms it
// leaves out are ρ = 0, whose product +0 changes no sum (λ ≥ 0), so every
// value is the same to the bit (TestRelaxRounds).
//
//go:noescape
func mccRelaxAVX512(half *uint64, nh int, n int, lam *[mccNRSpace]float32, inv, wR float32, dense *[mccNRSpace][mccNRSpace]float32, iters int)
