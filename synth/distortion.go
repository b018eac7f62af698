package synth

import (
	"math"
	"math/rand/v2"
)

// impressionGeom is where and how a finger touched the sensor for one
// impression: the part of the master that made contact, the skin distortion
// of Cappelli, Maio and Maltoni ("Modelling plastic distortion in fingerprint
// images", ICAPR 2001), and the rigid placement of the finger on the sensor.
//
// The distortion model splits the contact region into a close-contact core
// (radius r around the contact centre c) that does not move, an outer part
// that moves rigidly by a small rotation and translation (the finger being
// pushed and twisted), and a transition between them:
//
//	dist(v) = v + Δ(v)·brake(d(v) − r)   with Δ(v) = T(v) − v,
//	brake(x) = 0 for x ≤ 0, 1 − exp(−x²/2k²) otherwise,
//
// d(v) the distance from c. The rigid placement then rotates by rot about c
// and moves c to (ox, oy) in the impression.
type impressionGeom struct {
	cx, cy     float64 // contact centre on the master canvas
	r, k       float64 // close-contact radius and brake width, px
	dRot       float64 // distortion: rotation of the outer skin, rad
	dTx, dTy   float64 // distortion: translation of the outer skin, px
	rot        float64 // placement rotation, rad (clockwise on screen: y is down)
	ox, oy     float64 // placement of the contact centre in the impression
	ra, rb     float64 // contact ellipse half-axes on the master canvas
	cosD, sinD float64
	cosR, sinR float64
	inv2k2     float64 // 1/(2k²), for the brake
}

// Regime is the acquisition condition of an impression. Impression k
// follows the FVC2002 acquisition protocol (Maio et al., ICPR 2002), which
// asked volunteers for impressions 1-2 as usual, 3-4 with exaggerated
// displacement and rotation, 5-6 with dried and 7-8 with moistened fingers;
// the cycle repeats for k > 8 (k = 0 is a normal impression).
type Regime int

// The regimes, in protocol order.
const (
	RegimeNormal Regime = iota
	RegimeDisplaced
	RegimeDry
	RegimeWet
)

// ImpressionRegime returns the regime of impression k.
func ImpressionRegime(k uint64) Regime {
	if k == 0 {
		return RegimeNormal
	}
	return Regime((k - 1) / 2 % 4)
}

// newImpressionGeom draws a placement for impression k of size w × h.
// Spreads: rotation sd 8° (20° when displaced, at most 35° as FVC allowed),
// translation sd 20 px per axis (45 px when displaced), the touching
// part of the finger moved by sd 30 px vertically (45 px), outer-skin
// distortion sd 8 px and 3° (12 px and 5° when displaced, where the finger
// is also pushed), contact half-axes of 5.5-9.5 by 7.5-12 mm by pressure.
func newImpressionGeom(r *rand.Rand, m *FingerMaster, w, h int, k uint64) impressionGeom {
	n := r.NormFloat64
	rotSD, shiftSD, skinSD, skinRot, partSD := 0.14, 20.0, 8.0, 0.05, 30.0
	if ImpressionRegime(k) == RegimeDisplaced {
		rotSD, shiftSD, skinSD, skinRot, partSD = 0.35, 45, 12, 0.09, 45
	}
	// The part of the finger that touches: real impressions show the tip
	// in one and the lower phalanx in another.
	g := impressionGeom{
		cx: m.cx + 0.6*partSD*n(), cy: m.cy + 10 + partSD*n(),
		r: clamp(60+15*n(), 30, 95), k: clamp(55+15*n(), 25, 100),
		dRot: clamp(skinRot*n(), -2*skinRot, 2*skinRot),
		dTx:  clamp(skinSD*n(), -2*skinSD, 2*skinSD), dTy: clamp(skinSD*n(), -2*skinSD, 2*skinSD),
		rot: clamp(rotSD*n(), -0.61, 0.61),
		ox:  float64(w)/2 + clamp(shiftSD*n(), -2.5*shiftSD, 2.5*shiftSD),
		oy:  float64(h)/2 + clamp(shiftSD*n(), -2.5*shiftSD, 2.5*shiftSD),
	}
	// Pressure sets the contact area.
	pressure := clamp(0.55+0.25*n(), 0, 1)
	g.ra = 108 + 80*pressure + 8*n()
	g.rb = 150 + 90*pressure + 10*n()
	g.sinD, g.cosD = sincosFast(g.dRot)
	g.sinR, g.cosR = sincosFast(g.rot)
	g.inv2k2 = 1 / (2 * g.k * g.k)
	return g
}

