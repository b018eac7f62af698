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
//     Haan theorem) is fitted to the top 1% of the scores (at least 100) by
//     probability weighted moments (Hosking and Wallis, Technometrics 29(3),
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
	fitLevel     = 0.05 // one-sided: 95% confidence
	fitDeepest   = 1e-12
	minResolved  = 10 // comparisons at or above a measured point, at least
)

// Fit returns the tail of a sample of impostor scores, measured and then
// extended to FMR 1e-12 as the comment above says: points at FMR 1e-1,
// 1e-2, ... 1e-12, with MeasuredFMR the last measured one. It sorts imp.
// seed fixes the bootstrap, so that a tail is reproducible.
func Fit(imp []float64, source string, seed uint64) (Tail, error) {
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
	t := Tail{Source: source, Comparisons: n, Method: FitMethod}
	for _, s := range imp {
		t.Mean += s
	}
	t.Mean /= float64(n)
	// Measured points, on the safe side.
	e := 1
	for ; decade(e)*float64(n) >= minResolved; e++ {
		f := decade(e)
		k := safeCount(f, n)
		t.Points = append(t.Points, TailPoint{Score: imp[n-k], FMR: f})
		t.MeasuredFMR = f
	}
	// The GPD over the top tenth, and its bootstrap.
	m := max(int(math.Ceil(fitTopShare*float64(n))), 100)
	u := imp[n-m-1]
	exc := make([]float64, m)
	for i := range m {
		exc[i] = imp[n-m+i] - u
	}
	zeta := float64(m) / float64(n)
	var deep []float64
	for ; decade(e) >= fitDeepest; e++ {
		deep = append(deep, decade(e))
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a11))
	boot := make([][]float64, len(deep))
	res := make([]float64, m)
	for range FitBootstrap {
		for i := range res {
			res[i] = exc[rng.IntN(m)]
		}
		slices.Sort(res)
		sigma, xi := gpdPWM(res)
		xi = max(xi, 0)
		for j, g := range deep {
			boot[j] = append(boot[j], u+gpdQuantile(sigma, xi, g/zeta))
		}
	}
	for j, g := range deep {
		s := percentile(boot[j], 1-fitLevel)
		if last := t.Points[len(t.Points)-1].Score; s < last {
			s = last // never below a shallower point
		}
		t.Points = append(t.Points, TailPoint{Score: s, FMR: g})
	}
	return t, nil
}

// decade is 10^-e.
func decade(e int) float64 { return math.Pow(10, -float64(e)) }

// safeCount is the largest k ≥ 1 whose one-sided upper confidence bound on
// a proportion of k in n is at most f.
func safeCount(f float64, n int) int {
	k := int(math.Ceil(f * float64(n)))
	for k > 1 && eval.CPUpper(int64(k), int64(n), fitLevel) > f {
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
