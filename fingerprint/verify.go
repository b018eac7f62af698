package fingerprint

import (
	"math"
	"slices"
)

// Global verification (issue 15): the classical last stage of a minutiae
// matcher, after the local structures have been paired. The consistent
// set of relaxed pairs (Matcher.consistent) gives a rigid alignment of
// the probe onto the gallery template; under it every probe minutia is
// paired, one to one, with a gallery minutia close in position and
// direction, and the count is set against the minutiae that lie where
// both impressions saw the finger. The pairs that relaxation keeps are
// few (at most mccMaxNR enter, a handful agree), so two impressions with
// little common area or many false minutiae end with as few consistent
// pairs as impostors do; the alignment finds the other minutiae that
// agree with them, and normalising by the overlap rather than by whole
// templates stops a partial print from being judged by minutiae it
// never showed.
//
// The tolerances, the least overlap and the weight were chosen on the
// five shared FVC sets by the mean EER (ext), with each set held out in
// turn (docs/fingerprint-matching.md, "Global verification", gives the
// grid and every fold): 12, 15 and 18 pixels × 20° and 30° × a least
// overlap of 3, 5 and 8 × weights 0.05 to 0.3. Earlier trials, with a
// convex hull for the overlap, rejected a tolerance that grows with the
// distance from the centre, a 30 pixel margin, refitting the alignment on
// the verified pairs and trying each of the top 5 or 10 pairs as an
// anchor (the mean EER 2.80% and 2.74% against 2.59% for the consistent
// set alone: more alignments to try lift impostors more than genuine
// pairs).
const (
	// mccVerDist is the largest distance (pixels at 500 ppi) between a
	// mapped probe minutia and the gallery minutia it is paired with.
	mccVerDist = 15.0
	// mccVerTurn is the largest direction difference of a verified pair,
	// in 1/256 turns: 14 is 19.7°. 21 (29.5°) was as accurate within
	// noise (mean EER 2.21% against 2.20%).
	mccVerTurn = 14
	// mccVerMargin is how far outside the other template's outline
	// (pixels) a minutia still counts as in the overlap.
	mccVerMargin = 10.0
	// mccVerMinOverlap is the fewest minutiae an overlap counts as (the
	// template's own count when it has fewer), so that two impressions
	// that touch at a corner do not score as a perfect match.
	mccVerMinOverlap = 3
	// mccVerDirRadius weighs each pair's direction difference in the
	// rotation estimate against the positions: as much as two points this
	// many pixels from the pairs' centroid. Directions alone (a radius of
	// 10⁴) gave a mean EER of 2.59%, 50 pixels 2.52%, 20 pixels 2.57% (in
	// the first trials, the verification term weighted as a third of the
	// score).
	mccVerDirRadius = 50.0
	// mccVerWeight is the weight of the verification term added to the
	// score: with 0.2 the mean EER (ext) over the five FVC sets fell from
	// 2.63% to 2.17%. Adding instead 0.3 times the term's excess over 0.5
	// (impostors reach about 0.5 by chance) kept the impostor scores
	// nearly where they were (mean 0.0589 for 0.0587, the tail fit's
	// threshold at FMR 1e-6 at 0.53 for 0.31) at a mean EER of 2.21%;
	// where the tail fit stayed (a least overlap of 10 to 12) the mean EER
	// was 2.48-2.50%, two genuine pairs of one set (docs/
	// fingerprint-matching.md).
	mccVerWeight = 0.2
	// mccVerGate is the score below which a comparison is not verified:
	// 12-30% of impostor comparisons on the FVC sets, and no genuine pair
	// whose verification changed an EER; that much of the stage's cost
	// is saved. At 0.055 the EER of FVC2004 DB2 rose by two genuine
	// pairs.
	mccVerGate = 0.05
)

