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

// removeSmallByPixel is removeSmall as it was before it worked on bit
// planes: a flood fill a pixel at a time. It flips 8-connected ridge fragments and 4-connected holes of
// fewer than skMinBlob pixels. Holes that reach the background of the mask
// are not holes and stay.
func (s *exSkeleton) removeSmallByPixel(seg *exSegmentation) {
	// While it runs, each byte of b also holds skSeen once its pixel has
	// been reached and skInside for foreground pixels of the image (not the
	// background nor the frame): one load per neighbour tests all three.
	const skSeen, skInside = 2, 4
	b := s.b
	for y := 0; y < s.h; y++ {
		row := b[s.idx(0, y) : s.idx(0, y)+s.w]
		seg.forRuns(y, func(x0, x1 int) {
			for x := range row[x0:x1] {
				row[x0+x] |= skInside
			}
		})
	}
	nb := s.nb
	var stack, comp []int
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			start := s.idx(x, y)
			v := b[start]
			if v&skSeen != 0 {
				continue
			}
			want := v & 1
			if want == 0 && v&skInside == 0 {
				continue
			}
			comp = comp[:0]
			open := false // a hole touching the background or the frame
			b[start] |= skSeen
			stack = append(stack[:0], start)
			visit := func(j int) {
				vj := b[j]
				if vj&(skSeen|1) != want {
					return
				}
				if want == 0 && vj&skInside == 0 {
					open = true
					return
				}
				b[j] = vj | skSeen
				stack = append(stack, j)
			}
			for len(stack) > 0 {
				i := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if len(comp) < skMinBlob {
					comp = append(comp, i)
				}
				// In the order of nb; holes are 4-connected (the
				// even neighbours only).
				for k, d := range nb {
					if k%2 == 0 || want != 0 {
						visit(i + d)
					}
				}
			}
			// comp holds the first skMinBlob pixels reached: all of a
			// component small enough to flip.
			if len(comp) < skMinBlob && !open {
				for _, i := range comp {
					b[i] ^= 1
				}
			}
		}
	}
	for i := range b {
		b[i] &= 1
	}
}

// TestRemoveSmallBits checks the bit-plane removeSmall against the
// pixel-by-pixel flood fill it replaced, on random images (noise of
// several densities over thick strokes, widths across word boundaries)
// with random block masks, pixel for pixel.
func TestRemoveSmallBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	flips := 0
	for round := 0; round < 300; round++ {
		w, h := 1+rng.IntN(200), 1+rng.IntN(120)
		if round%3 == 0 {
			w = 64 * (1 + rng.IntN(3)) // the last word full: its last pixel is on the frame
		}
		seg := &exSegmentation{w: w, h: h, cols: (w + BlockSize - 1) / BlockSize, rows: (h + BlockSize - 1) / BlockSize}
		seg.fg = make([]bool, seg.cols*seg.rows)
		pfg := rng.Float64()
		for i := range seg.fg {
			seg.fg[i] = rng.Float64() < pfg
		}
		a := newExSkeleton(w, h, nil)
		density := rng.Float64()
		for range rng.IntN(15) {
			x, y, r := rng.IntN(w), rng.IntN(h), rng.IntN(4)
			for range 5 + rng.IntN(60) {
				for yy := max(y-r, 0); yy <= min(y+r, h-1); yy++ {
					for xx := max(x-r, 0); xx <= min(x+r, w-1); xx++ {
						a.b[a.idx(xx, yy)] = 1
					}
				}
				x, y = min(max(x+rng.IntN(3)-1, 0), w-1), min(max(y+rng.IntN(3)-1, 0), h-1)
			}
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if rng.Float64() < density*0.5 {
					a.b[a.idx(x, y)] ^= 1
				}
			}
		}
		// Ridge pixels only on the foreground, as binarize makes them.
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if !seg.fgAt(x, y) {
					a.b[a.idx(x, y)] = 0
				}
			}
		}
		b := *a
		b.b = slices.Clone(a.b)
		before := slices.Clone(a.b)
		a.removeSmall(seg)
		b.removeSmallByPixel(seg)
		if !slices.Equal(a.b, b.b) {
			t.Fatalf("round %d (%dx%d): removeSmall and removeSmallByPixel differ", round, w, h)
		}
		for i := range before {
			if before[i] != a.b[i] {
				flips++
			}
		}
	}
	if flips == 0 {
		t.Fatal("no pixel flipped in any round: the test exercises nothing")
	}
	t.Logf("%d pixels flipped over the rounds", flips)
}

// TestSkRunFill compares the run fill with a bit-by-bit spread.
func TestSkRunFill(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for range 100000 {
		a := rng.Uint64() | rng.Uint64()
		m := rng.Uint64() & rng.Uint64() & rng.Uint64() & a
		want := m
		for {
			next := (want | want<<1 | want>>1) & a
			if next == want {
				break
			}
			want = next
		}
		if got := skRunFill(a, m); got != want {
			t.Fatalf("skRunFill(%064b, %064b) = %064b, want %064b", a, m, got, want)
		}
	}
}
