package pipeline

import (
	"fmt"
	"math"

	"github.com/ebsp/ebsp/face/nn"
	"github.com/ebsp/ebsp/face/tfjs"
)

// EmbeddingDim is the length of the recogniser's embedding.
const EmbeddingDim = 128

// Recogniser is dlib's face recognition ResNet (dlib_face_recognition_resnet_model_v1,
// Davis King, 2017) as face-api.js converted it to TensorFlow.js: a ResNet
// of 29 convolutions on a 150×150 aligned crop giving a 128-value
// embedding, trained with a metric loss so that two photos of one person are
// less than 0.6 apart in Euclidean distance.
//
// The layer sequence is dlib's (dnn_face_recognition_ex.cpp): a 7×7
// stride-2 convolution, 3×3 stride-2 max pooling, residual blocks of 32, 64,
// 128 and 256 filters (the first of each width halves the resolution with a
// stride-2 convolution and an average-pooled, zero-extended shortcut),
// global average pooling and a 256×128 fully connected layer. Every
// convolution's bias and dlib's affine layer are folded into the convolution.
type Recogniser struct {
	first  *nn.Conv
	blocks []block
	fc     []float32 // 256×128
}

type block struct {
	conv1, conv2 *nn.Conv
	down         bool
}

// The mean colour dlib subtracts (input_rgb_image_sized's defaults).
var meanRGB = [3]float32{122.782, 117.001, 104.298}

// NewRecogniser loads the recogniser from face-api's weights manifest.
func NewRecogniser(manifest []byte, open func(string) ([]byte, error)) (*Recogniser, error) {
	groups, err := tfjs.ParseManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("face recogniser: %w", err)
	}
	w, err := tfjs.ReadWeights(groups, open)
	if err != nil {
		return nil, fmt.Errorf("face recogniser: %w", err)
	}
	get := func(name string, shape ...int) ([]float32, error) {
		a, ok := w[name]
		if !ok {
			return nil, fmt.Errorf("face recogniser: weight %q missing", name)
		}
		if len(a.Shape) != len(shape) {
			return nil, fmt.Errorf("face recogniser: weight %q has shape %v, want %v", name, a.Shape, shape)
		}
		for i, d := range shape {
			if d >= 0 && a.Shape[i] != d {
				return nil, fmt.Errorf("face recogniser: weight %q has shape %v, want %v", name, a.Shape, shape)
			}
		}
		return a.Float, nil
	}
	conv := func(prefix string, k, in, out, stride int, p nn.Padding, relu bool) (*nn.Conv, error) {
		f, err := get(prefix+"/conv/filters", k, k, in, out)
		if err != nil {
			return nil, err
		}
		c, err := nn.NewConv([]int{k, k, in, out}, f, stride, p)
		if err != nil {
			return nil, err
		}
		bias, err := get(prefix+"/conv/bias", out)
		if err != nil {
			return nil, err
		}
		copy(c.Bias, bias)
		scale, err := get(prefix+"/scale/weights", out)
		if err != nil {
			return nil, err
		}
		shift, err := get(prefix+"/scale/biases", out)
		if err != nil {
			return nil, err
		}
		c.Relu = relu
		return c, c.Affine(scale, shift)
	}
	r := &Recogniser{}
	if r.first, err = conv("conv32_down", 7, 3, 32, 2, nn.Valid, true); err != nil {
		return nil, err
	}
	in := 32
	for _, l := range []struct {
		name string
		out  int
		down bool
	}{
		{"conv32_1", 32, false}, {"conv32_2", 32, false}, {"conv32_3", 32, false},
		{"conv64_down", 64, true}, {"conv64_1", 64, false}, {"conv64_2", 64, false}, {"conv64_3", 64, false},
		{"conv128_down", 128, true}, {"conv128_1", 128, false}, {"conv128_2", 128, false},
		{"conv256_down", 256, true}, {"conv256_1", 256, false}, {"conv256_2", 256, false},
		{"conv256_down_out", 256, true},
	} {
		b := block{down: l.down}
		stride, pad := 1, nn.Same
		if l.down {
			stride, pad = 2, nn.Valid
		}
		if b.conv1, err = conv(l.name+"/conv1", 3, in, l.out, stride, pad, true); err != nil {
			return nil, err
		}
		if b.conv2, err = conv(l.name+"/conv2", 3, l.out, l.out, 1, nn.Same, false); err != nil {
			return nil, err
		}
		r.blocks = append(r.blocks, b)
		in = l.out
	}
	if r.fc, err = get("fc", 256, EmbeddingDim); err != nil {
		return nil, err
	}
	return r, nil
}

// Embed returns the embedding of an aligned 150×150 RGB crop (values 0-255).
func (r *Recogniser) Embed(chip *nn.Tensor) ([]float32, error) {
	if chip.H != ChipSize || chip.W != ChipSize || chip.C != 3 {
		return nil, fmt.Errorf("face recogniser: input %v, want [%d %d 3]", chip, ChipSize, ChipSize)
	}
	x := nn.New(ChipSize, ChipSize, 3)
	for i, v := range chip.Data {
		x.Data[i] = (v - meanRGB[i%3]) / 255
	}
	x, err := r.first.Apply(x)
	if err != nil {
		return nil, err
	}
	x = nn.MaxPool(x, 3, 2, nn.Valid)
	for _, b := range r.blocks {
		y, err := b.conv1.Apply(x)
		if err != nil {
			return nil, err
		}
		if y, err = b.conv2.Apply(y); err != nil {
			return nil, err
		}
		short := x
		if b.down {
			short = nn.AvgPool(x, 2, 2, nn.Valid)
			if short.C != y.C {
				short = nn.PadChannels(short, 0, y.C-short.C)
			}
			// An odd input leaves the strided convolution one row and
			// column short of the pooled shortcut: dlib zero-extends it.
			if y.H < short.H || y.W < short.W {
				y = nn.PadSpatial(y, 0, short.H-y.H, 0, short.W-y.W)
			}
		}
		if err := nn.Add(y, short); err != nil {
			return nil, err
		}
		nn.Relu(y)
		x = y
	}
	pooled := nn.MeanSpatial(x)
	out := make([]float32, EmbeddingDim)
	nn.Gemm(1, len(pooled), EmbeddingDim, pooled, r.fc, out)
	for _, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("face recogniser: embedding is not finite")
		}
	}
	return out, nil
}
