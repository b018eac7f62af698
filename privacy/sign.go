package privacy

import "math"

// signLogAlpha: the composite polynomial below separates inputs in
// [-1, -2^-5] from [2^-5, 1].
const signLogAlpha = 5

// signChebyshev is a composite minimax approximation of sign(z) on
// [-1, -2^-5] ∪ [2^-5, 1], p4∘p3∘p2∘p1 of degrees 3, 7, 7 and 7 (depth
// 11), in the Chebyshev basis on [-1, 1]. It was generated for this
// package with Lattigo's multi-interval Remez algorithm (Lee, Lee, Kim, No,
// "Minimax approximation of sign function by composite polynomial for
// homomorphic comparison", IEEE TDSC 2021):
//
//	minimax.GenMinimaxCompositePolynomialForSign(256, 5, 20, []int{3, 7, 7, 7})
//
// which reports an output error of 2^-24.0 when the scheme error is below
// 2^-20 (TestStepPolynomial measures 2^-25.0 in float64). The step values
// are summed, so that error adds up: at most 2^-24 per entry is 0.06 over
// a million entries, below the count's rounding margin together with the
// flooding noise (docs/privacy.md). Why these degrees: the polynomials
// cost key switches, which cost most at the top levels, and at depth 11
// this composite needs the fewest: degrees 7, 15, 15 (2^-41.9) took 18 %
// more thread CPU, degrees 15, 15, 7 (2^-39.4, the first version) about
// 28 % more (one ciphertext at ring degree 2^15, load 23-29, separate runs).
var signChebyshev = [][]float64{
	{0, 0.699176744079, 0, -0.619340022720},
	{0, 0.897183762225, 0, -0.299390007152, 0, 0.181097547747, 0, -0.369571015823},
	{0, 1.225034740317, 0, -0.344613648329, 0, 0.143488616191, 0, -0.059404575147},
	{0, 1.199325020609, 0, -0.244787663397, 0, 0.050998160634, 0, -0.005535575609},
}

// simMax bounds the similarities the search meets: the probe is a unit
// vector and a stored gallery entry, a unit vector rounded to int8/128, has
// norm at most √(1 + 2·√dim/256 + dim/65536), below 1.045 up to 128
// dimensions (lopsidedMaxDim).
const simMax = 1.05

// lopsidedMaxDim is the largest dimension for which simMax holds.
const lopsidedMaxDim = 128

// lopsided returns the composite of stepTable for threshold t and
// dimension dim, if there is one: then the step polynomials take
// s = x/simMax, which lies in [-1, 1], and the first one puts the step at t
// itself. Such a composite (degrees 7, 7, 7, depth 9) exploits that for a
// high threshold the step lies near the end of the similarities' range,
// where a polynomial can be steep at little cost; the symmetric
// signChebyshev needs depth 11 to separate the same margin.
// privacy/internal/stepgen generates the table and says how.
func lopsided(t float64, dim int) ([][]float64, bool) {
	h := math.Round(t * 100)
	if dim > lopsidedMaxDim || math.Abs(t*100-h) > 1e-9 {
		return nil, false
	}
	c, ok := stepTable[int(h)]
	return c, ok
}

// stepComposite returns the composite sign approximation for threshold t
// and dimension dim: the lopsided one of stepTable if there is one, else
// signChebyshev.
func stepComposite(t float64, dim int) [][]float64 {
	if c, ok := lopsided(t, dim); ok {
		return c
	}
	return signChebyshev
}

// stepInput returns the affine map a·x + b from a similarity x to the step
// polynomials' input: x/simMax for a lopsided composite, (x − t)/(simMax + t)
// for the symmetric one.
func stepInput(t float64, dim int) (a, b float64) {
	if _, ok := lopsided(t, dim); ok {
		return 1 / simMax, 0
	}
	return 1 / (simMax + t), -t / (simMax + t)
}

// signDepth is the multiplicative depth of the composite polynomial for
// threshold t and dimension dim.
func signDepth(t float64, dim int) int {
	d := 0
	for _, c := range stepComposite(t, dim) {
		deg := len(c) - 1
		k := 0
		for (1 << k) <= deg {
			k++
		}
		d += k
	}
	return d
}

// stepPlain evaluates the composite step polynomial for threshold t and
// dimension dim at similarity x in float64 (for the tests).
func stepPlain(t float64, dim int, x float64) float64 {
	a, b := stepInput(t, dim)
	z := a*x + b
	comp := stepComposite(t, dim)
	for i, c := range comp {
		z = chebyshev(c, z)
		if i == len(comp)-1 {
			z = (1 + z) / 2
		}
	}
	return z
}

// chebyshev evaluates Σ c_k T_k(x) by Clenshaw's recurrence.
func chebyshev(c []float64, x float64) float64 {
	var b1, b2 float64
	for k := len(c) - 1; k >= 1; k-- {
		b1, b2 = 2*x*b1-b2+c[k], b1
	}
	return x*b1 - b2 + c[0]
}
