package fingerprint

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestVerifyGrid checks mccGrid's one property the verification relies on:
// every minutia within mccVerDist of a point is in the point's block,
// for points inside, at the edge of and far outside the minutiae, and
// that minutiae spread far wider than a finger (every fourth trial, up to
// the 2^21 pixels UnmarshalBinary accepts) make no more than
// mccGridMaxCells cells a side.
func TestVerifyGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.IntN(mccCap)
		xs, ys := make([]float32, n), make([]float32, n)
		w, h := 20+rng.Float32()*400, 20+rng.Float32()*500
		if trial%4 == 3 {
			w, h = 20+rng.Float32()*(1<<21), 20+rng.Float32()*(1<<18)
			if trial%8 == 7 {
				w, h = h, w
			}
		}
		for i := range xs {
			xs[i], ys[i] = rng.Float32()*w-100, rng.Float32()*h-300
		}
		var gr mccGrid
		gr.build(xs, ys)
		if gr.cols > mccGridMaxCells || gr.rows > mccGridMaxCells || len(gr.start) > (mccGridMaxCells+1)*(mccGridMaxCells+1)+1 {
			t.Fatalf("trial %d: minutiae over %.0f × %.0f make %d × %d cells", trial, w, h, gr.cols, gr.rows)
		}
		for q := 0; q < 200; q++ {
			px, py := rng.Float32()*(w+200)-200, rng.Float32()*(h+200)-400
			if q%4 == 0 { // near a minutia
				k := rng.IntN(n)
				px, py = xs[k]+(rng.Float32()*2-1)*mccVerDist, ys[k]+(rng.Float32()*2-1)*mccVerDist
			}
			in := make(map[uint8]bool)
			for _, j := range gr.block(px, py) {
				in[j] = true
			}
			for j := range xs {
				dx, dy := px-xs[j], py-ys[j]
				if dx*dx+dy*dy <= mccVerDist*mccVerDist && !in[uint8(j)] {
					t.Fatalf("trial %d: minutia %d at (%.1f, %.1f) is within %v of (%.1f, %.1f) but not in its block",
						trial, j, xs[j], ys[j], mccVerDist, px, py)
				}
			}
		}
	}
}

// TestVerifyOutline checks that the outline holds every minutia and every
// point of their convex hull, and, enlarged by the margin, no point further
// than the margin outside the minutiae's bounding box.
func TestVerifyOutline(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 100; trial++ {
		n := 1 + rng.IntN(60)
		xs, ys := make([]float32, n), make([]float32, n)
		for i := range xs {
			xs[i], ys[i] = rng.Float32()*300, rng.Float32()*400
		}
		o := mccMakeOutline(xs, ys)
		if got := o.inside(xs, ys); got != n {
			t.Fatalf("trial %d: %d of %d minutiae inside their outline", trial, got, n)
		}
		hull := mccHull(xs, ys)
		e := o.enlarged(mccVerMargin)
		x0, x1, y0, y1 := slices.Min(xs), slices.Max(xs), slices.Min(ys), slices.Max(ys)
		for q := 0; q < 300; q++ {
			px, py := rng.Float32()*500-100, rng.Float32()*600-100
			if n >= 3 && hull.near(float64(px), float64(py), 0) && o.inside([]float32{px}, []float32{py}) != 1 {
				t.Fatalf("trial %d: (%.1f, %.1f) inside the hull, outside the outline", trial, px, py)
			}
			beyond := px < x0-mccVerMargin-0.01 || px > x1+mccVerMargin+0.01 || py < y0-mccVerMargin-0.01 || py > y1+mccVerMargin+0.01
			if beyond && e.inside([]float32{px}, []float32{py}) != 0 {
				t.Fatalf("trial %d: (%.1f, %.1f) beyond the bounding box and margin, inside the enlarged outline", trial, px, py)
			}
		}
	}
}
