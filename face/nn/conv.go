package nn

import (
	"fmt"
	"sync"
)

// Conv is a 2-D convolution layer with its bias and activation folded in:
// out = act(conv(in, filter) * Scale + Shift). A batch-norm or dlib's
// affine "scale" layer after the convolution folds into Scale and Shift.
type Conv struct {
	KH, KW, In, Out int
	// Filter holds KH×KW×In×Out weights in TensorFlow's HWIO order, which is
	// also the K×N matrix the im2col product multiplies by.
	Filter  []float32
	Bias    []float32 // Out values added after the product (after Scale is applied)
	Stride  int
	Padding Padding
	Relu    bool

	pack   sync.Once
	packed *Packed
}

// NewConv checks a filter in HWIO order against its shape and returns the
// layer with a zero bias.
func NewConv(shape []int, filter []float32, stride int, p Padding) (*Conv, error) {
	if len(shape) != 4 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || shape[3] < 1 {
		return nil, fmt.Errorf("nn: conv filter shape %v is not [kh kw in out]", shape)
	}
	if len(filter) != shape[0]*shape[1]*shape[2]*shape[3] {
		return nil, fmt.Errorf("nn: conv filter has %d values for shape %v", len(filter), shape)
	}
	if stride < 1 {
		return nil, fmt.Errorf("nn: conv stride %d", stride)
	}
	return &Conv{KH: shape[0], KW: shape[1], In: shape[2], Out: shape[3], Filter: filter,
		Bias: make([]float32, shape[3]), Stride: stride, Padding: p}, nil
}

// Affine folds y = x*scale + shift (per output channel) into the layer. It
// must come before the first Apply.
func (c *Conv) Affine(scale, shift []float32) error {
	if len(scale) != c.Out || len(shift) != c.Out {
		return fmt.Errorf("nn: affine of %d and %d values after a conv with %d outputs", len(scale), len(shift), c.Out)
	}
	k := c.KH * c.KW * c.In
	for i := range k {
		row := c.Filter[i*c.Out : (i+1)*c.Out]
		for o := range row {
			row[o] *= scale[o]
		}
	}
	for o := range c.Bias {
		c.Bias[o] = c.Bias[o]*scale[o] + shift[o]
	}
	return nil
}

// Apply runs the layer on t.
func (c *Conv) Apply(t *Tensor) (*Tensor, error) {
	oh, ow, pt, pl, err := placeWindow(t, "conv", c.In, c.KH, c.KW, c.Stride, c.Padding)
	if err != nil {
		return nil, err
	}
	o := New(oh, ow, c.Out)
	k := c.KH * c.KW * c.In
	var a []float32
	if c.KH == 1 && c.KW == 1 && c.Stride == 1 {
		a = t.Data // a 1×1 convolution is already a matrix product
	} else {
		a = im2col(t, c.KH, c.KW, c.Stride, oh, ow, pt, pl)
	}
	for p := range oh * ow {
		copy(o.Data[p*c.Out:(p+1)*c.Out], c.Bias)
	}
	c.pack.Do(func() { c.packed = Pack(k, c.Out, c.Filter) })
	c.packed.MulAdd(oh*ow, a, o.Data)
	if c.Relu {
		Relu(o)
	}
	return o, nil
}

// placeWindow checks that t has the layer's input channels and returns the
// output size and the padding before the input (top, left) of a kh×kw
// window moved by stride.
func placeWindow(t *Tensor, layer string, in, kh, kw, stride int, p Padding) (oh, ow, pt, pl int, err error) {
	if t.C != in {
		return 0, 0, 0, 0, fmt.Errorf("nn: %s with %d input channels applied to %v", layer, in, t)
	}
	oh, pt = window(t.H, kh, stride, p)
	ow, pl = window(t.W, kw, stride, p)
	if oh == 0 || ow == 0 {
		return 0, 0, 0, 0, fmt.Errorf("nn: %dx%d %s over %v leaves no output", kh, kw, layer, t)
	}
	return oh, ow, pt, pl, nil
}

