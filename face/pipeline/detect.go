package pipeline

import (
	"fmt"
	"math"
	"sort"

	"github.com/ebsp/ebsp/face/nn"
	"github.com/ebsp/ebsp/face/tfjs"
)

// Detector finds faces with MediaPipe's BlazeFace "back" (full-range)
// model: a 256×256 input, 896 anchors on a 16×16 grid (2 per cell) and an
// 8×8 grid (6 per cell), each predicting a face score, a box and six
// keypoints (the eyes, the nose tip, the mouth centre and the two ear
// tragions) as offsets in input pixels from the anchor's centre.
// Bazarevsky et al., "BlazeFace: Sub-millisecond Neural Face Detection on
// Mobile GPUs", 2019.
type Detector struct {
	g       *tfjs.Graph
	anchors [][2]float32
	// MinScore is the face probability a detection needs (0.5, MediaPipe's
	// default for this model).
	MinScore float32
}

// detectorInput is the side of the square the detector looks at.
const detectorInput = 256

// The graph's outputs: scores and regressors of the 16×16 grid, then of the
// 8×8 grid.
var detectorOutputs = []string{"Identity", "Identity_2", "Identity_1", "Identity_3"}

// NewDetector compiles the BlazeFace graph model.
func NewDetector(model []byte, open func(string) ([]byte, error)) (*Detector, error) {
	g, err := tfjs.ParseGraph(model, open)
	if err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	d := &Detector{g: g, MinScore: 0.5}
	for _, grid := range []struct{ stride, per int }{{16, 2}, {32, 6}} {
		n := detectorInput / grid.stride
		for gy := range n {
			for gx := range n {
				for range grid.per {
					d.anchors = append(d.anchors, [2]float32{float32(grid.stride) * (float32(gx) + 0.5), float32(grid.stride) * (float32(gy) + 0.5)})
				}
			}
		}
	}
	return d, nil
}

// Keypoints of a detection, in the order BlazeFace predicts them. "Right"
// and "left" are the subject's: the right eye is on the image's left.
const (
	RightEye = iota
	LeftEye
	NoseTip
	Mouth
	RightEar
	LeftEar
	numKeypoints
)

// Detection is one face found in an image, in the image's pixel
// coordinates.
type Detection struct {
	Score          float32
	X0, Y0, X1, Y1 float32 // box corners
	Keypoints      [numKeypoints][2]float32
}

