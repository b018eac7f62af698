package fingerprint

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPortableComparison checks that a whole comparison scores the same
// to the bit on the portable similarity loop (what other architectures
// and amd64 processors without POPCNT run) as on the assembly ones (POPCNT,
// and AVX-512 where the processor has it), for
// random templates against themselves, against displaced and thinned
// copies (many candidates, high scores) and against unrelated ones, with
// one look and with the second look's 128 minutiae.
func TestPortableComparison(t *testing.T) {
	if !usePOPCNT {
		t.Skip("no POPCNT: the portable loop is the only path")
	}
	rng := rand.New(rand.NewPCG(15, 16))
	random := func(n int) Template {
		tpl := Template{Width: 400, Height: 500, DPI: 500}
		for range n {
			tpl.Minutiae = append(tpl.Minutiae, Minutia{X: 20 + rng.IntN(360), Y: 20 + rng.IntN(460), Angle: rng.Float64() * 2 * math.Pi, Type: Ending, Quality: uint8(20 + rng.IntN(80))})
		}
		return tpl
	}
	// moved displaces every minutia by a few pixels and drops some.
	moved := func(tpl Template) Template {
		out := Template{Width: tpl.Width, Height: tpl.Height, DPI: tpl.DPI}
		for _, m := range tpl.Minutiae {
			if rng.IntN(5) == 0 {
				continue
			}
			m.X += rng.IntN(7) - 3
			m.Y += rng.IntN(7) - 3
			m.Angle = math.Mod(m.Angle+rng.Float64()*0.2-0.1+2*math.Pi, 2*math.Pi)
			out.Minutiae = append(out.Minutiae, m)
		}
		return out
	}
	hasAVX512 := useAVX512
	defer func() { usePOPCNT, useAVX512 = true, hasAVX512 }()
	// The loops each run: AVX-512 (when present), POPCNT, portable.
	modes := [][2]bool{{true, false}, {false, false}}
	if hasAVX512 {
		modes = append([][2]bool{{true, true}}, modes...)
	}
	high := 0
	for round := 0; round < 60; round++ {
		opt := MatchOptions{SecondLook: round%2 == 1}
		a := random(12 + rng.IntN(110))
		for k, b := range []Template{a, moved(a), random(12 + rng.IntN(110))} {
			g := PrepareWith(b, opt)
			s := make([]float64, len(modes))
			for i, mode := range modes {
				usePOPCNT, useAVX512 = mode[0], mode[1]
				s[i] = NewMatcherWith(a, opt).Compare(g)
			}
			for i := range s {
				if math.Float64bits(s[i]) != math.Float64bits(s[0]) {
					t.Fatalf("round %d, gallery %d (second look %v): %v with the first loop, %v with loop %v (POPCNT, AVX-512)", round, k, opt.SecondLook, s[0], s[i], modes[i])
				}
			}
			if s[0] > 0.3 {
				high++
			}
		}
	}
	// Without comparisons of high scores the test would check only the
	// candidates' rejection.
	if high < 60 {
		t.Fatalf("%d comparisons scored above 0.3: too few to check", high)
	}
	t.Logf("%d of 180 comparisons scored above 0.3", high)
}

// TestZPermCovers checks that mccZPerm holds every sigmoid factor that can
// make ρ reach mccRhoMin, without which the AVX-512 compatibility loop
// would be off (and TestCompatPairs would test the POPCNT one twice).
func TestZPermCovers(t *testing.T) {
	if !mccZPermCovers() {
		t.Fatal("mccZPerm misses factors of at least mccRhoMin")
	}
	if useAVX512 != useCompatAVX512 {
		t.Fatalf("AVX-512 %v but its compatibility loop %v", useAVX512, useCompatAVX512)
	}
}
