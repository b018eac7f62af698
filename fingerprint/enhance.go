package fingerprint

import (
	"image"
	"math"
)

// Contextual filtering. An oriented Gabor filter (Hong, Wan and Jain 1998)
// tuned to the local orientation and period is the classic enhancement; it
// is applied here as two one-dimensional passes, which costs a fraction of
// the two-dimensional kernel: first a Gaussian smoothing along the ridges
// (it joins small breaks and averages out pores and sensor noise), then a
// zero-mean Gabor profile across them (it restores a clean periodic ridge
// profile and removes the local mean, so binarisation is a sign test).
const (
	enhOriBins    = 16  // orientations the kernels are quantised to (11.25° apart)
	enhPerStep    = 0.5 // period quantisation, pixels
	enhPerBins    = int((freqMaxPeriod-freqMinPeriod)/enhPerStep) + 1
	enhAlongSigma = 5.0  // along-ridge Gaussian, pixels
	enhAlongRad   = 10.0 // its half length, pixels
	enhAlongStep  = 1    // its sample spacing, pixels: σ 5 px needs no finer
	enhGaborRatio = 0.45
	enhCell       = 4 // orientation and period are interpolated on a grid of 4 x 4 px cells
	enhPad        = 24
)

// enhKernel is one symmetric 1-D kernel: the centre weight c, and for each
// pair of samples at +off and -off in a padded plane, their weight. dx and
// dy are the pairs' positions relative to the centre, from which off is
// made for a plane's stride.
type enhKernel struct {
	c      float32
	off    []int32
	w      []float32
	dx, dy []int32
	// reach is the largest |off|, set with the offsets: the plane must
	// hold reach values either side of a pixel the kernel is applied at.
	reach int
}

// enhFold turns a kernel listed from -m to m (odd length, symmetric: the
// offsets are opposite and the weights equal) into centre and pairs, which
// halves the multiplications.
func enhFold(k enhKernel) enhKernel {
	m := len(k.off) / 2
	return enhKernel{c: k.w[m], off: k.off[m+1:], w: k.w[m+1:], dx: k.dx[m+1:], dy: k.dy[m+1:]}
}

// withStride returns the kernel with its offsets made for a plane of the
// given stride, taking the offsets' storage from the front of *buf.
func (k enhKernel) withStride(stride int, buf *[]int32) enhKernel {
	n := len(k.dx)
	off := (*buf)[:n:n]
	*buf = (*buf)[n:]
	k.reach = 0
	for t := range off {
		off[t] = k.dy[t]*int32(stride) + k.dx[t]
		k.reach = max(k.reach, mccAbs(int(off[t])))
	}
	k.off = off
	return k
}

// enhAlongKernels and enhAcrossKernels are the folded kernels of every
// orientation bin (along the ridges) and orientation x period bin (across
// them), without offsets: they depend only on constants, so they are made
// once, and each extraction only sets the offsets for its stride.
var enhAlongKernels, enhAcrossKernels, enhKernelPairs = func() (al [enhOriBins]enhKernel, ac [enhOriBins][enhPerBins]enhKernel, pairs int) {
	for ob := 0; ob < enhOriBins; ob++ {
		th := float64(ob) * math.Pi / enhOriBins // ridge direction, image coordinates
		tx, ty := math.Cos(th), math.Sin(th)
		al[ob] = enhLine(tx, ty, enhAlongRad, enhAlongStep, 0, func(d float64) float64 {
			return math.Exp(-d * d / (2 * enhAlongSigma * enhAlongSigma))
		})
		enhNormalise(al[ob].w, false)
		al[ob] = enhFold(al[ob])
		pairs += len(al[ob].dx)
		for pb := 0; pb < enhPerBins; pb++ {
			per := freqMinPeriod + float64(float64(pb)*enhPerStep) // rounded: no multiply-add (enhConv1)
			sigma := float64(enhGaborRatio * per)
			ac[ob][pb] = enhLine(-ty, tx, 2*sigma, 1, 0, enhGabor(per))
			enhNormalise(ac[ob][pb].w, true)
			ac[ob][pb] = enhFold(ac[ob][pb])
			pairs += len(ac[ob][pb].dx)
		}
	}
	return al, ac, pairs
}()

// enhLine returns the kernel sampling the line through the origin in
// direction (dx, dy) out to radius pixels on both sides, with one sample
// every step pixels along the line's major axis (so no sample is taken
// twice) and weight(d) for a sample at signed distance d along the line.
func enhLine(dx, dy, radius float64, step, stride int, weight func(d float64) float64) enhKernel {
	var k enhKernel
	major := math.Max(math.Abs(dx), math.Abs(dy))
	m := int(math.Floor(radius * major))
	m -= m % step
	for j := -m; j <= m; j += step {
		t := float64(j) / major
		x := int(math.Round(t * dx))
		y := int(math.Round(t * dy))
		d := float64(float64(x)*dx) + float64(float64(y)*dy) // rounded: no multiply-add (enhConv1)
		k.off = append(k.off, int32(y*stride+x))
		k.dx = append(k.dx, int32(x))
		k.dy = append(k.dy, int32(y))
		k.w = append(k.w, float32(weight(d)))
	}
	return k
}