// mccOutline is a convex outline of a template's minutiae: for each of
// the eight directions k·45°, the largest projection of a minutia on it,
// so that the outline is the smallest octagon with sides at those
// directions that holds every minutia (a bounding box with its corners
// cut). It stands in for the convex hull in the overlap, whose dozen or
// more edges made the test a third of the stage's cost (for 0.1 points of
// mean EER on the FVC sets, one genuine pair of FVC2004 DB2).
type mccOutline [8]float32

// mccSin256 and mccCos256 are the sine and cosine of k/256 turns.
var mccSin256, mccCos256 [256]float32

func init() {
	for k := range mccSin256 {
		s, c := math.Sincos(float64(k) * math.Pi / 128)
		mccSin256[k], mccCos256[k] = float32(s), float32(c)
	}
}

// mccSqrtHalf is √½, the components of the diagonal directions.
const mccSqrtHalf = 0.70710678118654752

func mccMakeOutline(xs, ys []float32) mccOutline {
	var o mccOutline
	for k := range o {
		o[k] = float32(math.Inf(-1))
	}
	for i := range xs {
		x, y := xs[i], ys[i]
		u, v := (x+y)*mccSqrtHalf, (y-x)*mccSqrtHalf
		o[0], o[1], o[2], o[3] = max(o[0], x), max(o[1], u), max(o[2], y), max(o[3], v)
		o[4], o[5], o[6], o[7] = max(o[4], -x), max(o[5], -u), max(o[6], -y), max(o[7], -v)
	}
	return o
}

// enlarged returns the outline enlarged by r along each of its
// directions.
func (o *mccOutline) enlarged(r float32) mccOutline {
	var e mccOutline
	for k := range o {
		e[k] = o[k] + r
	}
	return e
}

// inside returns how many of the points (xs[k], ys[k]) lie inside the
// outline.
func (o *mccOutline) inside(xs, ys []float32) int {
	n := 0
	ys = ys[:len(xs)]
	for k, x := range xs {
		n += o.holds(x, ys[k])
	}
	return n
}

// holds is 1 when (x, y) lies inside the outline, else 0. It has no
// branch: whether a minutia lies in the overlap does not predict.
func (o *mccOutline) holds(x, y float32) int {
	u, v := (x+y)*mccSqrtHalf, (y-x)*mccSqrtHalf
	// A side's margin is negative, its sign bit set, when the point lies
	// beyond it.
	b := math.Float32bits(o[0]-x) | math.Float32bits(o[1]-u) | math.Float32bits(o[2]-y) | math.Float32bits(o[3]-v) |
		math.Float32bits(o[4]+x) | math.Float32bits(o[5]+u) | math.Float32bits(o[6]+y) | math.Float32bits(o[7]+v)
	return int(^b >> 31)
}

// verify returns the global verification term in [0, 1]: k/√(na·nb),
// where k is the number of one-to-one pairs the alignment of the
// consistent set (set: bits of nr, weights lam) finds and na, nb are the
// probe and gallery minutiae in the overlap (at least mccVerMinOverlap
// each, at most the template's count).
func (m *Matcher) verify(g *Prepared, nr []mccPair, lam []float32, set uint32) float64 {
	a := m.probe
	// The alignment: translation between the weighted centroids, rotation
	// by least squares over the centred positions and the direction
	// differences.
	var w, ax, ay, bx, by float64
	for t := range nr {
		if set&(1<<(t%mccNRSpace)) == 0 || lam[t] <= 0 {
			continue
		}
		p, wt := nr[t], float64(lam[t])
		w += wt
		ax += wt * float64(a.x[p.a])
		ay += wt * float64(a.y[p.a])
		bx += wt * float64(g.x[p.b])
		by += wt * float64(g.y[p.b])
	}
	if w == 0 {
		return 0
	}
	ax, ay, bx, by = ax/w, ay/w, bx/w, by/w
	var sn, cs float64
	for t := range nr {
		if set&(1<<(t%mccNRSpace)) == 0 || lam[t] <= 0 {
			continue
		}
		p, wt := nr[t], float64(lam[t])
		turn := g.dir8[p.b] - a.dir8[p.a]
		px, py := float64(a.x[p.a])-ax, float64(a.y[p.a])-ay
		qx, qy := float64(g.x[p.b])-bx, float64(g.y[p.b])-by
		sn += wt * (mccVerDirRadius*mccVerDirRadius*float64(mccSin256[turn]) + px*qy - py*qx)
		cs += wt * (mccVerDirRadius*mccVerDirRadius*float64(mccCos256[turn]) + px*qx + py*qy)
	}
	r := math.Hypot(sn, cs)
	if r == 0 {
		return 0
	}
	s, c := sn/r, cs/r
	tx, ty := bx-(c*ax-s*ay), by-(s*ax+c*ay)
	rot := uint8(int(math.Round(math.Atan2(sn, cs) * 128 / math.Pi)))
	return m.verifyAt(g, float32(c), float32(s), float32(tx), float32(ty), rot)
}

