// Package nn holds the neural-network kernels ebsp's face pipeline runs on:
// float32 tensors in NHWC layout (one image at a time), 2-D convolution
// (im2col and a blocked matrix product), depthwise convolution, max and
// average pooling, element-wise addition, ReLU and channel padding.
//
// Padding and output sizes follow TensorFlow's conventions (the models are
// TensorFlow.js models): "VALID" uses no padding, "SAME" gives
// ceil(in/stride) outputs and puts the odd padding pixel after the input,
// as tf.nn.conv2d documents.
package nn

import "fmt"

// Tensor is one image's activations: H rows of W pixels of C channels,
// stored row-major with channels innermost (NHWC with N = 1).
type Tensor struct {
	H, W, C int
	Data    []float32
}

// New returns a zeroed h×w×c tensor.
func New(h, w, c int) *Tensor {
	return &Tensor{H: h, W: w, C: c, Data: make([]float32, h*w*c)}
}

// At returns the value at row y, column x, channel c.
func (t *Tensor) At(y, x, c int) float32 { return t.Data[(y*t.W+x)*t.C+c] }

// String describes the tensor's shape.
func (t *Tensor) String() string { return fmt.Sprintf("[%d %d %d]", t.H, t.W, t.C) }

// Padding is how a window is placed over the input: TensorFlow's "VALID" or
// "SAME".
type Padding int

const (
	Valid Padding = iota
	Same
)

// ParsePadding reads TensorFlow's padding name.
func ParsePadding(s string) (Padding, error) {
	switch s {
	case "VALID":
		return Valid, nil
	case "SAME":
		return Same, nil
	}
	return 0, fmt.Errorf("nn: padding %q is not VALID or SAME", s)
}

// window returns the output length and the padding before the input for a
// window of size k moved by stride s over n inputs.
func window(n, k, s int, p Padding) (out, before int) {
	if p == Valid {
		if n < k {
			return 0, 0
		}
		return (n-k)/s + 1, 0
	}
	out = (n + s - 1) / s
	total := max((out-1)*s+k-n, 0)
	return out, total / 2
}

// Add adds b to a in place; the shapes must match.
func Add(a, b *Tensor) error {
	if a.H != b.H || a.W != b.W || a.C != b.C {
		return fmt.Errorf("nn: add of %v and %v", a, b)
	}
	addRelu(a.Data, b.Data, false)
	return nil
}

// Relu clamps negative values to zero in place.
func Relu(t *Tensor) { addRelu(t.Data, nil, true) }

// addRelu adds src (when not nil) to dst, then clamps negatives to zero if
// relu is set.
func addRelu(dst, src []float32, relu bool) {
	n := len(dst)
	if src != nil {
		src = src[:n]
	}
	if useSIMD && n >= 8 {
		n8 := n / 8 * 8
		var s *float32
		if src != nil {
			s = &src[0]
		}
		addRelu8(&dst[0], s, n8, relu)
		dst = dst[n8:]
		if src != nil {
			src = src[n8:]
		}
	}
	for i := range dst {
		v := dst[i]
		if src != nil {
			v += src[i]
		}
		if relu && v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// PadChannels returns t with c zero channels appended to every pixel (the
// shortcut of a residual block that widens its output).
func PadChannels(t *Tensor, before, after int) *Tensor {
	o := New(t.H, t.W, t.C+before+after)
	for p := range t.H * t.W {
		copy(o.Data[p*o.C+before:], t.Data[p*t.C:(p+1)*t.C])
	}
	return o
}

// PadSpatial returns t with zero rows and columns added: top, bottom, left,
// right.
func PadSpatial(t *Tensor, top, bottom, left, right int) *Tensor {
	o := New(t.H+top+bottom, t.W+left+right, t.C)
	for y := range t.H {
		copy(o.Data[((y+top)*o.W+left)*o.C:], t.Data[y*t.W*t.C:(y+1)*t.W*t.C])
	}
	return o
}

// MaxPool takes the maximum over k×k windows moved by stride s; padded
// positions do not take part.
func MaxPool(t *Tensor, k, s int, p Padding) *Tensor {
	return pool(t, k, s, p, true)
}

// AvgPool averages k×k windows moved by stride s over the positions inside
// the input (TensorFlow's avg_pool does not count padding).
func AvgPool(t *Tensor, k, s int, p Padding) *Tensor {
	return pool(t, k, s, p, false)
}

func pool(t *Tensor, k, s int, p Padding, isMax bool) *Tensor {
	oh, pt := window(t.H, k, s, p)
	ow, pl := window(t.W, k, s, p)
	o := New(oh, ow, t.C)
	acc := make([]float32, t.C)
	for oy := range oh {
		for ox := range ow {
			n := 0
			for ky := range k {
				y := oy*s - pt + ky
				if y < 0 || y >= t.H {
					continue
				}
				for kx := range k {
					x := ox*s - pl + kx
					if x < 0 || x >= t.W {
						continue
					}
					in := t.Data[(y*t.W+x)*t.C : (y*t.W+x+1)*t.C]
					if n == 0 {
						copy(acc, in)
					} else if isMax {
						for c, v := range in {
							acc[c] = max(acc[c], v)
						}
					} else {
						for c, v := range in {
							acc[c] += v
						}
					}
					n++
				}
			}
			out := o.Data[(oy*ow+ox)*t.C : (oy*ow+ox+1)*t.C]
			if n == 0 {
				continue
			}
			if isMax {
				copy(out, acc)
			} else {
				inv := 1 / float32(n)
				for c, v := range acc {
					out[c] = v * inv
				}
			}
		}
	}
	return o
}

// MeanSpatial averages every channel over all pixels.
func MeanSpatial(t *Tensor) []float32 {
	o := make([]float32, t.C)
	for p := range t.H * t.W {
		for c, v := range t.Data[p*t.C : (p+1)*t.C] {
			o[c] += v
		}
	}
	inv := 1 / float32(t.H*t.W)
	for c := range o {
		o[c] *= inv
	}
	return o
}
