//go:build !amd64

package fingerprint

const (
	usePOPCNT = false
	useAVX512 = false
)

func mccEmitWindowPOPCNT(a *[mccStrideConst]uint64, gal *uint64, norms *mccNorm, sqrtTab *float32, normA float32, base uint32, n int, out *mccCand) int {
	panic("unreachable")
}

func mccEmitJobsAVX512(jobs []uint32, pbits *uint64, pnorms *mccNorm, gbits *uint64, gnorms *mccNorm, out *mccCand) int {
	panic("unreachable")
}

func mccCompatPairs(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, n int) int {
	return mccCompatPairsGo(s, apair, na, gpair, nb, n)
}

func mccBucketOrder(cand []mccCand, buck *[257]int32, order []int32) {
	mccBucketOrderGo(cand, buck, order)
}

func mccCompatPairsBest(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, n int, _ *mccPairGeo) int {
	return mccCompatPairsGo(s, apair, na, gpair, nb, n)
}

func mccLamOrderBest(lam *[mccNRSpace]float32, n int, order *[mccNRSpace]int32) {
	mccLamOrderGo(lam, n, order)
}

func mccBucketOrderBest(cand []mccCand, buck *[257]int32, order []int32) {
	mccBucketOrderGo(cand, buck, order)
}

func mccRelaxAVX512(half *uint64, nh int, n int, lam *[mccNRSpace]float32, inv, wR float32, dense *[mccNRSpace][mccNRSpace]float32, iters int) {
	panic("unreachable")
}
