package fingerprint

import (
	"math"
)

// exFrequency is the ridge period on the block grid.
type exFrequency struct {
	cols, rows int
	period     []float32 // pixels per ridge at 500 ppi, 0 on the background
	measured   []bool
}

// Ridge periods accepted, in pixels at 500 ppi. Adult fingers have ridges
// about 0.4-0.5 mm apart (8-10 px); children's and elderly fingers and
// pressure stretch that to roughly 0.25-0.75 mm. freqDefault is used when
// no block of an image gives an estimate.
const (
	freqMinPeriod = 4.0
	freqMaxPeriod = 16.0
	freqDefault   = 9.0
)

// Geometry of the oriented window whose profile gives a block's period
// (Hong, Wan and Jain, "Fingerprint image enhancement: algorithm and
// performance evaluation", PAMI 1998, use 32 x 16): freqLen samples across
// the ridges, averaged over freqRows lines along them.
const freqLen = 32

var freqRows = [...]float32{-6, -3, 0, 3, 6}

// estimateFrequency measures the ridge period of each foreground block from
// the grey-level profile across the ridges (the "x-signature"), fills the
// blocks where that fails from their neighbours, and smooths the result.
func estimateFrequency(p exPlane, o *exOrientation, seg *exSegmentation) *exFrequency {
	cols, rows := o.cols, o.rows
	n := cols * rows
	f := &exFrequency{cols: cols, rows: rows, period: make([]float32, n), measured: make([]bool, n)}
	var sig [freqLen]float32
	var found []float32
	for i := 0; i < n; i++ {
		if !seg.fg[i] {
			continue
		}
		cx := float32((i%cols)*BlockSize) + BlockSize/2
		cy := float32((i/cols)*BlockSize) + BlockSize/2
		nx, ny := o.normal(i)
		tx, ty := -ny, nx
		// The sample positions are cx + fu*nx + v*tx + 0.5 (and in y),
		// evaluated left to right in float32; the terms that do not change
		// along a loop are computed once, which gives the same roundings.
		var vtx, vty [len(freqRows)]float32
		for k, v := range freqRows {
			vtx[k], vty[k] = v*tx, v*ty
		}
		// Windows that stay 2 px clear of the image's edges (the samples
		// are at most freqLen/2 and 6 px from the centre along the
		// normal and the ridge) need no clamping.
		rx := float32(float32(freqLen/2)*abs32(nx)) + float32(6*abs32(tx)) + 2 // rounded: no multiply-add (enhConv1)
		ry := float32(float32(freqLen/2)*abs32(ny)) + float32(6*abs32(ty)) + 2
		clear := cx-rx >= 0 && cx+rx <= float32(p.w-1) && cy-ry >= 0 && cy+ry <= float32(p.h-1)
		pix, pw := p.pix, p.w
		for u := 0; u < freqLen; u++ {
			fu := float32(u - freqLen/2)
			ax, ay := cx+float32(fu*nx), cy+float32(fu*ny) // rounded: no multiply-add
			var s float32
			if clear {
				for k := range vtx {
					s += pix[int(ay+vty[k]+0.5)*pw+int(ax+vtx[k]+0.5)]
				}
			} else {
				for k := range vtx {
					x := min(max(int(ax+vtx[k]+0.5), 0), pw-1)
					y := min(max(int(ay+vty[k]+0.5), 0), p.h-1)
					s += pix[y*pw+x]
				}
			}
			sig[u] = s / float32(len(freqRows))
		}
		if per, ok := freqPeriod(sig[:]); ok {
			f.period[i] = per
			f.measured[i] = true
			found = append(found, per)
		}
	}
	fallback := float32(freqDefault)
	if len(found) > 0 {
		fallback = exKth(found, len(found)/2) // periods are positive (exKth's condition)
	}
	f.fill(seg, fallback)
	f.smooth(seg)
	return f
}

