package privacy

import (
	"github.com/tuneinsight/lattigo/v6/utils/bignum"
)

// signLogAlpha: the composite polynomial below separates inputs in
// [-1, -2^-5] from [2^-5, 1].
const signLogAlpha = 5

// signChebyshev is a composite minimax approximation of sign(z) on
// [-1, -2^-5] ∪ [2^-5, 1], p3∘p2∘p1 of degrees 15, 15 and 7 (depth 11),
// in the Chebyshev basis on [-1, 1]. It was generated for this package
// with Lattigo's multi-interval Remez algorithm (Lee, Lee, Kim, No,
// "Minimax approximation of sign function by composite polynomial for
// homomorphic comparison", IEEE TDSC 2021):
//
//	minimax.GenMinimaxCompositePolynomialForSign(256, 5, 20, []int{15, 15, 7})
//
// which reports an output error of 2^-39.4 when the scheme error is below
// 2^-20; under encryption the scheme error dominates (see TestSearchCounts).
var signChebyshev = [][]float64{
	{0, 0.859829635302, 0, -0.286972740230, 0, 0.172691764260, 0, -0.123967948961, 0, 0.097168646757, 0, -0.080490703993, 0, 0.069468915012, 0, -0.357232210008},
	{0, 1.259412744312, 0, -0.388353246525, 0, 0.198779945820, 0, -0.110919369361, 0, 0.060937755221, 0, -0.031128873096, 0, 0.013906151163, 0, -0.005140146917},
	{0, 1.196503211996, 0, -0.239643603751, 0, 0.048066249646, 0, -0.004925857892},
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
