package eval

import (
	"math"
)

// This file holds the exact binomial statistics the extrapolation states its
// uncertainty with: Clopper-Pearson intervals for a proportion (Clopper and
// Pearson, Biometrika 26(4), 1934), which never under-cover, and binomial
// quantiles for the count a direct run should observe. Both rest on the
// regularized incomplete beta function I_x(a, b), since
// P(K >= k) = I_p(k, n-k+1) for K ~ Binomial(n, p).

// betaInc returns the regularized incomplete beta function I_x(a, b), by the
// continued fraction of Abramowitz and Stegun 26.5.8 evaluated with the
// modified Lentz method, using the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where
// the fraction converges slowly.
func betaInc(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaFraction(x, a, b) / a
	}
	return 1 - front*betaFraction(1-x, b, a)/b
}

// betaFraction evaluates the continued fraction of I_x(a, b).
func betaFraction(x, a, b float64) float64 {
	const tiny = 1e-300
	const eps = 1e-15
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		// Even step: d_{2m} = m(b-m)x / ((a+2m-1)(a+2m)).
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		// Odd step: d_{2m+1} = -(a+m)(a+b+m)x / ((a+2m)(a+2m+1)).
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		delta := d * c
		h *= delta
		if math.Abs(delta-1) < eps {
			break
		}
	}
	return h
}

// binomialSF returns P(K >= k) for K ~ Binomial(n, p).
func binomialSF(k, n int64, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	return betaInc(p, float64(k), float64(n-k+1))
}

// binomialCDF returns P(K <= k) for K ~ Binomial(n, p).
func binomialCDF(k, n int64, p float64) float64 { return 1 - binomialSF(k+1, n, p) }

// ClopperPearson returns the exact two-sided interval at confidence conf for
// a proportion with k successes in n trials: the p at which observing k or
// more (resp. k or fewer) has probability (1-conf)/2. With k = 0 the lower
// bound is 0 and the upper is 1-(α/2)^(1/n), about 3.7/n at 95%: the
// resolution of n trials.
func ClopperPearson(k, n int64, conf float64) (lo, hi float64) {
	alpha := 1 - conf
	return CPLower(k, n, alpha/2), CPUpper(k, n, alpha/2)
}

// CPLower returns the one-sided lower bound at level 1-a: the p with
// P(K >= k | p) = a.
func CPLower(k, n int64, a float64) float64 {
	if k <= 0 {
		return 0
	}
	return solveIncreasing(func(p float64) float64 { return binomialSF(k, n, p) }, a)
}

// CPUpper returns the one-sided upper bound at level 1-a: the p with
// P(K <= k | p) = a.
func CPUpper(k, n int64, a float64) float64 {
	if k >= n {
		return 1
	}
	if k == 0 {
		return 1 - math.Pow(a, 1/float64(n))
	}
	// P(K <= k | p) decreases in p; solve 1-P = 1-a on an increasing function.
	return solveIncreasing(func(p float64) float64 { return binomialSF(k+1, n, p) }, 1-a)
}

// solveIncreasing finds p in [0, 1] with f(p) = y for an increasing f, by
// bisection on log p so that tiny tail probabilities keep their relative
// precision.
func solveIncreasing(f func(float64) float64, y float64) float64 {
	lo, hi := -745.0, 0.0 // log p
	for range 200 {
		mid := (lo + hi) / 2
		if f(math.Exp(mid)) < y {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-12 {
			break
		}
	}
	return math.Exp((lo + hi) / 2)
}

// BinomialQuantile returns the smallest k with P(K <= k) >= q for
// K ~ Binomial(n, p).
func BinomialQuantile(q float64, n int64, p float64) int64 {
	if p <= 0 {
		return 0
	}
	if p >= 1 {
		return n
	}
	lo, hi := int64(0), n // P(K <= hi) = 1 >= q
	for lo < hi {
		mid := lo + (hi-lo)/2
		if binomialCDF(mid, n, p) >= q {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
