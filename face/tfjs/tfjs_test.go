package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/face/nn"
)

func f32bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// tinyGraph is a graph model: input 4×4×1 → 3×3 SAME conv with bias and
// ReLU (2 outputs) → max pool 2×2 → add to itself → reshape [1, 8, 1].
func tinyGraph() ([]byte, []byte) {
	b64 := func(s string) string { return fmt.Sprintf("%q", s) }
	model := `{"format": "graph-model", "modelTopology": {"node": [
	{"name": "out", "op": "Reshape", "input": ["sum", "shape"]},
	{"name": "input", "op": "Placeholder"},
	{"name": "w", "op": "Const"}, {"name": "b", "op": "Const"}, {"name": "shape", "op": "Const"},
	{"name": "conv", "op": "_FusedConv2D", "input": ["input", "w", "b"], "attr": {
		"strides": {"list": {"i": ["1", "1", "1", "1"]}}, "padding": {"s": ` + b64("U0FNRQ==") + `},
		"fused_ops": {"list": {"s": ["Qmlhc0FkZA==", "UmVsdQ=="]}}}},
	{"name": "pool", "op": "MaxPool", "input": ["conv"], "attr": {
		"strides": {"list": {"i": ["1", "2", "2", "1"]}}, "ksize": {"list": {"i": ["1", "2", "2", "1"]}},
		"padding": {"s": "VkFMSUQ="}}},
	{"name": "sum", "op": "AddV2", "input": ["pool", "pool"]}
	]}, "weightsManifest": [{"paths": ["g.bin"], "weights": [
	{"name": "w", "shape": [3, 3, 1, 2], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}},
	{"name": "b", "shape": [2], "dtype": "float32"},
	{"name": "shape", "shape": [3], "dtype": "int32"}]}]}`
	w := []byte{2, 3, 2, 3, 2, 3, 2, 3, 4, 1, 2, 3, 2, 3, 2, 3, 2, 3} // q*0.5-1: 0/0.5 pattern, centre 1/-0.5
	w = append(w, f32bytes(0.25, -10)...)
	for _, v := range []int32{1, 8, 1} {
		w = binary.LittleEndian.AppendUint32(w, uint32(v))
	}
	return []byte(model), w
}

func TestGraphRuns(t *testing.T) {
	model, shard := tinyGraph()
	g, err := ParseGraph(model, func(p string) ([]byte, error) { return shard, nil })
	if err != nil {
		t.Fatal(err)
	}
	in := nn.New(4, 4, 1)
	for i := range in.Data {
		in.Data[i] = float32(i)
	}
	out, err := g.Run(in, "out")
	if err != nil {
		t.Fatal(err)
	}
	// The same computation with nn directly.
	f := []float32{0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 1, -0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5}
	c, _ := nn.NewConv([]int{3, 3, 1, 2}, f, 1, nn.Same)
	copy(c.Bias, []float32{0.25, -10})
	c.Relu = true
	want, _ := c.Apply(in)
	want = nn.MaxPool(want, 2, 2, nn.Valid)
	if err := nn.Add(want, want); err != nil {
		t.Fatal(err)
	}
	if o := out[0]; o.H != 1 || o.W != 8 || o.C != 1 {
		t.Fatalf("output shape %v", o)
	}
	for i := range want.Data {
		if out[0].Data[i] != want.Data[i] {
			t.Fatalf("value %d: %v, want %v", i, out[0].Data[i], want.Data[i])
		}
	}
	// The input must not have been overwritten by in-place operations.
	if in.Data[5] != 5 {
		t.Fatal("graph overwrote its input")
	}
}

func TestGraphErrors(t *testing.T) {
	model, shard := tinyGraph()
	open := func(p string) ([]byte, error) { return shard, nil }
	for name, edit := range map[string]func(string) string{
		"format":   func(s string) string { return strings.Replace(s, "graph-model", "layers-model", 1) },
		"op":       func(s string) string { return strings.Replace(s, `"AddV2"`, `"Softmax"`, 1) },
		"cycle":    func(s string) string { return strings.Replace(s, `["pool", "pool"]`, `["pool", "out"]`, 1) },
		"input":    func(s string) string { return strings.Replace(s, `["pool", "pool"]`, `["pool", "nowhere"]`, 1) },
		"shape":    func(s string) string { return strings.Replace(s, `[3, 3, 1, 2]`, `[3, 3, 1, 3]`, 1) },
		"negative": func(s string) string { return strings.Replace(s, `[3, 3, 1, 2]`, `[3, -3, 1, 2]`, 1) },
		"huge":     func(s string) string { return strings.Replace(s, `[3, 3, 1, 2]`, `[100000, 100000, 1000, 2]`, 1) },
		"stride": func(s string) string {
			return strings.Replace(s, `"1", "2", "2", "1"]}}, "ksize"`, `"1", "2", "3", "1"]}}, "ksize"`, 1)
		},
		"no weight": func(s string) string {
			return strings.Replace(s, `{"name": "b", "shape": [2], "dtype": "float32"},`, ``, 1)
		},
	} {
		if _, err := ParseGraph([]byte(edit(string(model))), open); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ParseGraph(model, func(p string) ([]byte, error) { return shard[:len(shard)-1], nil }); err == nil {
		t.Error("short shard: no error")
	}
}

func TestHalf(t *testing.T) {
	for h, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x3555: 0.33325195, 0x0001: 5.9604645e-08, 0x7bff: 65504, 0x8000: 0} {
		if got := half(h); got != want {
			t.Errorf("half(%#x) = %v, want %v", h, got, want)
		}
	}
}

func FuzzParseGraph(f *testing.F) {
	model, shard := tinyGraph()
	f.Add(model, shard)
	f.Add([]byte(`{"format":"graph-model"}`), []byte{})
	f.Fuzz(func(t *testing.T, model, shard []byte) {
		g, err := ParseGraph(model, func(p string) ([]byte, error) { return shard, nil })
		if err != nil {
			return
		}
		// Whatever compiled must run on a small input without panicking.
		_, _ = g.Run(nn.New(4, 4, 1), "out")
	})
}

func FuzzReadWeights(f *testing.F) {
	m, _ := json.Marshal([]Group{{Paths: []string{"a"}, Weights: []Spec{
		{Name: "x", Shape: []int{2, 2}, DType: "float32", Quantization: &Quantization{DType: "uint16", Scale: 1, Min: 0}},
		{Name: "y", Shape: []int{1}, DType: "float32", Quantization: &Quantization{DType: "float16"}}}}})
	f.Add(m, []byte{1, 0, 2, 0, 3, 0, 4, 0, 0, 0x3c})
	f.Fuzz(func(t *testing.T, manifest, shard []byte) {
		g, err := ParseManifest(manifest)
		if err != nil {
			return
		}
		w, err := ReadWeights(g, func(string) ([]byte, error) { return shard, nil })
		if err != nil {
			return
		}
		for name, a := range w {
			if len(a.Float)+len(a.Int) != a.Size() {
				t.Fatalf("%s: %d values for shape %v", name, len(a.Float)+len(a.Int), a.Shape)
			}
		}
	})
}
