package synth

import (
	"image"
	"math"
	"math/rand/v2"
)

// impressionLook is how an impression looks, apart from its geometry:
// skin condition and sensor. SFinGe renders these as ridge thickness
// (erosion for dry skin or light pressure, dilation for wet skin or heavy
// pressure), noise, and a background.
type impressionLook struct {
	// thickness shifts the ridge/valley threshold on the master's ridge
	// pattern (values in [−1, 1]): positive thins ridges (erosion: dry
	// skin, light touch), negative thickens them (dilation: wet skin,
	// heavy touch). On the master's smooth ridge profile a threshold shift
	// is a grey-level erosion or dilation by a width that grows with it.
	thickness float64
	// dryness is the share of ridge area broken up by dry patches.
	dryness float64
	// ridgeGrey and valleyGrey are the grey levels of ridges and valleys.
	ridgeGrey, valleyGrey float64
	// background is the sensor's grey level outside the contact area;
	// noise the standard deviation of sensor noise.
	background, noise float64
	// edge is the width, as a fraction of the contact ellipse, over which
	// the print fades out at the border of the contact area.
	edge float64
	// wetness is how strongly the ridge thickness varies over the finger
	// (moist patches where valleys fill in, dry ones where ridges thin).
	wetness float64
	// speckle is the share of pixels hit by dirt or dust on the sensor.
	speckle float64
	// grain is the amplitude of ridge-scale threshold noise: skin texture,
	// pores, sweat and uneven contact that break and bridge ridges
	// differently in every impression.
	grain float64
	// wobble is the peak-to-peak amplitude in pixels of the small-scale
	// skin displacement.
	wobble float64
}

func newImpressionLook(r *rand.Rand, regime Regime) impressionLook {
	n := r.NormFloat64
	l := impressionLook{
		thickness:  clamp(0.12*n(), -0.3, 0.3),
		dryness:    clamp(0.35+0.15*n(), 0, 0.7),
		ridgeGrey:  clamp(70+35*n(), 10, 160),
		valleyGrey: clamp(205+15*n(), 160, 245),
		noise:      clamp(10+4*n(), 2, 24),
		edge:       clamp(0.12+0.04*n(), 0.05, 0.25),
		wetness:    clamp(0.25+0.2*n(), 0, 0.8),
		speckle:    clamp(0.01+0.015*n(), 0, 0.05),
		grain:      clamp(0.8+0.2*n(), 0.4, 1.3),
		wobble:     clamp(15+3.5*n(), 7, 24),
	}
	switch regime {
	case RegimeDry: // thin, broken, faint ridges
		l.thickness = clamp(0.25+0.1*n(), 0.05, 0.5)
		l.dryness = clamp(0.55+0.15*n(), 0.3, 0.85)
		l.ridgeGrey = clamp(110+30*n(), 40, 170)
	case RegimeWet: // thick ridges, valleys filling in, smudges
		l.thickness = clamp(-0.25-0.1*n(), -0.5, -0.05)
		l.dryness = clamp(0.05+0.05*n(), 0, 0.2)
		l.wetness = clamp(0.6+0.2*n(), 0.3, 1)
		l.ridgeGrey = clamp(40+20*n(), 5, 100)
	}
	// Careful impressions keep the skin's fine geometry better than pushed,
	// dried or moistened ones (FVC's genuine scores spread accordingly).
	switch regime {
	case RegimeNormal:
		l.wobble *= 0.6
	case RegimeDisplaced:
		l.wobble *= 1.25
	}
	l.background = clamp(l.valleyGrey+8*n(), 150, 252)
	return l
}

// lookWobble is newImpressionLook(r, regime).wobble, without the draws the
// template level has no use for: the wobble is the look's tenth draw, and
// only the regime scales it afterwards (TestLookWobble holds the two
// together).
func lookWobble(r *rand.Rand, regime Regime) float64 {
	for range 9 {
		r.NormFloat64()
	}
	w := clamp(15+3.5*r.NormFloat64(), 7, 24)
	switch regime {
	case RegimeNormal:
		w *= 0.6
	case RegimeDisplaced:
		w *= 1.25
	}
	return w
}

// valueNoise is a smooth random field: random values on a coarse lattice,
// interpolated with smoothstep weights.
type valueNoise struct {
	cell   float64
	w, h   int
	values []float32
}

func newValueNoise(r *rand.Rand, width, height int, cell float64) *valueNoise {
	v := &valueNoise{cell: cell, w: int(float64(width)/cell) + 2, h: int(float64(height)/cell) + 2}
	v.values = make([]float32, v.w*v.h)
	for i := range v.values {
		v.values[i] = float32(r.Float64())
	}
	return v
}

