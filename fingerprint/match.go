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
	mccMaxNP   = 8
	mccMuP     = 20
	mccTauP    = 0.4
	mccRelIter = 5
	mccWR      = 0.5
	mccMaxNR   = 32 // pairs taken into relaxation at most
	// mccNRSpace is the size of the per-pair arrays: a power of two not
	// below mccMaxNR, so that an index taken modulo it is a mask.
	mccNRSpace = 32
	mccRhoMin  = 1e-3 // compatibilities below this count as none
	// mccMinLocal: cylinder pairs less similar than this are not
	// candidates for pairing.
	mccMinLocal = 0.25
	// mccConsistRho is the compatibility at which two pairs agree, for
	// the consistent set; mccLSSFull the LSS-R score taken as certain
	// (genuine FVC pairs score 0.02-0.3, impostors below 0.05).
	mccConsistRho = 0.6
	mccLSSFull    = 0.15
	// mccSmallN and mccSmallPer: a comparison in which either template
	// holds n < mccSmallN minutiae scores at most n·mccSmallPer (0.10 for
	// 5 minutiae, 0.22 for 11). LSS-R averages the np best pairs, and np
	// is at least mccMinNP, so a template of 4-7 minutiae paired by chance
	// into 4 compatible pairs reaches LSS-R's full score: in 2 million
	// random pairs of 100,000 synthetic fingers, 25 of the 28 pairs above
	// 0.25 had one such template (scoring 0.25-0.44, where other
	// impressions of the same two fingers score 0.00-0.12), and the top
	// impostor score of the five FVC sets, 0.217, was FVC2004 DB2's 106_2
	// (8 minutiae) against 108_3. Such scores made the far tail heavier
	// than the fits of its bulk foresee: a node's self-calibrated
	// threshold for FPIR 1% on that synthetic gallery let 14 false hits
	// through in 1,000 searches, 1 with the cap (engine
	// TestSelfCalibratedFPIRFingers), and the fit of the FVC sets' 14,400
	// impostor pairs put FMR 1e-8 at 0.566, 0.352 with it (the node's
	// default tail then; engine.FVCFingerTail now pools 78,016). A cap
	// rather than a scaling: multiplying such scores by n/12 did as much
	// for the tails (5 false hits) but also lowered the small templates'
	// genuine scores where EERs are decided (the SecuGen templates of
	// FVC2004 DB2, with two of 6 and 9 minutiae, 8.20% → 9.63%); the cap
	// leaves every EER on the FVC sets, the SecuGen templates and the
	// synthetic sets as it was. 0.025 there (before the verification's
	// term, the matcher without it) kept the FVC fit heavy (0.471 at
	// 1e-8); after the term, mccSmallPerVerified. mccSmallN is the node's enrolment gate
	// (node.DefaultMinMinutiae): a gallery holds no such template, but a
	// probe is not gated.
	mccSmallN   = 12
	mccSmallPer = 0.02
	// mccSmallPerVerified caps the score after the global verification's
	// term (issue 15, session 12, when the stage became the default):
	// the term lifts a small template's chance pairings as it lifts real
	// ones, and uncapped (the cap at mccSmallPer before the term only)
	// the fit of the 78,016 pooled FVC impostor pairs put FMR 1e-12 at
	// 0.908, above 90% of the genuine pairs. On the five FVC sets, with
	// caps of 0.02, 0.025, 0.03 and 0.04 a minutia and none, every EER is
	// the same, and the share of the 1,400 genuine pairs below the fitted
	// thresholds at 1e-10 / 1e-12 is 30.0 / 37.4%, 28.7 / 36.1%, 30.5 /
	// 38.4%, 40.5 / 89.8% and 40.5 / 89.8%: 0.025 is the lowest. (The
	// SecuGen templates of FVC2004 DB2, looked at for 0.02 and no cap
	// before the grid, lose three genuine pairs at 0.02, 7.13% → 8.20%
	// EER ext, and none from 0.025 up.)
	mccSmallPerVerified = 0.025
	// The second look (MatchOptions.SecondLook) compares again, with up to
	// mccSecondCap minutiae of each template, a comparison whose score
	// before the verification term is above mccSecondGate, whose
	// verification term (unless MatchOptions.NoVerify) is at least
	// mccSecondVerMin and whose score is at most mccSecondCeil; it pairs
	// minutiae whose directions differ by at most mccSecondMaxD (1/256
	// turns: 21 is 29.5°). Genuine pairs of dry prints that the first look
	// misses score about 0.055-0.12 before verification there, with terms
	// of 0.19-0.47; above the ceiling a comparison already clears the
	// thresholds for FMR 1% and 0.1% measured on the FVC sets with both
	// options (0.19-0.24).
	// Until issue 15's session 9 the gate was 0.06 on the verified score,
	// with all minutiae (up to mccCap) and the first look's ±60°: with
	// the verification, 86% of FVC2004 DB3's impostor comparisons were compared
	// again, each costing about twice the first, and the 1:N rate fell to
	// 41,000 comparisons per CPU-second. With these settings 11% are
	// (3-6% on the other sets), the mean EER (ext) with the verification on the five
	// shared FVC sets is 1.84% (1.82% before; 2.17% with the verification alone),
	// and FVC2004 DB3 does 97,000-105,000 comparisons per CPU-second
	// (the verification alone 114,000-125,000; load average 1.7-2.6).
	// Chosen with each set held out in turn among budgets 64 and 80 with
	// windows 14, 21, 32 and 42 and 72 with 21, gates 0.06-0.07 and terms
	// 0.25-0.35
	// (docs/fingerprint-matching.md, "Second look"); the ceiling changed
	// no EER between 0.25 and no ceiling.
	mccSecondGate   = 0.065
	mccSecondVerMin = 0.3
	mccSecondCeil   = 0.3
	mccSecondMaxD   = 21
	// Compatibility of two pairs: sigmoids of the difference in distance
	// (pixels) and in the two relative angles (radians).
	mccMu1, mccTau1 = 8.0, -1.0
	mccMu2, mccTau2 = math.Pi / 12, -30.0
	mccMu3, mccTau3 = math.Pi / 12, -30.0
)

