package engine

import "github.com/ebsp/ebsp/search"

// Identification is the 1:N decision policy for a gallery of that many
// identities: the single-sample hit and review thresholds are the scores at
// which the impostor tail gives the target false-positive identification
// rates fpirHit and fpirReview against that many identities (per-comparison
// FMR = FPIR/N), with the tail's mean to scale them for fused samples.
func Identification(tail Tail, fpirHit, fpirReview float64, candidateCap, identities int) search.Policy {
	size := float64(max(identities, 1))
	return search.Policy{Hit: tail.ScoreAt(fpirHit / size), Review: tail.ScoreAt(fpirReview / size),
		Mean: tail.Mean, Cap: candidateCap}
}

// Verification is the 1:1 score threshold for n fused samples at a
// per-comparison false-match rate fmr, read off the tail: it does not
// depend on any gallery's size, since a verification compares with one
// identity only.
func Verification(tail Tail, fmr float64, n int) float64 {
	hit, _ := search.Policy{Hit: tail.ScoreAt(fmr), Mean: tail.Mean}.Thresholds(n)
	return hit
}
