package fingerprint

import (
	"math"
	"math/bits"
)

// LSS-R consolidation parameters (MCC paper §4.2-4.3): the number of pairs
// that make the score grows with the smaller template from mccMinNP to
// mccMaxNP, and relaxation runs mccRelIter rounds.
const (
	mccMinNP   = 4
	mccMaxNP   = 12
	mccMuP     = 20
	mccTauP    = 0.4
	mccRelIter = 5
	mccWR      = 0.5
	mccMaxNR   = 64 // pairs taken into relaxation at most
	// Compatibility of two pairs: sigmoids of the difference in distance
	// (pixels) and in the two relative angles (radians).
	mccMu1, mccTau1 = 5.0, -8.0 / 5
	mccMu2, mccTau2 = math.Pi / 12, -30.0
	mccMu3, mccTau3 = math.Pi / 12, -30.0
)

// Tables of the compatibility sigmoids, indexed by the distance difference
// in quarter pixels and by the absolute angle difference in 1/256 turns.
var (
	mccZDist  [256]float32
	mccZAngle [129]float32
	mccSqrt   []float32
	mccNPFor  [256]int
)

func init() {
	z := func(v, mu, tau float64) float64 { return 1 / (1 + math.Exp(-tau*(v-mu))) }
	for i := range mccZDist {
		mccZDist[i] = float32(z(float64(i)/4, mccMu1, mccTau1))
	}
	for i := range mccZAngle {
		a := float64(i) * 2 * math.Pi / 256
		mccZAngle[i] = float32(z(a, mccMu2, mccTau2))
	}
	mccSqrt = make([]float32, mccGeo.words*64+1)
	for i := range mccSqrt {
		mccSqrt[i] = float32(math.Sqrt(float64(i)))
	}
	for n := range mccNPFor {
		mccNPFor[n] = mccMinNP + int(math.Round(z(float64(n), mccMuP, -mccTauP)*(mccMaxNP-mccMinNP)))
	}
}

// Matcher compares one probe against many gallery templates. It holds the
// probe's prepared form and scratch space, so a Matcher must not be used by
// several goroutines at once: give each goroutine its own (Clone).
type Matcher struct {
	probe *Prepared
	pairs []mccPair
	nr    []mccPair
	usedA []bool
	usedB []bool
	rho   []float32
	lam   [2][]float32
	buck  [257]int32
	order []int32
}

type mccPair struct {
	a, b int32
	sim  float32
}

// NewMatcher prepares probe for comparison against gallery templates.
func NewMatcher(probe Template) *Matcher { return newMatcher(Prepare(probe)) }

func newMatcher(p *Prepared) *Matcher {
	return &Matcher{probe: p, usedA: make([]bool, p.n)}
}

// Clone returns a Matcher for the same probe with its own scratch space,
// for use in another goroutine.
func (m *Matcher) Clone() *Matcher { return newMatcher(m.probe) }

// Compare returns the similarity of the probe and a gallery template: a
// number in [0, 1], 0 for no evidence of a common finger and values close to
// 1 for strongly corresponding minutiae. A threshold for a target false
// match rate is calibrated with `ebsp eval` (docs/fingerprint-matching.md
// gives the values measured on the FVC sets).
func (m *Matcher) Compare(g *Prepared) float64 {
	s, _ := m.compare(g, false)
	return s
}

// MinutiaPair is one pair of corresponding minutiae of a comparison:
// indices into the probe's and the gallery template's Minutiae, the
// similarity of their cylinders and what relaxation made of it.
type MinutiaPair struct {
	Probe, Gallery int
	Local, Relaxed float64
}

// Pairing is a comparison with its evidence: the score Compare gives and
// the minutiae pairs the score was made of, best first.
type Pairing struct {
	Score float64
	Pairs []MinutiaPair
}

// Pairing compares like Compare and also returns which minutiae were
// paired, for inspection.
func (m *Matcher) Pairing(g *Prepared) Pairing {
	s, pairs := m.compare(g, true)
	return Pairing{Score: s, Pairs: pairs}
}