// enhance filters the image with the contextual filter and returns the
// response: negative on ridges (dark), positive in valleys, 0 on the
// background.
func enhance(p exPlane, o *exOrientation, f *exFrequency, seg *exSegmentation, sc *exScratch) exPlane {
	w, h := p.w, p.h
	pw, ph := w+2*enhPad, h+2*enhPad

	// Kernels for every orientation bin (along) and orientation x period
	// bin (across).
	var along [enhOriBins]enhKernel
	var across [enhOriBins][enhPerBins]enhKernel
	offs := make([]int32, enhKernelPairs)
	for ob := 0; ob < enhOriBins; ob++ {
		along[ob] = enhAlongKernels[ob].withStride(pw, &offs)
		for pb := 0; pb < enhPerBins; pb++ {
			across[ob][pb] = enhAcrossKernels[ob][pb].withStride(pw, &offs)
		}
	}

	// Padded source, edges replicated.
	src := sc.floats(exBufEnhSrc, pw*ph, false) // every pixel written
	for y := 0; y < ph; y++ {
		sy := min(max(y-enhPad, 0), h-1)
		row := p.pix[sy*w : (sy+1)*w]
		d := src[y*pw : (y+1)*pw]
		for x := range d {
			d[x] = row[min(max(x-enhPad, 0), w-1)]
		}
	}

	// Along-ridge pass over the foreground's bounding box widened by the
	// longest across kernel, which is all the across pass reads.
	x0, y0, x1, y1 := seg.bounds()
	reach := int(math.Ceil(2*enhGaborRatio*freqMaxPeriod)) + 1
	x0, y0 = max(x0-reach, 0), max(y0-reach, 0)
	x1, y1 = min(x1+reach, w), min(y1+reach, h)
	// Within that box, each row only needs the columns within reach of a
	// foreground block in the rows within reach.
	colLo := make([]int, seg.rows)
	colHi := make([]int, seg.rows)
	for r := 0; r < seg.rows; r++ {
		colLo[r], colHi[r] = seg.cols, -1
		for c := 0; c < seg.cols; c++ {
			if seg.fg[r*seg.cols+c] {
				colLo[r], colHi[r] = min(colLo[r], c), max(colHi[r], c)
			}
		}
	}
	// The columns [xa, xb) of each row y0 <= y < y1 the along pass
	// computes (xa >= xb: none).
	rowA := make([]int, y1-y0)
	rowB := make([]int, y1-y0)
	for y := y0; y < y1; y++ {
		lo, hi := seg.cols, -1
		for r := max((y-reach)/BlockSize, 0); r <= min((y+reach)/BlockSize, seg.rows-1); r++ {
			lo, hi = min(lo, colLo[r]), max(hi, colHi[r])
		}
		if hi < 0 {
			continue
		}
		rowA[y-y0] = max(lo*BlockSize-reach, x0)
		rowB[y-y0] = min((hi+1)*BlockSize+reach, x1)
	}

	// Orientation and period bins on the cell grid.
	ccols, crows := (w+enhCell-1)/enhCell, (h+enhCell-1)/enhCell
	obin := make([]uint8, ccols*crows)
	pbin := make([]uint8, ccols*crows)
	// Only the cells the two passes read get their bins: those of the
	// along pass's columns (which hold every foreground pixel, all the
	// across pass reads). The others stay 0 and are never read.
	for cr := y0 / enhCell; cr < (y1+enhCell-1)/enhCell; cr++ {
		ca, cb := ccols, 0
		for y := max(cr*enhCell, y0); y < min((cr+1)*enhCell, y1); y++ {
			if rowA[y-y0] < rowB[y-y0] {
				ca, cb = min(ca, rowA[y-y0]/enhCell), max(cb, (rowB[y-y0]-1)/enhCell+1)
			}
		}
		for cc := ca; cc < cb; cc++ {
			x := float32(cc*enhCell) + enhCell/2
			y := float32(cr*enhCell) + enhCell/2
			vx, vy, per := enhInterpolate(o, f, x, y)
			th := 0.5*math.Atan2(float64(vy), float64(vx)) + math.Pi/2
			b := int(math.Round(th/(math.Pi/enhOriBins))) % enhOriBins
			if b < 0 {
				b += enhOriBins
			}
			obin[cr*ccols+cc] = uint8(b)
			q := int(math.Round((float64(per) - freqMinPeriod) / enhPerStep))
			pbin[cr*ccols+cc] = uint8(min(max(q, 0), enhPerBins-1))
		}
	}

	// Everything the pass below does not compute is 0 (the padding is
	// overwritten afterwards): cleared a row at a time, only what the
	// pass leaves.
	sm := sc.floats(exBufEnhAlong, pw*ph, false)
	for r := 0; r < ph; r++ {
		row := sm[r*pw : (r+1)*pw]
		if y := r - enhPad; y >= y0 && y < y1 && rowA[y-y0] < rowB[y-y0] {
			clear(row[:enhPad+rowA[y-y0]])
			clear(row[enhPad+rowB[y-y0]:])
			continue
		}
		clear(row)
	}
	for y := y0; y < y1; y++ {
		xa, xb := rowA[y-y0], rowB[y-y0]
		crow := (y / enhCell) * ccols
		base := (y+enhPad)*pw + enhPad
		for x := xa; x < xb; {
			k := &along[obin[crow+x/enhCell]]
			i := base + x
			if x%enhCell == 0 && x+enhCell <= xb {
				enhConv4(sm[i:i+4], src, i, k)
				x += enhCell
				continue
			}
			sm[i] = enhConv1(src, i, k)
			x++
		}
	}
	enhReplicateEdges(sm, w, h, pw, ph)

	// Across-ridge pass on the foreground.
	// It is 0 off the foreground: the rows outside [y0, y1) and the cells
	// off the mask are cleared, not the whole plane first.
	out := sc.plane(exBufEnhanced, w, h, false)
	clear(out.pix[:y0*w])
	clear(out.pix[y1*w:])
	// A cell lies inside one block (BlockSize is a multiple of enhCell), so
	// the mask is read once per cell.
	for y := y0; y < y1; y++ {
		crow := (y / enhCell) * ccols
		base := (y+enhPad)*pw + enhPad
		for cc := 0; cc < ccols; cc++ {
			x := cc * enhCell
			if !seg.fgAt(x, y) {
				clear(out.pix[y*w+x : y*w+min(x+enhCell, w)])
				continue
			}
			c := crow + cc
			k := &across[obin[c]][pbin[c]]
			i := base + x
			if x+enhCell <= w {
				enhConv4(out.pix[y*w+x:y*w+x+4], sm, i, k)
				continue
			}
			for ; x < w; x++ {
				out.pix[y*w+x] = enhConv1(sm, base+x, k)
			}
		}
	}
	return out
}