// verifyAt pairs the probe's minutiae, mapped by the rotation (c, s), the
// translation (tx, ty) and the turn rot (1/256 turns), with the gallery
// template's, and returns verify's term.
func (m *Matcher) verifyAt(g *Prepared, c, s, tx, ty float32, rot uint8) float64 {
	a := m.probe
	px, py := &m.ver.x, &m.ver.y
	gr := g.grid
	if gr == nil {
		// A template prepared with MatchOptions.NoVerify.
		m.ver.grid.build(g.x[:g.n], g.y[:g.n])
		gr = &m.ver.grid
	}
	if !m.ver.probeDone {
		// The probe's outline, once per Matcher.
		if a.grid != nil {
			m.ver.probeOutline = a.grid.outline
		} else {
			m.ver.probeOutline = mccMakeOutline(a.x[:a.n], a.y[:a.n])
		}
		m.ver.probeDone = true
	}
	// Probe minutiae in the overlap: mapped inside the gallery's outline.
	// Only they are paired below: the others lie where the gallery
	// impression did not see the finger.
	og, oa := gr.outline.enlarged(mccVerMargin), m.ver.probeOutline.enlarged(mccVerMargin)
	in := &m.ver.in
	na := 0
	for i := 0; i < a.n; i++ {
		x, y := a.x[i], a.y[i]
		mx, my := c*x-s*y+tx, s*x+c*y+ty
		// Written at na, which advances only for a point inside.
		px[na%mccCap], py[na%mccCap], in[na%mccCap] = mx, my, uint8(i)
		na += og.holds(mx, my)
	}
	// Gallery minutiae in the overlap: mapped back into the probe's frame,
	// inside its outline.
	qx, qy := &m.ver.qx, &m.ver.qy
	for j := 0; j < g.n; j++ {
		x, y := g.x[j]-tx, g.y[j]-ty
		qx[j%mccCap], qy[j%mccCap] = c*x+s*y, c*y-s*x
	}
	nb := oa.inside(qx[:g.n], qy[:g.n])
	// Candidate pairs within the tolerances, keyed by cost (squared
	// distance and direction difference, each relative to its tolerance,
	// summed, in 1/16383) and then by the two minutiae, so that sorting the
	// keys orders them by cost.
	const tol2 = mccVerDist * mccVerDist
	if m.ver.keys == nil {
		m.ver.keys = new([mccCap * mccCap]uint32)
	}
	keys := m.ver.keys
	nk := 0
	gx, gy, gd := g.x[:g.n], g.y[:g.n], g.dir8[:g.n]
	for k := 0; k < na; k++ {
		i := uint32(in[k%mccCap])
		d := uint8(a.dir8[i] + rot)
		mx, my := px[k%mccCap], py[k%mccCap]
		// Every minutia of the block is written and the count advances
		// when it is within both tolerances: whether it is does not
		// predict, and a misprediction costs more than the write.
		for _, j := range gr.block(mx, my) {
			dx, dy := mx-gx[j], my-gy[j]
			d2 := dx*dx + dy*dy
			dd := int(int8(gd[j] - d))
			cost := d2*(16383/tol2) + float32(dd*dd)*(16383.0/(mccVerTurn*mccVerTurn))
			keys[nk%len(keys)] = uint32(cost)<<16 | i<<8 | uint32(j)
			// far is 1 beyond the distance (tol2 − d2 has its sign bit
			// set) or beyond the direction tolerance.
			far := math.Float32bits(tol2-d2)>>31 | uint32(uint64(dd+mccVerTurn)>>63) | uint32(uint64(mccVerTurn-dd)>>63)
			nk += int(far ^ 1)
		}
	}
	// Greedy one-to-one assignment, cheapest first; when no minutia is in
	// two candidate pairs, as is usual, every pair is kept.
	var usedA, usedB [mccCap / 64]uint64
	conflict := uint64(0)
	for _, key := range keys[:nk%(len(keys)+1)] {
		i, j := (key>>8)%mccCap, key%mccCap
		conflict |= usedA[i/64]>>(i%64) | usedB[j/64]>>(j%64)
		usedA[i/64] |= 1 << (i % 64)
		usedB[j/64] |= 1 << (j % 64)
	}
	k := nk
	if conflict&1 != 0 {
		sorted := keys[:nk%(len(keys)+1)]
		if len(sorted) <= 32 {
			for x := 1; x < len(sorted); x++ { // insertion sort
				v, y := sorted[x], x
				for ; y > 0 && sorted[y-1] > v; y-- {
					sorted[y] = sorted[y-1]
				}
				sorted[y] = v
			}
		} else {
			slices.Sort(sorted)
		}
		usedA, usedB = [mccCap / 64]uint64{}, [mccCap / 64]uint64{}
		k = 0
		for _, key := range sorted {
			i, j := (key>>8)%mccCap, key%mccCap
			if (usedA[i/64]>>(i%64)|usedB[j/64]>>(j%64))&1 != 0 {
				continue
			}
			usedA[i/64] |= 1 << (i % 64)
			usedB[j/64] |= 1 << (j % 64)
			k++
		}
	}
	fa := float64(min(max(na, mccVerMinOverlap), a.n))
	fb := float64(min(max(nb, mccVerMinOverlap), g.n))
	return min(1, float64(k)/math.Sqrt(fa*fb))
}

