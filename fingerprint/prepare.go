package fingerprint

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// The comparison method is Minutia Cylinder-Code (MCC; R. Cappelli, M.
// Ferrara, D. Maltoni, "Minutia Cylinder-Code: a new representation and
// matching technique for fingerprint recognition", IEEE TPAMI 32(12), 2010)
// in its bit-based form, with the LSS-R global consolidation of the same
// paper. We chose it over the SourceAFIS edge/pairing-tree family because:
//   - each minutia's neighbourhood becomes a fixed-length bit vector that is
//     invariant to translation and rotation by construction (it is laid out
//     in the minutia's own frame) and tolerant to small distortions (the
//     contributions are Gaussian-smoothed in space and direction);
//   - comparing two descriptors is an AND/XOR/popcount over a few hundred
//     bits, which is what makes ≥ 50,000 comparisons per second per core
//     possible (SourceAFIS's ported matcher does about 5,000);
//   - the published accuracy of MCC with relaxation on FVC2002/2004 is at
//     or above the edge-based methods, and the relaxation (LSS-R) supplies
//     the global consistency a purely local method lacks;
//   - cylinders are a natural source for the fixed-length per-finger
//     vector the search engine's first stage needs (ARCHITECTURE.md, Scale).
//
// Everything is computed in a frame at 500 ppi with y pointing up, so that
// angles (counter-clockwise from the x axis, Minutia.Angle) are those of
// ordinary trigonometry.
//
// The cylinder is coarser than the paper's 16×16×6: 9×9 cells (69 inside
// the circle) × 5 direction sections is 345 content bits, six 64-bit words,
// and with the two words of the cell-validity mask a minutia's whole
// cylinder is one 64-byte cache line. Against the 12×12×6 (672 bits, 11
// words) used before it halves the popcounts of a comparison, for the same
// accuracy within noise on the FVC images (docs/fingerprint-matching.md
// gives the figures, and what it cost on other data).
const (
	mccRadius = 70.0 // cylinder radius R, pixels at 500 ppi
	mccNs     = 9    // cells along a side of the cylinder base
	mccNd     = 5    // direction sections
	mccSigmaS = 8.0  // spatial Gaussian σS
	mccSigmaD = 5 * math.Pi / 36
	mccMuPsi  = 0.005 // bit threshold μΨ on a cell's summed contribution
	mccOmega  = 50.0  // enlargement of the minutiae convex hull (valid cells)
	mccMinVC  = 0.75  // fraction of a cylinder's cells that must be valid
	mccMinM   = 2     // neighbours a cylinder needs to be valid
	mccMinME  = 0.60  // fraction of cells two cylinders must share to be compared
	// mccMaxDTheta is the largest direction difference of two minutiae
	// whose cylinders are compared by default. The paper's π/2 admits half
	// of all pairs; π/3 admits a third and still matches impressions
	// rotated by up to about 45° (TestInvariance), which upright placement
	// on a sensor or a card stays within; MatchOptions.AnyRotation is for
	// the rest. With the earlier cylinder, the mean EER over the FVC sets
	// was 2.92% at π/2, 2.86% at π/3 and 3.01% at π/4.
	mccMaxDTheta = math.Pi / 3
	// mccMaxMinutiae bounds the minutiae of a prepared template (the best by
	// quality are kept), which bounds memory and comparison time.
	mccMaxMinutiae = 48
	// mccCap bounds the minutiae of any prepared form: all of an
	// extracted template's (MaxMinutiae). The matcher's scratch space is
	// sized for it, and a minutia index must fit a byte.
	mccCap = 128
	// mccSecondCap bounds the minutiae of a second-look form
	// (MatchOptions.SecondLook), the best by quality: chosen with each
	// FVC set held out in turn among 64, 72 and 80 (mccSecondGate).
	mccSecondCap = 72
)