// enhConv1 applies kernel k to the padded plane v at index i. Each
// product is rounded (float32) before it is added, which forbids the
// compiler to fuse the two into a multiply-add (it would on arm64 and with
// GOAMD64=v3): the sums are then the SSE loop's on every target.
func enhConv1(v []float32, i int, k *enhKernel) float32 {
	ws := k.w[:len(k.off)]
	s := k.c * v[i]
	for t, off := range k.off {
		s += float32(ws[t] * (v[i+int(off)] + v[i-int(off)]))
	}
	return s
}

// enhConv4 applies kernel k to the padded plane v at the four indices from
// i and writes the results to dst. Each sum is formed in the same order as
// enhConv1's, so the results are the same to the bit; sharing the kernel's
// loads and bounds checks between four pixels is what saves time.
func enhConv4(dst, v []float32, i int, k *enhKernel) {
	if enhSSE {
		// One bounds check for all the kernel's loads.
		_ = v[i-k.reach : i+k.reach+4]
		dst = dst[:4:4]
		if len(k.off) > 0 {
			enhConv4SSE(&dst[0], &v[i], &k.off[0], &k.w[0], len(k.off), k.c)
		} else {
			enhConv4SSE(&dst[0], &v[i], nil, nil, 0, k.c)
		}
		return
	}
	enhConv4Go(dst, v, i, k)
}

// enhConv4Go is enhConv4's portable loop.
func enhConv4Go(dst, v []float32, i int, k *enhKernel) {
	ws := k.w[:len(k.off)]
	c := v[i : i+4 : i+4]
	s0, s1, s2, s3 := k.c*c[0], k.c*c[1], k.c*c[2], k.c*c[3]
	for t, off := range k.off {
		wt := ws[t]
		a := v[i+int(off) : i+int(off)+4 : i+int(off)+4]
		b := v[i-int(off) : i-int(off)+4 : i-int(off)+4]
		s0 += float32(wt * (a[0] + b[0]))
		s1 += float32(wt * (a[1] + b[1]))
		s2 += float32(wt * (a[2] + b[2]))
		s3 += float32(wt * (a[3] + b[3]))
	}
	dst = dst[:4:4]
	dst[0], dst[1], dst[2], dst[3] = s0, s1, s2, s3
}