// mccVerCell is the side of a cell of mccGrid, in pixels: more than twice
// mccVerDist, so that the gallery minutiae within it of a point lie in at
// most two columns and two rows of cells.
const mccVerCell = 2*mccVerDist + 2

// mccGridMaxCells bounds the cells along a side of mccGrid: 256 cells of
// mccVerCell pixels span 8,192 pixels at 500 ppi, far more than any
// finger, and minutiae spread wider (a damaged or hostile template: a form
// UnmarshalBinary accepts may span 2^21 pixels, which made a grid of
// 65,537² blocks, 8.6 GB) get larger cells instead. Larger cells keep the
// property the verification relies on (a cell wider than twice
// mccVerDist) and list minutiae in the same order, so the verification's
// term is the same; below the bound the cells are mccVerCell pixels, bit
// for bit as before.
const mccGridMaxCells = 256

// mccGrid sorts a template's minutiae into square cells of mccVerCell
// pixels (larger for minutiae spread over more than mccGridMaxCells
// cells) over their bounding box (cols × rows cells from (x0, y0)), and
// lists for each block of 2×2 cells the minutiae in it: block (r, c)
// covers rows r−1 and r and columns c−1 and c, r in [0, rows], c in
// [0, cols], and its minutiae are idx[start[b]:start[b+1]], b =
// r·(cols+1)+c. The minutiae within mccVerDist of a point all lie in one
// block, so the verification reads one list for each probe minutia, of
// three gallery minutiae on average on FVC2004 DB3, rather than every
// gallery minutia of similar direction (ten on average within 30°), or up
// to four cells' lists, whose varying lengths the processor mispredicts.
// It also holds the minutiae's outline, for the overlap.
type mccGrid struct {
	x0, y0     float32
	inv        float32 // 1 / the cells' side
	cols, rows int
	start      []uint16
	idx        []uint8
	outline    mccOutline
}

