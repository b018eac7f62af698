package privacy

import (
	"github.com/tuneinsight/lattigo/v6/utils/bignum"
)

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

// stepPolynomials returns the composite as Lattigo polynomials, with the
// last one turned from sign into step: (1 + sign)/2, so the output is 1
// above the threshold and 0 below.
func stepPolynomials() []bignum.Polynomial {
	out := make([]bignum.Polynomial, len(signChebyshev))
	for i, c := range signChebyshev {
		c = append([]float64(nil), c...)
		if i == len(signChebyshev)-1 {
			for j := range c {
				c[j] /= 2
			}
			c[0] += 0.5
		}
		out[i] = bignum.NewPolynomial(bignum.Chebyshev, c, [2]float64{-1, 1})
	}
	return out
}

// signDepth is the multiplicative depth of the composite polynomial.
func signDepth() int {
	d := 0
	for _, c := range signChebyshev {
		deg := len(c) - 1
		k := 0
		for (1 << k) <= deg {
			k++
		}
		d += k
	}
	return d
}

// stepPlain evaluates the composite step polynomial in float64 (for tests
// and for the margin check of the bench).
func stepPlain(z float64) float64 {
	for i, c := range signChebyshev {
		z = chebyshev(c, z)
		if i == len(signChebyshev)-1 {
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
