package fingerprint

import (
	"fmt"
	"image"
	"math"
)

// exSegmentation is the foreground (the finger) on the block grid.
type exSegmentation struct {
	w, h       int
	cols, rows int
	fg         []bool
	contrast   []float32 // standard deviation of the grey levels in each block's 3 x 3 window
	fgBlocks   int
}

// Segmentation thresholds. A block is foreground when its window has both
// contrast (relative to the image's well-contrasted blocks, so that light
// and dark sensors are treated alike) and some orientation coherence (so
// that sensor noise and smudges with contrast but no ridge flow stay out).
const (
	segRelContrast = 0.28 // fraction of the 90th percentile contrast
	segMinContrast = 5.0  // grey levels; below this there is nothing to see
	segMinCoh      = 0.12
	segMinArea     = 64 * 64 // foreground pixels needed to look for minutiae
	segMinMeanCoh  = 0.2     // mean coherence of a real print's foreground
)

// segment finds the foreground from block contrast and coherence, then
// cleans it: a majority vote removes isolated blocks, only the large
// connected regions are kept, and holes (a blurred core, a scar) are filled
// because the orientation smoothing can bridge them.
func segment(p exPlane, o *exOrientation) (*exSegmentation, error) {
	cols, rows := o.cols, o.rows
	n := cols * rows
	s1 := make([]float64, n)
	s2 := make([]float64, n)
	cnt := make([]float64, n)
	for y := 0; y < p.h; y++ {
		brow := (y / BlockSize) * cols
		row := p.pix[y*p.w : (y+1)*p.w]
		// A block's sums are kept in registers along its pixels of the
		// row, added in the same order as through memory (the same to
		// the bit; f*f of a float32 is exact in float64, so no
		// multiply-add can change it either).
		for c := range cols {
			px := row[c*BlockSize : min((c+1)*BlockSize, p.w)]
			i := brow + c
			a1, a2 := s1[i], s2[i]
			for _, v := range px {
				f := float64(v)
				a1 += f
				a2 += f * f
			}
			s1[i], s2[i] = a1, a2
			cnt[i] += float64(len(px))
		}
	}
	w1 := segBox3(s1, cols, rows)
	w2 := segBox3(s2, cols, rows)
	wc := segBox3(cnt, cols, rows)
	seg := &exSegmentation{w: p.w, h: p.h, cols: cols, rows: rows, fg: make([]bool, n), contrast: make([]float32, n)}
	for i := 0; i < n; i++ {
		m := w1[i] / wc[i]
		v := w2[i]/wc[i] - m*m
		seg.contrast[i] = float32(math.Sqrt(math.Max(v, 0)))
	}
	// The contrasts are square roots of values clamped at 0: no NaN, no
	// negative value, no -0 (exKth's condition).
	ref := float64(exKth(seg.contrast, n*9/10))
	if ref < segMinContrast {
		return nil, fmt.Errorf("%w: contrast %.1f grey levels in the best blocks, need %.0f", ErrBlank, ref, segMinContrast)
	}
	tc := float32(math.Max(segMinContrast, segRelContrast*ref))
	for i := 0; i < n; i++ {
		seg.fg[i] = seg.contrast[i] >= tc && o.coh[i] >= segMinCoh
	}
	seg.majority()
	seg.keepLarge()
	seg.fillHoles()

	var area int
	var coh float64
	for i, f := range seg.fg {
		if f {
			seg.fgBlocks++
			coh += float64(o.coh[i])
		}
	}
	area = seg.fgBlocks * BlockSize * BlockSize
	if area < segMinArea {
		return nil, fmt.Errorf("%w: foreground of %d px, need %d", ErrNoFingerprint, area, segMinArea)
	}
	if mc := coh / float64(seg.fgBlocks); mc < segMinMeanCoh {
		return nil, fmt.Errorf("%w: mean orientation coherence %.2f on the foreground, need %.2f", ErrNoFingerprint, mc, segMinMeanCoh)
	}
	return seg, nil
}

