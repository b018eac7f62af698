package fingerprint

import (
	"image"
	"math"
)

// resampledSize is the size of a w x h image at dpi once brought to 500 ppi.
// Resolutions within 1% of 500 are taken as 500: the difference is below
// the precision of a minutia's position.
func resampledSize(w, h, dpi int) (int, int) {
	if resampleIdentity(dpi) {
		return w, h
	}
	s := 500 / float64(dpi)
	return int(math.Round(float64(w) * s)), int(math.Round(float64(h) * s))
}

func resampleIdentity(dpi int) bool { return dpi >= 495 && dpi <= 505 }

// resampleTo500 returns img at 500 ppi as a float plane. It filters with a
// triangle (tent) kernel whose support widens with the reduction, so that
// downsampling averages the source pixels instead of aliasing ridges.
func resampleTo500(img *image.Gray, dpi int, sc *exScratch) exPlane {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if resampleIdentity(dpi) {
		src := sc.plane(exBufResampled, w, h, false) // every pixel written
		for y := 0; y < h; y++ {
			// img.Pix starts at img.Rect.Min, which is b.Min.
			row := img.Pix[y*img.Stride : y*img.Stride+w]
			d := src.pix[y*w : (y+1)*w]
			for x, v := range row {
				d[x] = float32(v)
			}
		}
		return src
	}
	ow, oh := resampledSize(w, h, dpi)
	scale := float64(dpi) / 500 // source pixels per output pixel
	xs := resampleTaps(w, ow, scale)
	ys := resampleTaps(h, oh, scale)

	// Horizontal pass: h rows of ow pixels, read from the grey bytes
	// directly (float32 holds every byte exactly, so this is the sum over
	// a float copy of the image, without the copy).
	tmp := sc.plane(exBufResampleTmp, ow, h, false) // every pixel written
	for y := 0; y < h; y++ {
		srow := img.Pix[y*img.Stride : y*img.Stride+w]
		drow := tmp.pix[y*ow : (y+1)*ow]
		for x := range drow {
			t := &xs[x]
			var acc float32
			// Two and three taps (every reduction up to 1.5 times) written
			// out; the same sums in the same order as the loop. Each
			// product is rounded before it is added, so that no target
			// fuses the two into a multiply-add (enhConv1 says why).
			switch w := t.w; len(w) {
			case 2:
				s := srow[t.first : t.first+2 : t.first+2]
				acc += float32(w[0] * float32(s[0]))
				acc += float32(w[1] * float32(s[1]))
			case 3:
				s := srow[t.first : t.first+3 : t.first+3]
				acc += float32(w[0] * float32(s[0]))
				acc += float32(w[1] * float32(s[1]))
				acc += float32(w[2] * float32(s[2]))
			default:
				for k, wt := range w {
					acc += float32(wt * float32(srow[t.first+k]))
				}
			}
			drow[x] = acc
		}
	}
	// Vertical pass.
	out := sc.plane(exBufResampled, ow, oh, false)
	for y := 0; y < oh; y++ {
		t := &ys[y]
		drow := out.pix[y*ow : (y+1)*ow]
		clear(drow) // summed into; cleared a row at a time, while it is in the cache
		for k, wt := range t.w {
			srow := tmp.pix[(t.first+k)*ow : (t.first+k+1)*ow]
			exAddScaled(drow, srow, wt)
		}
	}
	return out
}

// resampleTap is the run of source samples and weights for one output sample.
type resampleTap struct {
	first int
	w     []float32
}

// resampleTaps computes the tent-filter weights that map n source samples to
// m output samples, scale source samples apart.
func resampleTaps(n, m int, scale float64) []resampleTap {
	radius := math.Max(1, scale)
	taps := make([]resampleTap, m)
	for i := range taps {
		c := (float64(i)+0.5)*scale - 0.5
		lo := int(math.Ceil(c - radius))
		hi := int(math.Floor(c + radius))
		if lo < 0 {
			lo = 0
		}
		if hi > n-1 {
			hi = n - 1
		}
		if hi < lo {
			hi = lo
		}
		ws := make([]float32, hi-lo+1)
		var sum float64
		for j := lo; j <= hi; j++ {
			v := 1 - math.Abs(float64(j)-c)/radius
			if v < 0 {
				v = 0
			}
			ws[j-lo] = float32(v)
			sum += v
		}
		if sum == 0 {
			ws[0], sum = 1, 1
		}
		for j := range ws {
			ws[j] /= float32(sum)
		}
		taps[i] = resampleTap{first: lo, w: ws}
	}
	return taps
}

// exAddScaled adds wt·src[x] to dst[x] for every x (src at least as long
// as dst), four pixels a register on amd64: each element is the same one
// multiplication and addition, so the results are the same to the bit
// (the product rounded before the addition: enhConv1 says why).
func exAddScaled(dst, src []float32, wt float32) {
	src = src[:len(dst)]
	x := 0
	if enhSSE && len(dst) >= 4 {
		x = len(dst) &^ 3
		exAddScaledSSE(&dst[0], &src[0], x, wt)
	}
	for ; x < len(dst); x++ {
		dst[x] += float32(wt * src[x])
	}
}