// mccGeometry is the layout of a cylinder, the same for every minutia: the
// cells whose centre lies inside the radius, in a fixed order, each holding
// mccNd direction bits.
type mccGeometry struct {
	cellDX, cellDY []float64 // cell centre offsets in the minutia's frame
	cells          int
	words          int // 64-bit words of a cylinder (cells × mccNd bits)
	cellWords      int // 64-bit words of a cell-level mask (cells bits)
	dirWeight      [][mccNd]float64
}

var mccGeo = newMCCGeometry()

// mccWordsConst and mccStrideConst are mccGeo.words and mccStride as
// constants, for the unrolled comparison loop; TestGeometryConstants checks
// that they agree with the geometry.
const (
	mccWordsConst  = 6
	mccStrideConst = 8
)

// mccStride is the number of words per minutia in Prepared.bits.
var mccStride = mccGeo.words + mccGeo.cellWords

// mccDirSteps quantises the angle difference used for direction
// contributions.
const mccDirSteps = 256

func newMCCGeometry() *mccGeometry {
	g := &mccGeometry{}
	ds := 2 * mccRadius / mccNs
	for i := 0; i < mccNs; i++ {
		for j := 0; j < mccNs; j++ {
			dx := (float64(i) - (mccNs-1)/2.0) * ds
			dy := (float64(j) - (mccNs-1)/2.0) * ds
			if dx*dx+dy*dy <= mccRadius*mccRadius {
				g.cellDX = append(g.cellDX, dx)
				g.cellDY = append(g.cellDY, dy)
			}
		}
	}
	g.cells = len(g.cellDX)
	g.words = (g.cells*mccNd + 63) / 64
	g.cellWords = (g.cells + 63) / 64
	// C^D of the paper: the area of a Gaussian (σD) of the direction
	// difference over each direction section, tabulated per quantised
	// difference.
	g.dirWeight = make([][mccNd]float64, mccDirSteps)
	dd := 2 * math.Pi / mccNd
	norm := mccSigmaD * math.Sqrt2
	for q := range g.dirWeight {
		a := float64(q) * 2 * math.Pi / mccDirSteps
		if a >= math.Pi {
			a -= 2 * math.Pi
		}
		for k := 0; k < mccNd; k++ {
			centre := -math.Pi + (float64(k)+0.5)*dd
			alpha := mccAngleDiff(centre, a)
			g.dirWeight[q][k] = 0.5 * (math.Erf((alpha+dd/2)/norm) - math.Erf((alpha-dd/2)/norm))
		}
	}
	return g
}

// mccAngleDiff is θ1 − θ2 brought into [−π, π).
func mccAngleDiff(t1, t2 float64) float64 {
	d := t1 - t2
	d = math.Mod(d+math.Pi, 2*math.Pi)
	if d < 0 {
		d += 2 * math.Pi
	}
	return d - math.Pi
}