// exKth returns the value v would hold at index k once sorted (the k-th
// smallest, from 0), v not changed. The values must not be NaN, negative
// or -0: the bit patterns of the others order as their values do, so a
// radix selection on the bits, eight at a time from the top, finds it in
// four passes over v instead of a sort.
func exKth(v []float32, k int) float32 {
	var prefix, mask uint32
	for shift := 24; shift >= 0; shift -= 8 {
		var hist [256]int
		for _, x := range v {
			if b := math.Float32bits(x); b&mask == prefix {
				hist[b>>shift&255]++
			}
		}
		for d, c := range hist {
			if k < c {
				prefix |= uint32(d) << shift
				break
			}
			k -= c
		}
		mask |= 255 << shift
	}
	return math.Float32frombits(prefix)
}

func segBox3(v []float64, cols, rows int) []float64 {
	out := make([]float64, len(v))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			if r > 0 && r < rows-1 && c > 0 && c < cols-1 {
				// Inside the grid: the nine cells written out, added in
				// the loop's order below (the same sums to the bit).
				up, mid, dn := v[(r-1)*cols+c-1:][:3], v[r*cols+c-1:][:3], v[(r+1)*cols+c-1:][:3]
				var s float64
				s += up[0]
				s += up[1]
				s += up[2]
				s += mid[0]
				s += mid[1]
				s += mid[2]
				s += dn[0]
				s += dn[1]
				s += dn[2]
				out[r*cols+c] = s
				continue
			}
			var s float64
			for dr := -1; dr <= 1; dr++ {
				rr := r + dr
				if rr < 0 || rr >= rows {
					continue
				}
				for dc := -1; dc <= 1; dc++ {
					cc := c + dc
					if cc < 0 || cc >= cols {
						continue
					}
					s += v[rr*cols+cc]
				}
			}
			out[r*cols+c] = s
		}
	}
	return out
}

// majority sets each block to the majority of its 3 x 3 neighbourhood
// (blocks off the grid count as background).
func (s *exSegmentation) majority() {
	out := make([]bool, len(s.fg))
	for r := 0; r < s.rows; r++ {
		for c := 0; c < s.cols; c++ {
			k := 0
			for dr := -1; dr <= 1; dr++ {
				for dc := -1; dc <= 1; dc++ {
					rr, cc := r+dr, c+dc
					if rr >= 0 && rr < s.rows && cc >= 0 && cc < s.cols && s.fg[rr*s.cols+cc] {
						k++
					}
				}
			}
			out[r*s.cols+c] = k >= 5
		}
	}
	s.fg = out
}

// segComponents labels the 4-connected regions of cells equal to want and
// returns the labels (-1 elsewhere), each region's size and whether it
// touches the grid's edge.
func segComponents(fg []bool, cols, rows int, want bool) (labels []int32, sizes []int, edge []bool) {
	labels = make([]int32, len(fg))
	for i := range labels {
		labels[i] = -1
	}
	var stack []int
	for start := range fg {
		if fg[start] != want || labels[start] >= 0 {
			continue
		}
		l := int32(len(sizes))
		sizes = append(sizes, 0)
		edge = append(edge, false)
		labels[start] = l
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			sizes[l]++
			r, c := i/cols, i%cols
			if r == 0 || c == 0 || r == rows-1 || c == cols-1 {
				edge[l] = true
			}
			for _, nb := range [4][2]int{{r - 1, c}, {r + 1, c}, {r, c - 1}, {r, c + 1}} {
				if nb[0] < 0 || nb[0] >= rows || nb[1] < 0 || nb[1] >= cols {
					continue
				}
				j := nb[0]*cols + nb[1]
				if fg[j] == want && labels[j] < 0 {
					labels[j] = l
					stack = append(stack, j)
				}
			}
		}
	}
	return labels, sizes, edge
}

// keepLarge drops foreground regions smaller than a third of the largest:
// a finger is one region, small ones are dirt and latent prints.
func (s *exSegmentation) keepLarge() {
	labels, sizes, _ := segComponents(s.fg, s.cols, s.rows, true)
	largest := 0
	for _, z := range sizes {
		largest = max(largest, z)
	}
	for i, l := range labels {
		if l >= 0 && sizes[l]*3 < largest {
			s.fg[i] = false
		}
	}
}

