package synth

import "github.com/ebsp/ebsp/iris"

// IrisModel sets the statistics of synthetic iris codes.
//
// Bits of a real iris code are correlated along the angular direction (the
// Gabor wavelets overlap), which is why Daugman found impostor distances to
// follow a binomial with about 249 degrees of freedom rather than 2048
// ("How iris recognition works", 2004, §5: mean 0.499, SD 0.0317 over 9.1
// million comparisons). Here each ring's real and imaginary phase bits are
// the signs of a smoothed Gaussian sequence around the ring; the smoothing
// width is set so that impostor distances have SD ≈ 0.032.
type IrisModel struct {
	// Smooth is the half-width, in angular steps, of the moving average
	// that correlates neighbouring bits.
	Smooth int
	// FlipLo and FlipHi bound the share of bits a capture gets wrong
	// against the true code, for capture quality 1 and 0; two captures then
	// differ in about f1+f2−2·f1·f2 of their bits (Daugman's genuine mean
	// of about 0.11 corresponds to good captures).
	FlipLo, FlipHi float64
	// QualityMean and QualitySD spread capture quality (clipped normal).
	QualityMean, QualitySD float64
	// MaxRotation is the largest eye rotation of a capture, in angular steps.
	MaxRotation int
	// OcclusionMean is the mean share of the code masked out (eyelids,
	// lashes, reflections).
	OcclusionMean float64
}

// DefaultIrisModel smooths over 21 angular steps (half-width 10), which
// gives impostor distances of SD 0.0319, about 246 degrees of freedom (see
// TestIrisImpostorDistribution); flips 4-20% by quality, quality
// N(0.7, 0.15), eye rotations up to ±4 steps (about ±11°), 20% of bits
// masked on average.
func DefaultIrisModel() IrisModel {
	return IrisModel{Smooth: 10, FlipLo: 0.04, FlipHi: 0.20, QualityMean: 0.7, QualitySD: 0.15,
		MaxRotation: 4, OcclusionMean: 0.2}
}

// IrisGenerator draws iris codes for a model.
type IrisGenerator struct {
	model IrisModel
	seed  uint64
}

// NewIrisGenerator returns a generator.
func NewIrisGenerator(seed uint64, m IrisModel) *IrisGenerator {
	return &IrisGenerator{model: m, seed: seed}
}

// TrueCode returns the noise-free code of an eye (identity id, eye 0 right
// or 1 left), with every bit valid.
func (g *IrisGenerator) TrueCode(id uint64, eye int) *iris.Code {
	r := newRand(g.seed, "iris-eye", id, uint64(eye))
	c := new(iris.Code)
	w := g.model.Smooth
	var white [iris.Angles]float64
	for ring := range iris.Rings {
		for comp := range 2 {
			for a := range white {
				white[a] = r.NormFloat64()
			}
			for a := range iris.Angles {
				var s float64
				for k := -w; k <= w; k++ {
					s += white[(a+k+iris.Angles)%iris.Angles]
				}
				c.Set((ring*iris.Angles+a)*2+comp, s > 0, true)
			}
		}
	}
	return c
}

// Quality draws the quality of a capture.
func (g *IrisGenerator) Quality(id uint64, eye int, capture uint64) float64 {
	r := newRand(g.seed, "iris-quality", id, uint64(eye), capture)
	return clamp(g.model.QualityMean+g.model.QualitySD*r.NormFloat64(), 0, 1)
}

// Capture returns capture number capture of an eye whose true code is
// truth: rotated by a few angular steps, with bits flipped at the rate for
// its quality (in short runs, as blur and noise corrupt neighbouring
// wavelets together), the upper eyelid masking the outer rings over an arc,
// and scattered reflections masked.
func (g *IrisGenerator) Capture(truth *iris.Code, id uint64, eye int, capture uint64, quality float64) *iris.Code {
	r := newRand(g.seed, "iris-capture", id, uint64(eye), capture)
	m := g.model
	rot := 0
	if m.MaxRotation > 0 {
		rot = r.IntN(2*m.MaxRotation+1) - m.MaxRotation
	}
	flip := m.FlipHi - (m.FlipHi-m.FlipLo)*clamp(quality, 0, 1)
	// Eyelid: an arc centred at the top (angle 0 here) covering the outer
	// rings; its width makes up most of the occlusion.
	lid := clamp(m.OcclusionMean*(0.5+r.Float64()), 0, 0.6)
	lidHalf := int(lid * iris.Angles * iris.Rings / 5 / 2) // spread over the 5 outer rings
	out := new(iris.Code)
	for ring := range iris.Rings {
		run := 0
		for a := range iris.Angles {
			src := ((a-rot)%iris.Angles + iris.Angles) % iris.Angles
			// A run of flipped points starts with probability flip/3 and
			// lasts 3 points on average, so the flipped share is about
			// flip (a little less, as runs cannot start inside runs).
			if run == 0 && r.Float64() < flip/3 {
				run = 1 + r.IntN(5)
			}
			da := min(a, iris.Angles-a)
			valid := !(ring >= iris.Rings-5 && da <= lidHalf*(ring-2)/5)
			if r.Float64() < 0.02 { // specular reflections
				valid = false
			}
			for comp := range 2 {
				b, _ := truth.Bit((ring*iris.Angles+src)*2 + comp)
				if run > 0 {
					b = !b
				}
				out.Set((ring*iris.Angles+a)*2+comp, b, valid)
			}
			if run > 0 {
				run--
			}
		}
	}
	return out
}
