package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ebsp/ebsp/eval"
)

// How a tail is measured and extended (Fit). A threshold for a national
// gallery sits at a per-comparison FMR of 1e-10 or below, far beyond what any
// sample of impostor comparisons resolves, so the tail is extended by a
// model of its upper part; both the measured points and the model are moved
// to the safe side by their sampling uncertainty, so that a threshold read
// off the tail errs towards fewer false hits (and more misses), never the
// other way.
//
//   - Measured points. At each decade f = 1e-1, 1e-2, ... that the sample
//     resolves (f·n ≥ 10), the point is the k-th highest score, where k is the
//     largest count whose exact one-sided 95% Clopper-Pearson upper bound on
//     the FMR is at most f: with 95% confidence no more than a fraction f of
//     impostors reaches it.
//   - Beyond the sample. A generalised Pareto distribution (GPD; the
//     limiting law of exceedances over a high threshold, Pickands-Balkema-de
//     Haan theorem) is fitted to the top 1% of the scores (at least 100, at
//     most fitMaxExceed) by probability weighted moments (Hosking and Wallis, Technometrics 29(3),
//     1987), with its shape ξ held at 0 or above: never a tail lighter than
//     exponential, because the matcher's tail falls more slowly than
//     exponentially where it has been measured deep (SyntheticFingerTail) and
//     a fit over the sample's bulk sees a lighter shape than the far tail
//     has. The fit is repeated on FitBootstrap resamples of those
//     exceedances, and each extended point is the 95th percentile of the
//     resamples' scores at that FMR: the upper end of the fit's own
//     confidence interval. This bounds the sampling error of the fit, not
//     the error of the model: TestFitKnownTails and TestFitSyntheticFinger
//     show how it fares against tails whose truth is known.
const (
	FitMethod    = "gpd-pwm-bootstrap95"
	FitBootstrap = 200
	fitTopShare  = 0.01 // fraction of the sample the GPD is fitted to (at least 100 scores)
	// fitMaxExceed caps the GPD's exceedances when the shape is held at 0
	// or above (Fit). The estimators of a tail are consistent only when
	// the number of exceedances k grows with the sample while k/n falls
	// (the threshold moves into the tail); a fixed 1% of a sample of
	// millions reaches into its bulk, where a matcher's score may bend.
	// The global verification does that: it lifts most impostor scores by
	// up to 0.2, and on 2 million comparisons of 100,000 synthetic fingers
	// the scores between FMR 1e-2 and 1e-3 climb 0.05 where the decade
	// beyond climbs 0.02; a fit to the top 1% (20,000) carried that slope
	// on and put the threshold at FMR 1e-7 at 0.579, one to the top 2,000
	// at 0.395, with 2 false hits in 1,000 searches of the gallery at the
	// FPIR 1% it is for and 11 at 10% (a dump of TestSelfCalibratedFPIRFingers'
	// sample before small templates' verified scores were capped; the test
	// on the matcher as it is: 0.3664, 5 and 12). Without the verification
	// the two fits gave 0.260 and 0.277 there.
	// 2,000 exceedances hold the PWM shape's standard error to about 0.03.
	// Samples of up to 200,000 scores are fitted as before.
	fitMaxExceed = 2000
	fitLevel     = 0.05 // one-sided: 95% confidence
	fitDeepest   = 1e-12
	minResolved  = 10 // comparisons at or above a measured point, at least
)

// Fit returns the tail of a sample of impostor scores, measured and then
// extended to FMR 1e-12 as the comment above says: points at FMR 1e-1,
// 1e-2, ... 1e-12, with MeasuredFMR the last measured one. It sorts imp.
// seed fixes the bootstrap, so that a tail is reproducible.
func Fit(imp []float64, source string, seed uint64) (Tail, error) {
	return fitSample(imp, source, seed, false)
}