// im2col lays out every output pixel's receptive field as one row of
// KH×KW×C values, zero where the window hangs over the padding.
func im2col(t *Tensor, kh, kw, s, oh, ow, pt, pl int) []float32 {
	k := kh * kw * t.C
	a := make([]float32, oh*ow*k)
	for oy := range oh {
		for ox := range ow {
			row := a[(oy*ow+ox)*k:]
			for ky := range kh {
				y := oy*s - pt + ky
				if y < 0 || y >= t.H {
					continue
				}
				for kx := range kw {
					x := ox*s - pl + kx
					if x < 0 || x >= t.W {
						continue
					}
					copy(row[(ky*kw+kx)*t.C:(ky*kw+kx+1)*t.C], t.Data[(y*t.W+x)*t.C:])
				}
			}
		}
	}
	return a
}

// Depthwise is a depthwise 2-D convolution with a channel multiplier of 1:
// every channel is filtered by its own KH×KW kernel.
type Depthwise struct {
	KH, KW, C int
	Filter    []float32 // KH×KW×C, TensorFlow's [kh kw in 1] order
	Bias      []float32
	Stride    int
	Padding   Padding
}

// NewDepthwise checks a [kh kw c 1] filter.
func NewDepthwise(shape []int, filter []float32, stride int, p Padding) (*Depthwise, error) {
	if len(shape) != 4 || shape[3] != 1 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1 {
		return nil, fmt.Errorf("nn: depthwise filter shape %v is not [kh kw c 1]", shape)
	}
	if len(filter) != shape[0]*shape[1]*shape[2] {
		return nil, fmt.Errorf("nn: depthwise filter has %d values for shape %v", len(filter), shape)
	}
	if stride < 1 {
		return nil, fmt.Errorf("nn: depthwise stride %d", stride)
	}
	return &Depthwise{KH: shape[0], KW: shape[1], C: shape[2], Filter: filter, Bias: make([]float32, shape[2]),
		Stride: stride, Padding: p}, nil
}

// Apply runs the layer on t.
func (d *Depthwise) Apply(t *Tensor) (*Tensor, error) {
	oh, ow, pt, pl, err := placeWindow(t, "depthwise conv", d.C, d.KH, d.KW, d.Stride, d.Padding)
	if err != nil {
		return nil, err
	}
	o := New(oh, ow, d.C)
	c := d.C
	simd := useSIMD && c%8 == 0
	for oy := range oh {
		row := o.Data[oy*ow*c : (oy+1)*ow*c]
		for ox := range ow {
			copy(row[ox*c:(ox+1)*c], d.Bias)
		}
		for ky := range d.KH {
			y := oy*d.Stride - pt + ky
			if y < 0 || y >= t.H {
				continue
			}
			for kx := range d.KW {
				// The outputs whose input column ox*stride - pl + kx is
				// inside the image.
				lo := max((pl-kx+d.Stride-1)/d.Stride, 0)
				hi := min((t.W-1+pl-kx)/d.Stride+1, ow)
				if lo >= hi {
					continue
				}
				f := d.Filter[(ky*d.KW+kx)*c : (ky*d.KW+kx+1)*c]
				src := t.Data[(y*t.W+lo*d.Stride-pl+kx)*c:]
				if simd {
					// Bounds: the last pixel reads src[(hi-lo-1)*stride*c : ... + c].
					_ = src[(hi-lo-1)*d.Stride*c+c-1]
					dwRow(&row[lo*c], &src[0], &f[0], hi-lo, c, d.Stride*c)
					continue
				}
				for ox := lo; ox < hi; ox++ {
					p := (ox - lo) * d.Stride * c
					axpyMul(row[ox*c:(ox+1)*c], src[p:p+c], f)
				}
			}
		}
	}
	return o, nil
}

// axpyMul adds x[i]*y[i] to dst[i].
func axpyMul(dst, x, y []float32) {
	x = x[:len(dst)]
	y = y[:len(dst)]
	for i := range dst {
		dst[i] += x[i] * y[i]
	}
}
