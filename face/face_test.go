package face

import (
	"bytes"
	"math"
	"testing"
)

func unit(seed int) []float32 {
	v := make([]float32, Dim)
	x := uint32(seed*2654435761 + 1)
	var n float64
	for i := range v {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		v[i] = float32(int32(x)) / (1 << 31)
		n += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

func TestCompareMatchesFloatCosine(t *testing.T) {
	a, b := unit(1), unit(2)
	mix := make([]float32, Dim)
	for i := range mix {
		mix[i] = 0.8*a[i] + 0.6*b[i]
	}
	var want float64
	for i := range a {
		want += float64(a[i]) * float64(mix[i])
	}
	ta, err := Quantize(a)
	if err != nil {
		t.Fatal(err)
	}
	tm, _ := Quantize(mix)
	got := Compare(&ta, &tm)
	if math.Abs(got-want) > 0.01 {
		t.Fatalf("quantised cosine %.4f, float cosine %.4f", got, want)
	}
	if s := Compare(&ta, &ta); math.Abs(s-1) > 1e-9 {
		t.Fatalf("self similarity %.6f, want 1", s)
	}
}

func TestQuantizeRejects(t *testing.T) {
	if _, err := Quantize(make([]float32, 3)); err == nil {
		t.Error("short vector accepted")
	}
	if _, err := Quantize(make([]float32, Dim)); err == nil {
		t.Error("zero vector accepted")
	}
	v := unit(3)
	v[7] = float32(math.NaN())
	if _, err := Quantize(v); err == nil {
		t.Error("NaN accepted")
	}
}

func TestBytesRoundTrip(t *testing.T) {
	ta, _ := Quantize(unit(4))
	back, err := Parse(ta.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back != ta {
		t.Fatal("round trip changed the template")
	}
}

func FuzzParse(f *testing.F) {
	ta, _ := Quantize(unit(5))
	f.Add(ta.Bytes())
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := Parse(b)
		if err != nil {
			return
		}
		if !bytes.Equal(tp.Bytes(), b) {
			t.Fatal("Parse/Bytes not inverse")
		}
		if s := Compare(&tp, &tp); s != 0 && math.Abs(s-1) > 1e-9 {
			t.Fatalf("self similarity %v", s)
		}
	})
}

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