// fillHoles makes foreground every background region that does not touch
// the grid's edge.
func (s *exSegmentation) fillHoles() {
	labels, _, edge := segComponents(s.fg, s.cols, s.rows, false)
	for i, l := range labels {
		if l >= 0 && !edge[l] {
			s.fg[i] = true
		}
	}
}

// fgAt says whether pixel (x, y) is on the foreground.
func (s *exSegmentation) fgAt(x, y int) bool {
	return s.fg[(y/BlockSize)*s.cols+x/BlockSize]
}

// forRuns calls f(x0, x1) for each run of foreground pixels [x0, x1) of
// image row y, left to right, whole foreground blocks at a time (the last
// block clipped to the image width w).
func (s *exSegmentation) forRuns(y int, f func(x0, x1 int)) {
	row := s.fg[(y/BlockSize)*s.cols : (y/BlockSize+1)*s.cols]
	for c := 0; c < len(row); {
		if !row[c] {
			c++
			continue
		}
		e := c + 1
		for e < len(row) && row[e] {
			e++
		}
		f(c*BlockSize, min(e*BlockSize, s.w))
		c = e
	}
}

// segPeelDepth is how many blocks deep peel may eat into the foreground.
const segPeelDepth = 2

// peel removes, from the outside in, foreground blocks on the mask's edge
// whose ridge period could not be measured. Such blocks are not ridges:
// the edge of a sensor's window, a smear, a single crease line (they have
// contrast and a direction, which is all the first segmentation asks for,
// but no periodic profile).
func (s *exSegmentation) peel(measured []bool) {
	for round := 0; round < segPeelDepth; round++ {
		var drop []int
		for i, f := range s.fg {
			if !f || measured[i] {
				continue
			}
			r, c := i/s.cols, i%s.cols
			if r == 0 || c == 0 || r == s.rows-1 || c == s.cols-1 ||
				!s.fg[i-1] || !s.fg[i+1] || !s.fg[i-s.cols] || !s.fg[i+s.cols] {
				drop = append(drop, i)
			}
		}
		if len(drop) == 0 {
			break
		}
		for _, i := range drop {
			s.fg[i] = false
			s.fgBlocks--
		}
	}
}

// bounds returns the pixel rectangle [x0, x1) x [y0, y1) holding the
// foreground.
func (s *exSegmentation) bounds() (x0, y0, x1, y1 int) {
	c0, r0, c1, r1 := s.cols, s.rows, -1, -1
	for i, f := range s.fg {
		if f {
			c, r := i%s.cols, i/s.cols
			c0, r0, c1, r1 = min(c0, c), min(r0, r), max(c1, c), max(r1, r)
		}
	}
	if c1 < 0 {
		return 0, 0, 0, 0
	}
	return c0 * BlockSize, r0 * BlockSize, min((c1+1)*BlockSize, s.w), min((r1+1)*BlockSize, s.h)
}

// maskImage renders the foreground as an image (255 foreground).
func (s *exSegmentation) maskImage() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, s.w, s.h))
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			if s.fgAt(x, y) {
				g.Pix[y*s.w+x] = 255
			}
		}
	}
	return g
}

// edgeDistance returns the distance in pixels from pixel (x, y) to the
// nearest background block or to the outside of the image, or limit if
// both are farther. Only the few blocks within limit are looked at, which
// is all a minutia needs.
func (s *exSegmentation) edgeDistance(x, y int, limit float64) float64 {
	px, py := float64(x)+0.5, float64(y)+0.5
	d := math.Min(math.Min(px, py), math.Min(float64(s.w)-px, float64(s.h)-py))
	d = math.Min(d, limit)
	r := int(limit)/BlockSize + 1
	bc, br := x/BlockSize, y/BlockSize
	for row := max(br-r, 0); row <= min(br+r, s.rows-1); row++ {
		for col := max(bc-r, 0); col <= min(bc+r, s.cols-1); col++ {
			if s.fg[row*s.cols+col] {
				continue
			}
			// Distance from the pixel centre to the block's square.
			x0, y0 := float64(col*BlockSize), float64(row*BlockSize)
			dx := math.Max(0, math.Max(x0-px, px-(x0+BlockSize)))
			dy := math.Max(0, math.Max(y0-py, py-(y0+BlockSize)))
			d = math.Min(d, math.Hypot(dx, dy))
		}
	}
	return d
}