// Prepared is a template made ready for comparison: the minutiae in the
// comparison frame, one cylinder (bit vector) per minutia and the pairwise
// geometry the consolidation uses. Gallery templates are prepared once and
// kept; MarshalBinary gives a form to store or cache. A Prepared is
// read-only and may be shared between goroutines.
type Prepared struct {
	n     int
	x, y  []float32 // 500 ppi, y up
	angle []float32 // radians [0, 2π)
	dir8  []uint8   // angle in 1/256 turns
	valid []bool    // cylinder valid
	// bits holds, per minutia, mccStride words: the cylinder's content
	// bits (mccGeo.words; set only in valid cells) and the validity of each
	// cell, one bit per cell (mccGeo.cellWords); one contiguous block per
	// minutia so that a comparison streams memory.
	bits []uint64
	// dirStart[d] is the first minutia (they are sorted by dir8) whose
	// direction is at least d; dirStart[256] = n.
	dirStart  [257]uint8
	cellCount []uint16 // valid cells per cylinder
	ones      []uint16 // content bits set per cylinder
	// Derived by finish: usable is 1 when the cylinder is valid, has
	// content bits and enough valid cells to be compared, else 0 (a
	// number, for branch-free filtering); norm holds √ones (the cylinder's
	// norm) and usable again as a float factor; minCells is the fewest
	// valid cells of a usable cylinder (mccGeo.cells when none is). The
	// two copies of usable are deliberate: with only the float one, the
	// shared-cell loop converts it to an integer per candidate, and
	// alternating benchmark runs were 6-12% slower on FVC2002 DB2 and
	// FVC2004 DB2.
	usable   []uint8
	norm     []mccNorm
	minCells int
	// pair is the geometry of the ordered pairs (i, j), at i*n+j, packed
	// by mccPack: the distance in quarter pixels (saturating) and the
	// radial angles of the segment from either end. The direction of j
	// relative to i is dir8[j]−dir8[i] and not stored: four bytes a pair
	// keep a 48-minutia table at 9 KB, which matters when a gallery of
	// millions is scanned.
	pair []uint32
	// orig maps a prepared minutia to its index in the template; nil when
	// all minutiae were kept in order.
	orig []int32
	// second is the second-look form (MatchOptions.SecondLook, made by
	// PrepareWith or read by UnmarshalBinary) of a template with more than
	// mccMaxMinutiae minutiae, else nil.
	second *Prepared
	// grid sorts the minutiae by position and holds their outline, for
	// the global verification (verify): made by PrepareWith unless
	// MatchOptions.NoVerify (about 430 bytes for 40-48 minutiae) and by
	// UnmarshalBinary, else nil and made for each comparison that needs
	// it.
	grid *mccGrid
}

// Len is the number of minutiae the prepared form holds.
func (p *Prepared) Len() int { return p.n }

// Prepare computes the prepared form of t. It never fails: a template with
// no minutiae prepares to an empty form that scores 0 against everything.
func Prepare(t Template) *Prepared { return PrepareWith(t, MatchOptions{}) }

// PrepareWith is Prepare for a Matcher with options o. With o.SecondLook,
// a template of more than 48 minutiae also holds its second-look form,
// its best mccSecondCap minutiae prepared with their pair geometry (and
// unless o.NoVerify their grid): about 28 KB. MarshalBinary stores it (not
// the grid). Prepare holds none, and a Matcher with SecondLook then looks
// again only with the probe's minutiae. The form is made here rather
// than on first use so that a comparison's cost does not depend on which
// came first.
func PrepareWith(t Template, o MatchOptions) *Prepared {
	p := prepareAtMost(t, mccMaxMinutiae)
	if o.SecondLook && len(t.Minutiae) > mccMaxMinutiae {
		p.second = prepareAtMost(t, mccSecondCap)
		if !o.NoVerify {
			p.second.buildGrid()
		}
	}
	if !o.NoVerify {
		p.buildGrid()
	}
	return p
}

// buildGrid makes the grid the global verification reads (verify).
func (p *Prepared) buildGrid() {
	p.grid = new(mccGrid)
	p.grid.build(p.x[:p.n], p.y[:p.n])
}

// secondForm returns p's second-look form, or nil when p has none.
func (p *Prepared) secondForm() *Prepared { return p.second }

// prepareAtMost prepares the best limit minutiae of t by quality.
func prepareAtMost(t Template, limit int) *Prepared {
	ms, orig := mccSelectMinutiae(t.Minutiae, limit)
	scale := 1.0
	if t.DPI > 0 && t.DPI != 500 {
		scale = 500 / float64(t.DPI)
	}
	p := &Prepared{n: len(ms), orig: orig}
	p.x = make([]float32, p.n)
	p.y = make([]float32, p.n)
	p.angle = make([]float32, p.n)
	for i, m := range ms {
		p.x[i] = float32(float64(m.X) * scale)
		p.y[i] = float32(-float64(m.Y) * scale)
		a := math.Mod(m.Angle, 2*math.Pi)
		if a < 0 {
			a += 2 * math.Pi
		}
		p.angle[i] = float32(a)
	}
	p.sortByDirection()
	p.build()
	return p
}

