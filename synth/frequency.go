package synth

import (
	"math"
	"math/rand/v2"
)

// frequencyModel is a finger's ridge-period map. At 500 ppi the mean
// inter-ridge distance of adult fingers is about 9 px (0.46 mm; Maltoni et
// al., Handbook §3.5, and our measurements on FVC images in
// docs/synthetic-data.md). Each finger draws its own mean (sd 0.6 px) and the
// period varies smoothly over the finger by up to about ±1 px, with ridges a
// little wider apart towards the fingertip and the flanks, as SFinGe's
// frequency maps have them.
type frequencyModel struct {
	mean   float64
	cx, cy float64
	pert   [3]struct{ kx, ky, amp, phase float64 }
}

func newFrequencyModel(r *rand.Rand, cx, cy float64) frequencyModel {
	m := frequencyModel{mean: clamp(9+0.6*r.NormFloat64(), 7.6, 10.6), cx: cx, cy: cy}
	for i := range m.pert {
		wl := 120 + 200*r.Float64()
		dir := 2 * math.Pi * r.Float64()
		m.pert[i].kx = 2 * math.Pi / wl * math.Cos(dir)
		m.pert[i].ky = 2 * math.Pi / wl * math.Sin(dir)
		m.pert[i].amp = 0.3 * r.Float64()
		m.pert[i].phase = 2 * math.Pi * r.Float64()
	}
	return m
}

// period returns the ridge period in pixels at canvas point (x, y).
func (m *frequencyModel) period(x, y float64) float64 {
	p := m.mean
	dy := (m.cy - y) / 250 // > 0 above the centre
	dx := (x - m.cx) / 200
	p += 0.6*max(dy, 0)*max(dy, 0) + 0.4*dx*dx
	for _, q := range m.pert {
		p += q.amp * math.Cos(q.kx*x+q.ky*y+q.phase)
	}
	return clamp(p, 6.5, 12)
}
