package poc

import (
	"fmt"
	"math"
	"slices"

	"github.com/ebsp/ebsp/eval"
)

// Scores are measured single-finger comparison scores: impostor (different
// fingers) and genuine (two impressions of one finger), each a real matcher
// call.
type Scores struct {
	Impostor []float64 `json:"-"`
	Genuine  []float64 `json:"-"`
}

// TailEstimate is the false-match rate per comparison of n fused fingers at
// the fused threshold, with bounds.
//
// For one finger it is the observed proportion with its two-sided
// Clopper-Pearson interval. For n > 1 fingers the fused impostor score is a
// sum of n per-finger impostor scores, taken as independent (different
// fingers of two different people); the point estimate is the n-fold
// convolution of the measured distribution, and the bounds are the n-fold
// convolutions of the stochastically smallest and largest distributions
// consistent with simultaneous one-sided Clopper-Pearson bounds on the
// measured survival function at about log2(N) score levels (Bonferroni).
// Above the highest observed impostor score the upper distribution puts the
// unseen tail mass (the resolution of N comparisons) at the highest score
// the matcher gave at all (the best genuine score): what N comparisons
// cannot rule out.
type TailEstimate struct {
	Fingers   int     `json:"fingers"`
	Threshold float64 `json:"threshold"` // fused threshold for n fingers
	// Observed is how many of Tuples disjoint n-tuples of measured impostor
	// scores reach the threshold: the direct count, without the
	// independence assumption's help.
	Observed int64   `json:"observed"`
	Tuples   int64   `json:"tuples"`
	FMR      float64 `json:"fmr"`
	Low      float64 `json:"fmr_low"`
	High     float64 `json:"fmr_high"`
	// BelowResolution says that no tuple reached the threshold, so the
	// measurement only bounds the rate from above.
	BelowResolution bool `json:"below_resolution"`
	// FNMR is the share of disjoint n-tuples of genuine scores below the
	// threshold, with its Clopper-Pearson interval.
	FNMR     float64 `json:"fnmr"`
	FNMRLow  float64 `json:"fnmr_low"`
	FNMRHigh float64 `json:"fnmr_high"`
}

// ThresholdForFMR returns the lowest single-finger threshold at which the
// share of measured impostor scores at or above it is at most fmr.
func ThresholdForFMR(impostor []float64, fmr float64) (float64, error) {
	n := len(impostor)
	k := int(math.Floor(fmr * float64(n)))
	if k < 1 {
		return 0, fmt.Errorf("poc: target FMR %g below the resolution of %d impostor scores", fmr, n)
	}
	s := slices.Clone(impostor)
	slices.Sort(s)
	// s[n-1-k] is the (k+1)-th highest score; just above it at most k
	// scores remain.
	return math.Nextafter(s[n-1-k], math.Inf(1)), nil
}

// EstimateTail estimates the n-finger false-match and false-non-match rates
// at the fused threshold tn (what the node's decision policy,
// search.Policy.Thresholds, makes of the single-finger threshold for n
// fingers) from the measured scores, at confidence conf (see
// TailEstimate).
func EstimateTail(sc *Scores, n int, tn, conf float64) (TailEstimate, error) {
	N := int64(len(sc.Impostor))
	if N < 10 || len(sc.Genuine) < 1 {
		return TailEstimate{}, fmt.Errorf("poc: %d impostor and %d genuine scores: too few to estimate from", N, len(sc.Genuine))
	}
	if n < 1 {
		return TailEstimate{}, fmt.Errorf("poc: %d fingers", n)
	}
	e := TailEstimate{Fingers: n, Threshold: tn}
	e.Observed, e.Tuples = tupleCount(sc.Impostor, n, func(sum float64) bool { return sum >= tn })
	e.BelowResolution = e.Observed == 0
	below, gt := tupleCount(sc.Genuine, n, func(sum float64) bool { return sum < tn })
	if gt > 0 {
		e.FNMR = float64(below) / float64(gt)
		e.FNMRLow, e.FNMRHigh = eval.ClopperPearson(below, gt, conf)
	}
	if n == 1 {
		e.FMR = float64(e.Observed) / float64(N)
		e.Low, e.High = eval.ClopperPearson(e.Observed, N, conf)
		return e, nil
	}
	g := newScoreGrid(sc)
	point := g.empirical(sc.Impostor)
	lo, hi := g.envelopes(sc.Impostor, sc.Genuine, 1-conf)
	e.FMR = point.convolvedTail(n, tn)
	e.Low = lo.convolvedTail(n, tn)
	e.High = hi.convolvedTail(n, tn)
	return e, nil
}

// tupleCount splits scores into disjoint consecutive n-tuples and counts
// those whose sum satisfies ok.
func tupleCount(scores []float64, n int, ok func(float64) bool) (count, tuples int64) {
	for i := 0; i+n <= len(scores); i += n {
		sum := 0.0
		for _, s := range scores[i : i+n] {
			sum += s
		}
		if ok(sum) {
			count++
		}
		tuples++
	}
	return count, tuples
}