// FitBounded is Fit for a score with an upper bound whose impostor tail
// ends well short of it, such as 1 − a Euclidean distance (faces): the
// GPD's shape is not held at 0 or above but fitted, so that a negative
// shape (a tail with a finite end, the Weibull domain of attraction, which
// the distance between two embeddings in a space of finite dimension
// has) extends the tail as it falls, not as an exponential would. The
// bootstrap's 95% bound stays, and an extended point is never below the
// deepest measured one. Fit's caution, applied to such a tail, puts every
// point beyond about 1e-8 above the bound itself; TestFitBoundedKnownTails
// and TestFitSyntheticFace show how FitBounded fares against tails whose
// truth is known. It is not for tails that may be heavier than
// exponential (fingerprint matchers'): on a Gaussian tail, whose fitted
// shape at a finite threshold is slightly negative, it would be on the
// unsafe side.
func FitBounded(imp []float64, source string, seed uint64) (Tail, error) {
	return fitSample(imp, source, seed, true)
}

// BoundedScores is an Engine whose score has an upper bound that its
// impostor tail ends well short of (1 − a Euclidean distance: faces), so
// that its tails are fitted by FitBounded.
type BoundedScores interface {
	BoundedScores() bool
}

// FitEngine fits a tail of engine e's impostor scores: FitBounded when e
// has BoundedScores, else Fit.
func FitEngine(e Engine, imp []float64, source string, seed uint64) (Tail, error) {
	if b, ok := e.(BoundedScores); ok && b.BoundedScores() {
		return FitBounded(imp, source, seed)
	}
	return Fit(imp, source, seed)
}

// FitMethodBounded is FitBounded's Method.
const FitMethodBounded = "gpd-pwm-bootstrap95-free-shape"

func fitSample(imp []float64, source string, seed uint64, bounded bool) (Tail, error) {
	n := len(imp)
	if n < 1000 {
		return Tail{}, fmt.Errorf("engine: %d impostor scores: want at least 1000 to fit a tail", n)
	}
	for _, s := range imp {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return Tail{}, errors.New("engine: impostor scores hold a NaN or infinity")
		}
	}
	slices.Sort(imp)
	var mean float64
	for _, s := range imp {
		mean += s
	}
	mean /= float64(n)
	m := max(int(math.Ceil(fitTopShare*float64(n))), 100)
	if !bounded {
		// FitBounded fits the top m, m/2, ... and keeps the highest; it
		// reaches the deep thresholds that way.
		m = min(m, fitMaxExceed)
	}
	return fitTop(imp, int64(n), mean, m, source, seed, bounded), nil
}

// FitTop is FitBounded (bounded) or Fit for a sample too large to keep:
// top holds the highest scores of n impostor comparisons, sorted
// ascending, and mean the mean of all n. Points are measured at the
// decades whose count fits in top, and the GPD is fitted to the highest
// exceed scores (at least 100, fewer than len(top)). A tail measured this
// way has no points shallower than its first measured decade; ScoreAt
// answers those with that point's score, which is on the safe side. The
// caller chooses exceed: fitMaxExceed, which Fit applies, is not.
func FitTop(top []float64, n int64, mean float64, exceed int, source string, seed uint64, bounded bool) (Tail, error) {
	if exceed < 100 || exceed >= len(top) || int64(len(top)) > n {
		return Tail{}, fmt.Errorf("engine: %d exceedances of %d top scores of %d: want 100 ≤ exceedances < top ≤ n", exceed, len(top), n)
	}
	if !slices.IsSorted(top) {
		return Tail{}, errors.New("engine: top scores not sorted")
	}
	t := fitTop(top, n, mean, exceed, source, seed, bounded)
	if len(t.Points) == 0 {
		return Tail{}, fmt.Errorf("engine: %d top scores of %d resolve no decade", len(top), n)
	}
	return t, nil
}

