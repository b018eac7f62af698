package fingerprint

import "math"

// exOrientation is the orientation field on the block grid. It follows the
// gradient-tensor method (Kass and Witkin; Bazen and Gerez, "Systematic
// methods for the computation of the directional fields", PAMI 2002): the
// squared gradients are summed as doubled-angle vectors, so that opposite
// gradients on the two flanks of a ridge add up instead of cancelling.
type exOrientation struct {
	cols, rows int
	// a, b, e are window sums of gx²-gy², 2·gx·gy and gx²+gy² over the
	// 3 x 3 blocks around each block (24 px, two to three ridge periods).
	a, b, e []float32
	coh     []float32 // |(a, b)| / e, the coherence of the raw window
	// vx, vy are the smoothed doubled-angle vectors of the gradient
	// direction; their length (0 to 1) says how much to trust them.
	vx, vy []float32
}

// orientGradSigma is the scale, in pixels, of the Gaussian derivative the
// gradients are taken with (Bazen and Gerez 2002 compute the directional
// field from Gaussian-derivative gradients): the image is smoothed with a
// Gaussian of this σ before the Sobel operator. Sobel alone, on 3 x 3
// pixels, answers to pores, the dots a dry ridge breaks into and sensor
// noise as much as to the ridges (4-5 px wide); σ 1 px leaves the ridge
// profile and removes most of that. Against Sobel alone it lowered the
// mean EER (ext) over the five FVC sets from 3.17% to 2.92% and the EER of
// the three synthetic check sets too (docs/fingerprint-extraction.md).
const orientGradSigma = 1.0

// orientBlockTensors computes the gradients of p at scale orientGradSigma
// (zero on the image's outermost pixels) and sums their tensor per block
// and over each block's 3 x 3 window. The gradients themselves are not
// kept.
func orientBlockTensors(p exPlane, sc *exScratch) *exOrientation {
	p = exGaussBlur(p, orientGradSigma, sc)
	w, h := p.w, p.h
	cols, rows := (w+BlockSize-1)/BlockSize, (h+BlockSize-1)/BlockSize
	n := cols * rows
	ba := make([]float32, n)
	bb := make([]float32, n)
	be := make([]float32, n)
	for y := 1; y < h-1; y++ {
		up := p.pix[(y-1)*w : y*w]
		mid := p.pix[y*w : (y+1)*w]
		dn := p.pix[(y+1)*w : (y+2)*w]
		brow := (y / BlockSize) * cols
		// A block's sums are kept in registers along its pixels of the
		// row (added in the same order as through memory, so the same
		// to the bit). The squares and the product are rounded before
		// they are added, so that no target fuses them into a
		// multiply-add (enhConv1 says why).
		for c := range cols {
			xa, xb := max(c*BlockSize, 1), min((c+1)*BlockSize, w-1)
			i := brow + c
			sa, sb, se := ba[i], bb[i], be[i]
			for x := xa; x < xb; x++ {
				gx := (up[x+1] + 2*mid[x+1] + dn[x+1]) - (up[x-1] + 2*mid[x-1] + dn[x-1])
				gy := (dn[x-1] + 2*dn[x] + dn[x+1]) - (up[x-1] + 2*up[x] + up[x+1])
				xx, yy := float32(gx*gx), float32(gy*gy)
				sa += xx - yy
				sb += float32(2 * gx * gy)
				se += xx + yy
			}
			ba[i], bb[i], be[i] = sa, sb, se
		}
	}
	o := &exOrientation{cols: cols, rows: rows}
	o.a = orientBox3(ba, cols, rows)
	o.b = orientBox3(bb, cols, rows)
	o.e = orientBox3(be, cols, rows)
	o.coh = make([]float32, n)
	for i := range o.coh {
		if o.e[i] > 0 {
			o.coh[i] = float32(math.Hypot(float64(o.a[i]), float64(o.b[i]))) / o.e[i]
		}
	}
	return o
}

// orientBox3 sums each cell of a cols x rows grid with its 8 neighbours
// (fewer at the edges).
func orientBox3(v []float32, cols, rows int) []float32 {
	tmp := make([]float32, len(v))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			s := v[r*cols+c]
			if c > 0 {
				s += v[r*cols+c-1]
			}
			if c < cols-1 {
				s += v[r*cols+c+1]
			}
			tmp[r*cols+c] = s
		}
	}
	out := make([]float32, len(v))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			s := tmp[r*cols+c]
			if r > 0 {
				s += tmp[(r-1)*cols+c]
			}
			if r < rows-1 {
				s += tmp[(r+1)*cols+c]
			}
			out[r*cols+c] = s
		}
	}
	return out
}