// mccSelectMinutiae keeps at most limit minutiae, the best by quality, in
// their original order, and returns their original indices when it
// dropped any.
func mccSelectMinutiae(ms []Minutia, limit int) ([]Minutia, []int32) {
	if len(ms) <= limit {
		return ms, nil
	}
	var hist [256]int
	for _, m := range ms {
		hist[m.Quality]++
	}
	cut, kept := 255, 0
	for ; cut > 0 && kept+hist[cut] < limit; cut-- {
		kept += hist[cut]
	}
	// Quality above cut is always kept; at cut, the first ones up to the
	// limit.
	atCut := limit - kept
	out := make([]Minutia, 0, limit)
	orig := make([]int32, 0, limit)
	for i, m := range ms {
		keep := m.Quality > uint8(cut)
		if !keep && m.Quality == uint8(cut) && atCut > 0 {
			keep = true
			atCut--
		}
		if keep {
			out = append(out, m)
			orig = append(orig, int32(i))
		}
	}
	return out, orig
}

// sortByDirection orders the minutiae by direction, so that a comparison
// visits only the gallery minutiae within mccMaxDTheta of a probe minutia
// (a window of the order), and records the original order in orig.
func (p *Prepared) sortByDirection() {
	idx := make([]int32, p.n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(p.angle[a], p.angle[b]) })
	x, y, ang := slices.Clone(p.x), slices.Clone(p.y), slices.Clone(p.angle)
	orig := make([]int32, p.n)
	for k, i := range idx {
		p.x[k], p.y[k], p.angle[k] = x[i], y[i], ang[i]
		orig[k] = i
		if p.orig != nil {
			orig[k] = p.orig[i]
		}
	}
	p.orig = orig
}

// build derives everything else from x, y and angle.
func (p *Prepared) build() {
	p.buildGeometry()
	p.buildCylinders()
}

// buildGeometry quantises the directions and tabulates the pairwise
// geometry.
func (p *Prepared) buildGeometry() {
	p.buildDirections()
	p.pair = nil
	if p.n > 0 {
		p.pair = p.pairTable()
	}
}

// buildDirections quantises the directions (dir8, dirStart).
func (p *Prepared) buildDirections() {
	n := p.n
	p.dir8 = make([]uint8, n)
	for i := range p.dir8 {
		p.dir8[i] = uint8(min(int(float64(p.angle[i])*256/(2*math.Pi)), 255))
	}
	k := 0
	for d := 0; d <= 256; d++ {
		for k < n && int(p.dir8[k]) < d {
			k++
		}
		p.dirStart[d] = uint8(k)
	}
}

// pairAt computes the packed geometry of the ordered pair (i, j), as
// p.pair holds it.
func (p *Prepared) pairAt(i, j int) uint32 {
	dx, dy := float64(p.x[j]-p.x[i]), float64(p.y[j]-p.y[i])
	d := math.Round(math.Hypot(dx, dy) * 4)
	seg := math.Atan2(dy, dx)
	radial := uint8(int(math.Round(mccAngleDiff(seg, float64(p.angle[i]))*256/(2*math.Pi))) & 255)
	back := uint8(int(math.Round(mccAngleDiff(seg+math.Pi, float64(p.angle[j]))*256/(2*math.Pi))) & 255)
	return mccPack(uint16(min(d, 65535)), radial, back)
}

// Compact returns p without its pairwise geometry table, which is most of
// a prepared template's memory (4·n² bytes: 9 KB of the 12 KB of a
// 48-minutia template). A comparison against the compact form computes
// the few hundred pair entries its relaxation reads (MCC paper §4.3),
// which makes it slower; a gallery of millions keeps compact forms for
// the shortlist its first stage passes on (search.Compacter). A
// second-look form is made compact too (20 KB of its 28 KB for 72
// minutiae); a probe's is made full again when the second look needs it
// (look2). The original is not changed; the two share everything else.
func (p *Prepared) Compact() *Prepared {
	c := *p
	c.pair = nil
	if p.second != nil {
		c.second = p.second.Compact()
	}
	return &c
}

