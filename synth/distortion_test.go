package synth

import (
	"math"
	"testing"
)

func TestImpressionGeomInverse(t *testing.T) {
	m := NewFingerMaster(3, 1)
	for k := range uint64(5) {
		g := newImpressionGeom(newRand(3, "finger-impression", 1, k), m, ImpressionWidth, ImpressionHeight, k)
		for _, p := range []Point{{100, 120}, {180, 220}, {300, 400}, {40, 60}} {
			x, y := g.forward(p.X, p.Y)
			bx, by := g.inverse(x, y)
			if math.Hypot(bx-p.X, by-p.Y) > 0.05 {
				t.Fatalf("impression %d: %v -> (%.2f,%.2f) -> (%.2f,%.2f)", k, p, x, y, bx, by)
			}
			// The direction of a short step, mapped, must agree with
			// the Jacobian's.
			for _, a := range []float64{0, 1, 2.5, 4} {
				fx, fy, want := g.forwardDir(p.X, p.Y, a, math.Sin(a), math.Cos(a))
				if math.Abs(fx-x) > 1e-9 || math.Abs(fy-y) > 1e-9 {
					t.Fatalf("forwardDir moved %v to (%.2f,%.2f), forward to (%.2f,%.2f)", p, fx, fy, x, y)
				}
				jx, jy := g.forward(p.X+0.01*math.Cos(a), p.Y-0.01*math.Sin(a))
				got := math.Atan2(-(jy - y), jx-x)
				d := math.Abs(math.Remainder(got-want, 2*math.Pi))
				if d > 1e-3 {
					t.Fatalf("impression %d at %v angle %.2f: mapped direction %.3f, model %.3f", k, p, a, got, want)
				}
			}
		}
	}
}
