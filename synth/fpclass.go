package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// PatternClass is the Henry class of a fingerprint's ridge pattern.
type PatternClass int

// The five classes of the NIST/FVC classification. Left and right loops are
// named for the side the loop opens to in the image.
const (
	Arch PatternClass = iota
	TentedArch
	LeftLoop
	RightLoop
	Whorl
	numClasses
)

var classNames = [numClasses]string{"arch", "tented_arch", "left_loop", "right_loop", "whorl"}

func (c PatternClass) String() string {
	if c >= 0 && c < numClasses {
		return classNames[c]
	}
	return fmt.Sprintf("PatternClass(%d)", int(c))
}

// MarshalText writes the class name, so JSON manifests are readable.
func (c PatternClass) MarshalText() ([]byte, error) {
	if c < 0 || c >= numClasses {
		return nil, fmt.Errorf("synth: pattern class %d out of range", int(c))
	}
	return []byte(classNames[c]), nil
}

// ClassFrequencies are the natural frequencies of the classes as commonly
// cited from Wilson, Candela and Watson (NIST, 1994) in the Handbook of
// Fingerprint Recognition (Maltoni et al., §5.1): arch 3.7%, tented arch 2.9%,
// left loop 33.8%, right loop 31.7%, whorl 27.9%. They agree with the usual
// textbook split of about 5% arches, 65% loops and 30% whorls.
var ClassFrequencies = [numClasses]float64{0.037, 0.029, 0.338, 0.317, 0.279}

// drawClass draws a class with ClassFrequencies.
func drawClass(r *rand.Rand) PatternClass {
	u := r.Float64()
	for c, p := range ClassFrequencies {
		if u < p {
			return PatternClass(c)
		}
		u -= p
	}
	return Whorl
}

// Point is a position in pixels on a master fingerprint's canvas (origin top
// left, y downwards).
type Point struct{ X, Y float64 }

// placeSingularities puts cores and deltas for a class on a canvas whose
// finger centre is (cx, cy), at distances typical of 500 ppi prints: in loops
// the delta lies about 100-200 px (5-10 mm) below and to the side of the
// core, on the side opposite to the opening of the loop; whorls have two
// cores close together and a delta on each side; a tented arch has its delta
// almost straight below the core. Plain arches have none.
func placeSingularities(r *rand.Rand, class PatternClass, cx, cy float64) (cores, deltas []Point) {
	n := r.NormFloat64
	switch class {
	case TentedArch:
		c := Point{cx + 12*n(), cy - 10 + 20*n()}
		cores = []Point{c}
		deltas = []Point{{c.X + 8*n(), c.Y + 70 + 15*n()}}
	case LeftLoop, RightLoop:
		c := Point{cx + 15*n(), cy - 20 + 22*n()}
		side := 1.0 // delta to the right: the loop opens to the left
		if class == RightLoop {
			side = -1
		}
		cores = []Point{c}
		deltas = []Point{{c.X + side*clamp(100+25*n(), 50, 160), c.Y + clamp(125+25*n(), 70, 200)}}
	case Whorl:
		c := Point{cx + 15*n(), cy - 20 + 20*n()}
		// Two cores 10-40 px apart at a random tilt: from a plain whorl to a
		// double loop.
		d := clamp(24+8*n(), 10, 40)
		tilt := 0.6 * n()
		dx, dy := d/2*math.Sin(tilt), d/2*math.Cos(tilt)
		cores = []Point{{c.X - dx, c.Y - dy}, {c.X + dx, c.Y + dy}}
		deltas = []Point{
			{c.X - clamp(115+20*n(), 70, 170), c.Y + clamp(120+25*n(), 70, 190)},
			{c.X + clamp(115+20*n(), 70, 170), c.Y + clamp(120+25*n(), 70, 190)},
		}
	}
	return cores, deltas
}