// Full returns p with its pairwise geometry table: p itself when it has
// one, else a copy with the table computed again. A Matcher's probe needs
// the table (NewMatcherPrepared); a compact gallery template that becomes
// a probe, as when a node samples its own gallery's impostor scores, is
// made full first.
func (p *Prepared) Full() *Prepared {
	if p.pair != nil || p.n == 0 {
		return p
	}
	c := *p
	c.pair = c.pairTable()
	return &c
}

// pairTable computes the pair geometry table, every entry (i, j) equal
// bit for bit to pairAt(i, j) (TestPairTable), in about a fifth of its
// CPU: it is most of a gallery snapshot's load (a million fingers hold
// 2.3 billion pairs).
//
// pairAt rounds three exact quantities: 4·|ij|, and the directions of the
// segment i→j relative to i's and of j→i relative to j's, in 1/256
// turns. pairTable computes them more cheaply and less exactly (a square
// root for math.Hypot, a polynomial for the arc tangent, a product for a
// quotient; the error bounds are at mccPairErr) and rounds them itself
// when each lies further than mccPairMargin from a rounding boundary,
// where both roundings agree; a pair with one too close to call (about
// one in two thousand) is left to pairAt. For (j, i) the same three
// quantities serve: the segment j→i is i→j turned by π, so the direction
// of j→i relative to i's is that of i→j relative to i's plus a half turn,
// which is what pairAt's (j, i) computes, modulo a whole turn, which the
// 1/256-turn byte drops.
func (p *Prepared) pairTable() []uint32 {
	n := p.n
	t := make([]uint32, n*n)
	for i := 0; i < n; i++ {
		xi, yi, ai := p.x[i], p.y[i], float64(p.angle[i])
		for j := i + 1; j < n; j++ {
			dx, dy := float64(p.x[j]-xi), float64(p.y[j]-yi)
			d, ok1 := mccRoundSure(math.Sqrt(dx*dx+dy*dy) * 4)
			seg, ok2 := mccAtan2Approx(dy, dx)
			radial, ok3 := mccRoundSure((seg - ai) * mccTurn256)
			back, ok4 := mccRoundSure((seg + math.Pi - float64(p.angle[j])) * mccTurn256)
			if !(ok1 && ok2 && ok3 && ok4) {
				t[i*n+j], t[j*n+i] = p.pairAt(i, j), p.pairAt(j, i)
				continue
			}
			dist := uint16(min(d, 65535))
			t[i*n+j] = mccPack(dist, uint8(radial), uint8(back))
			t[j*n+i] = mccPack(dist, uint8(back), uint8(radial))
		}
	}
	return t
}

const (
	// mccTurn256 converts radians to 1/256 turns.
	mccTurn256 = 128 / math.Pi
	// mccPairErr bounds the error of pairTable's quantities against the
	// exact ones, in 1/256 turns: the arc tangent's 2e-8 radians
	// (mccAtan01, TestAtan2Approx) times mccTurn256, plus a few units in
	// the last place of the float64 operations on both sides; the
	// distance, in quarter pixels, is within a few units in the last place
	// (below 1e-8 for any distance that fits pairAt's 16 bits).
	mccPairErr = 2e-8*mccTurn256 + 1e-12
	// mccPairMargin is how far from a rounding boundary pairTable's value
	// must lie for its rounding to be that of the exact value: a hundred
	// times mccPairErr, about 8e-5.
	mccPairMargin = 100 * mccPairErr
)

// mccRoundSure rounds v half away from zero, as math.Round does, modulo
// 256 for |v| < 1024 (an angle in 1/256 turns, offset by whole turns), and
// exactly for 0 <= v < 2^24 (a distance), and reports whether v lies more
// than mccPairMargin from the boundary between two roundings, so that a
// value within mccPairErr of v rounds the same. A NaN is never sure.
func mccRoundSure(v float64) (int, bool) {
	u := v + 1024.5 // positive: the conversion truncates to the floor
	r := int(u)
	f := u - float64(r)
	return r - 1024, f > mccPairMargin && f < 1-mccPairMargin && u < 1<<24
}

