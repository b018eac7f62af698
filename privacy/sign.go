package privacy

import (
	"github.com/tuneinsight/lattigo/v6/utils/bignum"
)

// signLogAlpha: the composite polynomial below separates inputs in
// [-1, -2^-5] from [2^-5, 1].
const signLogAlpha = 5

// signChebyshev is a composite minimax approximation of sign(z) on
// [-1, -2^-5] ∪ [2^-5, 1], p3∘p2∘p1 of degrees 7, 15 and 15 (depth 11),
// in the Chebyshev basis on [-1, 1]. It was generated for this package
// with Lattigo's multi-interval Remez algorithm (Lee, Lee, Kim, No,
// "Minimax approximation of sign function by composite polynomial for
// homomorphic comparison", IEEE TDSC 2021):
//
//	minimax.GenMinimaxCompositePolynomialForSign(256, 5, 20, []int{7, 15, 15})
//
// which reports an output error of 2^-41.9 when the scheme error is below
// 2^-20; under encryption the scheme error dominates (see TestSearchCounts).
// The cheap degree-7 polynomial comes first, where the ciphertext has the
// most primes and every multiplication costs most: degrees 15, 15, 7 (the
// previous choice, 2^-39.4) took 9 % more thread CPU for the three
// polynomials together at ring degree 2^15 (1.17 s against 1.08 s, one
// ciphertext, load 23).
var signChebyshev = [][]float64{
	{0, 0.750735757802, 0, -0.255404471239, 0, 0.160774651248, 0, -0.479612458148},
	{0, 1.231338253952, 0, -0.397367849965, 0, 0.223333543108, 0, -0.144111977663, 0, 0.097547089064, 0, -0.066568351298, 0, 0.044612569150, 0, -0.046432615936},
	{0, 1.236464483016, 0, -0.325533313466, 0, 0.120858891087, 0, -0.041101102380, 0, 0.011337705900, 0, -0.002314163196, 0, 0.000307332819, 0, -0.000019833780},
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