// Compare is a one-off comparison of two templates (1:1). For 1:N, prepare
// the gallery once and use a Matcher.
func Compare(probe, gallery Template) float64 {
	return NewMatcher(probe).Compare(Prepare(gallery))
}

func (m *Matcher) compare(g *Prepared, explain bool) (float64, []MinutiaPair) {
	a := m.probe
	if a.n == 0 || g.n == 0 {
		return 0, nil
	}
	m.localSimilarities(g)
	nr := m.selectPairs(g)
	if len(nr) == 0 {
		return 0, nil
	}
	np := mccNPFor[min(a.n, g.n, 255)]
	lam := m.relax(g, nr)
	// Efficiency: how much relaxation kept of a pair's local similarity;
	// the np most efficient pairs make the score.
	k := min(np, len(nr))
	m.order = m.order[:0]
	for t := range nr {
		m.order = append(m.order, int32(t))
	}
	eff := func(t int32) float32 { return lam[t] / nr[t].sim }
	for i := 0; i < k; i++ { // partial selection sort: k ≤ 12
		best := i
		for j := i + 1; j < len(m.order); j++ {
			if eff(m.order[j]) > eff(m.order[best]) {
				best = j
			}
		}
		m.order[i], m.order[best] = m.order[best], m.order[i]
	}
	sum := 0.0
	for _, t := range m.order[:k] {
		sum += float64(lam[t])
	}
	score := sum / float64(np)
	if !explain {
		return score, nil
	}
	pairs := make([]MinutiaPair, k)
	for i, t := range m.order[:k] {
		pairs[i] = MinutiaPair{
			Probe: a.origIndex(int(nr[t].a)), Gallery: g.origIndex(int(nr[t].b)),
			Local: float64(nr[t].sim), Relaxed: float64(lam[t]),
		}
	}
	return score, pairs
}

// localSimilarities fills m.pairs with every pair of valid cylinders whose
// directions differ by at most mccMaxDTheta, that share enough valid cells,
// and whose bit-based similarity (1 − ‖a⊕b‖ / (‖a‖+‖b‖) over the shared
// cells, MCC paper eq. 17) is positive.
func (m *Matcher) localSimilarities(g *Prepared) {
	a := m.probe
	geo := mccGeo
	w, cw := geo.words, geo.cellWords
	minME := int(math.Ceil(mccMinME * float64(geo.cells)))
	maxD := uint8(math.Round(mccMaxDTheta * 256 / (2 * math.Pi)))
	m.pairs = m.pairs[:0]
	for i := 0; i < a.n; i++ {
		if !a.valid[i] {
			continue
		}
		ca, ma, cma := a.cyl[i*w:(i+1)*w], a.mask[i*w:(i+1)*w], a.cellMask[i*cw:(i+1)*cw]
		ma = ma[:len(ca)]
		di := a.dir8[i]
		for j := 0; j < g.n; j++ {
			if !g.valid[j] {
				continue
			}
			dd := g.dir8[j] - di
			if dd > maxD && -dd > maxD {
				continue
			}
			if int(g.cellCount[j]) < minME {
				continue
			}
			cmb := g.cellMask[j*cw : (j+1)*cw]
			shared := 0
			for k := range cma {
				shared += bits.OnesCount64(cma[k] & cmb[k])
			}
			if shared < minME {
				continue
			}
			cb, mb := g.cyl[j*w:(j+1)*w], g.mask[j*w:(j+1)*w]
			cb, mb = cb[:len(ca)], mb[:len(ca)]
			var pa, pb, px int
			for k, c := range ca {
				// Content bits lie only in a cylinder's own valid cells, so
				// masking each by the other's validity restricts both to
				// the shared cells.
				x, y := c&mb[k], cb[k]&ma[k]
				pa += bits.OnesCount64(x)
				pb += bits.OnesCount64(y)
				px += bits.OnesCount64(x ^ y)
			}
			den := mccSqrt[pa] + mccSqrt[pb]
			if den == 0 {
				continue
			}
			s := 1 - mccSqrt[px]/den
			if s > 0 {
				m.pairs = append(m.pairs, mccPair{int32(i), int32(j), s})
			}
		}
	}
}

