package eval

import (
	"fmt"
	"math"
	"sort"
)

// QualityPair is one scored comparison between samples A and B, indices
// into the quality list given to ERC.
type QualityPair struct {
	A, B    int
	Genuine bool
	Score   float64
}

// ERCPoint is one point of an error-versus-reject curve.
type ERCPoint struct {
	// Fraction is the share of samples asked to be rejected, Rejected how
	// many samples that was (the lowest by quality, ties broken by index).
	Fraction float64 `json:"reject_fraction"`
	Rejected int     `json:"rejected_samples"`
	// Genuine and Impostor count the comparisons left, those whose two
	// samples are both kept.
	Genuine  int `json:"genuine_comparisons"`
	Impostor int `json:"impostor_comparisons"`
	// FNMR is the false non-match rate of the genuine comparisons left at
	// the threshold fixed on all comparisons (ISO/IEC 29794-1:2016 §6.4.2:
	// the threshold is set once, for the starting FMR, and not moved as
	// samples are rejected).
	FNMR float64 `json:"fnmr"`
	// FNMRRethresholded is FNMR at the same FMR among the comparisons left,
	// the threshold set again on the impostors left.
	FNMRRethresholded float64 `json:"fnmr_rethresholded"`
}

// ERC returns the error-versus-reject curve of a quality measure: for each
// fraction f of fractions, the lowest-quality round(f x len(quality))
// samples are rejected, with every comparison involving one of them, and
// the FNMR of the comparisons left is computed at the threshold that gave
// FMR fmr over all comparisons (and, for reference, at a threshold set
// again for that FMR on the comparisons left). A quality measure that
// predicts matching performance makes the FNMR fall as more is rejected
// (P. Grother and E. Tabassi, "Performance of biometric quality measures",
// IEEE TPAMI 29(4), 2007; ISO/IEC 29794-1:2016 §6.4).
func ERC(quality []float64, pairs []QualityPair, fmr float64, fractions []float64) ([]ERCPoint, error) {
	var gen, imp []float64
	for _, p := range pairs {
		if p.A < 0 || p.B < 0 || p.A >= len(quality) || p.B >= len(quality) {
			return nil, fmt.Errorf("eval: pair (%d, %d) outside the %d samples", p.A, p.B, len(quality))
		}
		if p.Genuine {
			gen = append(gen, p.Score)
		} else {
			imp = append(imp, p.Score)
		}
	}
	_, threshold, err := FNMRAtFMR(gen, imp, fmr)
	if err != nil {
		return nil, err
	}
	order := make([]int, len(quality))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return quality[order[i]] < quality[order[j]] })
	var out []ERCPoint
	for _, f := range fractions {
		if f < 0 || f >= 1 || math.IsNaN(f) {
			return nil, fmt.Errorf("eval: reject fraction %v: want 0 to under 1", f)
		}
		k := int(math.Round(f * float64(len(quality))))
		rejected := make([]bool, len(quality))
		for _, i := range order[:k] {
			rejected[i] = true
		}
		pt := ERCPoint{Fraction: f, Rejected: k}
		var g, im []float64
		miss := 0
		for _, p := range pairs {
			if rejected[p.A] || rejected[p.B] {
				continue
			}
			if p.Genuine {
				g = append(g, p.Score)
				if p.Score < threshold {
					miss++
				}
			} else {
				im = append(im, p.Score)
			}
		}
		pt.Genuine, pt.Impostor = len(g), len(im)
		if len(g) == 0 || len(im) == 0 {
			return nil, fmt.Errorf("eval: rejecting %d of %d samples leaves %d genuine and %d impostor comparisons", k, len(quality), len(g), len(im))
		}
		pt.FNMR = float64(miss) / float64(len(g))
		if pt.FNMRRethresholded, _, err = FNMRAtFMR(g, im, fmr); err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	return out, nil
}