// orientSmoothSigma is the standard deviation, in blocks, of the Gaussian
// that smooths the doubled-angle vectors: wide enough to bridge creases and
// scars a ridge or two wide, narrow enough to follow the curvature near a
// core. The kernel is cut at orientSmoothRadius blocks (a 56 px window);
// on the FVC sets a wider window (σ 2.5, or radius 4) did worse.
const (
	orientSmoothSigma  = 2.0
	orientSmoothRadius = 3
)

// smooth computes vx, vy: the foreground blocks' doubled-angle vectors,
// each normalised to its coherence (so that a dark, contrasted block does
// not outvote a clear light one), smoothed with a Gaussian. Background
// blocks contribute nothing but receive the smoothed value of their
// neighbours, which the enhancement uses near the mask's edge.
func (o *exOrientation) smooth(seg *exSegmentation) {
	n := o.cols * o.rows
	ux := make([]float32, n)
	uy := make([]float32, n)
	for i := 0; i < n; i++ {
		if seg.fg[i] && o.e[i] > 0 {
			ux[i] = o.a[i] / o.e[i]
			uy[i] = o.b[i] / o.e[i]
		}
	}
	k := exGaussKernel(orientSmoothSigma, orientSmoothRadius)
	o.vx = exSmoothGrid(ux, o.cols, o.rows, k)
	o.vy = exSmoothGrid(uy, o.cols, o.rows, k)
}

// exGaussRow5 and exGaussCol5 are exGaussBlur's passes for a 5-tap kernel
// (σ 1 px, the one it is used with), with the sum of each pixel kept in a
// register. The sums start from 0 and add the taps in the general loops'
// order, so the results are the same to the bit; each product is rounded
// before it is added (enhConv1 says why).
func exGaussRow5(out, pad, k []float32) {
	k = k[:5:5]
	pad = pad[:len(out)+4]
	x := 0
	if enhSSE && len(out) >= 4 {
		// Four pixels a register, each lane the loop below (exact).
		x = len(out) &^ 3
		exGaussRow5SSE(&out[0], &pad[0], x, (*[5]float32)(k))
	}
	k0, k1, k2, k3, k4 := k[0], k[1], k[2], k[3], k[4]
	for ; x < len(out); x++ {
		p := pad[x : x+5 : x+5]
		s := float32(0)
		s += float32(k0 * p[0])
		s += float32(k1 * p[1])
		s += float32(k2 * p[2])
		s += float32(k3 * p[3])
		s += float32(k4 * p[4])
		out[x] = s
	}
}

func exGaussCol5(out, r0, r1, r2, r3, r4, k []float32) {
	k = k[:5:5]
	n := len(out)
	r0, r1, r2, r3, r4 = r0[:n], r1[:n], r2[:n], r3[:n], r4[:n]
	x := 0
	if enhSSE && n >= 4 {
		x = n &^ 3
		exGaussCol5SSE(&out[0], &r0[0], &r1[0], &r2[0], &r3[0], &r4[0], x, (*[5]float32)(k))
	}
	k0, k1, k2, k3, k4 := k[0], k[1], k[2], k[3], k[4]
	for ; x < n; x++ {
		s := float32(0)
		s += float32(k0 * r0[x])
		s += float32(k1 * r1[x])
		s += float32(k2 * r2[x])
		s += float32(k3 * r3[x])
		s += float32(k4 * r4[x])
		out[x] = s
	}
}

// exGaussKernel returns a normalised Gaussian of the given radius.
func exGaussKernel(sigma float64, radius int) []float32 {
	k := make([]float32, 2*radius+1)
	var sum float64
	for i := -radius; i <= radius; i++ {
		v := math.Exp(-float64(i*i) / (2 * sigma * sigma))
		k[i+radius] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] /= float32(sum)
	}
	return k
}

// exSmoothGrid convolves a grid separably with k, clamping at the edges.
func exSmoothGrid(v []float32, cols, rows int, k []float32) []float32 {
	r := len(k) / 2
	tmp := make([]float32, len(v))
	for y := 0; y < rows; y++ {
		for x := 0; x < cols; x++ {
			var s float32
			for j := -r; j <= r; j++ {
				xx := min(max(x+j, 0), cols-1)
				s += k[j+r] * v[y*cols+xx]
			}
			tmp[y*cols+x] = s
		}
	}
	out := make([]float32, len(v))
	for y := 0; y < rows; y++ {
		for x := 0; x < cols; x++ {
			var s float32
			for j := -r; j <= r; j++ {
				yy := min(max(y+j, 0), rows-1)
				s += k[j+r] * tmp[yy*cols+x]
			}
			out[y*cols+x] = s
		}
	}
	return out
}

// normal returns the unit gradient direction (across the ridges) of block
// i in image coordinates (y down), without trigonometry: from the doubled
// angle (cos 2φ, sin 2φ) by the half-angle formulas.
func (o *exOrientation) normal(i int) (cx, cy float32) {
	return orientHalfAngle(o.vx[i], o.vy[i])
}

