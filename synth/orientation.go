package synth

import (
	"math"
	"math/rand/v2"
)

// orientationModel is a finger's ridge orientation field.
//
// Loops, whorls and tented arches use the zero-pole model of Sherlock and
// Monro ("A model for interpreting fingerprint topology", Pattern Recognition
// 26(7), 1993): with z a point in the plane, cores c_i and deltas d_j,
//
//	θ(z) = θ∞ + ½ (Σ arg(z − c_i) − Σ arg(z − d_j))
//
// so the orientation turns by +π around a core and by −π around a delta.
// Plain arches have no singular points; their ridges follow a bump whose
// height falls off away from the top of the finger. A few long-wavelength
// sinusoidal terms add the variability that real fields show and the bare
// model lacks.
type orientationModel struct {
	class         PatternClass
	cores, deltas []Point
	theta0        float64
	// arch parameters
	archX, archY, archW, archH float64
	// perturbation: Σ amp·cos(kx·x + ky·y + phase)
	pert [4]struct{ kx, ky, amp, phase float64 }
	// bend[i] reshapes the flow around singular point i (cores, then
	// deltas): its angle α around the point counts as g(α) = α +
	// a1·cos α + b1·sin α + a2·cos 2α + b2·sin 2α.
	bend [4]flowBend
}

func newOrientationModel(r *rand.Rand, class PatternClass, cores, deltas []Point, cx, cy float64) orientationModel {
	m := orientationModel{class: class, cores: cores, deltas: deltas, theta0: 0.08 * r.NormFloat64()}
	if class == Arch {
		m.archX, m.archY = cx+15*r.NormFloat64(), cy-30+20*r.NormFloat64()
		m.archW = clamp(70+15*r.NormFloat64(), 45, 110)
		m.archH = clamp(0.9+0.25*r.NormFloat64(), 0.5, 1.4)
	}
	for i := range min(len(cores)+len(deltas), len(m.bend)) {
		b := &m.bend[i]
		b.a1, b.b1 = clamp(bendSD*r.NormFloat64(), -bendMax, bendMax), clamp(bendSD*r.NormFloat64(), -bendMax, bendMax)
		b.a2, b.b2 = clamp(bendSD*r.NormFloat64(), -bendMax, bendMax), clamp(bendSD*r.NormFloat64(), -bendMax, bendMax)
	}
	for i := range m.pert {
		wl := 100 + 200*r.Float64() // wavelength in px
		dir := 2 * math.Pi * r.Float64()
		m.pert[i].kx = 2 * math.Pi / wl * math.Cos(dir)
		m.pert[i].ky = 2 * math.Pi / wl * math.Sin(dir)
		m.pert[i].amp = 0.2 * r.Float64()
		m.pert[i].phase = 2 * math.Pi * r.Float64()
	}
	return m
}

// at returns the ridge orientation at canvas point (x, y) as an angle in
// radians, counter-clockwise from the x axis with y pointing up (the ISO/IEC
// 19794-2 convention), in [0, π). The ridge runs along (cos θ, −sin θ) in
// pixel coordinates.
func (m *orientationModel) at(x, y float64) float64 {
	var th float64
	if m.class == Arch {
		// Ridges are the level curves of Y = A(y)·exp(−(x−x0)²/2w²) above a
		// straight flow; their slope in y-up terms gives the angle.
		dx := (x - m.archX) / m.archW
		depth := (y - m.archY) / 140 // below the top of the arch the bump flattens
		a := m.archH * math.Exp(-max(depth, -0.5)*max(depth, -0.5)*0.8)
		if depth < 0 {
			a = m.archH * (1 + 0.5*depth)
		}
		th = math.Atan(-a * dx * math.Exp(-dx*dx/2) * 1.2)
	} else {
		// Σ arg(z − c_i) − Σ arg(z − d_j) is, modulo 2π, the argument of
		// Π (z − c_i) · Π conj(z − d_j): one arctangent instead of one per
		// singular point. Halved, it is the orientation modulo π, which is
		// all an orientation is. (z in y-up terms: x − i·y.)
		re, im := 1.0, 0.0
		var bend float64
		for i, c := range m.cores {
			zr, zi := x-c.X, -(y - c.Y)
			re, im = re*zr-im*zi, re*zi+im*zr
			bend += m.bend[i].at(zr, zi)
		}
		for i, d := range m.deltas {
			zr, zi := x-d.X, y-d.Y // the conjugate
			re, im = re*zr-im*zi, re*zi+im*zr
			bend -= m.bend[len(m.cores)+i].at(zr, -zi)
		}
		th = 0.5*atan2Fast(im, re) + 0.5*bend
	}
	th += m.theta0
	for i := range m.pert { // by index: ranging over the array by value would copy it
		p := &m.pert[i]
		th += p.amp * cosFast(p.kx*x+p.ky*y+p.phase)
	}
	// th is within about π of 0, so folding by steps is exact and cheaper
	// than math.Mod.
	for th < 0 {
		th += math.Pi
	}
	for th >= math.Pi {
		th -= math.Pi
	}
	return th
}

// Bending of the flow around singular points, in the spirit of Vizcaya and
// Gerhardt ("A nonlinear orientation model for global description of
// fingerprints", Pattern Recognition 29(7), 1996), who replace the angle
// around each singular point by a fitted monotonic function of it: real
// loops and whorls differ in shape far more than the bare zero-pole model
// lets fingers of one class differ. Here the function is a two-harmonic
// correction; coefficients within ±bendMax keep its slope above
// 1 − √2·bendMax·(1+2) > 0, so it stays monotonic and the singular points'
// indices stay ±½.
const (
	bendSD  = 0.12
	bendMax = 0.22
)

// flowBend is the bending of the flow around one singular point.
type flowBend struct{ a1, b1, a2, b2 float64 }

// at returns the correction g(α) − α at offset (dx, dy) from the point
// (y up).
func (b *flowBend) at(dx, dy float64) float64 {
	r2 := dx*dx + dy*dy
	if r2 == 0 {
		return 0
	}
	inv := 1 / math.Sqrt(r2)
	c, s := dx*inv, dy*inv
	return b.a1*c + b.b1*s + b.a2*(c*c-s*s) + b.b2*2*c*s
}
