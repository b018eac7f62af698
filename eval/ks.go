package eval

import (
	"math"
	"slices"
)

// KS returns the two-sample Kolmogorov-Smirnov statistic of a and b: the
// largest distance between their empirical distribution functions,
// sup_x |F_a(x) − F_b(x)|, in [0, 1] (0 for identical samples). It is 1
// when either sample is empty.
func KS(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 1
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	na, nb := float64(len(x)), float64(len(y))
	var d float64
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		// Step past every value equal to the smaller head in both samples,
		// so that ties move both functions at once.
		v := math.Min(x[i], y[j])
		for i < len(x) && x[i] == v {
			i++
		}
		for j < len(y) && y[j] == v {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	return d
}
