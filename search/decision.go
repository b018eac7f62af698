package search

import (
	"math"

	"github.com/ebsp/ebsp/biometric"
)

// Policy turns a candidate list into a decision. Thresholds are on the
// single-sample score scale of the engine; for n fused samples they are
// scaled by √n, because the fused score of an impostor is a sum of n
// near-independent low scores whose spread grows as √n (the thresholds sit
// in the impostor tail, where the mean of a good matcher's impostor scores
// is close to zero).
type Policy struct {
	Hit    float64 // at or above: hit
	Review float64 // at or above, below Hit: an examiner must review
	Cap    int     // candidate list length
}

// Thresholds returns the hit and review thresholds for n fused samples.
func (p Policy) Thresholds(n int) (hit, review float64) {
	f := math.Sqrt(float64(max(n, 1)))
	return p.Hit * f, p.Review * f
}

// Decide returns the decision for a candidate list (best first) of a probe
// with n samples, and the candidates to report: those at or above the review
// threshold, at most Cap. A hit is never an admit/deny decision; it says a
// human should look.
func (p Policy) Decide(cands []biometric.Candidate, n int) (biometric.Decision, []biometric.Candidate) {
	hit, review := p.Thresholds(n)
	var out []biometric.Candidate
	for _, c := range cands {
		if c.Score >= review && len(out) < max(p.Cap, 1) {
			out = append(out, c)
		}
	}
	switch {
	case len(out) > 0 && out[0].Score >= hit:
		return biometric.Hit, out
	case len(out) > 0:
		return biometric.Review, out
	}
	return biometric.NoHit, nil
}