// mccAtan2Approx is math.Atan2(y, x) within 2e-8 radians plus a few units
// in the last place, modulo 2π, for finite x, y not both zero (ok false
// otherwise: pairAt's arc tangent of two zeros is 0 both ways, not a half
// turn apart).
func mccAtan2Approx(y, x float64) (float64, bool) {
	ax, ay := math.Abs(x), math.Abs(y)
	if ax == 0 && ay == 0 || math.IsInf(ax, 0) || math.IsInf(ay, 0) {
		return 0, false
	}
	var a float64
	if ay <= ax {
		a = mccAtan01(ay / ax)
	} else {
		a = math.Pi/2 - mccAtan01(ax/ay)
	}
	if x < 0 {
		a = math.Pi - a
	}
	if y < 0 {
		a = -a
	}
	return a, true
}

// mccAtan01 is the arc tangent of 0 <= t <= 1 within 2e-8 radians
// (TestAtan2Approx measures it): the odd polynomial of degree 17 of C.
// Hastings, "Approximations for Digital Computers" (1955), as Abramowitz
// and Stegun give it (4.4.49).
func mccAtan01(t float64) float64 {
	z := t * t
	return t * (1 + z*(-0.3333314528+z*(0.1999355085+z*(-0.1420889944+z*(0.1065626393+
		z*(-0.0752896400+z*(0.0429096138+z*(-0.0161657367+z*0.0028662257))))))))
}

// buildCylinders computes every minutia's cylinder (MCC paper §3).
func (p *Prepared) buildCylinders() {
	n := p.n
	g := mccGeo
	p.valid = make([]bool, n)
	p.bits = make([]uint64, n*mccStride)
	p.cellCount = make([]uint16, n)
	p.ones = make([]uint16, n)
	hull := mccHull(p.x, p.y)
	const reach = mccRadius + 3*mccSigmaS
	const reach2 = 9 * mccSigmaS * mccSigmaS
	neigh := make([]int, 0, n)
	for i := 0; i < n; i++ {
		neigh = neigh[:0]
		for j := 0; j < n; j++ {
			if j != i && float64(mccDist4(p.pair[i*n+j])) <= reach*4 {
				neigh = append(neigh, j)
			}
		}
		sin, cos := math.Sincos(float64(p.angle[i]))
		blk := p.bits[i*mccStride : (i+1)*mccStride]
		cyl, cmask := blk[:g.words], blk[g.words:]
		validCells := 0
		for c := 0; c < g.cells; c++ {
			// The cell centre in the template frame: the offset rotated by
			// the minutia's direction.
			cx := float64(p.x[i]) + g.cellDX[c]*cos - g.cellDY[c]*sin
			cy := float64(p.y[i]) + g.cellDX[c]*sin + g.cellDY[c]*cos
			if !hull.near(cx, cy, mccOmega) {
				continue
			}
			validCells++
			cmask[c/64] |= 1 << (c % 64)
			var v [mccNd]float64
			for _, j := range neigh {
				dx, dy := float64(p.x[j])-cx, float64(p.y[j])-cy
				d2 := dx*dx + dy*dy
				if d2 > reach2 {
					continue
				}
				cs := math.Exp(-d2/(2*mccSigmaS*mccSigmaS)) / (mccSigmaS * math.Sqrt(2*math.Pi))
				w := &g.dirWeight[p.dir8[j]-p.dir8[i]]
				for k := range v {
					v[k] += cs * w[k]
				}
			}
			for k := 0; k < mccNd; k++ {
				b := c*mccNd + k
				if v[k] >= mccMuPsi {
					cyl[b/64] |= 1 << (b % 64)
				}
			}
		}
		p.cellCount[i] = uint16(validCells)
		for _, w := range cyl {
			p.ones[i] += uint16(bits.OnesCount64(w))
		}
		p.valid[i] = float64(validCells) >= mccMinVC*float64(g.cells) && len(neigh) >= mccMinM
	}
	p.finish()
}

