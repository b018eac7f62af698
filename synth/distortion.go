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
	rot        float64 // placement rotation, rad (counter-clockwise on screen)
	ox, oy     float64 // placement of the contact centre in the impression
	ra, rb     float64 // contact ellipse half-axes on the master canvas
	cosD, sinD float64
	cosR, sinR float64
}

// newImpressionGeom draws a placement for an impression of size w × h.
func newImpressionGeom(r *rand.Rand, m *FingerMaster, w, h int) impressionGeom {
	n := r.NormFloat64
	g := impressionGeom{
		cx: m.cx + 14*n(), cy: m.cy + 10 + 18*n(),
		r: clamp(70+15*n(), 40, 100), k: clamp(60+15*n(), 30, 100),
		dRot: clamp(0.035*n(), -0.08, 0.08), dTx: clamp(5*n(), -12, 12), dTy: clamp(5*n(), -12, 12),
		rot: clamp(0.14*n(), -0.35, 0.35),
		ox:  float64(w)/2 + clamp(20*n(), -55, 55), oy: float64(h)/2 + clamp(22*n(), -60, 60),
	}
	// Pressure sets the contact area: half-axes of about 6-9 mm by 8-11 mm.
	pressure := clamp(0.6+0.2*n(), 0.15, 1)
	g.ra = 115 + 55*pressure + 8*n()
	g.rb = 165 + 65*pressure + 10*n()
	g.cosD, g.sinD = math.Cos(g.dRot), math.Sin(g.dRot)
	g.cosR, g.sinR = math.Cos(g.rot), math.Sin(g.rot)
	return g
}

// displacement returns Δ(v)·brake for a master point.
func (g *impressionGeom) displacement(x, y float64) (float64, float64) {
	dx, dy := x-g.cx, y-g.cy
	d := math.Sqrt(dx*dx+dy*dy) - g.r
	if d <= 0 {
		return 0, 0
	}
	b := 1 - math.Exp(-d*d/(2*g.k*g.k))
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

// forwardDir is forward that also maps a direction: given a ridge direction
// a at the point (radians, y up), it returns the direction of the mapped
// ridge. It applies the Jacobian of the distortion, J = I + b·(A − I) +
// Δ·∇bᵀ (A the outer skin's rotation, b the brake, Δ the outer displacement),
// then the placement rotation.
func (g *impressionGeom) forwardDir(x, y, a float64) (fx, fy, fa float64) {
	dx, dy := x-g.cx, y-g.cy
	rho := math.Sqrt(dx*dx + dy*dy)
	d := rho - g.r
	b, db := 0.0, 0.0 // brake and its derivative along the radius
	switch {
	case d > 6*g.k: // exp(-18) is below float64 resolution of 1-b
		b = 1
	case d > 0:
		e := math.Exp(-d * d / (2 * g.k * g.k))
		b, db = 1-e, d/(g.k*g.k)*e
	}
	tx := g.cosD*dx - g.sinD*dy + g.dTx - dx
	ty := g.sinD*dx + g.cosD*dy + g.dTy - dy
	px, py := dx+tx*b, dy+ty*b
	// Direction in pixel terms (y down).
	ux, uy := math.Cos(a), -math.Sin(a)
	vx := ux + b*((g.cosD-1)*ux-g.sinD*uy)
	vy := uy + b*(g.sinD*ux+(g.cosD-1)*uy)
	if db != 0 && rho > 0 {
		gr := db * (dx*ux + dy*uy) / rho // ∇b · u
		vx += tx * gr
		vy += ty * gr
	}
	wx, wy := g.cosR*vx-g.sinR*vy, g.sinR*vx+g.cosR*vy
	return g.cosR*px - g.sinR*py + g.ox, g.sinR*px + g.cosR*py + g.oy, math.Atan2(-wy, wx)
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
