package synth

import (
	"image"
	"math"
	"sync"
)

// Ridge growth by iterative contextual filtering (SFinGe, Cappelli et al.,
// Handbook of Fingerprint Recognition ch. 7.4): the canvas starts empty but
// for a few random seeds; each iteration filters every pixel with a Gabor
// filter tuned to the local orientation and ridge period and saturates the
// result, so ridges grow out of the seeds along the orientation field at the
// local frequency. Where growth fronts from different seeds meet out of
// phase, the filter resolves the conflict by ending or forking a ridge: the
// minutiae of a synthetic print arise there, as in SFinGe.

// Filter bank quantisation: 32 orientations (5.6° apart) by periods from
// 6.5 to 12 px in quarter-pixel steps; kernels 13 × 13.
const (
	gaborOrients = 32
	gaborPeriod0 = 6.5
	gaborPeriodD = 0.25
	gaborPeriods = 23
	gaborR       = 6
	gaborSide    = 2*gaborR + 1
	gaborTaps    = gaborSide * gaborSide
)

// gaborKernel is one filter of the bank: taps over a gaborSide square.
type gaborKernel [gaborTaps]float32

var (
	gaborOnce sync.Once
	gaborBank [gaborOrients * gaborPeriods]gaborKernel
)

// bank returns the filter bank, made on first use. Each kernel is an even
// Gabor filter cos(2πu/T)·exp(−u²/2σu² − v²/2σv²), u across and v along the
// ridges, with σu = 0.35T and σv = 0.55T (elongated along the ridge so that
// ridges propagate along the flow), made zero-mean (a flat area gives 0) and
// scaled so that a perfect ridge pattern of the tuned frequency and
// orientation with amplitude 1 gives 1.
func bank() *[gaborOrients * gaborPeriods]gaborKernel {
	gaborOnce.Do(func() {
		for oi := range gaborOrients {
			th := float64(oi) * math.Pi / gaborOrients
			// Ridge direction in pixel coordinates (y down), and the normal.
			dx, dy := math.Cos(th), -math.Sin(th)
			nx, ny := -dy, dx
			for pi := range gaborPeriods {
				T := gaborPeriod0 + float64(pi)*gaborPeriodD
				su, sv := 0.35*T, 0.55*T
				var k [gaborTaps]float64
				var env, sumE, sumK float64
				for y := -gaborR; y <= gaborR; y++ {
					for x := -gaborR; x <= gaborR; x++ {
						u := float64(x)*nx + float64(y)*ny
						v := float64(x)*dx + float64(y)*dy
						e := math.Exp(-u*u/(2*su*su) - v*v/(2*sv*sv))
						i := (y+gaborR)*gaborSide + x + gaborR
						k[i] = e * math.Cos(2*math.Pi*u/T)
						env += k[i]
						sumE += e
					}
				}
				// Zero mean: remove the DC response in proportion to
				// the envelope.
				for y := -gaborR; y <= gaborR; y++ {
					for x := -gaborR; x <= gaborR; x++ {
						u := float64(x)*nx + float64(y)*ny
						v := float64(x)*dx + float64(y)*dy
						i := (y+gaborR)*gaborSide + x + gaborR
						k[i] -= env / sumE * math.Exp(-u*u/(2*su*su)-v*v/(2*sv*sv))
						sumK += k[i] * math.Cos(2*math.Pi*u/T)
					}
				}
				kk := &gaborBank[oi*gaborPeriods+pi]
				for i := range k {
					kk[i] = float32(k[i] / sumK)
				}
			}
		}
	})
	return &gaborBank
}

// MasterImage is a master fingerprint's ridge pattern: one value per canvas
// pixel in [−1, 1], positive on ridges, 0 off the finger.
type MasterImage struct {
	Master *FingerMaster
	Ridges []float32 // MasterWidth × MasterHeight, row-major
	// Iterations is how many filtering passes the growth took.
	Iterations int
}

// growth parameters.
const (
	growSeeds    = 60   // random seeds the ridges grow from
	growGain     = 3.0  // amplification before saturation
	growMaxIters = 70   // hard limit
	growSettle   = 5    // iterations after the finger is covered
	growMargin   = 0.04 // silhouette grown this much beyond its border (blends out)
)

