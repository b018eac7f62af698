package synth

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

func TestImageDeterministic(t *testing.T) {
	enc := func(seed uint64) []byte {
		mi := RenderMaster(NewFingerMaster(seed, 4))
		var b bytes.Buffer
		if err := png.Encode(&b, mi.Impression(2)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := enc(21), enc(21)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different impression bytes")
	}
	if bytes.Equal(a, enc(22)) {
		t.Fatal("different seeds gave the same impression")
	}
}

// TestMasterRidgePeriod checks that the grown ridges have the period the
// frequency map asks for, by counting ridge/valley changes along 40 px of the
// local normal to the ridges at a few points of the finger.
func TestMasterRidgePeriod(t *testing.T) {
	m := NewFingerMaster(31, 0)
	mi := RenderMaster(m)
	var got, want float64
	var n int
	for _, p := range []Point{{m.cx - 60, m.cy + 150}, {m.cx + 60, m.cy + 150}, {m.cx, m.cy - 120}, {m.cx - 80, m.cy}} {
		th := m.Orientation(p.X, p.Y)
		nx, ny := math.Sin(th), math.Cos(th) // normal to the ridge, pixel coordinates
		crossings := 0
		prev := mi.sample(p.X-20*nx, p.Y-20*ny)
		for s := -19.0; s <= 20; s++ {
			v := mi.sample(p.X+s*nx, p.Y+s*ny)
			if (v > 0) != (prev > 0) {
				crossings++
			}
			prev = v
		}
		got += 80 / float64(max(crossings, 1)) // two crossings per period over 40 px
		want += m.Period(p.X, p.Y)
		n++
	}
	got /= float64(n)
	want /= float64(n)
	t.Logf("ridge period measured %.2f px, model %.2f px", got, want)
	if math.Abs(got-want) > 1.5 {
		t.Errorf("ridge period %.2f px, model says %.2f", got, want)
	}
}

// BenchmarkMasterPlus8 is the speed target: one master fingerprint
// and eight impressions, on one core, in under 3 s.
func BenchmarkMasterPlus8(b *testing.B) {
	var f uint64
	for b.Loop() {
		mi := RenderMaster(NewFingerMaster(1, f))
		for k := range uint64(8) {
			_ = mi.Impression(k)
		}
		f++
	}
}