// enhGabor is the across-ridge weight for a ridge period per: a cosine of
// that period under a Gaussian of σ enhGaborRatio periods (Hong, Wan and
// Jain 1998), sampled out to 2σ.
func enhGabor(per float64) func(d float64) float64 {
	sigma := enhGaborRatio * per
	return func(d float64) float64 {
		return math.Exp(-d*d/(2*sigma*sigma)) * math.Cos(2*math.Pi*d/per)
	}
}

// enhGains[pb] is the response of the across-ridge kernel of period bin pb
// to a unit cosine of that period running across it: what the filter keeps
// of a clean ridge profile, against which blockClarity measures.
var enhGains = func() (g [enhPerBins]float64) {
	for pb := range g {
		per := freqMinPeriod + float64(float64(pb)*enhPerStep)
		k := enhLine(0, 1, 2*enhGaborRatio*per, 1, 1, enhGabor(per))
		enhNormalise(k.w, true)
		for t, off := range k.off {
			g[pb] += float64(float64(k.w[t]) * math.Cos(2*math.Pi*float64(off)/per))
		}
	}
	return g
}()

// enhGain returns the across-ridge kernel's gain (enhGains) for a period.
func enhGain(per float32) float64 {
	q := int(math.Round((float64(per) - freqMinPeriod) / enhPerStep))
	return enhGains[min(max(q, 0), enhPerBins-1)]
}

// enhNormalise scales weights to sum 1 (smoothing) or, for a band-pass,
// removes the kernel's mean (so a flat region gives 0) and scales the
// absolute weights to sum 1.
func enhNormalise(w []float32, zeroMean bool) {
	var s float64
	for _, v := range w {
		s += float64(v)
	}
	if !zeroMean {
		for i := range w {
			w[i] /= float32(s)
		}
		return
	}
	m := float32(s / float64(len(w)))
	var a float64
	for i := range w {
		w[i] -= m
		a += math.Abs(float64(w[i]))
	}
	for i := range w {
		w[i] /= float32(a)
	}
}

// enhInterpolate returns the smoothed doubled-angle vector and the period
// at pixel (x, y), bilinearly interpolated between block centres. Blocks
// off the foreground carry no period and are left out of its average.
func enhInterpolate(o *exOrientation, f *exFrequency, x, y float32) (vx, vy, per float32) {
	fx := x/BlockSize - 0.5
	fy := y/BlockSize - 0.5
	x0 := int(math.Floor(float64(fx)))
	y0 := int(math.Floor(float64(fy)))
	ax, ay := fx-float32(x0), fy-float32(y0)
	var ps, pw float32
	for j := 0; j < 2; j++ {
		for i := 0; i < 2; i++ {
			c := min(max(x0+i, 0), o.cols-1)
			r := min(max(y0+j, 0), o.rows-1)
			// Each product rounded before it is added: no multiply-add
			// on any target (enhConv1 says why).
			wt := float32((1 - ax + float32(float32(i)*(2*ax-1))) * (1 - ay + float32(float32(j)*(2*ay-1))))
			b := r*o.cols + c
			vx += float32(wt * o.vx[b])
			vy += float32(wt * o.vy[b])
			if q := f.period[b]; q > 0 {
				ps += float32(wt * q)
				pw += wt
			}
		}
	}
	if pw > 0 {
		per = ps / pw
	} else {
		per = freqDefault
	}
	return vx, vy, per
}

// enhReplicateEdges copies the outermost computed pixels of a padded plane
// into its padding.
func enhReplicateEdges(v []float32, w, h, pw, ph int) {
	for y := enhPad; y < enhPad+h; y++ {
		row := v[y*pw : (y+1)*pw]
		for x := 0; x < enhPad; x++ {
			row[x] = row[enhPad]
			row[pw-1-x] = row[enhPad+w-1]
		}
	}
	for y := 0; y < enhPad; y++ {
		copy(v[y*pw:(y+1)*pw], v[enhPad*pw:(enhPad+1)*pw])
		copy(v[(ph-1-y)*pw:(ph-y)*pw], v[(enhPad+h-1)*pw:(enhPad+h)*pw])
	}
}

// enhGray renders the filter response with ridges dark, scaled by its
// standard deviation on the foreground.
func (p exPlane) enhGray() *image.Gray {
	var s2 float64
	k := 0
	for _, v := range p.pix {
		if v != 0 {
			s2 += float64(v) * float64(v)
			k++
		}
	}
	sd := 1.0
	if k > 0 && s2 > 0 {
		sd = math.Sqrt(s2 / float64(k))
	}
	g := image.NewGray(image.Rect(0, 0, p.w, p.h))
	for i, v := range p.pix {
		g.Pix[i] = clampByte(128 + 50*float64(v)/sd)
	}
	return g
}