// RenderMaster grows the ridge pattern of a master fingerprint.
func RenderMaster(m *FingerMaster) *MasterImage {
	const W, H = MasterWidth, MasterHeight
	const PW = W + 2*gaborR // padded width: filters never test bounds
	const PH = H + 2*gaborR
	b := bank()
	r := newRand(m.Seed, "finger-master-ridges", m.Finger)

	// Per pixel: kernel index, or -1 off the finger.
	kern := make([]int32, W*H)
	for y := range H {
		for x := range W {
			fx, fy := float64(x), float64(y)
			if m.shapeDist(fx, fy) > 1+growMargin {
				kern[y*W+x] = -1
				continue
			}
			oi := int(math.Round(m.Orientation(fx, fy)/math.Pi*gaborOrients)) % gaborOrients
			pi := int(math.Round((m.Period(fx, fy) - gaborPeriod0) / gaborPeriodD))
			pi = min(max(pi, 0), gaborPeriods-1)
			kern[y*W+x] = int32(oi*gaborPeriods + pi)
		}
	}
	cur := make([]float32, PW*PH)
	next := make([]float32, PW*PH)
	// Seeds: small dots at random points of the finger.
	for s := 0; s < growSeeds; {
		x, y := r.IntN(W), r.IntN(H)
		if kern[y*W+x] < 0 || m.shapeDist(float64(x), float64(y)) > 0.9 {
			continue
		}
		v := float32(1)
		if r.IntN(2) == 0 {
			v = -1
		}
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				cur[(y+dy+gaborR)*PW+x+dx+gaborR] = v
			}
		}
		s++
	}
	// Work is done in blocks of 8 × 8 pixels. A block is filtered only when
	// it or a neighbour changed in the previous pass: before a growth front
	// arrives nothing changes, and after the ridges have settled nothing
	// changes either, which saves most of the work.
	const B = 8
	const BW, BH = (W + B - 1) / B, (H + B - 1) / B
	changed := make([]bool, BW*BH)
	peak := make([]float32, BW*BH) // largest |value| in each block
	for by := range BH {
		for bx := range BW {
			for y := by * B; y < min(by*B+B, H); y++ {
				for _, v := range cur[(y+gaborR)*PW+bx*B+gaborR : (y+gaborR)*PW+min(bx*B+B, W)+gaborR] {
					peak[by*BW+bx] = max(peak[by*BW+bx], v, -v)
				}
			}
			changed[by*BW+bx] = peak[by*BW+bx] != 0
		}
	}
	active := make([]bool, BW*BH)
	settle := -1
	it := 0
	for ; it < growMaxIters; it++ {
		// Covered means grown to full contrast everywhere on the finger.
		covered := true
		for by := range BH {
			for bx := range BW {
				a := false
				for dy := -1; dy <= 1 && !a; dy++ {
					for dx := -1; dx <= 1; dx++ {
						x, y := bx+dx, by+dy
						if x >= 0 && y >= 0 && x < BW && y < BH && changed[y*BW+x] {
							a = true
							break
						}
					}
				}
				active[by*BW+bx] = a
				if peak[by*BW+bx] < 0.9 && m.shapeDist(float64(bx*B+B/2), float64(by*B+B/2)) < 0.98 {
					covered = false
				}
			}
		}
		if covered && settle < 0 {
			settle = growSettle
		}
		if settle == 0 {
			break
		}
		if settle > 0 {
			settle--
		}
		for by := range BH {
			for bx := range BW {
				x0, x1 := bx*B, min(bx*B+B, W)
				if !active[by*BW+bx] {
					for y := by * B; y < min(by*B+B, H); y++ {
						o := (y+gaborR)*PW + gaborR
						copy(next[o+x0:o+x1], cur[o+x0:o+x1])
					}
					changed[by*BW+bx] = false
					continue
				}
				var pk, delta float32
				for y := by * B; y < min(by*B+B, H); y++ {
					for x := x0; x < x1; x++ {
						ki := kern[y*W+x]
						o := (y+gaborR)*PW + x + gaborR
						if ki < 0 {
							next[o] = 0
							continue
						}
						// Even Gabor kernels are point-symmetric, k(x,y) =
						// k(−x,−y): pair the taps and halve the multiplications.
						k := &b[ki]
						var s float32
						base := o - gaborR*PW - gaborR
						for ky := range gaborR {
							ra := cur[base+ky*PW : base+ky*PW+gaborSide]
							rb := cur[base+(gaborSide-1-ky)*PW : base+(gaborSide-1-ky)*PW+gaborSide]
							kr := k[ky*gaborSide : ky*gaborSide+gaborSide]
							for kx := range gaborSide {
								s += kr[kx] * (ra[kx] + rb[gaborSide-1-kx])
							}
						}
						rc := cur[base+gaborR*PW : base+gaborR*PW+gaborSide]
						kc := k[gaborR*gaborSide : gaborR*gaborSide+gaborSide]
						for kx := range gaborR {
							s += kc[kx] * (rc[kx] + rc[gaborSide-1-kx])
						}
						s += kc[gaborR] * rc[gaborR]
						v := min(max(s*growGain, -1), 1)
						next[o] = v
						pk = max(pk, v, -v)
						delta = max(delta, v-cur[o], cur[o]-v)
					}
				}
				peak[by*BW+bx] = pk
				changed[by*BW+bx] = delta > 1e-3
			}
		}
		cur, next = next, cur
	}
	mi := &MasterImage{Master: m, Ridges: make([]float32, W*H), Iterations: it}
	for y := range H {
		copy(mi.Ridges[y*W:(y+1)*W], cur[(y+gaborR)*PW+gaborR:(y+gaborR)*PW+gaborR+W])
	}
	return mi
}

// Gray returns the master as an image: ridges dark, valleys and the
// background white.
func (mi *MasterImage) Gray() *image.Gray {
	img := image.NewGray(image.Rect(0, 0, MasterWidth, MasterHeight))
	for i, v := range mi.Ridges {
		img.Pix[i] = uint8(127.5 - 127.5*v)
	}
	return img
}
