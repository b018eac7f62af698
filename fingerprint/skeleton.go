package fingerprint

import (
	"encoding/binary"
	"image"
	"math/bits"
)

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

func newExSkeleton(w, h int, sc *exScratch) *exSkeleton {
	pw := w + 2
	s := &exSkeleton{w: w, h: h, pw: pw, b: sc.bytes(pw * (h + 2))}
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
func binarize(e exPlane, seg *exSegmentation, sc *exScratch) *exSkeleton {
	s := newExSkeleton(e.w, e.h, sc)
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
//
// It works on bit planes, 64 pixels of a row a word: a component is
// flood-filled a word at a time, spreading along the row's runs with an
// addition (the carry runs along a run of set bits) and to the rows above
// and below with shifts. Which pixels make a component, and whether a hole
// is open, do not depend on the order they are reached in, nor do the
// components on the order they are filled in (each is a connected set of
// the pixels as binarised: a flipped one is marked reached and taken into
// no other), so the result is that of a pixel-by-pixel flood fill
// (removeSmallByPixel in the tests, how this worked before, checked
// against it pixel for pixel).
func (s *exSkeleton) removeSmall(seg *exSegmentation) {
	w, h := s.w, s.h
	nw := (w + 63) / 64
	ridge := make([]uint64, nw*h)
	inside := make([]uint64, nw*h)
	seen := make([]uint64, nw*h)
	for y := 0; y < h; y++ {
		skPackRow(ridge[y*nw:(y+1)*nw], s.b[s.idx(0, y):s.idx(0, y)+w])
		iw := inside[y*nw : (y+1)*nw]
		seg.forRuns(y, func(x0, x1 int) {
			for x := x0; x < x1; {
				// The bits x .. min(x1, next word) of word x/64.
				n := min(x1-x, 64-x%64)
				iw[x/64] |= (^uint64(0) >> (64 - n)) << (x % 64)
				x += n
			}
		})
	}
	// allowed is what a fill of value want may enter at word i: pixels of
	// its value not reached yet (ridge pixels are all inside).
	allowed := func(want bool, i int) uint64 {
		if want {
			return ridge[i] &^ seen[i]
		}
		return inside[i] &^ ridge[i] &^ seen[i]
	}
	type unit struct {
		y, k int
		m    uint64
	}
	var stack, comp []unit
	for y := 0; y < h; y++ {
		for k := 0; k < nw; k++ {
			for {
				i := y*nw + k
				cand := (ridge[i] | inside[i]) &^ seen[i]
				if cand == 0 {
					break
				}
				bit := cand & -cand
				want := ridge[i]&bit != 0
				n, open := 0, false
				comp = comp[:0]
				stack = append(stack[:0], unit{y, k, bit})
				for len(stack) > 0 {
					u := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					j := u.y*nw + u.k
					a := allowed(want, j)
					m := u.m & a
					if m == 0 {
						continue // reached already
					}
					// Spread along the runs of a holding a seed: to the
					// right by an addition (the carry clears a run from
					// its lowest seed up), to the left the same on the
					// reversed bits.
					m = skRunFill(a, m)
					seen[j] |= m
					n += bits.OnesCount64(m)
					if n < skMinBlob {
						comp = append(comp, unit{u.y, u.k, m})
					}
					// The row's neighbours in the next and previous words.
					if m>>63 != 0 {
						if u.k+1 < nw {
							stack = append(stack, unit{u.y, u.k + 1, 1})
							if !want && inside[j+1]&1 == 0 {
								open = true
							}
						} else if !want {
							open = true // the frame
						}
					}
					if m&1 != 0 {
						if u.k > 0 {
							stack = append(stack, unit{u.y, u.k - 1, 1 << 63})
							if !want && inside[j-1]>>63 == 0 {
								open = true
							}
						} else if !want {
							open = true
						}
					}
					// Ridges are 8-connected, holes 4-connected.
					d := m
					if want {
						d |= m<<1 | m>>1
					} else if (m<<1|m>>1)&^inside[j] != 0 {
						open = true // a row neighbour off the mask (or past the width)
					}
					for _, yy := range [2]int{u.y - 1, u.y + 1} {
						if yy < 0 || yy >= h {
							if !want {
								open = true
							}
							continue
						}
						jj := yy*nw + u.k
						if !want && m&^inside[jj] != 0 {
							open = true
						}
						stack = append(stack, unit{yy, u.k, d})
						if want {
							if m>>63 != 0 && u.k+1 < nw {
								stack = append(stack, unit{yy, u.k + 1, 1})
							}
							if m&1 != 0 && u.k > 0 {
								stack = append(stack, unit{yy, u.k - 1, 1 << 63})
							}
						}
					}
				}
				if n < skMinBlob && !open {
					for _, c := range comp {
						for m := c.m; m != 0; m &= m - 1 {
							x := c.k*64 + bits.TrailingZeros64(m)
							s.b[s.idx(x, c.y)] ^= 1
						}
					}
				}
			}
		}
	}
}

// skRunFill returns the runs of set bits of a that hold a bit of m (m a
// subset of a). To the right of a run's lowest seed an addition does it:
// the carry clears the run's bits up to its end, and the exclusive or
// with a then shows them; to the left of its highest seed the same on the
// reversed bits.
func skRunFill(a, m uint64) uint64 {
	right := ((a + m) ^ a) & a
	ra, rm := bits.Reverse64(a), bits.Reverse64(m)
	left := bits.Reverse64(((ra + rm) ^ ra) & ra)
	return m | right | left
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
//
// Zhang-Suen decides every pixel of a sub-iteration on the image as it was
// when the sub-iteration began, so it runs on the image packed 64 pixels
// to a word (skBits): the neighbours of 64 pixels are the word's row
// neighbours shifted by one, and the deletion rule (skZS) is evaluated as
// bitwise logic on all of them at once.
func (s *exSkeleton) thin() {
	bm := newSkBits(s)
	for {
		changed := bm.zhangSuen(0)
		if !bm.zhangSuen(1) && !changed {
			break
		}
	}
	bm.unpack(s)
	// Sequential, in raster order: each removal is checked against the
	// pixels as they are now, so two neighbours are never both removed.
	for i, v := range s.b {
		if v != 0 && skStair[s.code(i)] {
			s.b[i] = 0
		}
	}
}

// skBits is an exSkeleton's image packed a bit per pixel: row y (of the
// framed image, h+2 rows) is words [y*stride, (y+1)*stride), pixel x at bit
// x%64 of word x/64.
type skBits struct {
	stride int
	rows   int
	w      []uint64
	del    []uint64 // the pixels a sub-iteration deletes
}

func newSkBits(s *exSkeleton) *skBits {
	stride := (s.pw + 63) / 64
	rows := s.h + 2
	bm := &skBits{stride: stride, rows: rows, w: make([]uint64, stride*rows), del: make([]uint64, stride*rows)}
	for y := 0; y < rows; y++ {
		skPackRow(bm.w[y*stride:(y+1)*stride], s.b[y*s.pw:(y+1)*s.pw])
	}
	return bm
}

// skPackRow ORs the low bits of row's bytes (pixels of 0 or 1) into words,
// pixel x at bit x%64 of word x/64.
func skPackRow(words []uint64, row []uint8) {
	x := 0
	// Eight pixels at a time: the multiplication gathers each byte's low
	// bit into the top byte of the product.
	for ; x+8 <= len(row); x += 8 {
		v := binary.LittleEndian.Uint64(row[x:]) & 0x0101010101010101
		words[x/64] |= (v * 0x0102040810204080 >> 56) << (x % 64)
	}
	for ; x < len(row); x++ {
		words[x/64] |= uint64(row[x]&1) << (x % 64)
	}
}

// skSpread[v] is the eight bits of v as eight bytes of 0 or 1, bit 0 in
// the lowest byte.
var skSpread = func() (t [256]uint64) {
	for v := range t {
		for k := 0; k < 8; k++ {
			t[v] |= uint64(v>>k&1) << (8 * k)
		}
	}
	return t
}()

// unpack writes the packed image back into s.b.
func (bm *skBits) unpack(s *exSkeleton) {
	for y := 0; y < bm.rows; y++ {
		row := s.b[y*s.pw : (y+1)*s.pw]
		words := bm.w[y*bm.stride : (y+1)*bm.stride]
		x := 0
		for ; x+8 <= len(row); x += 8 {
			binary.LittleEndian.PutUint64(row[x:], skSpread[uint8(words[x/64]>>(x%64))])
		}
		for ; x < len(row); x++ {
			row[x] = uint8(words[x/64]>>(x%64)) & 1
		}
	}
}

// zhangSuen runs Zhang-Suen sub-iteration sub (0 or 1) and reports whether
// it deleted any pixel. For each pixel, with P2..P9 its neighbours N, NE,
// E, SE, S, SW, W, NW (the bits of skZS's index): it is deleted when it is
// set, 2 to 6 neighbours are set, the ring P2..P9,P2 has exactly one unset
// to set transition, and P2·P4·P6 = P4·P6·P8 = 0 (sub-iteration 0) or
// P2·P4·P8 = P2·P6·P8 = 0 (sub-iteration 1). The frame rows and columns
// are never set, so the first and last rows are not visited.
func (bm *skBits) zhangSuen(sub int) bool {
	st := bm.stride
	var any uint64
	for y := 1; y < bm.rows-1; y++ {
		up, cur, dn := bm.w[(y-1)*st:y*st], bm.w[y*st:(y+1)*st], bm.w[(y+1)*st:(y+2)*st]
		del := bm.del[y*st : (y+1)*st]
		for k := range cur {
			c := cur[k]
			if c == 0 {
				del[k] = 0
				continue
			}
			n := up[k]
			s := dn[k]
			// Pixel x+1 (east) and x−1 (west) of each row, across words.
			var nextU, nextC, nextD, prevU, prevC, prevD uint64
			if k+1 < st {
				nextU, nextC, nextD = up[k+1], cur[k+1], dn[k+1]
			}
			if k > 0 {
				prevU, prevC, prevD = up[k-1], cur[k-1], dn[k-1]
			}
			ne := n>>1 | nextU<<63
			e := c>>1 | nextC<<63
			se := s>>1 | nextD<<63
			sw := s<<1 | prevD>>63
			w := c<<1 | prevC>>63
			nw := n<<1 | prevU>>63

			// The number of neighbours set, bit-sliced: b0 + 2·b1 + 4·b2 + 8·b3.
			s1, c1 := n^ne^e, n&ne|e&(n^ne)
			s2, c2 := se^s^sw, se&s|sw&(se^s)
			s3, c3 := w^nw, w&nw
			b0, c4 := s1^s2^s3, s1&s2|s3&(s1^s2)
			t, c5 := c1^c2^c3, c1&c2|c3&(c1^c2)
			b1, c6 := t^c4, t&c4
			b2, b3 := c5^c6, c5&c6
			count := (b1 | b2 | b3) &^ (b3 | b2&b1&b0) // 2 to 6

			// Exactly one unset-to-set transition around the ring.
			var one, two uint64
			for _, x := range [8]uint64{^n & ne, ^ne & e, ^e & se, ^se & s, ^s & sw, ^sw & w, ^w & nw, ^nw & n} {
				two |= one & x
				one |= x
			}
			d := c & count & one &^ two
			if sub == 0 {
				d &^= n&e&s | e&s&w
			} else {
				d &^= n&e&w | n&s&w
			}
			del[k] = d
			any |= d
		}
	}
	if any == 0 {
		return false
	}
	for y := 1; y < bm.rows-1; y++ {
		cur, del := bm.w[y*st:(y+1)*st], bm.del[y*st:(y+1)*st]
		for k := range cur {
			cur[k] &^= del[k]
		}
	}
	return true
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
