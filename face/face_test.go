package face

import (
	"bytes"
	"math"
	"testing"
)

func TestEmbeddingRoundTrip(t *testing.T) {
	a, b := make([]float32, RecogniserDim), make([]float32, RecogniserDim)
	for i := range a {
		a[i] = float32(math.Sin(float64(i))) * 0.2
		b[i] = float32(math.Cos(float64(i))) * 0.15
	}
	var want float64
	for i := range a {
		want += float64((a[i] - b[i]) * (a[i] - b[i]))
	}
	want = math.Sqrt(want)
	ea, err := QuantizeEmbedding(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := QuantizeEmbedding(b)
	pa, err := ParseEmbedding(ea.Bytes())
	if err != nil || pa != ea {
		t.Fatalf("round trip: %v", err)
	}
	if d := Distance(&pa, &eb); math.Abs(d-want) > 0.01 {
		t.Errorf("distance %v after quantising, want %v", d, want)
	}
	for name, bad := range map[string][]byte{"short": make([]byte, 5), "zero scale": make([]byte, EmbeddingSize)} {
		if _, err := ParseEmbedding(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := QuantizeEmbedding(make([]float32, RecogniserDim)); err == nil {
		t.Error("all zeros: no error")
	}
}

func TestQuantizeEmbeddingRejects(t *testing.T) {
	if _, err := QuantizeEmbedding(make([]float32, 3)); err == nil {
		t.Error("3 values: no error")
	}
	for _, x := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		v := make([]float32, RecogniserDim)
		v[7] = x
		if _, err := QuantizeEmbedding(v); err == nil {
			t.Errorf("value %v: no error", x)
		}
	}
}

func FuzzParseEmbedding(f *testing.F) {
	v := make([]float32, RecogniserDim)
	for i := range v {
		v[i] = float32(math.Sin(float64(i)))
	}
	e, _ := QuantizeEmbedding(v)
	f.Add(e.Bytes())
	f.Add(make([]byte, EmbeddingSize))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseEmbedding(b)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Bytes(), b) {
			t.Fatal("ParseEmbedding and Bytes do not round-trip")
		}
		if d := Distance(&p, &p); d != 0 {
			t.Fatalf("distance to itself %v", d)
		}
	})
}