// build sorts the minutiae (xs, ys) into gr, reusing its lists' space,
// and computes their outline.
func (gr *mccGrid) build(xs, ys []float32) {
	if len(xs) == 0 {
		*gr = mccGrid{inv: 1 / mccVerCell, start: append(gr.start[:0], 0, 0), idx: gr.idx[:0], outline: mccMakeOutline(nil, nil)}
		return
	}
	gr.x0, gr.y0 = slices.Min(xs), slices.Min(ys)
	gr.inv = 1 / mccVerCell
	if span := max(slices.Max(xs)-gr.x0, slices.Max(ys)-gr.y0); span*gr.inv >= mccGridMaxCells-1 {
		gr.inv = (mccGridMaxCells - 2) / span
	}
	cell := func(v, v0 float32) int { return int((v - v0) * gr.inv) }
	gr.cols = cell(slices.Max(xs), gr.x0) + 1
	gr.rows = cell(slices.Max(ys), gr.y0) + 1
	w := gr.cols + 1
	// start counts each block's minutiae at the next block's entry, then
	// holds where each block's list begins and, while the lists are
	// filled, where each block's next minutia goes.
	nb := w * (gr.rows + 1)
	gr.start = slices.Grow(gr.start[:0], nb+1)[:nb+1]
	clear(gr.start)
	gr.idx = slices.Grow(gr.idx[:0], 4*len(xs))[:4*len(xs)]
	for i := range xs {
		b := cell(ys[i], gr.y0)*w + cell(xs[i], gr.x0)
		gr.start[b+1]++
		gr.start[b+2]++
		gr.start[b+w+1]++
		gr.start[b+w+2]++
	}
	for k := 1; k < len(gr.start); k++ {
		gr.start[k] += gr.start[k-1]
	}
	for i := range xs {
		b := cell(ys[i], gr.y0)*w + cell(xs[i], gr.x0)
		for _, q := range [4]int{b, b + 1, b + w, b + w + 1} {
			gr.idx[gr.start[q]] = uint8(i)
			gr.start[q]++
		}
	}
	// Each entry now holds where the next block's list begins.
	copy(gr.start[1:], gr.start[:nb])
	gr.start[0] = 0
	gr.outline = mccMakeOutline(xs, ys)
}

// block returns the minutiae of the block of cells that holds every
// minutia within mccVerDist of (x, y), or, for a point further than that
// outside the grid, of the nearest block.
func (gr *mccGrid) block(x, y float32) []uint8 {
	c := min(max(int((x-gr.x0-mccVerDist)*gr.inv+1), 0), gr.cols)
	r := min(max(int((y-gr.y0-mccVerDist)*gr.inv+1), 0), gr.rows)
	b := r*(gr.cols+1) + c
	return gr.idx[gr.start[b]:gr.start[b+1]]
}

// mccVerScratch is verify's scratch space in a Matcher: the probe
// minutiae mapped into the gallery's frame (those in the overlap, x, y,
// and their indices, in), the gallery minutiae mapped into the probe's
// (qx, qy), the candidate pairs' keys, the grid of a gallery template
// prepared without one, and the probe's outline (probeDone once made).
type mccVerScratch struct {
	x, y         [mccCap]float32
	in           [mccCap]uint8
	qx, qy       [mccCap]float32
	keys         *[mccCap * mccCap]uint32
	grid         mccGrid
	probeOutline mccOutline
	probeDone    bool
}
