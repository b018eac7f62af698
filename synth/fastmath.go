package synth

import "math"

// The template level evaluates a handful of elementary functions per
// minutia; math's versions handle every argument to the last bit, and their
// long polynomial chains cost more than the rest of a minutia's arithmetic.
// These cover the arguments the models produce to about 1e-12 (TestFastMath
// checks them against math), far below anything the generated geometry can
// show: positions are rounded to pixels, directions jitter by 0.1 rad.
// Each reduces its argument to a small remainder around a tabulated point,
// where a short polynomial suffices.

// tableSteps is the number of table points per unit of the reduced
// variable: 64 per octave for exp, 64 per half-turn for sine and cosine.
const tableSteps = 64

var (
	exp2Table [tableSteps]float64     // 2^(j/64)
	sinTable  [2 * tableSteps]float64 // sin(jπ/64), j = 0 … 127
	cosTable  [2 * tableSteps]float64
	atanTable [tableSteps + 1]float64 // atan(j/64), j = 0 … 64
)

func init() {
	for j := range tableSteps {
		exp2Table[j] = math.Exp2(float64(j) / tableSteps)
	}
	for j := range 2 * tableSteps {
		sinTable[j], cosTable[j] = math.Sincos(float64(j) * math.Pi / tableSteps)
	}
	for j := range tableSteps + 1 {
		atanTable[j] = math.Atan(float64(j) / tableSteps)
	}
}

// expFast returns e^x for −700 < x < 700 (0 below): x = (64n + j)·ln2/64
// + g with |g| ≤ ln2/128, so e^x = 2^n · 2^(j/64) · e^g, and e^g by its
// Taylor polynomial to g⁵ (error below 0.0055⁶/720 ≈ 4e-17).
func expFast(x float64) float64 {
	if x < -700 {
		return 0
	}
	k := math.Floor(x*(tableSteps*math.Log2E) + 0.5)
	// g = x − k·ln2/64 in two parts, so that the reduction is exact to
	// double precision (Cody and Waite).
	g := x - k*ln2Hi64 - k*ln2Lo64
	ki := int64(k)
	n, j := ki>>6, ki&(tableSteps-1) // floor division: j in 0 … 63
	g2 := g * g
	p := (1 + g) + g2*((0.5+g*(1.0/6))+g2*(1.0/24+g*(1.0/120)))
	return p * exp2Table[j] * math.Float64frombits(uint64(n+1023)<<52)
}

// ln2/64 split into a high part with trailing zero bits (so k·ln2Hi64 is
// exact for |k| < 2^17) and the remainder.
const (
	ln2Hi64 = 6.93147180369123816490e-01 / tableSteps
	ln2Lo64 = 1.90821492927058770002e-10 / tableSteps
)

// sincosFast returns sin x and cos x for |x| < 1e6: x = jπ/64 + r with
// |r| ≤ π/128, sin and cos of jπ/64 from the tables, of r by Taylor
// polynomials to r⁷ and r⁸ (errors below 1e-15), combined by the angle
// sum formulas.
func sincosFast(x float64) (sin, cos float64) {
	k := math.Floor(x*(tableSteps/math.Pi) + 0.5)
	r := x - k*(math.Pi/tableSteps)
	j := int64(k) & (2*tableSteps - 1) // jπ/64 modulo 2π
	r2 := r * r
	sr := r * (1 - r2*(1.0/6-r2*(1.0/120-r2*(1.0/5040))))
	cr := 1 - r2*(0.5-r2*(1.0/24-r2*(1.0/720-r2*(1.0/40320))))
	sj, cj := sinTable[j], cosTable[j]
	return sj*cr + cj*sr, cj*cr - sj*sr
}

// cosFast returns cos x for |x| < 1e6, as sincosFast does.
func cosFast(x float64) float64 {
	k := math.Floor(x*(tableSteps/math.Pi) + 0.5)
	r := x - k*(math.Pi/tableSteps)
	j := int64(k) & (2*tableSteps - 1)
	r2 := r * r
	sr := r * (1 - r2*(1.0/6-r2*(1.0/120-r2*(1.0/5040))))
	cr := 1 - r2*(0.5-r2*(1.0/24-r2*(1.0/720-r2*(1.0/40320))))
	return cosTable[j]*cr - sinTable[j]*sr
}

// atanSmall returns atan t for |t| ≤ 0.25 by its Taylor series to t¹⁹
// (truncation error below 0.25²¹/21 ≈ 1.1e-14), summed in pairs of terms so
// that the multiplications do not wait on each other (Estrin's scheme).
func atanSmall(t float64) float64 {
	t2 := t * t
	t4 := t2 * t2
	t8 := t4 * t4
	lo := (1 - t2*(1.0/3)) + t4*((1.0/5-t2*(1.0/7))+t4*(1.0/9-t2*(1.0/11)))
	hi := (1.0/13 - t2*(1.0/15)) + t4*(1.0/17-t2*(1.0/19))
	return t * (lo + t8*t4*hi)
}

// atan2Fast returns the angle of (x, y), as math.Atan2 does, for finite
// arguments (0 for the origin). The ratio t = min/max of |x| and |y| is
// taken to the nearest tabulated tj = j/64 by atan t = atan tj +
// atan((t − tj)/(1 + t·tj)), the second argument at most 1/128, where
// three terms of the series suffice (error below (1/128)⁷/7 ≈ 4e-16).
func atan2Fast(y, x float64) float64 {
	ax, ay := math.Abs(x), math.Abs(y)
	lo, hi := min(ax, ay), max(ax, ay)
	if hi == 0 {
		return 0
	}
	t := lo / hi
	j := int(t*tableSteps + 0.5)
	tj := float64(j) * (1.0 / tableSteps)
	d := (t - tj) / (1 + t*tj)
	d2 := d * d
	a := atanTable[j] + d*(1-d2*(1.0/3-d2*(1.0/5)))
	if ay > ax {
		a = math.Pi/2 - a
	}
	if x < 0 {
		a = math.Pi - a
	}
	if y < 0 {
		a = -a
	}
	return a
}
