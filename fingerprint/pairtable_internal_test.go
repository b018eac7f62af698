package fingerprint

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPairTable checks that pairTable, which a gallery snapshot's load
// spends most of its CPU in, gives every entry bit for bit as pairAt
// does: on random minutiae, including coincident ones, shared rows and
// columns (the special cases of the arc tangent), directions at 0 and
// just under 2π, and 500 ppi scaled coordinates as Prepare makes them.
func TestPairTable(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	edgeAngles := []float32{0, math.SmallestNonzeroFloat32, float32(math.Pi), float32(math.Pi / 2),
		math.Nextafter32(2*math.Pi, 0), math.Nextafter32(float32(math.Pi), 0), math.Nextafter32(float32(math.Pi), 4)}
	for round := range 3000 {
		n := 2 + r.IntN(mccMaxMinutiae-1)
		p := &Prepared{n: n, x: make([]float32, n), y: make([]float32, n), angle: make([]float32, n)}
		span := 1 + r.IntN(400)
		scale := []float32{1, 500.0 / 569, 500.0 / 512, 1.25}[round%4]
		for i := 0; i < n; i++ {
			switch round % 3 {
			case 0: // integer pixels on a small span: many equal x, y, points
				p.x[i] = float32(r.IntN(span)) * scale
				p.y[i] = -float32(r.IntN(span)) * scale
			case 1:
				p.x[i] = float32(r.Float64() * 600)
				p.y[i] = -float32(r.Float64() * 600)
			default: // the segment's angle near ±π and multiples of π/4
				p.x[i] = float32(r.IntN(3)) * float32(span)
				p.y[i] = float32(r.IntN(3)) * float32(span)
			}
			p.angle[i] = float32(r.Float64() * 2 * math.Pi)
			if p.angle[i] >= 2*math.Pi {
				p.angle[i] = 0
			}
			if r.IntN(4) == 0 {
				p.angle[i] = edgeAngles[r.IntN(len(edgeAngles))]
			}
		}
		tab := p.pairTable()
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				want := uint32(0)
				if i != j {
					want = p.pairAt(i, j)
				}
				if tab[i*n+j] != want {
					t.Fatalf("round %d: pair (%d, %d) of (%v, %v, %v) and (%v, %v, %v): table %#x, pairAt %#x",
						round, i, j, p.x[i], p.y[i], p.angle[i], p.x[j], p.y[j], p.angle[j], tab[i*n+j], want)
				}
			}
		}
	}
}

// TestAtan2Approx measures mccAtan2Approx against math.Atan2, modulo a
// whole turn: within the 2e-8 radians that pairTable's margin assumes,
// over a dense grid of the reduced argument and random directions.
func TestAtan2Approx(t *testing.T) {
	worst := 0.0
	check := func(y, x float64) {
		a, ok := mccAtan2Approx(y, x)
		if !ok {
			t.Fatalf("mccAtan2Approx(%v, %v) refused", y, x)
		}
		e := math.Abs(math.Remainder(a-math.Atan2(y, x), 2*math.Pi))
		worst = max(worst, e)
		if e > 2e-8 {
			t.Fatalf("mccAtan2Approx(%v, %v) = %v, math.Atan2 %v: error %.3g", y, x, a, math.Atan2(y, x), e)
		}
	}
	const steps = 4_000_000
	for k := 0; k <= steps; k++ {
		u := float64(k) / steps
		check(u, 1)
		check(1, u)
		check(-u, -1)
	}
	r := rand.New(rand.NewPCG(12, 2))
	for range 1_000_000 {
		a := r.Float64() * 2 * math.Pi
		l := math.Exp(r.Float64()*20 - 5)
		check(l*math.Sin(a), l*math.Cos(a))
	}
	for _, xy := range [][2]float64{{0, 1}, {1, 0}, {0, -1}, {-1, 0}, {-1e-30, -1}, {1e-30, -1}, {3, 3}, {-3, 3}} {
		check(xy[0], xy[1])
	}
	if _, ok := mccAtan2Approx(0, 0); ok {
		t.Error("mccAtan2Approx(0, 0) accepted")
	}
	t.Logf("largest error %.3g radians", worst)
}

// TestRoundSure checks mccRoundSure against math.Round where it is sure,
// modulo 256 for angles, and that it is unsure near every boundary.
func TestRoundSure(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 3))
	for range 2_000_000 {
		v := (r.Float64()*2 - 1) * 1000
		if r.IntN(2) == 0 {
			v = r.Float64() * 70000
		}
		if r.IntN(8) == 0 { // near a boundary
			v = math.Round(v) + 0.5 + (r.Float64()*2-1)*2*mccPairMargin
		}
		got, ok := mccRoundSure(v)
		want := int(math.Round(v))
		near := math.Abs(math.Abs(v-math.Trunc(v))-0.5) <= mccPairMargin
		if ok && near {
			t.Fatalf("mccRoundSure(%v) sure, %v from a boundary", v, math.Abs(math.Abs(v-math.Trunc(v))-0.5))
		}
		if ok && (got-want)&255 != 0 || ok && v >= 0 && got != want {
			t.Fatalf("mccRoundSure(%v) = %d, math.Round %d", v, got, want)
		}
		if !ok && math.Abs(math.Abs(v-math.Trunc(v))-0.5) > 2*mccPairMargin {
			t.Fatalf("mccRoundSure(%v) unsure far from a boundary", v)
		}
	}
	if _, ok := mccRoundSure(math.NaN()); ok {
		t.Error("NaN sure")
	}
}
