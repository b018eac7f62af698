package fingerprint

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestThinBits checks the bit-parallel thinning against the pixel-list
// form of the same algorithm (thinByList, how thin worked before) on
// random blobs of several densities and sizes, pixel for pixel.
func TestThinBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for round := 0; round < 60; round++ {
		w, h := 5+rng.IntN(150), 5+rng.IntN(90)
		a := newExSkeleton(w, h, nil)
		// Thick random strokes, so that thinning has work to do.
		for range 1 + rng.IntN(20) {
			x, y := rng.IntN(w), rng.IntN(h)
			r := 1 + rng.IntN(4)
			dx, dy := rng.IntN(3)-1, rng.IntN(3)-1
			for range 5 + rng.IntN(60) {
				for yy := max(y-r, 0); yy <= min(y+r, h-1); yy++ {
					for xx := max(x-r, 0); xx <= min(x+r, w-1); xx++ {
						a.b[a.idx(xx, yy)] = 1
					}
				}
				x, y = min(max(x+dx, 0), w-1), min(max(y+dy, 0), h-1)
				if rng.IntN(4) == 0 {
					dx, dy = rng.IntN(3)-1, rng.IntN(3)-1
				}
			}
		}
		// Salt and pepper on top.
		for i := range a.b {
			x, y := a.xy(i)
			if x >= 0 && x < w && y >= 0 && y < h && rng.IntN(10) == 0 {
				a.b[i] ^= 1
			}
		}
		b := *a
		b.b = slices.Clone(a.b)
		a.thin()
		b.thinByList()
		if !slices.Equal(a.b, b.b) {
			t.Fatalf("round %d (%dx%d): thin and thinByList differ", round, w, h)
		}
	}
}

// thinByList is thin as it was before it was bit-parallel: Zhang-Suen over
// a list of the ridge pixels, one byte per pixel.
func (s *exSkeleton) thinByList() {
	n := 0
	for _, v := range s.b {
		n += int(v)
	}
	list := make([]int32, 0, n)
	for i, v := range s.b {
		if v != 0 {
			list = append(list, int32(i))
		}
	}
	del := make([]int32, 0, n/2)
	b, pw := s.b, s.pw
	for {
		changed := false
		for sub := 0; sub < 2; sub++ {
			del = del[:0]
			zs := &skZS[sub]
			for _, i32 := range list {
				i := int(i32)
				if b[i] == 0 {
					continue
				}
				// s.code(i), written out: the call is not inlined.
				_ = b[i+pw+1]
				c := b[i-pw] | b[i-pw+1]<<1 | b[i+1]<<2 | b[i+pw+1]<<3 | b[i+pw]<<4 | b[i+pw-1]<<5 | b[i-1]<<6 | b[i-pw-1]<<7
				if zs[c] {
					del = append(del, i32)
				}
			}
			for _, i := range del {
				s.b[i] = 0
			}
			changed = changed || len(del) > 0
		}
		k := 0
		for _, i := range list {
			if s.b[i] != 0 {
				list[k] = i
				k++
			}
		}
		list = list[:k]
		if !changed {
			break
		}
	}
	// Sequential, in raster order: each removal is checked against the
	// pixels as they are now, so two neighbours are never both removed.
	for _, i := range list {
		if s.b[i] != 0 && skStair[s.code(int(i))] {
			s.b[i] = 0
		}
	}
}
