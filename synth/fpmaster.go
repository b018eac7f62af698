package synth

import (
	"math"
)

// Master canvas size: the whole fingertip at 500 ppi (about 18 × 25 mm), of
// which an impression shows the part that touched the sensor.
const (
	MasterWidth  = 360
	MasterHeight = 500
)

// FingerMaster is the model of one finger: its class, singular points,
// orientation field, ridge-frequency map and silhouette. The ridge image
// (Master.Render) and the minutiae (TemplateMaster) are both drawn from it.
type FingerMaster struct {
	Seed   uint64       `json:"-"`
	Finger uint64       `json:"finger"`
	Class  PatternClass `json:"class"`
	Cores  []Point      `json:"cores"`
	Deltas []Point      `json:"deltas"`

	// Silhouette: an ellipse centred at (cx, cy) with half-width a and
	// half-heights top (towards the tip) and bottom, the lower part running
	// off the canvas like the phalanx does (SFinGe builds it from four
	// elliptical arcs and a rectangle).
	cx, cy, a, top, bottom float64

	orient orientationModel
	freq   frequencyModel
}

// NewFingerMaster draws the model of finger number finger for a seed.
func NewFingerMaster(seed, finger uint64) *FingerMaster {
	r := newRand(seed, "finger-master", finger)
	m := &FingerMaster{Seed: seed, Finger: finger}
	m.Class = drawClass(r)
	m.cx = MasterWidth/2 + 6*r.NormFloat64()
	m.cy = MasterHeight*0.45 + 8*r.NormFloat64()
	m.a = clamp(158+10*r.NormFloat64(), 135, 178)
	m.top = clamp(200+12*r.NormFloat64(), 175, 224)
	m.bottom = 330
	m.Cores, m.Deltas = placeSingularities(r, m.Class, m.cx, m.cy)
	m.orient = newOrientationModel(r, m.Class, m.Cores, m.Deltas, m.cx, m.cy)
	m.freq = newFrequencyModel(r, m.cx, m.cy)
	return m
}

// Orientation returns the ridge orientation at a canvas point, in radians in
// [0, π), counter-clockwise with y up.
func (m *FingerMaster) Orientation(x, y float64) float64 { return m.orient.at(x, y) }

// Period returns the ridge period in pixels at a canvas point.
func (m *FingerMaster) Period(x, y float64) float64 { return m.freq.period(x, y) }

// shapeDist returns how far inside the silhouette a point is, as a fraction:
// 0 at the centre, 1 on the border, more outside.
func (m *FingerMaster) shapeDist(x, y float64) float64 { return math.Sqrt(m.shapeDist2(x, y)) }

// shapeDist2 is shapeDist squared, for tests against a fixed fraction.
func (m *FingerMaster) shapeDist2(x, y float64) float64 {
	dx := (x - m.cx) / m.a
	b := m.top
	if y > m.cy {
		b = m.bottom
	}
	dy := (y - m.cy) / b
	return dx*dx + dy*dy
}

// Inside reports whether a canvas point lies on the finger.
func (m *FingerMaster) Inside(x, y float64) bool { return m.shapeDist2(x, y) < 1 }