// displacement returns Δ(v)·brake for a master point.
func (g *impressionGeom) displacement(x, y float64) (float64, float64) {
	dx, dy := x-g.cx, y-g.cy
	d := math.Sqrt(dx*dx+dy*dy) - g.r
	if d <= 0 {
		return 0, 0
	}
	b := 1 - expFast(-d*d*g.inv2k2)
	tx := g.cosD*dx - g.sinD*dy + g.dTx - dx
	ty := g.sinD*dx + g.cosD*dy + g.dTy - dy
	return tx * b, ty * b
}

// forward maps a master point to the impression.
func (g *impressionGeom) forward(x, y float64) (float64, float64) {
	ddx, ddy := g.displacement(x, y)
	x, y = x+ddx-g.cx, y+ddy-g.cy
	return g.cosR*x - g.sinR*y + g.ox, g.sinR*x + g.cosR*y + g.oy
}

// rigid maps a master point to the impression by the placement alone,
// leaving out the skin distortion.
func (g *impressionGeom) rigid(x, y float64) (float64, float64) {
	x, y = x-g.cx, y-g.cy
	return g.cosR*x - g.sinR*y + g.ox, g.sinR*x + g.cosR*y + g.oy
}

// forwardDir is forward that also maps a direction: given a ridge direction
// a at the point (radians, y up) and its sine and cosine, it returns the
// direction of the mapped ridge (not folded into [0, 2π)). It applies the
// Jacobian of the distortion, J = I + b·(A − I) + Δ·∇bᵀ (A the outer skin's
// rotation, b the brake, Δ the outer displacement), then the placement
// rotation.
func (g *impressionGeom) forwardDir(x, y, a, sa, ca float64) (fx, fy, fa float64) {
	dx, dy := x-g.cx, y-g.cy
	rho := math.Sqrt(dx*dx + dy*dy)
	d := rho - g.r
	b, db := 0.0, 0.0 // brake and its derivative along the radius
	switch {
	case d > 6*g.k: // exp(-18) is below float64 resolution of 1-b
		b = 1
	case d > 0:
		e := expFast(-d * d * g.inv2k2)
		b, db = 1-e, 2*d*g.inv2k2*e
	}
	tx := g.cosD*dx - g.sinD*dy + g.dTx - dx
	ty := g.sinD*dx + g.cosD*dy + g.dTy - dy
	px, py := dx+tx*b, dy+ty*b
	// The turn of the direction: with u the unit direction in pixel terms
	// (y down), v = J·u = u + b·(A − I)·u + Δ·(∇b·u); since A is a rotation,
	// u·(A − I)u = cos dRot − 1 and u × (A − I)u = sin dRot. The turn is
	// the angle from u to v, negated for y up, and the placement turns
	// everything by −rot (y up).
	ux, uy := ca, -sa
	dot := 1 + b*(g.cosD-1)
	cross := b * g.sinD
	if db != 0 && rho > 0 {
		gr := db * (dx*ux + dy*uy) / rho // ∇b · u, ∇b radial
		dot += gr * (tx*ux + ty*uy)
		cross += gr * (ux*ty - uy*tx)
	}
	var turn float64
	if t := cross / dot; dot > 0 && t >= -0.25 && t <= 0.25 {
		turn = atanSmall(t) // nearly always: the skin turns by a few degrees
	} else {
		turn = math.Atan2(cross, dot)
	}
	return g.cosR*px - g.sinR*py + g.ox, g.sinR*px + g.cosR*py + g.oy, a - turn - g.rot
}

// inverse maps an impression point back to the master. The rigid part is
// inverted exactly; the distortion by fixed-point iteration v ← u − Δ(v),
// which converges because Δ changes slowly (its gradient is far below 1).
func (g *impressionGeom) inverse(x, y float64) (float64, float64) {
	x, y = x-g.ox, y-g.oy
	ux := g.cosR*x + g.sinR*y + g.cx
	uy := -g.sinR*x + g.cosR*y + g.cy
	vx, vy := ux, uy
	for range 4 {
		dx, dy := g.displacement(vx, vy)
		vx, vy = ux-dx, uy-dy
	}
	return vx, vy
}

// contact2 reports how deep inside the contact ellipse a master point is,
// squared: 0 at the centre, 1 on the border.
func (g *impressionGeom) contact2(x, y float64) float64 {
	dx, dy := (x-g.cx)/g.ra, (y-g.cy)/g.rb
	return dx*dx + dy*dy
}