// freqPeriod returns the period of a profile from the spacing of its mean
// crossings. A crossing counts only once the profile has gone a quarter of
// its standard deviation beyond the mean on the other side, so that noise
// wiggling about the mean does not add crossings.
func freqPeriod(sig []float32) (float32, bool) {
	// Light smoothing: [1 2 1] / 4.
	var sm [freqLen]float32
	n := len(sig)
	// The ends repeat their sample; the inside needs no clamping.
	sm[0] = (sig[0] + 2*sig[0] + sig[min(1, n-1)]) / 4
	for i := 1; i < n-1; i++ {
		sm[i] = (sig[i-1] + 2*sig[i] + sig[i+1]) / 4
	}
	if n > 1 {
		sm[n-1] = (sig[n-2] + 2*sig[n-1] + sig[n-1]) / 4
	}
	var mean float32
	for _, v := range sm[:n] {
		mean += v
	}
	mean /= float32(n)
	var vr float32
	for i := range sm[:n] {
		sm[i] -= mean
		vr += float32(sm[i] * sm[i]) // rounded: no multiply-add
	}
	vr /= float32(n)
	if vr < 4 { // standard deviation under 2 grey levels: no ridges to see
		return 0, false
	}
	thr := 0.25 * float32(math.Sqrt(float64(vr)))
	state := 0
	var zc, first, last float32
	crossings := 0
	for i := 1; i < n; i++ {
		a, b := sm[i-1], sm[i]
		if (a < 0) != (b < 0) {
			zc = float32(i-1) + a/(a-b)
		}
		s := 0
		if b > thr {
			s = 1
		} else if b < -thr {
			s = -1
		}
		if s != 0 && s != state {
			if state != 0 {
				if crossings == 0 {
					first = zc
				}
				last = zc
				crossings++
			}
			state = s
		}
	}
	if crossings < 3 {
		return 0, false
	}
	per := 2 * (last - first) / float32(crossings-1)
	if per < freqMinPeriod || per > freqMaxPeriod {
		return 0, false
	}
	return per, true
}

// fill gives the foreground blocks without an estimate the mean of their
// neighbours', spreading inwards for a few rounds, then the fallback.
func (f *exFrequency) fill(seg *exSegmentation, fallback float32) {
	cols := f.cols
	next := make([]float32, len(f.period))
	for round := 0; round < 8; round++ {
		copy(next, f.period)
		missing := 0
		for i, v := range f.period {
			if !seg.fg[i] || v > 0 {
				continue
			}
			if m, ok := f.neighbourMean(i/cols, i%cols, 1); ok {
				next[i] = m
			} else {
				missing++
			}
		}
		f.period, next = next, f.period
		if missing == 0 {
			break
		}
	}
	for i, v := range f.period {
		if seg.fg[i] && v == 0 {
			f.period[i] = fallback
		}
	}
}

// smooth averages each foreground block's period with its foreground
// neighbours in a 5 x 5 window: ridge spacing changes slowly, single
// estimates are noisy.
func (f *exFrequency) smooth(seg *exSegmentation) {
	cols := f.cols
	out := make([]float32, len(f.period))
	for i := range f.period {
		if !seg.fg[i] {
			continue
		}
		// The block itself has a period (fill gave every foreground block
		// one), so the window is never empty.
		out[i], _ = f.neighbourMean(i/cols, i%cols, 2)
	}
	f.period = out
}

// neighbourMean is the mean of the periods found (positive) in the
// (2·rad+1)² blocks around block (r, c), and whether there was any.
func (f *exFrequency) neighbourMean(r, c, rad int) (float32, bool) {
	var s float32
	k := 0
	for dr := -rad; dr <= rad; dr++ {
		for dc := -rad; dc <= rad; dc++ {
			rr, cc := r+dr, c+dc
			if rr < 0 || rr >= f.rows || cc < 0 || cc >= f.cols {
				continue
			}
			if q := f.period[rr*f.cols+cc]; q > 0 {
				s += q
				k++
			}
		}
	}
	if k == 0 {
		return 0, false
	}
	return s / float32(k), true
}

// field exports the frequency for a Transparency.
func (f *exFrequency) field(seg *exSegmentation) *FrequencyField {
	out := &FrequencyField{BlockSize: BlockSize, Cols: f.cols, Rows: f.rows,
		Period: make([]float64, len(f.period)), Measured: append([]bool(nil), f.measured...)}
	for i, v := range f.period {
		if seg.fg[i] {
			out.Period[i] = float64(v)
		}
	}
	return out
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