// fitTop is the fit of FitTop's arguments, checked. The GPD is fitted to
// the highest m scores' exceedances of the (m+1)-th highest.
func fitTop(top []float64, n int64, mean float64, m int, source string, seed uint64, bounded bool) Tail {
	method := FitMethod
	if bounded {
		method = FitMethodBounded
	}
	t := Tail{Source: source, Comparisons: int(n), Method: method, Mean: mean}
	kept := len(top)
	// Measured points, on the safe side.
	e := 1
	for ; decade(e)*float64(n) >= minResolved; e++ {
		f := decade(e)
		if fn := f * float64(n); float64(kept) < fn-4*math.Sqrt(fn)-2 {
			continue // shallower than what top holds (and safeCount would count down a long way)
		}
		k := safeCount(f, n)
		if k > kept {
			continue
		}
		t.Points = append(t.Points, TailPoint{Score: top[kept-k], FMR: f})
		t.MeasuredFMR = f
	}
	var deep []float64
	for ; decade(e) >= fitDeepest; e++ {
		deep = append(deep, decade(e))
	}
	bound := make([]float64, len(deep))
	for i := range bound {
		bound[i] = math.Inf(-1)
	}
	// The GPD over the top m, and its bootstrap; when bounded, also over
	// the top m/2, m/4, ... (at least 100), each point the highest of
	// their bounds.
	for ; m >= 100; m /= 2 {
		for j, s := range gpdBootstrap(top[kept-m-1:], n, deep, seed, bounded) {
			bound[j] = max(bound[j], s)
		}
		if !bounded {
			break
		}
	}
	for j, g := range deep {
		s := bound[j]
		if len(t.Points) > 0 {
			if last := t.Points[len(t.Points)-1].Score; s < last {
				s = last // never below a shallower point
			}
		}
		t.Points = append(t.Points, TailPoint{Score: s, FMR: g})
	}
	return t
}

// gpdBootstrap fits a GPD to the exceedances of top[1:] over top[0] (the
// highest scores of n, sorted) on FitBootstrap resamples and returns, for
// each FMR of deep, the (1 − fitLevel) percentile of the resamples' scores
// there. Unless bounded, the shape is held at 0 or above.
func gpdBootstrap(top []float64, n int64, deep []float64, seed uint64, bounded bool) []float64 {
	u, m := top[0], len(top)-1
	exc := make([]float64, m)
	for i := range m {
		exc[i] = top[1+i] - u
	}
	zeta := float64(m) / float64(n)
	rng := rand.New(rand.NewPCG(seed, 0x7a11))
	boot := make([][]float64, len(deep))
	res := make([]float64, m)
	for range FitBootstrap {
		for i := range res {
			res[i] = exc[rng.IntN(m)]
		}
		slices.Sort(res)
		sigma, xi := gpdPWM(res)
		if !bounded {
			xi = max(xi, 0)
		}
		for j, g := range deep {
			boot[j] = append(boot[j], u+gpdQuantile(sigma, xi, g/zeta))
		}
	}
	out := make([]float64, len(deep))
	for j := range deep {
		out[j] = percentile(boot[j], 1-fitLevel)
	}
	return out
}

// decade is 10^-e.
func decade(e int) float64 { return math.Pow(10, -float64(e)) }

// safeCount is the largest k ≥ 1 whose one-sided upper confidence bound on
// a proportion of k in n is at most f.
func safeCount(f float64, n int64) int {
	k := int(math.Ceil(f * float64(n)))
	for k > 1 && eval.CPUpper(int64(k), n, fitLevel) > f {
		k--
	}
	return k
}

// gpdPWM fits a generalised Pareto distribution to exceedances y (sorted
// ascending, all ≥ 0) by probability weighted moments: with a0 = E[Y] and
// a1 = E[Y(1-F(Y))], Hosking and Wallis's shape k = a0/(a0-2a1) - 2 and
// scale σ = 2·a0·a1/(a0-2a1); the shape returned is ξ = -k, so that
// P(Y > y) = (1 + ξy/σ)^(-1/ξ).
func gpdPWM(y []float64) (sigma, xi float64) {
	m := float64(len(y))
	var a0, a1 float64
	for j, v := range y {
		a0 += v
		a1 += v * (m - 1 - float64(j)) / (m - 1)
	}
	a0 /= m
	a1 /= m
	d := a0 - 2*a1
	if d <= 0 {
		return a0, 0.5 // the PWM estimator's domain ends at ξ = 0.5
	}
	return 2 * a0 * a1 / d, 2 - a0/d
}

// gpdQuantile is the exceedance y with P(Y > y) = q.
func gpdQuantile(sigma, xi, q float64) float64 {
	if math.Abs(xi) < 1e-9 {
		return -sigma * math.Log(q)
	}
	return sigma / xi * (math.Pow(q, -xi) - 1)
}

// percentile is the p-quantile of s (which it sorts), by the nearest rank.
func percentile(s []float64, p float64) float64 {
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}
