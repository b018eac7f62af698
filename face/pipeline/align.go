package pipeline

import (
	"math"

	"github.com/ebsp/ebsp/face/nn"
)

// ChipSize is the side of the aligned face crop the recogniser reads.
const ChipSize = 150

// chipEyeRight, chipEyeLeft and chipMouth are where the eyes' and the
// mouth's centres fall in the 150×150 crop dlib's recogniser was trained on
// (dlib's get_face_chip_details with padding 0.25: the centroids of its mean
// face shape's eye contours, points 36-41 and 42-47, and of its mouth, points
// 48-67, mapped by (p + 0.25) / 1.5 × 150).
var (
	chipEyeRight = [2]float64{47.549, 46.599}
	chipEyeLeft  = [2]float64{100.476, 46.599}
	chipMouth    = [2]float64{74.013, 105.422}
)

// similarity maps crop coordinates to image coordinates:
// x' = a·x − b·y + tx, y' = b·x + a·y + ty.
type similarity struct{ a, b, tx, ty float64 }

func (s similarity) apply(x, y float64) (float64, float64) {
	return s.a*x - s.b*y + s.tx, s.b*x + s.a*y + s.ty
}

// fitSimilarity is the least-squares rotation, uniform scale and translation
// taking src onto dst.
func fitSimilarity(src, dst [][2]float64) similarity {
	var ms, md [2]float64
	for i := range src {
		ms[0] += src[i][0]
		ms[1] += src[i][1]
		md[0] += dst[i][0]
		md[1] += dst[i][1]
	}
	n := float64(len(src))
	ms[0], ms[1], md[0], md[1] = ms[0]/n, ms[1]/n, md[0]/n, md[1]/n
	var num1, num2, den float64
	for i := range src {
		sx, sy := src[i][0]-ms[0], src[i][1]-ms[1]
		dx, dy := dst[i][0]-md[0], dst[i][1]-md[1]
		num1 += sx*dx + sy*dy
		num2 += sx*dy - sy*dx
		den += sx*sx + sy*sy
	}
	s := similarity{a: num1 / den, b: num2 / den}
	s.tx = md[0] - (s.a*ms[0] - s.b*ms[1])
	s.ty = md[1] - (s.b*ms[0] + s.a*ms[1])
	return s
}

// Align cuts the 150×150 face crop out of m: a similarity transform puts the
// detection's eyes and mouth where dlib's crops have them. Each crop pixel
// averages n×n bilinear samples, n the number of photo pixels per crop
// pixel, so that a large photo does not alias. The crop holds RGB in 0-255.
func Align(m *RGB, d *Detection) *nn.Tensor {
	pt := func(k int) [2]float64 { return [2]float64{float64(d.Keypoints[k][0]), float64(d.Keypoints[k][1])} }
	t := fitSimilarity(
		[][2]float64{chipEyeRight, chipEyeLeft, chipMouth},
		[][2]float64{pt(RightEye), pt(LeftEye), pt(Mouth)})
	scale := math.Hypot(t.a, t.b)
	n := min(max(int(math.Ceil(scale)), 1), 16)
	out := nn.New(ChipSize, ChipSize, 3)
	inv := 1 / float32(n*n)
	for v := range ChipSize {
		for u := range ChipSize {
			var acc [3]float32
			for j := range n {
				y := float64(v) - 0.5 + (float64(j)+0.5)/float64(n)
				for i := range n {
					x := float64(u) - 0.5 + (float64(i)+0.5)/float64(n)
					sx, sy := t.apply(x, y)
					bilinear(m, sx, sy, &acc)
				}
			}
			o := out.Data[(v*ChipSize+u)*3:]
			o[0], o[1], o[2] = acc[0]*inv, acc[1]*inv, acc[2]*inv
		}
	}
	return out
}

// bilinear adds the interpolated colour at (x, y) to acc; outside the image
// the border pixels extend.
func bilinear(m *RGB, x, y float64, acc *[3]float32) {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := float32(x-x0), float32(y-y0)
	ix, iy := int(x0), int(y0)
	if ix >= 0 && iy >= 0 && ix+1 < m.W && iy+1 < m.H {
		w := 3 * m.W
		p := m.Pix[iy*w+3*ix:]
		for c := range 3 {
			top := float32(p[c])*(1-fx) + float32(p[c+3])*fx
			bot := float32(p[w+c])*(1-fx) + float32(p[w+c+3])*fx
			acc[c] += top*(1-fy) + bot*fy
		}
		return
	}
	for c := range 3 {
		top := m.at(ix, iy, c)*(1-fx) + m.at(ix+1, iy, c)*fx
		bot := m.at(ix, iy+1, c)*(1-fx) + m.at(ix+1, iy+1, c)*fx
		acc[c] += top*(1-fy) + bot*fy
	}
}