// selectPairs takes the pairs of highest local similarity, each minutia in
// at most one pair (greedy assignment), at most min(nA, nB, mccMaxNR). The
// order is by similarity quantised to 1/256, which is as fine as the
// relaxation can tell.
func (m *Matcher) selectPairs(g *Prepared) []mccPair {
	a := m.probe
	want := min(a.n, g.n, mccMaxNR)
	for i := range m.buck {
		m.buck[i] = 0
	}
	q := func(s float32) int { return 255 - int(s*255) }
	for _, p := range m.pairs {
		m.buck[q(p.sim)+1]++
	}
	for i := 1; i < len(m.buck); i++ {
		m.buck[i] += m.buck[i-1]
	}
	if cap(m.order) < len(m.pairs) {
		m.order = make([]int32, len(m.pairs), 2*len(m.pairs))
	}
	m.order = m.order[:len(m.pairs)]
	for i, p := range m.pairs {
		b := q(p.sim)
		m.order[m.buck[b]] = int32(i)
		m.buck[b]++
	}
	if len(m.usedB) < g.n {
		m.usedB = make([]bool, max(g.n, 64))
	}
	usedA, usedB := m.usedA, m.usedB[:g.n]
	for i := range usedA {
		usedA[i] = false
	}
	for i := range usedB {
		usedB[i] = false
	}
	m.nr = m.nr[:0]
	for _, o := range m.order {
		p := m.pairs[o]
		if usedA[p.a] || usedB[p.b] {
			continue
		}
		usedA[p.a], usedB[p.b] = true, true
		m.nr = append(m.nr, p)
		if len(m.nr) == want {
			break
		}
	}
	return m.nr
}

// relax runs LSS-R (MCC paper eq. 22): each pair's similarity is pulled
// towards the similarities of the pairs geometrically compatible with it,
// so that pairs that agree with a common alignment reinforce each other and
// isolated look-alikes fade.
func (m *Matcher) relax(g *Prepared, nr []mccPair) []float32 {
	a := m.probe
	n := len(nr)
	if cap(m.rho) < n*n {
		m.rho = make([]float32, n*n)
	}
	rho := m.rho[:n*n]
	na, nb := a.n, g.n
	for t := 0; t < n; t++ {
		at, bt := int(nr[t].a), int(nr[t].b)
		rowA, rowB := at*na, bt*nb
		for k := 0; k < n; k++ {
			if k == t {
				rho[t*n+k] = 0
				continue
			}
			ak, bk := int(nr[k].a), int(nr[k].b)
			dd := int(a.dist4[rowA+ak]) - int(g.dist4[rowB+bk])
			if dd < 0 {
				dd = -dd
			}
			if dd >= len(mccZDist) {
				rho[t*n+k] = 0
				continue
			}
			d2 := int8(a.relDir[rowA+ak] - g.relDir[rowB+bk])
			d3 := int8(a.radial[rowA+ak] - g.radial[rowB+bk])
			rho[t*n+k] = mccZDist[dd] * mccZAngle[mccAbs8(d2)] * mccZAngle[mccAbs8(d3)]
		}
	}
	for i := range m.lam {
		if cap(m.lam[i]) < n {
			m.lam[i] = make([]float32, n, 2*n)
		}
		m.lam[i] = m.lam[i][:n]
	}
	cur, next := m.lam[0], m.lam[1]
	for t := range nr {
		cur[t] = nr[t].sim
	}
	if n == 1 {
		// One pair has no partner to support it; relaxation would leave it
		// at wR times itself.
		cur[0] *= mccWR
		return cur
	}
	inv := (1 - mccWR) / float32(n-1)
	for it := 0; it < mccRelIter; it++ {
		for t := 0; t < n; t++ {
			row := rho[t*n : (t+1)*n]
			var s float32
			for k, r := range row {
				s += r * cur[k]
			}
			next[t] = mccWR*cur[t] + inv*s
		}
		cur, next = next, cur
	}
	return cur
}

func mccAbs8(v int8) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

// origIndex maps a prepared minutia back to its index in the template.
func (p *Prepared) origIndex(i int) int {
	if p.orig == nil {
		return i
	}
	return int(p.orig[i])
}