// at returns the field at a pixel, in [0, 1).
func (v *valueNoise) at(x, y float64) float64 {
	fx, fy := clamp(x/v.cell, 0, float64(v.w)-1.001), clamp(y/v.cell, 0, float64(v.h)-1.001)
	ix, iy := int(fx), int(fy)
	// Smoothstep weights: the field has no kinks along lattice lines
	// (bilinear weights would put creases into displaced ridges).
	ax, ay := float32(fx-float64(ix)), float32(fy-float64(iy))
	ax, ay = ax*ax*(3-2*ax), ay*ay*(3-2*ay)
	p := v.values[iy*v.w+ix:]
	q := v.values[(iy+1)*v.w+ix:]
	return float64((p[0]*(1-ax)+p[1]*ax)*(1-ay) + (q[0]*(1-ax)+q[1]*ax)*ay)
}

// newWobble returns the small-scale skin displacement field of impression k
// (x and y components, each in [0, 1), to be centred and scaled by the
// look's wobble). It is a hashed lattice rather than a drawn one, so that the
// template level can read it at a few points without building it.
func newWobble(m *FingerMaster, k uint64) wobbleField {
	return wobbleField{hashNoise{seed: deriveSeed(m.Seed, "finger-impression-wobble", m.Finger, k), inv: 1.0 / wobbleCell}}
}

// wobbleCell is the lattice spacing of the skin displacement field, px.
const wobbleCell = 36

// wobbleField is the two components of the skin displacement field: value
// noise on one hashed lattice whose 64-bit hashes give 24 bits to each
// component, so that reading both costs four hashes.
type wobbleField struct{ h hashNoise }

// at returns both components at a pixel.
func (w wobbleField) at(px, py float64) (float64, float64) {
	ix, iy, ax, ay := w.h.weights(px, py)
	a, b := w.h.hash(ix, iy), w.h.hash(ix+1, iy)
	c, d := w.h.hash(ix, iy+1), w.h.hash(ix+1, iy+1)
	return blend(unitHi(a), unitHi(b), unitHi(c), unitHi(d), ax, ay), blend(unitLo(a), unitLo(b), unitLo(c), unitLo(d), ax, ay)
}

// unitHi and unitLo map the top and the next 24 bits of a hash to [0, 1).
// (Through int64, which converts in one instruction; the values fit.)
func unitHi(h uint64) float32 { return float32(int64(h>>40)) / (1 << 24) }

// unitLo: see unitHi.
func unitLo(h uint64) float32 { return float32(int64(h>>16&(1<<24-1))) / (1 << 24) }

// hashNoise is value noise whose lattice values are hashes of the lattice
// coordinates: the same smooth field as valueNoise, with nothing stored.
type hashNoise struct {
	seed uint64
	inv  float64 // 1 / lattice spacing in px
}

// hash is the lattice point (i, j)'s 64-bit hash.
func (h hashNoise) hash(i, j int) uint64 {
	return mix64(h.seed ^ uint64(i)*0x9e3779b97f4a7c15 ^ uint64(j)*0xc2b2ae3d27d4eb4f)
}

// weights returns the lattice cell of a pixel and the smoothstep weights
// of its position in the cell.
func (h hashNoise) weights(x, y float64) (ix, iy int, ax, ay float32) {
	fx, fy := x*h.inv, y*h.inv
	ix, iy = int(math.Floor(fx)), int(math.Floor(fy))
	ax, ay = float32(fx-float64(ix)), float32(fy-float64(iy))
	return ix, iy, ax * ax * (3 - 2*ax), ay * ay * (3 - 2*ay)
}

// blend interpolates the values a (top left), b (top right), c (bottom
// left) and d of a lattice cell with weights from hashNoise.weights.
func blend(a, b, c, d, ax, ay float32) float64 {
	return float64((a*(1-ax)+b*ax)*(1-ay) + (c*(1-ax)+d*ax)*ay)
}

// sample reads the master's ridge pattern at a real-valued canvas point by
// bilinear interpolation; 0 off the canvas.
func (mi *MasterImage) sample(x, y float64) float64 {
	if x < 0 || y < 0 || x >= MasterWidth-1 || y >= MasterHeight-1 {
		return 0
	}
	ix, iy := int(x), int(y)
	ax, ay := float32(x-float64(ix)), float32(y-float64(iy))
	p := mi.Ridges[iy*MasterWidth+ix:]
	q := mi.Ridges[(iy+1)*MasterWidth+ix:]
	return float64((p[0]*(1-ax)+p[1]*ax)*(1-ay) + (q[0]*(1-ax)+q[1]*ax)*ay)
}

