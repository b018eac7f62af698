package fingerprint

import "image"

// exSkeleton is a binary image with a one-pixel frame of zeros around it,
// so that every pixel of the image has eight neighbours to look at. It
// holds the binarised ridges, then (after thin) their skeleton.
type exSkeleton struct {
	w, h int
	pw   int     // stride: w + 2
	b    []uint8 // 1 on ridge, 0 elsewhere
	nb   [8]int  // offsets of the neighbours N, NE, E, SE, S, SW, W, NW
}

// skMinBlob is the size in pixels under which a ridge fragment is dropped
// and a hole in a ridge filled before thinning: pores, dust and noise that
// would become islands, lakes and spurs (a ridge is about 4 px wide, so
// this is a dot or pore under about two ridge widths long; 20 and 45 did
// no better on the FVC sets).
const skMinBlob = 30

func newExSkeleton(w, h int) *exSkeleton {
	pw := w + 2
	s := &exSkeleton{w: w, h: h, pw: pw, b: make([]uint8, pw*(h+2))}
	s.nb = [8]int{-pw, -pw + 1, 1, pw + 1, pw, pw - 1, -1, -pw - 1}
	return s
}

// idx is the index of image pixel (x, y) in b.
func (s *exSkeleton) idx(x, y int) int { return (y+1)*s.pw + x + 1 }

// xy is the image pixel of index i.
func (s *exSkeleton) xy(i int) (int, int) { return i%s.pw - 1, i/s.pw - 1 }

// code packs the eight neighbours of index i into a byte, bit k for
// neighbour k in the order of nb.
func (s *exSkeleton) code(i int) uint8 {
	b, pw := s.b, s.pw
	_ = b[i+pw+1]
	return b[i-pw] | b[i-pw+1]<<1 | b[i+1]<<2 | b[i+pw+1]<<3 | b[i+pw]<<4 | b[i+pw-1]<<5 | b[i-1]<<6 | b[i-pw-1]<<7
}

// binarize marks as ridge every foreground pixel with a negative filter
// response, then drops small ridge fragments and fills small holes.
func binarize(e exPlane, seg *exSegmentation) *exSkeleton {
	s := newExSkeleton(e.w, e.h)
	for y := 0; y < e.h; y++ {
		src := e.pix[y*e.w : (y+1)*e.w]
		dst := s.b[s.idx(0, y) : s.idx(0, y)+e.w]
		seg.forRuns(y, func(x0, x1 int) {
			for x, v := range src[x0:x1] {
				if v < 0 {
					dst[x0+x] = 1
				}
			}
		})
	}
	s.removeSmall(seg)
	return s
}

// removeSmall flips 8-connected ridge fragments and 4-connected holes of
// fewer than skMinBlob pixels. Holes that reach the background of the mask
// are not holes and stay.
func (s *exSkeleton) removeSmall(seg *exSegmentation) {
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
				// In the order of nb; holes are 4-connected.
				visit(i + nb[0])
				if want != 0 {
					visit(i + nb[1])
				}
				visit(i + nb[2])
				if want != 0 {
					visit(i + nb[3])
				}
				visit(i + nb[4])
				if want != 0 {
					visit(i + nb[5])
				}
				visit(i + nb[6])
				if want != 0 {
					visit(i + nb[7])
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

// Look-up tables over the 256 neighbourhoods (bit k = neighbour k of nb).
var (
	skTrans [256]uint8   // 0-to-1 transitions around the ring: the crossing number
	skCount [256]uint8   // neighbours set
	skZS    [2][256]bool // deletable in Zhang-Suen sub-iteration 1 and 2
	skStair [256]bool    // deletable corner of a staircase
)

func init() {
	// Neighbour positions in the order of nb.
	pos := [8][2]int{{0, -1}, {1, -1}, {1, 0}, {1, 1}, {0, 1}, {-1, 1}, {-1, 0}, {-1, -1}}
	for c := 0; c < 256; c++ {
		bit := func(k int) int { return (c >> (k & 7)) & 1 }
		var t, n int
		for k := 0; k < 8; k++ {
			if bit(k) == 0 && bit(k+1) == 1 {
				t++
			}
			n += bit(k)
		}
		skTrans[c], skCount[c] = uint8(t), uint8(n)
		// Zhang and Suen, "A fast parallel algorithm for thinning digital
		// patterns", CACM 1984: P2..P9 are N, NE, E, SE, S, SW, W, NW.
		p2, p4, p6, p8 := bit(0), bit(2), bit(4), bit(6)
		base := n >= 2 && n <= 6 && t == 1
		skZS[0][c] = base && p2*p4*p6 == 0 && p4*p6*p8 == 0
		skZS[1][c] = base && p2*p4*p8 == 0 && p2*p6*p8 == 0

		// A pixel is simple (removing it changes no connectivity) when its
		// set neighbours form one 8-connected group and its unset
		// 4-neighbours one 4-connected group. The staircase corners
		// Zhang-Suen leaves are simple pixels with two orthogonal
		// 4-neighbours set.
		fg8 := skGroups(c, pos, false, true)
		bg4 := skGroups(c, pos, true, false)
		corner := (p2 == 1 && p4 == 1) || (p4 == 1 && p6 == 1) || (p6 == 1 && p8 == 1) || (p8 == 1 && p2 == 1)
		skStair[c] = n >= 2 && fg8 == 1 && bg4 == 1 && corner
	}
}

// skGroups counts the connected groups of set (fg) or unset (!fg) ring
// positions of neighbourhood c, with 8- or 4-adjacency; for the unset ones
// it counts only groups holding a 4-neighbour of the centre.
func skGroups(c int, pos [8][2]int, four bool, fg bool) int {
	want := 0
	if fg {
		want = 1
	}
	var lab [8]int
	groups := 0
	for k := 0; k < 8; k++ {
		if (c>>k)&1 != want || lab[k] != 0 {
			continue
		}
		groups++
		lab[k] = groups
		stack := []int{k}
		hasFour := false
		for len(stack) > 0 {
			a := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if a%2 == 0 {
				hasFour = true
			}
			for j := 0; j < 8; j++ {
				if (c>>j)&1 != want || lab[j] != 0 {
					continue
				}
				dx := pos[a][0] - pos[j][0]
				dy := pos[a][1] - pos[j][1]
				dx, dy = max(dx, -dx), max(dy, -dy)
				adj := max(dx, dy) == 1
				if four {
					adj = dx+dy == 1
				}
				if adj {
					lab[j] = groups
					stack = append(stack, j)
				}
			}
		}
		if !fg && !hasFour {
			groups--
			// Leave the labels set so its members are not revisited.
		}
	}
	return groups
}

// thin reduces the ridges to one-pixel-wide, 8-connected lines: Zhang-Suen
// thinning to a fixed point, then removal of the staircase corners it
// leaves on diagonal lines (they would otherwise read as crossing number
// 3 and make false bifurcations).
func (s *exSkeleton) thin() {
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

// gray renders the binary image: 0 (black) on ridge pixels, 255 elsewhere.
func (s *exSkeleton) gray() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, s.w, s.h))
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			if s.b[s.idx(x, y)] == 0 {
				g.Pix[y*s.w+x] = 255
			}
		}
	}
	return g
}
