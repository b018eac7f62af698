package synth

import (
	"math"
	"testing"
)

func TestFastMath(t *testing.T) {
	for x := -40.0; x <= 5; x += 0.000731 {
		if got, want := expFast(x), math.Exp(x); math.Abs(got-want) > 1e-14*want {
			t.Fatalf("expFast(%v) = %v, math.Exp %v", x, got, want)
		}
	}
	if expFast(-800) != 0 {
		t.Error("expFast(-800) not 0")
	}
	for x := -300.0; x <= 300; x += 0.00037 {
		s, c := sincosFast(x)
		if ws, wc := math.Sincos(x); math.Abs(s-ws) > 1e-12 || math.Abs(c-wc) > 1e-12 {
			t.Fatalf("sincosFast(%v) = %v, %v; math.Sincos %v, %v", x, s, c, ws, wc)
		}
		if cosFast(x) != c {
			t.Fatalf("cosFast(%v) = %v, sincosFast %v", x, cosFast(x), c)
		}
	}
	for i := range 200000 {
		// Points on circles of several radii, and the axes.
		a, rad := float64(i)*0.000931, math.Pow(10, float64(i%7)-3)
		y, x := rad*math.Sin(a), rad*math.Cos(a)
		if i%1000 == 0 {
			x = 0
		}
		if got, want := atan2Fast(y, x), math.Atan2(y, x); math.Abs(got-want) > 1e-14 {
			t.Fatalf("atan2Fast(%v, %v) = %v, math.Atan2 %v", y, x, got, want)
		}
	}
	if atan2Fast(0, 0) != 0 {
		t.Error("atan2Fast(0, 0) not 0")
	}
	for x := -0.25; x <= 0.25; x += 1e-5 {
		if got, want := atanSmall(x), math.Atan(x); math.Abs(got-want) > 1.2e-14 {
			t.Fatalf("atanSmall(%v) = %v, math.Atan %v", x, got, want)
		}
	}
}

// BenchmarkFastMath compares the fast functions with math's.
func BenchmarkFastMath(b *testing.B) {
	var sink float64
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = -float64(i) * 0.013
	}
	for _, c := range []struct {
		name string
		f    func(float64) float64
	}{
		{"expFast", expFast}, {"math.Exp", math.Exp},
		{"cosFast", cosFast}, {"math.Cos", math.Cos},
		{"atanSmall", func(x float64) float64 { return atanSmall(x * (0.25 / 14)) }}, {"math.Atan", math.Atan},
		{"atan2Fast", func(x float64) float64 { return atan2Fast(x, 0.3) }},
		{"math.Atan2", func(x float64) float64 { return math.Atan2(x, 0.3) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				sink += c.f(xs[i&1023])
				i++
			}
		})
	}
	_ = sink
}