func orientHalfAngle(vx, vy float32) (cx, cy float32) {
	l := float32(math.Hypot(float64(vx), float64(vy)))
	if l == 0 {
		return 1, 0
	}
	c2 := vx / l
	cx = float32(math.Sqrt(float64(max(0, (1+c2)/2))))
	cy = float32(math.Sqrt(float64(max(0, (1-c2)/2))))
	if vy < 0 {
		cy = -cy
	}
	return cx, cy
}

// ridgeAngleImage returns the ridge direction at pixel (x, y) in image
// coordinates (y down), in [0, π), from the block that holds it.
func (o *exOrientation) ridgeAngleImage(x, y int) float64 {
	i := min(y/BlockSize, o.rows-1)*o.cols + min(x/BlockSize, o.cols-1)
	phi := 0.5 * math.Atan2(float64(o.vy[i]), float64(o.vx[i]))
	t := phi + math.Pi/2
	for t >= math.Pi {
		t -= math.Pi
	}
	for t < 0 {
		t += math.Pi
	}
	return t
}

// ridgeAngleSmooth is ridgeAngleImage with the doubled-angle vectors
// interpolated bilinearly between block centres, so that the direction
// changes smoothly across block boundaries.
func (o *exOrientation) ridgeAngleSmooth(x, y int) float64 {
	fx := (float64(x)+0.5)/BlockSize - 0.5
	fy := (float64(y)+0.5)/BlockSize - 0.5
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	ax, ay := fx-float64(x0), fy-float64(y0)
	var vx, vy float64
	for j := 0; j < 2; j++ {
		for i := 0; i < 2; i++ {
			c := min(max(x0+i, 0), o.cols-1)
			r := min(max(y0+j, 0), o.rows-1)
			wx, wy := 1-ax, 1-ay
			if i == 1 {
				wx = ax
			}
			if j == 1 {
				wy = ay
			}
			// Rounded before adding: no multiply-add (enhConv1).
			vx += float64(wx * wy * float64(o.vx[r*o.cols+c]))
			vy += float64(wx * wy * float64(o.vy[r*o.cols+c]))
		}
	}
	t := 0.5*math.Atan2(vy, vx) + math.Pi/2
	if t >= math.Pi {
		t -= math.Pi
	}
	return t
}

// field exports the orientation for a Transparency.
func (o *exOrientation) field(seg *exSegmentation) *OrientationField {
	n := o.cols * o.rows
	f := &OrientationField{BlockSize: BlockSize, Cols: o.cols, Rows: o.rows,
		Angle: make([]float64, n), Coherence: make([]float64, n), Foreground: append([]bool(nil), seg.fg...)}
	for i := 0; i < n; i++ {
		t := o.ridgeAngleImage((i%o.cols)*BlockSize, (i/o.cols)*BlockSize)
		// Image y runs down; the field's angles, like Minutia.Angle, have y up.
		a := math.Pi - t
		if a >= math.Pi {
			a -= math.Pi
		}
		f.Angle[i] = a
		f.Coherence[i] = float64(o.coh[i])
	}
	return f
}

// exGaussBlur returns p convolved separably with a Gaussian of standard
// deviation sigma cut at 2σ, edges clamped.
func exGaussBlur(p exPlane, sigma float64, sc *exScratch) exPlane {
	r := int(math.Ceil(2 * sigma))
	k := exGaussKernel(sigma, r)
	w, h := p.w, p.h
	// The 5-tap passes write every pixel; the general ones sum into them.
	tmp := sc.plane(exBufBlurTmp, w, h, r != 2)
	// Along the rows: a padded copy of each row, so that the inner loop
	// has no clamping.
	pad := make([]float32, w+2*r)
	for y := 0; y < h; y++ {
		row := p.pix[y*w : (y+1)*w]
		copy(pad[r:], row)
		for j := 0; j < r; j++ {
			pad[j], pad[r+w+j] = row[0], row[w-1]
		}
		out := tmp.pix[y*w : (y+1)*w]
		if r == 2 {
			exGaussRow5(out, pad, k)
			continue
		}
		for j, kk := range k {
			src := pad[j : j+w]
			for x := range out {
				out[x] += kk * src[x]
			}
		}
	}
	out := sc.plane(exBufBlurred, w, h, r != 2)
	for y := 0; y < h; y++ {
		o := out.pix[y*w : (y+1)*w]
		if r == 2 {
			row := func(j int) []float32 { return tmp.pix[min(max(y+j, 0), h-1)*w:][:w] }
			exGaussCol5(o, row(-2), row(-1), row(0), row(1), row(2), k)
			continue
		}
		for j := -r; j <= r; j++ {
			src := tmp.pix[min(max(y+j, 0), h-1)*w:]
			src = src[:w]
			kk := k[j+r]
			for x := range o {
				o[x] += kk * src[x]
			}
		}
	}
	return out
}