// finish derives norm and usable from the cylinders.
func (p *Prepared) finish() {
	minME := int(math.Ceil(mccMinME * float64(mccGeo.cells)))
	p.norm = make([]mccNorm, p.n)
	p.usable = make([]uint8, p.n)
	p.minCells = mccGeo.cells
	for i := 0; i < p.n; i++ {
		p.norm[i].norm = float32(math.Sqrt(float64(p.ones[i])))
		if p.valid[i] && int(p.cellCount[i]) >= minME && p.ones[i] > 0 {
			p.usable[i] = 1
			p.norm[i].use = 1
			p.minCells = min(p.minCells, int(p.cellCount[i]))
		}
	}
}

// mccNorm is a cylinder's norm and whether it is usable (1) or not (0),
// side by side for the similarity loop, which multiplies by use rather
// than branching on it.
type mccNorm struct{ norm, use float32 }

// mccPack packs the geometry of an ordered minutiae pair (i, j) into one
// word: the distance in quarter pixels (bits 0-15), the direction of the
// segment i→j relative to i's (bits 16-23) and of the segment j→i relative
// to j's (bits 24-31), angles in 1/256 turns.
func mccPack(dist4 uint16, radial, back uint8) uint32 {
	return uint32(dist4) | uint32(radial)<<16 | uint32(back)<<24
}

func mccDist4(v uint32) int     { return int(v & 0xffff) }
func mccRadial(v uint32) uint8  { return uint8(v >> 16) }
func mccBackRad(v uint32) uint8 { return uint8(v >> 24) }

// mccConvexHull is the convex hull of the minutiae, counter-clockwise,
// used to tell which cylinder cells lie where the finger was seen.
type mccConvexHull struct{ x, y []float64 }

func mccHull(xs, ys []float32) mccConvexHull {
	type pt struct{ x, y float64 }
	pts := make([]pt, len(xs))
	for i := range xs {
		pts[i] = pt{float64(xs[i]), float64(ys[i])}
	}
	// Andrew's monotone chain.
	for i := 1; i < len(pts); i++ {
		for j := i; j > 0 && (pts[j].x < pts[j-1].x || (pts[j].x == pts[j-1].x && pts[j].y < pts[j-1].y)); j-- {
			pts[j], pts[j-1] = pts[j-1], pts[j]
		}
	}
	cross := func(o, a, b pt) float64 { return (a.x-o.x)*(b.y-o.y) - (a.y-o.y)*(b.x-o.x) }
	h := make([]pt, 0, 2*len(pts))
	for _, q := range pts {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lo := len(h) + 1
	for i := len(pts) - 2; i >= 0; i-- {
		q := pts[i]
		for len(h) >= lo && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	if len(h) > 1 {
		h = h[:len(h)-1]
	}
	var hull mccConvexHull
	for _, q := range h {
		hull.x = append(hull.x, q.x)
		hull.y = append(hull.y, q.y)
	}
	return hull
}

// near reports whether (px, py) is inside the hull or within r of it.
func (h mccConvexHull) near(px, py, r float64) bool {
	n := len(h.x)
	if n == 0 {
		return false
	}
	inside := n >= 3
	for i := 0; i < n; i++ {
		j := (i + 1) % n
		ax, ay, bx, by := h.x[i], h.y[i], h.x[j], h.y[j]
		if (bx-ax)*(py-ay)-(by-ay)*(px-ax) < 0 {
			inside = false
		}
	}
	if inside {
		return true
	}
	r2 := r * r
	for i := 0; i < n; i++ {
		j := (i + 1) % n
		if n == 1 {
			j = i
		}
		if mccSegDist2(px, py, h.x[i], h.y[i], h.x[j], h.y[j]) <= r2 {
			return true
		}
	}
	return false
}

func mccSegDist2(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = max(0, min(1, ((px-ax)*dx+(py-ay)*dy)/l))
	}
	ex, ey := ax+t*dx-px, ay+t*dy-py
	return ex*ex + ey*ey
}
