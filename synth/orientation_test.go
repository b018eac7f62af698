package synth

import (
	"math"
	"testing"
)

// TestOrientationModel checks the orientation field against the model
// written out term by term (the code takes one arctangent of a product of
// complex numbers instead of one per singular point), and that bending
// keeps every singular point's index: the orientation turns by +π around a
// core and −π around a delta.
func TestOrientationModel(t *testing.T) {
	worst := 0.0
	for f := range uint64(60) {
		m := NewFingerMaster(4, f)
		o := &m.orient
		if o.class == Arch {
			continue
		}
		for y := 0.0; y < MasterHeight; y += 13 {
			for x := 0.0; x < MasterWidth; x += 13 {
				var th float64
				for i, c := range o.cores {
					a := math.Atan2(-(y - c.Y), x-c.X)
					b := o.bend[i]
					th += 0.5 * (a + b.a1*math.Cos(a) + b.b1*math.Sin(a) + b.a2*math.Cos(2*a) + b.b2*math.Sin(2*a))
				}
				for i, d := range o.deltas {
					a := math.Atan2(-(y - d.Y), x-d.X)
					b := o.bend[len(o.cores)+i]
					th -= 0.5 * (a + b.a1*math.Cos(a) + b.b1*math.Sin(a) + b.a2*math.Cos(2*a) + b.b2*math.Sin(2*a))
				}
				th += o.theta0
				for _, p := range o.pert {
					th += p.amp * math.Cos(p.kx*x+p.ky*y+p.phase)
				}
				d := math.Abs(math.Remainder(th-o.at(x, y), math.Pi))
				worst = max(worst, d)
			}
		}
		// Index: walk a circle of 12 px around each singular point.
		for i, s := range append(append([]Point{}, o.cores...), o.deltas...) {
			var turn float64
			prev := o.at(s.X+12, s.Y)
			for k := 1; k <= 64; k++ {
				a := 2 * math.Pi * float64(k) / 64
				cur := o.at(s.X+12*math.Cos(a), s.Y-12*math.Sin(a))
				turn += math.Remainder(cur-prev, math.Pi)
				prev = cur
			}
			want := math.Pi
			if i >= len(o.cores) {
				want = -math.Pi
			}
			// Another singular point within 12 px adds its own turn.
			if near := o.singularWithin(s, 12); !near && math.Abs(turn-want) > 0.01 {
				t.Errorf("finger %d singular point %d: orientation turns by %.3f around it, want %.3f", f, i, turn, want)
			}
		}
	}
	if worst > 1e-9 {
		t.Errorf("orientation differs from the written-out model by up to %g rad", worst)
	}
}

// singularWithin reports whether another singular point lies within r of p.
func (m *orientationModel) singularWithin(p Point, r float64) bool {
	n := 0
	for _, s := range append(append([]Point{}, m.cores...), m.deltas...) {
		if math.Hypot(s.X-p.X, s.Y-p.Y) <= r {
			n++
		}
	}
	return n > 1
}