// Tables of the compatibility sigmoids, indexed by the distance difference
// in quarter pixels and by the absolute angle difference in 1/256 turns.
var (
	mccZDist  [80]float32 // to 20 pixels, where Z is below 1e-5
	mccZAngle [129]float32
	mccSqrt   []float32
	mccNPFor  [256]int
	// mccIndices[j] = j: a window of gallery minutiae as a list.
	mccIndices [mccCap]uint8
	// mccZDistSigned and mccZTurn are the same tables indexed by the signed
	// distance difference plus 79 and by the angle difference as a byte
	// (two's complement), so that relax needs no absolute values.
	// mccZDistSigned's last entry (+80, 20 pixels) is 0: the assembly
	// relaxation reads it for any difference out of range.
	mccZDistSigned [2 * len(mccZDist)]float32
	mccZTurn       [256]float32
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
	for i := range 2*len(mccZDist) - 1 {
		mccZDistSigned[i] = mccZDist[mccAbs(i-(len(mccZDist)-1))]
	}
	for i := range mccZTurn {
		mccZTurn[i] = mccZAngle[mccAbs8(int8(i))]
	}
	for j := range mccIndices {
		mccIndices[j] = uint8(j)
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
	// maxD is the largest direction difference of a candidate pair, in
	// 1/256 turns (128 or more: any).
	maxD int
	// The candidate pairs of a comparison, cand[:ncand].
	cand  *[mccCap * mccCap]mccCand
	ncand int
	nr    []mccPair
	// jobs holds localSimilarities' windows for the AVX-512 loop.
	jobs [2 * mccCap]uint32
	// rel.half[:nhalf] are the compatible pairs of pairs of the last
	// relaxation.
	rel   mccRelaxScratch
	nhalf int
	// dense is mccRelaxAVX512's matrix of ρ.
	dense [mccNRSpace][mccNRSpace]float32
	geo   mccPairGeo
	eff   []float32
	lam   [2][mccNRSpace]float32
	buck  [257]int32
	order []int32
	// touched keeps what touch read, so that its loads are not dropped.
	touched uint64
	// gpair holds the pair geometry computed for a compact gallery
	// template (Prepared.Compact).
	gpair []uint32
	// secondLook is MatchOptions.SecondLook; second compares the probe's
	// second-look form, made on first use.
	secondLook bool
	second     *Matcher
	// verifyOn is !MatchOptions.NoVerify; ver is the global verification's
	// scratch space (verify) and verified the last comparison's term (0
	// when it was not verified), for tests.
	verifyOn bool
	ver      mccVerScratch
	verified float64
	// unverified is the last comparison's score before the verification
	// term, on which the second look is gated.
	unverified float64
}

// mccCand is a candidate pair of a comparison: key packs the probe
// minutia (bits 0-7), the gallery minutia (8-15) and the sort bucket
// 255 − sim·255 (16-23); sim is the local similarity.
type mccCand struct {
	key uint32
	sim float32
}

// mccPair is a selected pair of minutiae (indices into the probe's and
// the gallery's prepared minutiae, at most mccCap) with their
// local similarity.
type mccPair struct {
	sim  float32
	a, b uint8
}

// NewMatcher prepares probe for comparison against gallery templates.
func NewMatcher(probe Template) *Matcher { return newMatcher(Prepare(probe)) }

// MatchOptions change how a Matcher compares; the zero value is what
// NewMatcher does (with the global verification, without the second
// look).
type MatchOptions struct {
	// AnyRotation pairs minutiae whatever the difference of their
	// directions, so that impressions rotated against each other by any
	// angle match: latent prints, or scans whose orientation is unknown.
	// By default minutiae are paired only when their directions differ by
	// at most 60°, which suits fingers placed upright on a sensor or a
	// card and finds rotations up to about 45°. With AnyRotation a
	// comparison costs about three times as much and impostors score
	// higher, so thresholds calibrated for the default do not carry over:
	// measure them with the same option (`ebsp eval fingerprint
	// --any-rotation`).
	AnyRotation bool
	// SecondLook compares a second time, with the best 72 minutiae by
	// quality of each template rather than 48, when a template holds more
	// than 48 and the comparison is in the range where genuine pairs of
	// dry prints are missed (a score before the verification term above
	// 0.065, and at most 0.3; unless NoVerify, a verification term of at
	// least 0.3), and takes the higher score. On dry prints the quality ranking
	// is close to noise and two impressions keep different minutiae; on
	// wet, blotched ones the extra minutiae are mostly false, which is why
	// the first look stays. With the verification, on the five shared FVC sets, it
	// lowers the mean EER (ext) from 2.17% to 1.84% (1.89% with its
	// settings chosen on the other four sets for each set held out;
	// FVC2004 DB2 6.93% to 6.21%; docs/fingerprint-matching.md) for
	// 14-18% of the 1:N comparisons per CPU-second on FVC2004 DB3
	// (97,000-105,000 measured) and less on the others; alone, from 2.63%
	// to 2.14% without the verification. It is not the default because
	// of its memory: a gallery
	// template prepared for it holds twice the bytes (25.3 KB on average
	// for the synthetic templates, 12.6 KB without; compact 9.2 KB for
	// 4.8 KB), and a compact second-look form costs FVC2004 DB3 a fifth
	// of its 1:N rate.
	// Thresholds calibrated without it do not carry over.
	// Gallery templates need PrepareWith with this option, which prepares
	// the second-look form as well (about 28 KB for 72 minutiae), and
	// MarshalBinary stores it; one made by Prepare holds only its best 48
	// minutiae, and then only the probe's side has a second look.
	SecondLook bool
	// NoVerify leaves out the global verification stage (issue 15), which
	// every comparison has by default since issue 15's session 12: the
	// pairs of minutiae that agree with each other give an alignment of
	// the probe onto the gallery template, under which every minutia is
	// paired with one close in position and direction, and the fraction
	// of the overlap's minutiae so paired is added to the score (times
	// 0.2; only for comparisons scoring above 0.05). On the five shared
	// FVC sets it lowers the mean EER (ext) from 2.63% to 2.17% (2.35%
	// with its settings chosen on the other four sets for each set held
	// out), the FNMR at FMR 1% from 4.00% to 2.93%; on the SecuGen
	// templates of the same images and on synthetic prints, never tuned
	// on, the mean EER from 3.75% to 3.25% and from 3.64% to 2.73%; and at
	// the deep thresholds a node sets, fitted to the 78,016 pooled FVC
	// impostor pairs, it leaves fewer genuine pairs below every one from
	// FMR 1e-3 to 1e-12 (at 1e-6 14.6% instead of 16.5%, at 1e-10 28.7%
	// instead of 49.3%, with small templates' verified scores capped:
	// mccSmallPerVerified; docs/fingerprint-matching.md). It costs 2.2-2.4 µs
	// a comparison, 15-30% of the 1:N rate, and about 500 bytes a gallery
	// template (a grid of its minutiae and their outline, made by Prepare
	// and UnmarshalBinary). Impostor scores rise (the mean on the FVC sets
	// from 0.058 to 0.096): thresholds and tails measured with it do not
	// carry over to comparisons without it (`ebsp eval fingerprint
	// --verify=false` measures those).
	NoVerify bool
}

// NewMatcherWith is NewMatcher with options.
func NewMatcherWith(probe Template, o MatchOptions) *Matcher {
	m := newMatcher(PrepareWith(probe, o))
	if o.AnyRotation {
		m.maxD = 128
	}
	m.secondLook = o.SecondLook
	m.verifyOn = !o.NoVerify
	return m
}

// NewMatcherPrepared returns a Matcher whose probe is a template already
// prepared for a gallery, so that two gallery templates can be compared
// (a node's self-calibration samples such pairs).
func NewMatcherPrepared(p *Prepared) *Matcher { return newMatcher(p) }

func newMatcher(p *Prepared) *Matcher {
	// Through a variable: the constant expression is not an integer.
	th := float64(mccMaxDTheta)
	return &Matcher{probe: p, maxD: int(th * 256 / (2 * math.Pi)), verifyOn: true}
}

// Clone returns a Matcher for the same probe and options with its own
// scratch space, for use in another goroutine.
func (m *Matcher) Clone() *Matcher {
	c := newMatcher(m.probe)
	c.maxD = m.maxD
	c.secondLook = m.secondLook
	c.verifyOn = m.verifyOn
	return c
}

// Compare returns the similarity of the probe and a gallery template, a
// number in [0, 1]: the mean of the LSS-R score (scaled, clipped at 1) and
// the squared fraction of minutiae in mutually consistent pairs, plus the
// global verification's term unless MatchOptions.NoVerify. Impostor
// comparisons on the FVC sets score 0.096 on average (FMR 1% at about
// 0.19), genuine ones from about 0.1 up to 1 for a template against
// itself (without the verification: about 0.06, 0.10 and from 0.05); the
// threshold for a
// target false match rate is calibrated with `ebsp eval`
// (docs/fingerprint-matching.md gives the values measured).
func (m *Matcher) Compare(g *Prepared) float64 {
	s, _ := m.compare(g, false)
	if m.secondLook && m.secondGated(s) {
		if s2, _, ok := m.look2(g, false); ok && s2 > s {
			s = s2
		}
	}
	return s
}

// secondGated reports whether the comparison just made, of score s,
// is looked at again (mccSecondGate).
func (m *Matcher) secondGated(s float64) bool {
	if m.unverified <= mccSecondGate || s > mccSecondCeil {
		return false
	}
	return !m.verifyOn || m.verified >= mccSecondVerMin
}

// look2 compares the second-look forms of the probe and of g (each the
// form itself when it has none) when at least one of them has one
// (MatchOptions.SecondLook).
func (m *Matcher) look2(g *Prepared, explain bool) (float64, []MinutiaPair, bool) {
	pa, pg := m.probe.secondForm(), g.secondForm()
	if pa == nil && pg == nil {
		return 0, nil, false
	}
	if m.second == nil {
		probe := m.probe
		if pa != nil {
			probe = pa.Full()
		}
		m.second = newMatcher(probe)
		m.second.maxD = m.maxD
		if m.maxD < 128 {
			m.second.maxD = mccSecondMaxD
		}
		m.second.verifyOn = m.verifyOn
	}
	if pg == nil {
		pg = g
	}
	s, pairs := m.second.compareLocal(pg, explain)
	return s, pairs, true
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
	// Verified is the global verification's term: the fraction of the
	// overlap's minutiae that the alignment of Pairs paired, of which
	// Score holds mccVerWeight (0.2) times, up to the small templates'
	// cap; 0 when the comparison was not verified (MatchOptions.NoVerify,
	// or a score below the stage's gate). Pairs are the relaxed pairs
	// only, not those the verification added.
	Verified float64
}

// Pairing compares like Compare and also returns which minutiae were
// paired, for inspection.
func (m *Matcher) Pairing(g *Prepared) Pairing {
	s, pairs := m.compare(g, true)
	v := m.verified
	if m.secondLook && m.secondGated(s) {
		if s2, pairs2, ok := m.look2(g, true); ok && s2 > s {
			s, pairs, v = s2, pairs2, m.second.verified
		}
	}
	return Pairing{Score: s, Pairs: pairs, Verified: v}
}

// Compare is a one-off comparison of two templates (1:1). For 1:N, prepare
// the gallery once and use a Matcher.
func Compare(probe, gallery Template) float64 {
	return NewMatcher(probe).Compare(Prepare(gallery))
}

func (m *Matcher) compare(g *Prepared, explain bool) (float64, []MinutiaPair) {
	if m.probe.n > 0 && g.n > 0 {
		m.touch(g)
	}
	return m.compareLocal(g, explain)
}

// compareLocal is compare without touch: for the second look, whose
// forms were just read by the first.
func (m *Matcher) compareLocal(g *Prepared, explain bool) (float64, []MinutiaPair) {
	a := m.probe
	// A comparison that ends early leaves no verification term and no
	// score before it, so that the second look's gate (secondGated)
	// never reads the previous comparison's.
	m.verified, m.unverified = 0, 0
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
	if cap(m.eff) < len(nr) {
		m.eff = make([]float32, len(nr), 2*len(nr))
	}
	eff := m.eff[:len(nr)]
	for t := range nr {
		eff[t] = lam[t] / nr[t].sim
	}
	for i := 0; i < k; i++ { // partial selection sort: k ≤ mccMaxNP
		best := i
		for j := i + 1; j < len(m.order); j++ {
			if eff[m.order[j]] > eff[m.order[best]] {
				best = j
			}
		}
		m.order[i], m.order[best] = m.order[best], m.order[i]
	}
	sum := 0.0
	for _, t := range m.order[:k] {
		sum += float64(lam[t])
	}
	// The score fuses two views of the same evidence (docs/
	// fingerprint-matching.md): LSS-R, scaled so that mccLSSFull counts as
	// certain, and the squared fraction of minutiae in the largest set of
	// mutually compatible pairs, m²/(nA·nB), which rewards many consistent
	// pairs where LSS-R looks at only np of them. Unless MatchOptions.NoVerify,
	// the fraction of the overlap's minutiae that the consistent set's
	// alignment pairs (verify), weighted by mccVerWeight, is added.
	lss := min(1, sum/float64(np)/mccLSSFull)
	size, set := m.consistent(nr, lam)
	c := float64(size)
	score := (lss + c*c/float64(a.n*g.n)) / 2
	least := min(a.n, g.n)
	if least < mccSmallN {
		score = min(score, float64(least)*mccSmallPer)
	}
	m.unverified = score
	if m.verifyOn && score > mccVerGate {
		m.verified = m.verify(g, nr, lam, set)
		score = min(1, score+mccVerWeight*m.verified)
		if least < mccSmallN {
			// A cap holds for the verified score too: a handful of
			// minutiae verify as easily by chance.
			score = min(score, float64(least)*mccSmallPerVerified)
		}
	}
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

// touch reads one word of every cache line of the gallery template's
// cylinders and pair geometry before the comparison uses them. A large
// gallery lives in main memory; these loads are independent of each other,
// so the processor has many of them in flight at once, where the
// comparison itself would wait for its misses a few at a time.
func (m *Matcher) touch(g *Prepared) {
	var x uint64
	for i := 0; i < len(g.bits); i += 8 {
		x ^= g.bits[i]
	}
	for i := 0; i < len(g.pair); i += 16 {
		x ^= uint64(g.pair[i])
	}
	if m.verifyOn && g.n > 0 {
		// What the global verification reads (verify).
		for i := 0; i < g.n; i += 16 {
			x ^= uint64(math.Float32bits(g.x[i])) ^ uint64(math.Float32bits(g.y[i]))
		}
		x ^= uint64(g.dir8[0])
		if g.grid != nil {
			x ^= uint64(g.grid.idx[0]) ^ uint64(g.grid.start[0])
		}
	}
	m.touched ^= x
}

// localSimilarities fills m.cand with every pair of usable cylinders whose
// directions differ by at most the matcher's window (m.maxD: mccMaxDTheta
// unless AnyRotation) and that share enough valid cells, with their
// bit-based similarity 1 − ‖a⊕b‖ / (‖a‖+‖b‖) (MCC paper eq. 17) when it is
// at least mccMinLocal. Unlike the paper, the norms are taken over the
// whole cylinders rather than over the cells valid in both: content bits
// exist only in a cylinder's valid cells, so this counts what one cylinder
// sees beyond the other's border as difference. On the FVC sets this made
// no measurable difference to accuracy (docs/fingerprint-matching.md) and
// halves the work, which is one popcount per word.
func (m *Matcher) localSimilarities(g *Prepared) {
	a := m.probe
	geo := mccGeo
	minME := int(math.Ceil(mccMinME * float64(geo.cells)))
	maxD := m.maxD
	// Every candidate is written without append into space for all nA·nB
	// pairs.
	if m.cand == nil {
		m.cand = new([mccCap * mccCap]mccCand)
	}
	np := 0
	gn := g.n
	gBits, gNorm, gUsable := g.bits[:gn*mccStrideConst], g.norm[:gn], g.usable[:gn]
	// The windows queued for mccEmitJobsAVX512, m.jobs[:nj]: at most two
	// per probe minutia.
	nj := 0
	for i := 0; i < a.n; i++ {
		if a.usable[i] == 0 {
			continue
		}
		blkA := (*[mccStrideConst]uint64)(a.bits[i*mccStrideConst:])
		// The gallery minutiae within maxD of this direction: one window
		// of the direction order, or two when it wraps around 0.
		lo, hi := int(a.dir8[i])-maxD, int(a.dir8[i])+maxD+1
		var spans [2][2]int
		ns := 0
		switch {
		case hi-lo >= 256:
			spans[0], ns = [2]int{0, gn}, 1
		case lo < 0:
			spans[0], spans[1], ns = [2]int{0, int(g.dirStart[hi])}, [2]int{int(g.dirStart[lo+256]), gn}, 2
		case hi > 256:
			spans[0], spans[1], ns = [2]int{int(g.dirStart[lo]), gn}, [2]int{0, int(g.dirStart[hi-256])}, 2
		default:
			spans[0], ns = [2]int{int(g.dirStart[lo]), int(g.dirStart[hi])}, 1
		}
		// The gallery minutiae of the window whose cylinder is usable and
		// shares enough valid cells with this one, then the bits in which
		// their cylinders differ from this one.
		// Two cylinders share at least cellsA + cellsB − cells valid cells
		// (they have no others), so when that bound already reaches minME
		// for every usable gallery cylinder, which it does for most (half
		// of all cylinders have every cell valid), no cell is counted and
		// the candidates are the whole window, unusable ones skipped
		// below.
		sure := int(a.cellCount[i])+g.minCells-geo.cells >= minME
		if sure && useAVX512 {
			// Queued, and compared in one call with the windows of the
			// next probe minutiae.
			for _, sp := range spans[:ns] {
				if sp[1] > sp[0] {
					m.jobs[nj%len(m.jobs)] = uint32(i) | uint32(sp[0])<<8 | uint32(sp[1]-sp[0])<<16
					nj++
				}
			}
			continue
		}
		if nj > 0 {
			// The queued windows' candidates come first.
			np += mccEmitJobsAVX512(m.jobs[:nj], &a.bits[0], &a.norm[0], &gBits[0], &gNorm[0], &m.cand[np])
			nj = 0
		}
		for _, sp := range spans[:ns] {
			if sure && usePOPCNT {
				if sp[1] > sp[0] {
					np += mccEmitWindowPOPCNT(blkA, &gBits[sp[0]*mccStrideConst], &gNorm[sp[0]], &mccSqrt[0],
						a.norm[i].norm, uint32(i)|uint32(sp[0])<<8, sp[1]-sp[0], &m.cand[np])
				}
				continue
			}
			var buf [mccCap]uint8
			var cand []uint8
			if sure {
				cand = mccIndices[sp[0]:sp[1]]
			} else {
				cand = buf[:mccSharedCells(blkA, gBits, gUsable, sp[0], sp[1], minME, &buf, 0)]
			}
			var px [mccCap]uint16
			mccDiffBits(blkA, gBits, cand, &px)
			np = mccEmit(a.norm[i].norm, uint32(i), gNorm, cand, &px, m.cand, np)
		}
	}
	if nj > 0 {
		np += mccEmitJobsAVX512(m.jobs[:nj], &a.bits[0], &a.norm[0], &gBits[0], &gNorm[0], &m.cand[np])
	}
	m.ncand = np
}

// mccSharedCells appends to cand, from count nc on, the gallery minutiae j
// in [lo, hi) whose cylinder is usable and shares at least minME valid
// cells with cylinder a, and returns the new count. About half of a window
// fails, unpredictably, so the loop has no branch: every minutia is
// written and the count advances by 0 or 1. The comparison loops are small
// functions of their own so that their values stay in registers.
func mccSharedCells(a *[mccStrideConst]uint64, gBits []uint64, gUsable []uint8, lo, hi, minME int, cand *[mccCap]uint8, nc int) int {
	cellA0, cellA1 := a[mccWordsConst], a[mccWordsConst+1]
	for j := lo; j < hi; j++ {
		b := (*[mccStrideConst]uint64)(gBits[j*mccStrideConst:])
		shared := bits.OnesCount64(cellA0&b[mccWordsConst]) + bits.OnesCount64(cellA1&b[mccWordsConst+1])
		cand[nc&(mccCap-1)] = uint8(j)
		nc += int(gUsable[j]) & int(uint(minME-1-shared)>>63)
	}
	return nc
}

// mccDiffBits counts, for each gallery cylinder of cand, the content bits
// in which it differs from cylinder a. It is a loop of its own, with few
// live values, so that they stay in registers: Go's default amd64 target
// checks for POPCNT at every count, and the fallback call it would make
// spills whatever the loop holds.
func mccDiffBits(a *[mccStrideConst]uint64, gBits []uint64, cand []uint8, out *[mccCap]uint16) {
	for k, j := range cand {
		off := int(j) * mccStrideConst
		b := (*[mccStrideConst]uint64)(gBits[off : off+mccStrideConst])
		px := bits.OnesCount64(a[0] ^ b[0])
		px += bits.OnesCount64(a[1] ^ b[1])
		px += bits.OnesCount64(a[2] ^ b[2])
		px += bits.OnesCount64(a[3] ^ b[3])
		px += bits.OnesCount64(a[4] ^ b[4])
		px += bits.OnesCount64(a[5] ^ b[5])
		out[k&(mccCap-1)] = uint16(px)
	}
}

// mccEmit turns the differing bits px of probe minutia i's cylinder (norm
// normA) against the gallery cylinders cand into their bit-based
// similarity 1 − ‖a⊕b‖ / (‖a‖+‖b‖) and writes each pair at out[np]; np
// advances past the pairs that are usable and at least mccMinLocal
// similar, and the new count is returned. The loop has no branch (whether
// a pair is kept is not predictable, and a misprediction costs more than
// the write) and few arguments, which the register-based calling
// convention keeps in registers.
func mccEmit(normA float32, i uint32, gNorm []mccNorm, cand []uint8, px *[mccCap]uint16, out *[mccCap * mccCap]mccCand, np int) int {
	sqrtTab := (*[mccWordsConst*64 + 1]float32)(mccSqrt)
	for k, j := range cand {
		g := gNorm[j]
		// The denominator is positive for a usable probe cylinder (finish
		// gives it content bits); an unusable gallery one scores 0.
		s := (1 - sqrtTab[px[k&(mccCap-1)]]/(normA+g.norm)) * g.use
		// For a kept pair s ∈ [mccMinLocal, 1], so the bucket
		// 255 − s·255 ∈ [0, 192] fits a byte.
		out[np] = mccCand{i | uint32(j)<<8 | uint32(uint8(255-int(s*255)))<<16, s}
		// s ≥ mccMinLocal exactly when s − mccMinLocal has no sign bit.
		np += int(^math.Float32bits(s-mccMinLocal) >> 31)
	}
	return np
}

// selectPairs takes the pairs of highest local similarity, each minutia in
// at most one pair (greedy assignment), at most min(nA, nB, mccMaxNR). The
// order is by similarity quantised to 1/256, which is as fine as the
// relaxation can tell.
func (m *Matcher) selectPairs(g *Prepared) []mccPair {
	a := m.probe
	want := min(a.n, g.n, mccMaxNR)
	// A stable counting sort of the candidates by bucket: the order is by
	// bucket, then by generation. (Counting here rather than as
	// localSimilarities makes them keeps that loop free of a store whose
	// address waits for a division.)
	cand := m.cand[:m.ncand]
	if cap(m.order) < len(cand) {
		m.order = make([]int32, len(cand), mccCap*mccCap)
	}
	// The sorted order holds the candidate's index (bits 0-15, below
	// mccCap²) and its two minutiae (16-23, 24-31), so that the
	// walk below rejects a candidate without another load.
	order := m.order[:len(cand)]
	if len(cand) > 0 {
		mccBucketOrderBest(cand, &m.buck, order)
	}
	m.order = order
	// Minutiae already paired (mccCap, a power of two, bounds them).
	var usedA, usedB [mccCap]uint8
	if cap(m.nr) < mccMaxNR {
		m.nr = make([]mccPair, 0, mccMaxNR)
	}
	nr := m.nr[:0]
	for _, o := range order {
		a, b := uint8(o>>16)&(mccCap-1), uint8(o>>24)&(mccCap-1)
		if usedA[a]|usedB[b] != 0 {
			continue
		}
		usedA[a], usedB[b] = 1, 1
		nr = append(nr, mccPair{cand[o&0xffff].sim, a, b})
		if len(nr) == want {
			break
		}
	}
	m.nr = nr
	return nr
}

// mccBucketOrderGo writes to order the candidates of cand in order of
// their bucket (key bits 16-23), stably, by counting sort in buck: each
// entry the candidate's index and its two minutiae (bits 16-31 of the
// entry). mccBucketOrder is this loop, in assembly on amd64.
func mccBucketOrderGo(cand []mccCand, buck *[257]int32, order []int32) {
	clear(buck[:])
	for _, c := range cand {
		buck[int(uint8(c.key>>16))+1]++
	}
	for i := 1; i < len(buck); i++ {
		buck[i] += buck[i-1]
	}
	for k, c := range cand {
		q := uint8(c.key >> 16)
		order[buck[q]] = int32(uint32(k) | (c.key&0xffff)<<16)
		buck[q]++
	}
}

// relax runs LSS-R (MCC paper eq. 22): each pair's similarity is pulled
// towards the similarities of the pairs geometrically compatible with it,
// so that pairs that agree with a common alignment reinforce each other and
// isolated look-alikes fade.
func (m *Matcher) relax(g *Prepared, nr []mccPair) []float32 {
	a := m.probe
	n := len(nr)
	// ρ is made symmetric by checking the radial angle from both ends of
	// the segment, so only half of it is computed. Most pairs of pairs are
	// incompatible (ρ ≈ 0); the compatible ones are kept as a sparse list
	// (m.edges, both directions) that relaxation iterates over.
	na, nb := a.n, g.n
	// The difference of the two relative directions of a pair of pairs,
	// (dirA[ak]−dirA[at]) − (dirB[bk]−dirB[bt]), is (dirA[ak]−dirB[bk]) −
	// (dirA[at]−dirB[bt]) in 1/256 turns: one byte per pair, taken once.
	rs := &m.rel
	for t, p := range nr {
		rs.ak[t], rs.bk[t] = p.a, p.b
		rs.turn[t] = a.dir8[p.a] - g.dir8[p.b]
	}
	gpair := g.pair
	if gpair == nil {
		// A compact gallery template: compute the entries read below.
		if cap(m.gpair) < nb*nb {
			m.gpair = make([]uint32, mccCap*mccCap)
		}
		gpair = m.gpair[:nb*nb]
		for t := 0; t < n; t++ {
			for k := t + 1; k < n; k++ {
				v := uint32(0) // the table's diagonal
				if rs.bk[t] != rs.bk[k] {
					v = g.pairAt(int(rs.bk[t]), int(rs.bk[k]))
				}
				gpair[int(rs.bk[t])*nb+int(rs.bk[k])] = v
			}
		}
	}
	// The compatible pairs of pairs (rs.half), in row order: t ascending,
	// then k.
	nh := mccCompatPairsBest(rs, a.pair, na, gpair, nb, n, &m.geo)
	m.nhalf = nh
	half := rs.half[:nh]
	// Fixed-size arrays indexed modulo mccNRSpace (every index is below it)
	// need no bounds checks in the iteration.
	cur, next := &m.lam[0], &m.lam[1]
	for t := range nr {
		cur[t] = nr[t].sim
	}
	if n == 1 {
		// One pair has no partner to support it; relaxation would leave it
		// at wR times itself.
		cur[0] *= mccWR
		return cur[:1]
	}
	inv := (1 - mccWR) / float32(n-1)
	if useAVX512 {
		mccRelaxAVX512(&rs.half[0], nh, n, cur, inv, mccWR, &m.dense, mccRelIter)
		return cur[:n]
	}
	return mccRelaxRoundsGo(half, n, cur, next, inv)[:n]
}

// mccRelaxRoundsGo runs relaxation's rounds over the compatible pairs of
// pairs half (row order) of n pairs whose similarities are in cur, next
// being scratch, with inv = (1 − wR)/(n − 1), and returns the array that
// holds the result (cur or next). mccRelaxAVX512 computes the same.
func mccRelaxRoundsGo(half []uint64, n int, cur, next *[mccNRSpace]float32, inv float32) *[mccNRSpace]float32 {
	// Where each pair's row of half starts (rows of pairs with no
	// compatible later pair are empty).
	var rowEnd [mccNRSpace]uint16
	for i, h := range half {
		rowEnd[uint8(h)%mccNRSpace] = uint16(i + 1)
	}
	for it := 0; it < mccRelIter; it++ {
		clear(next[:n])
		// Each compatible pair of pairs (t, k), t < k, adds ρ·λ[k] to t's
		// sum and ρ·λ[t] to k's. Every pair's sum receives its terms in
		// the order of half (the rows before its own, where it is k, then
		// its own row), as a list of both directions of each entry would
		// add them; t's sum is kept in a register along its row, since
		// its additions would otherwise wait for each other through
		// memory. That order is the order of the partners' indices.
		start := 0
		for t := 0; t < n-1; t++ {
			end := int(rowEnd[t%mccNRSpace])
			if end <= start {
				continue
			}
			acc, ct := next[t%mccNRSpace], cur[t%mccNRSpace]
			// The conversions round each product, so that no build fuses
			// a multiply-add (GOAMD64=v3 would): the same values on every
			// target, and as mccRelaxAVX512 computes them.
			for _, h := range half[start:end] {
				k, r := uint8(h>>8), math.Float32frombits(uint32(h>>32))
				acc += float32(r * cur[k%mccNRSpace])
				next[k%mccNRSpace] += float32(r * ct)
			}
			next[t%mccNRSpace] = acc
			start = end
		}
		for t := range n {
			next[t%mccNRSpace] = float32(mccWR*cur[t%mccNRSpace]) + float32(inv*next[t%mccNRSpace])
		}
		cur, next = next, cur
	}
	return cur
}

// mccRelaxScratch holds relax's view of the relaxed pairs, where the
// assembly loop of mccCompatPairs reads them from one base address: their
// probe and gallery minutiae, the difference of their directions (1/256
// turns), and the compatible pairs of pairs found, packed as the two pair
// indices and ρ's bits (bits 0-7, 8-15, 32-63).
type mccRelaxScratch struct {
	ak, bk, turn [mccNRSpace]uint8
	half         [mccNRSpace * (mccNRSpace - 1) / 2]uint64
}

// mccPairGeo is where mccCompatPairsAVX512 copies the geometry words of
// each pair of pairs, the probe's then the gallery template's, with room
// for a last block of 16 lanes.
type mccPairGeo [2][mccNRSpace*(mccNRSpace-1)/2 + 16]uint32

// mccCompatPairsGo writes to s.half every pair of the n relaxed pairs,
// (t, k) with t < k in row order, whose compatibility ρ is at least
// mccRhoMin, and returns how many there are. apair and gpair are the pair
// geometry tables of the probe (na minutiae) and the gallery template (nb).
// The tests are ordered by how many pairs they reject: the distance about
// seven in ten, the direction difference half the rest. mccCompatPairs is
// this loop, in assembly on amd64.
func mccCompatPairsGo(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, n int) int {
	nh := 0
	for t := 0; t < n; t++ {
		rowA, rowB := apair[int(s.ak[t])*na:][:na], gpair[int(s.bk[t])*nb:][:nb]
		turnT := s.turn[t]
		for k := t + 1; k < n; k++ {
			pa, pb := rowA[s.ak[k]], rowB[s.bk[k]]
			// |dd| < len(mccZDist), as one unsigned comparison.
			dd := mccDist4(pa) - mccDist4(pb) + len(mccZDist) - 1
			if uint(dd) >= uint(2*len(mccZDist)-1) {
				continue
			}
			r := mccZDistSigned[dd] * mccZTurn[s.turn[k]-turnT]
			if r < mccRhoMin {
				continue
			}
			r *= mccZTurn[mccRadial(pa)-mccRadial(pb)] * mccZTurn[mccBackRad(pa)-mccBackRad(pb)]
			if r < mccRhoMin {
				continue
			}
			s.half[nh] = uint64(t) | uint64(k)<<8 | uint64(math.Float32bits(r))<<32
			nh++
		}
	}
	return nh
}

// consistent returns the size of a set of mutually compatible pairs, grown
// greedily in order of relaxed similarity: a pair joins when it is
// compatible (ρ ≥ mccConsistRho) with at least half of the set; and the
// set, bit t for nr[t]. lam is relax's result, a slice of one of the
// Matcher's arrays.
func (m *Matcher) consistent(nr []mccPair, lam []float32) (int, uint32) {
	// compat[t] has bit k set when pairs t and k agree (n ≤ mccMaxNR ≤ 32).
	var compat [mccNRSpace]uint32
	for _, h := range m.rel.half[:m.nhalf] {
		if math.Float32frombits(uint32(h>>32)) >= mccConsistRho {
			t, k := uint8(h)%mccNRSpace, uint8(h>>8)%mccNRSpace
			compat[t] |= 1 << k
			compat[k] |= 1 << t
		}
	}
	var order [mccNRSpace]int32
	mccLamOrderBest((*[mccNRSpace]float32)(lam[:mccNRSpace]), len(nr), &order)
	// The order is left in m.order, where Pairing reads its pairs.
	m.order = append(m.order[:0], order[:len(nr)]...)
	var set uint32
	size := 0
	for _, t := range order[:len(nr)] {
		t %= mccNRSpace
		if lam[t] <= 0 {
			break
		}
		if 2*bits.OnesCount32(compat[t]&set) >= size {
			set |= 1 << t
			size++
		}
	}
	return size, set
}

// mccLamOrderGo writes to order the pairs 0 to n−1 in decreasing order of
// lam, pairs of equal lam in increasing order (a stable sort).
// mccLamOrderBest is this, in AVX-512 where the processor has it.
func mccLamOrderGo(lam *[mccNRSpace]float32, n int, order *[mccNRSpace]int32) {
	for t := range n {
		order[t] = int32(t)
	}
	for i := 1; i < n; i++ { // insertion sort, n ≤ mccMaxNR
		for j := i; j > 0 && lam[order[j]%mccNRSpace] > lam[order[j-1]%mccNRSpace]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

func mccAbs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func mccAbs8(v int8) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

// origIndex maps a prepared minutia back to its index in the template.
func (p *Prepared) origIndex(i int) int { return int(p.orig[i]) }