// gridBins is the resolution of score distributions for convolution: fine
// enough that rounding each of 10 scores to the grid moves a sum by well
// under a percent of the score range.
const gridBins = 4000

// scoreGrid places scores on an evenly spaced grid from the lowest impostor
// score to the highest score seen at all (the cap).
type scoreGrid struct {
	min, step float64
	bins      int
}

func newScoreGrid(sc *Scores) scoreGrid {
	lo, hi := slices.Min(sc.Impostor), slices.Max(sc.Impostor)
	if len(sc.Genuine) > 0 {
		hi = max(hi, slices.Max(sc.Genuine))
	}
	step := (hi - lo) / gridBins
	if step <= 0 {
		step = 1
	}
	return scoreGrid{min: lo, step: step, bins: gridBins + 1}
}

// dist is a probability distribution on a grid: mass[j] at min + j·step.
type dist struct {
	g    scoreGrid
	mass []float64
}

func (g scoreGrid) index(s float64, round func(float64) float64) int {
	j := int(round((s - g.min) / g.step))
	return min(max(j, 0), g.bins-1)
}

// empirical is the measured distribution, each score rounded to the nearest
// grid point.
func (g scoreGrid) empirical(scores []float64) dist {
	d := dist{g: g, mass: make([]float64, g.bins)}
	w := 1 / float64(len(scores))
	for _, s := range scores {
		d.mass[g.index(s, math.Round)] += w
	}
	return d
}

// envelopes returns the stochastically smallest and largest distributions
// whose survival function at the check levels stays within simultaneous
// one-sided Clopper-Pearson bounds (total error probability alpha, split
// evenly over both sides and all levels).
func (g scoreGrid) envelopes(impostor, genuine []float64, alpha float64) (lo, hi dist) {
	s := slices.Clone(impostor)
	slices.Sort(s)
	N := int64(len(s))
	// Check levels: the scores with N/2, N/4, ..., 1 measured scores at or
	// above them, and one just above the highest (0 at or above).
	type level struct {
		x float64
		k int64
	}
	var levels []level
	for k := N / 2; k >= 1; k /= 2 {
		x := s[N-k]
		// Ties: count what really is at or above x.
		idx, _ := slices.BinarySearch(s, x)
		levels = append(levels, level{x, N - int64(idx)})
	}
	levels = append(levels, level{math.Nextafter(s[N-1], math.Inf(1)), 0})
	levels = slices.CompactFunc(levels, func(a, b level) bool { return a.x == b.x })
	a := alpha / float64(2*len(levels))

	lo = dist{g: g, mass: make([]float64, g.bins)}
	hi = dist{g: g, mass: make([]float64, g.bins)}
	// Upper: S(x_j) <= U_j; the largest distribution has S = U_{j-1} up to
	// x_j, so mass U_{j-1}-U_j sits at x_j (rounded up to the grid), and the
	// unseen tail U_last sits at the cap.
	prev := 1.0
	for _, l := range levels {
		u := math.Min(eval.CPUpper(l.k, N, a), prev)
		hi.mass[g.index(l.x, math.Ceil)] += prev - u
		prev = u
	}
	hi.mass[g.bins-1] += prev
	// Lower: S(x_j) >= L_j; the smallest distribution puts mass L_j-L_{j+1}
	// at x_j (rounded down) and the rest at the lowest score.
	prevL := 0.0
	for i := len(levels) - 1; i >= 0; i-- {
		l := levels[i]
		lb := math.Max(eval.CPLower(l.k, N, a), prevL)
		lo.mass[g.index(l.x, math.Floor)] += lb - prevL
		prevL = lb
	}
	lo.mass[0] += 1 - prevL
	return lo, hi
}

// convolvedTail returns P(X_1 + ... + X_n >= t) for independent X_i with
// distribution d.
func (d dist) convolvedTail(n int, t float64) float64 { return d.nfold(n).tail(t) }

// nfold returns the distribution of the sum of n independent copies of d,
// on the grid n·min + j·step.
func (d dist) nfold(n int) sumDist {
	acc := slices.Clone(d.mass)
	for range n - 1 {
		acc = convolve(acc, d.mass)
	}
	return sumDist{origin: float64(n) * d.g.min, step: d.g.step, mass: acc}
}

// sumDist is a distribution of sums on the grid origin + j·step.
type sumDist struct {
	origin, step float64
	mass         []float64
}

// tail returns P(S >= t). Tail sums run from the top down so that
// probabilities far below machine epsilon keep their precision.
func (s sumDist) tail(t float64) float64 {
	j0 := int(math.Ceil((t-s.origin)/s.step - 1e-9))
	if j0 <= 0 {
		return 1
	}
	p := 0.0
	for j := len(s.mass) - 1; j >= j0; j-- {
		p += s.mass[j]
	}
	return min(p, 1)
}

// convolve returns the distribution of the sum of independent variables
// with masses a and b on the same grid.
func convolve(a, b []float64) []float64 {
	out := make([]float64, len(a)+len(b)-1)
	for i, x := range a {
		if x == 0 {
			continue
		}
		o := out[i : i+len(b)]
		for j, y := range b {
			o[j] += x * y
		}
	}
	return out
}
