package search

import (
	"math"

	"github.com/ebsp/ebsp/biometric"
)

// Policy turns a candidate list into a decision. Thresholds are on the
// single-sample score scale of the engine. The fused score of an impostor
// over n samples is a sum of n near-independent impostor scores: its mean is
// n·Mean and its spread grows as √n. So a single-sample threshold t, which
// sits (t−Mean) above the impostor mean, becomes n·Mean + (t−Mean)·√n for n
// samples: the same number of impostor standard deviations, hence roughly
// the same false-match rate per comparison (exactly so for Gaussian tails).
type Policy struct {
	Hit    float64 // at or above: hit
	Review float64 // at or above, below Hit: an examiner must review
	Mean   float64 // mean single-sample impostor score of the engine
	Cap    int     // candidate list length
}

// Thresholds returns the hit and review thresholds for n fused samples.
func (p Policy) Thresholds(n int) (hit, review float64) {
	k := float64(max(n, 1))
	f := math.Sqrt(k)
	return k*p.Mean + (p.Hit-p.Mean)*f, k*p.Mean + (p.Review-p.Mean)*f
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