// Impression renders impression number k of the master as an
// ImpressionWidth × ImpressionHeight grey image at 500 ppi. Its geometry
// (placement, distortion, contact area) is the one TemplateImpression uses
// for the same k.
func (mi *MasterImage) Impression(k uint64) *image.Gray {
	m := mi.Master
	const W, H = ImpressionWidth, ImpressionHeight
	r := newRand(m.Seed, "finger-impression", m.Finger, k)
	g := newImpressionGeom(r, m, W, H, k)
	look := newImpressionLook(newRand(m.Seed, "finger-impression-look", m.Finger, k), ImpressionRegime(k))
	lr := newRand(m.Seed, "finger-impression-noise", m.Finger, k)
	border := newValueNoise(lr, W, H, 24) // ragged contact border
	dry := newValueNoise(lr, W, H, 3.5)   // ridge breaks and pores, a few px across
	shade := newValueNoise(lr, W, H, 60)  // uneven pressure and illumination
	moist := newValueNoise(lr, W, H, 30)  // patches of wet or dry skin
	grain := newValueNoise(lr, W, H, 6)   // skin texture at the scale of a ridge
	// Small-scale elasticity of the skin, which Cappelli's smooth model
	// leaves out: every 36 px or so the skin is pushed a few pixels its own
	// way, so neighbouring minutiae never keep exactly the same geometry.
	wob := newWobble(m, k)

	// Ridge darkness per pixel before blur.
	dark := make([]float32, W*H)
	for y := range H {
		for x := range W {
			fx, fy := float64(x), float64(y)
			vx, vy := g.inverse(fx, fy)
			wx, wy := wob.at(fx, fy)
			vx += look.wobble * (wx - 0.5)
			vy += look.wobble * (wy - 0.5)
			c := math.Sqrt(g.contact2(vx, vy)) + 0.12*(border.at(fx, fy)-0.5)
			sd := m.shapeDist(vx, vy)
			if c >= 1 || sd >= 1 {
				continue
			}
			// Fade at the border of the contact area and the finger.
			fade := clamp((1-c)/look.edge, 0, 1) * clamp((1-sd)/0.04, 0, 1)
			v := mi.sample(vx, vy)
			// Ridge profile: a soft threshold at the local thickness shift.
			th := look.thickness + look.wetness*(moist.at(fx, fy)-0.5)*1.2 + 3*look.grain*(grain.at(fx, fy)-0.5)
			ridge := clamp((v-th)*2.2+0.5, 0, 1)
			// Dry skin touches the sensor in pieces: ridges break up where
			// the fine noise falls below the dryness.
			if d := dry.at(fx, fy); d < look.dryness*0.7 {
				ridge *= clamp((d/(look.dryness*0.7)-0.5)*2, 0, 1) * 0.7
			}
			press := 0.7 + 0.6*shade.at(fx, fy)
			dark[y*W+x] = float32(clamp(ridge*fade*press, 0, 1))
		}
	}
	// Dust and dirt: dark and light specks of one to three pixels.
	for range int(look.speckle * W * H / 4) {
		x, y, rad := lr.IntN(W), lr.IntN(H), 1+lr.IntN(2)
		v := float32(lr.IntN(2)) * 0.6
		for dy := -rad + 1; dy < rad; dy++ {
			for dx := -rad + 1; dx < rad; dx++ {
				if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < W && yy < H {
					dark[yy*W+xx] = v
				}
			}
		}
	}
	// A 3 × 3 blur (the sensor's optics), then grey levels and noise.
	img := image.NewGray(image.Rect(0, 0, W, H))
	for y := range H {
		for x := range W {
			var s float32
			var n int
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx >= 0 && yy >= 0 && xx < W && yy < H {
						w := 1 + int(max(0, 1-dx*dx-dy*dy))
						s += dark[yy*W+xx] * float32(w)
						n += w
					}
				}
			}
			d := float64(s) / float64(n)
			bg := look.background + 10*(shade.at(float64(x), float64(y))-0.5)
			grey := bg + (look.ridgeGrey-look.valleyGrey)*d + (look.valleyGrey-look.background)*min(1, d*4)
			grey += look.noise * lr.NormFloat64()
			img.Pix[y*W+x] = uint8(clamp(math.Round(grey), 0, 255))
		}
	}
	return img
}
