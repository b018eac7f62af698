// Package tfjs reads TensorFlow.js models: the weights manifest
// (model.json's weightsManifest, or face-api's *-weights_manifest.json) with
// its binary shards, and graph models (a GraphDef in JSON) which it runs on
// the kernels of package nn.
//
// The format is TensorFlow.js's "tfjs-layers/graph model" serialisation
// (tfjs-converter, docs "Model format"): each weight group names shard files
// whose bytes, concatenated, hold the group's weights one after another in
// manifest order; a weight with a "quantization" entry is stored as uint8 or
// uint16 q and stands for q*scale + min, or as float16.
//
// Everything read is bounded: a model that declares more values than
// MaxValues, or shapes whose sizes do not match the bytes, is rejected with an
// error naming the weight.
package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// MaxValues bounds the number of values one model may declare (64 Mi, about
// ten times the largest model ebsp uses).
const MaxValues = 64 << 20

// Array is one named weight: its shape and values (float32 for floating
// weights, Int for int32 ones such as reshape targets and paddings).
type Array struct {
	Shape []int
	Float []float32
	Int   []int32
}

// Size is the number of values the shape holds.
func (a *Array) Size() int { return shapeSize(a.Shape) }

// Group is one entry of a weights manifest.
type Group struct {
	Paths   []string `json:"paths"`
	Weights []Spec   `json:"weights"`
}

// Spec describes one weight in a manifest.
type Spec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	DType        string        `json:"dtype"`
	Quantization *Quantization `json:"quantization"`
}

// Quantization is how a weight's values were compressed.
type Quantization struct {
	DType string  `json:"dtype"`
	Scale float64 `json:"scale"`
	Min   float64 `json:"min"`
}

// ParseManifest decodes a weights manifest.
func ParseManifest(b []byte) ([]Group, error) {
	var m []Group
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("tfjs: weights manifest: %w", err)
	}
	return m, nil
}

// ReadWeights loads every weight of the manifest's groups; open returns the
// bytes of a shard named in the manifest.
func ReadWeights(groups []Group, open func(path string) ([]byte, error)) (map[string]*Array, error) {
	out := make(map[string]*Array)
	total := 0
	for gi, g := range groups {
		var buf []byte
		for _, p := range g.Paths {
			b, err := open(p)
			if err != nil {
				return nil, fmt.Errorf("tfjs: weights group %d: %w", gi, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, s := range g.Weights {
			n := shapeSize(s.Shape)
			if n < 0 {
				return nil, fmt.Errorf("tfjs: weight %q has shape %v", s.Name, s.Shape)
			}
			if total += n; total > MaxValues {
				return nil, fmt.Errorf("tfjs: weights declare more than %d values (at %q)", MaxValues, s.Name)
			}
			if _, dup := out[s.Name]; dup {
				return nil, fmt.Errorf("tfjs: weight %q appears twice", s.Name)
			}
			a, used, err := decode(s, n, buf[off:])
			if err != nil {
				return nil, err
			}
			off += used
			out[s.Name] = a
		}
		if off != len(buf) {
			return nil, fmt.Errorf("tfjs: weights group %d: shards hold %d bytes, weights use %d", gi, len(buf), off)
		}
	}
	return out, nil
}

func decode(s Spec, n int, b []byte) (*Array, int, error) {
	a := &Array{Shape: s.Shape}
	short := func(need int) error {
		return fmt.Errorf("tfjs: weight %q needs %d bytes, %d left in its shard", s.Name, need, len(b))
	}
	if s.Quantization != nil {
		q := s.Quantization
		if s.DType != "float32" {
			return nil, 0, fmt.Errorf("tfjs: weight %q: quantized %s is not supported", s.Name, s.DType)
		}
		a.Float = make([]float32, n)
		switch q.DType {
		case "uint8":
			if len(b) < n {
				return nil, 0, short(n)
			}
			for i := range n {
				a.Float[i] = float32(float64(b[i])*q.Scale + q.Min)
			}
			return a, n, nil
		case "uint16":
			if len(b) < 2*n {
				return nil, 0, short(2 * n)
			}
			for i := range n {
				a.Float[i] = float32(float64(binary.LittleEndian.Uint16(b[2*i:]))*q.Scale + q.Min)
			}
			return a, 2 * n, nil
		case "float16":
			if len(b) < 2*n {
				return nil, 0, short(2 * n)
			}
			for i := range n {
				a.Float[i] = half(binary.LittleEndian.Uint16(b[2*i:]))
			}
			return a, 2 * n, nil
		}
		return nil, 0, fmt.Errorf("tfjs: weight %q: quantization %q is not supported", s.Name, q.DType)
	}
	if len(b) < 4*n {
		return nil, 0, short(4 * n)
	}
	switch s.DType {
	case "float32":
		a.Float = make([]float32, n)
		for i := range n {
			a.Float[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case "int32":
		a.Int = make([]int32, n)
		for i := range n {
			a.Int[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	default:
		return nil, 0, fmt.Errorf("tfjs: weight %q: dtype %q is not supported", s.Name, s.DType)
	}
	return a, 4 * n, nil
}

// shapeSize multiplies the dimensions, or returns -1 for a negative
// dimension or a product beyond MaxValues.
func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 || d > MaxValues {
			return -1
		}
		if n *= d; n > MaxValues {
			return -1
		}
	}
	return n
}

// half converts an IEEE 754 binary16 value.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: value = frac * 2^-24
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