// Detect returns the faces found in m, the most probable first.
func (d *Detector) Detect(m *RGB) ([]Detection, error) {
	// Letterbox: scale the longer side to 256 and centre the image on a
	// black square, so that faces keep their proportions.
	side := max(m.W, m.H)
	scale := float32(detectorInput) / float32(side)
	padX := (float32(side) - float32(m.W)) / 2
	padY := (float32(side) - float32(m.H)) / 2
	in := nn.New(detectorInput, detectorInput, 3)
	// Average up to 4×4 source pixels spread over each input pixel's area
	// (a box filter), so that a large photo does not alias.
	step := float32(side) / detectorInput
	taps := min(max(int(math.Ceil(float64(step))), 1), 4)
	src := func(i int, pad float32, n int) []int {
		var s []int
		for t := range taps {
			v := int(float32(i)*step - pad + (float32(t)+0.5)*step/float32(taps))
			if v >= 0 && v < n {
				s = append(s, v)
			}
		}
		return s
	}
	cols := make([][]int, detectorInput)
	for x := range cols {
		cols[x] = src(x, padX, m.W)
	}
	acc := make([]float32, 3*detectorInput)
	cnt := make([]float32, detectorInput)
	for y := range detectorInput {
		clear(acc)
		clear(cnt)
		for _, sy := range src(y, padY, m.H) {
			row := m.Pix[sy*m.W*3 : (sy+1)*m.W*3]
			for x, xs := range cols {
				for _, sx := range xs {
					p := row[sx*3 : sx*3+3]
					acc[3*x] += float32(p[0])
					acc[3*x+1] += float32(p[1])
					acc[3*x+2] += float32(p[2])
				}
				cnt[x] += float32(len(xs))
			}
		}
		o := in.Data[y*detectorInput*3 : (y+1)*detectorInput*3]
		for x := range detectorInput {
			for c := range 3 {
				v := float32(0)
				if cnt[x] > 0 {
					v = acc[3*x+c] / cnt[x]
				}
				o[3*x+c] = v/127.5 - 1 // the model's input range is [-1, 1]; padding is black
			}
		}
	}
	out, err := d.g.Run(in, detectorOutputs...)
	if err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	scores := append(append([]float32(nil), out[0].Data...), out[2].Data...)
	regs := append(append([]float32(nil), out[1].Data...), out[3].Data...)
	if len(scores) != len(d.anchors) || len(regs) != 16*len(d.anchors) {
		return nil, fmt.Errorf("face detector: model gives %d scores and %d regressors for %d anchors", len(scores), len(regs), len(d.anchors))
	}
	var cands []Detection
	for i, logit := range scores {
		s := sigmoid(logit)
		if s < d.MinScore {
			continue
		}
		r := regs[i*16 : (i+1)*16]
		a := d.anchors[i]
		cx, cy := r[0]+a[0], r[1]+a[1]
		det := Detection{Score: s, X0: cx - r[2]/2, Y0: cy - r[3]/2, X1: cx + r[2]/2, Y1: cy + r[3]/2}
		for k := range numKeypoints {
			det.Keypoints[k] = [2]float32{r[4+2*k] + a[0], r[5+2*k] + a[1]}
		}
		cands = append(cands, det)
	}
	faces := weightedNMS(cands, 0.3)
	// Back to the photo's pixels.
	for i := range faces {
		f := &faces[i]
		tr := func(x, y float32) (float32, float32) { return x/scale - padX, y/scale - padY }
		f.X0, f.Y0 = tr(f.X0, f.Y0)
		f.X1, f.Y1 = tr(f.X1, f.Y1)
		for k := range f.Keypoints {
			f.Keypoints[k][0], f.Keypoints[k][1] = tr(f.Keypoints[k][0], f.Keypoints[k][1])
		}
	}
	return faces, nil
}

func sigmoid(x float32) float32 {
	x = min(max(x, -100), 100)
	return 1 / (1 + float32(math.Exp(float64(-x))))
}

// weightedNMS merges overlapping detections as MediaPipe does for BlazeFace:
// the best-scoring remaining detection takes every other whose box overlaps
// it by more than iou, and its box and keypoints become the score-weighted
// mean of the group (steadier than keeping the single best).
func weightedNMS(c []Detection, iou float32) []Detection {
	sort.Slice(c, func(i, j int) bool { return c[i].Score > c[j].Score })
	used := make([]bool, len(c))
	var out []Detection
	for i := range c {
		if used[i] {
			continue
		}
		var sum Detection
		var w float32
		for j := i; j < len(c); j++ {
			if used[j] || overlap(&c[i], &c[j]) <= iou {
				continue
			}
			used[j] = true
			s := c[j].Score
			w += s
			sum.X0 += s * c[j].X0
			sum.Y0 += s * c[j].Y0
			sum.X1 += s * c[j].X1
			sum.Y1 += s * c[j].Y1
			for k := range sum.Keypoints {
				sum.Keypoints[k][0] += s * c[j].Keypoints[k][0]
				sum.Keypoints[k][1] += s * c[j].Keypoints[k][1]
			}
		}
		sum.X0, sum.Y0, sum.X1, sum.Y1 = sum.X0/w, sum.Y0/w, sum.X1/w, sum.Y1/w
		for k := range sum.Keypoints {
			sum.Keypoints[k][0] /= w
			sum.Keypoints[k][1] /= w
		}
		sum.Score = c[i].Score
		out = append(out, sum)
	}
	return out
}

// overlap is the intersection over union of two boxes.
func overlap(a, b *Detection) float32 {
	ix := min(a.X1, b.X1) - max(a.X0, b.X0)
	iy := min(a.Y1, b.Y1) - max(a.Y0, b.Y0)
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := ix * iy
	union := (a.X1-a.X0)*(a.Y1-a.Y0) + (b.X1-b.X0)*(b.Y1-b.Y0) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}
