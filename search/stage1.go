package search

import (
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/ebsp/ebsp/biometric"
)

// Indexer is an Engine whose templates also have a fixed-length int8
// vector for stage 1 (fingerprint.Vector, a face embedding): vectors whose
// dot product is larger belong, more likely, to the same person. The
// gallery keeps them end to end in one array and scans it with ScanInt8.
type Indexer interface {
	// VectorLen is the length of every vector; a multiple of 64 lets the
	// scan use its widest loop.
	VectorLen() int
	// GalleryVector writes the vector of a template prepared by
	// PrepareGallery into dst (VectorLen values).
	GalleryVector(prepared any, dst []int8)
}

// BiasedIndexer is an Indexer whose stage-1 score is the dot product plus
// a constant of the gallery template (faces: −|b|²/2, so that the score
// ranks by Euclidean distance), kept beside the vectors rather than
// spread over extra vector values that every scan would read.
type BiasedIndexer interface {
	Indexer
	// GalleryBias is the constant of a template prepared by
	// PrepareGallery, on the scale of the dot products.
	GalleryBias(prepared any) int32
}

// VectorTemplate is an Indexer whose vector is the whole template (a face
// embedding): the gallery keeps the vector only, not a second copy as the
// prepared form, and hands it to Probe.Compare as a []int8.
type VectorTemplate interface {
	Indexer
	VectorIsTemplate() bool
}

// Compacter is an Engine that can shrink a prepared gallery template into
// a form that compares the same but more slowly (fingerprint's
// Prepared.Compact): for a gallery so large that only stage 1 touches
// every template and memory, not the shortlist's comparisons, is what
// limits it. See Gallery.SetCompact.
type Compacter interface {
	Compact(prepared any) any
}

// VectorProbe is a Probe that has a stage-1 vector. A search whose probes
// all have one, on a gallery whose engine is an Indexer, runs in two
// stages.
type VectorProbe interface {
	Probe
	// Vector writes the probe's vector into dst (VectorLen values).
	Vector(dst []int8)
}

// Shortlist says how many identities stage 1 passes to the exact stage 2:
// Fraction of the gallery's identities (the penetration rate), at least
// Min. When that is the whole gallery the search is exhaustive.
type Shortlist struct {
	Min      int     `json:"min"`
	Fraction float64 `json:"fraction"`
}

// DefaultShortlist is the shortlist of a new gallery; a gallery of fewer
// than Min identities is searched exhaustively. 5% of the identities is
// the smallest penetration rate measured at which the two-stage search
// decided as the exhaustive one both on real single prints (the FVC sets
// among 10,000 synthetic fingers: 2% missed 1 mate more of 350) and on
// synthetic two-finger searches of 100,000 fingers (2% missed 2 mates of
// 50 that the exhaustive search found, since the synthetic prints were
// refitted to real impostor scores): docs/search.md gives the hit rate
// against penetration rate and the commands. Synthetic single-finger
// searches of 100,000 fingers are the exception measured: 17% of their
// mates miss the 5% shortlist (rank-1 FNIR 18.0% against 3.0% exhaustive;
// engine's TestStage1RecallFingers).
var DefaultShortlist = Shortlist{Min: 1000, Fraction: 0.05}

// Shortlister is an Indexer whose stage 1 needs another shortlist than
// DefaultShortlist: one whose vector ranks by the exact score itself, up
// to rounding (faces), needs a shortlist only as long as the candidates a
// search reports, not a penetration rate.
type Shortlister interface {
	Shortlist() Shortlist
}

// DefaultShortlistOf is the shortlist a new gallery of the engine has:
// the engine's own (Shortlister), else DefaultShortlist.
func DefaultShortlistOf(e Engine) Shortlist {
	if s, ok := e.(Shortlister); ok {
		return s.Shortlist()
	}
	return DefaultShortlist
}

// Exhaustive is the shortlist of a gallery searched without stage 1.
var Exhaustive = Shortlist{Fraction: 1}

// Size is how many of a gallery's identities the shortlist passes to
// stage 2: Fraction of them rounded up, at least Min, at most all.
func (s Shortlist) Size(identities int) int {
	k := int(math.Ceil(s.Fraction * float64(identities)))
	return min(identities, max(k, s.Min))
}

// SetShortlist changes the shortlist of later searches.
func (g *Gallery) SetShortlist(s Shortlist) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shortlist = s
}

// SetCompact makes templates added from now on be kept in the engine's
// compact form (Compacter), after their stage-1 vector is taken; it does
// nothing for an engine without one.
func (g *Gallery) SetCompact(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.compacted = on
}

// probeVectors returns the stage-1 vectors of the probe samples, nil when
// the gallery or a probe has none.
func (g *Gallery) probeVectors(probes []ProbeSample) [][]int8 {
	if g.ix == nil {
		return nil
	}
	out := make([][]int8, len(probes))
	for i, p := range probes {
		vp, ok := p.Probe.(VectorProbe)
		if !ok {
			return nil
		}
		out[i] = make([]int8, g.dim)
		vp.Vector(out[i])
	}
	return out
}

// Stage1 returns the best k identities by stage-1 score alone, best first,
// each with its fused stage-1 score (the sum over probe samples of the best
// dot product with a template of a compatible position, negative ones
// counting 0), or nil when the gallery or a probe has no vectors. It is
// what Search shortlists, exposed to measure hit rate against penetration
// rate.
func (g *Gallery) Stage1(probes []ProbeSample, k int) []biometric.Candidate {
	g.mu.RLock()
	defer g.mu.RUnlock()
	pv := g.probeVectors(probes)
	if pv == nil || k <= 0 {
		return nil
	}
	ids := g.stage1(probes, pv, k)
	out := make([]biometric.Candidate, len(ids))
	for i, s := range ids {
		out[i] = biometric.Candidate{IdentityID: g.ids.names[s.ord], Score: float64(s.score)}
	}
	return out
}

// stage1 scans every vector with every probe vector of a compatible
// position, fuses per identity (sum over samples of the best score) and
// returns the best k identities, best first. The caller holds the read
// lock.
func (g *Gallery) stage1(probes []ProbeSample, pv [][]int8, k int) []ordScore {
	if len(probes) == 1 && len(g.entries) == len(g.ids.names) {
		return g.stage1Single(probes, pv, k)
	}
	fused, release := g.stage1Fused(probes, pv)
	defer release()
	h := make([]ordScore, 0, k)
	h = selectBest(h, fused, 0, k)
	sortBest(h)
	return h
}

// stage1Fused returns the fused stage-1 score of every identity, by
// ordinal, in a pooled array that release gives back.
func (g *Gallery) stage1Fused(probes []ProbeSample, pv [][]int8) (fused []int32, release func()) {
	n, ids, ns := len(g.entries), len(g.ids.names), len(probes)
	// Per sample, one score per entry, written by the workers in disjoint
	// ranges; then fused per identity in one pass.
	buf := getScores(ns*n + ns*ids)
	scores, best := buf[:ns*n], buf[ns*n:]
	wide := widenAll(pv)
	workers := min(g.workers, max(1, n/4096))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { g.scanPart(probes, pv, wide, scores, lo, hi) })
	}
	wg.Wait()
	clear(best)
	for s := range ns {
		bs, ss := best[s*ids:(s+1)*ids], scores[s*n:(s+1)*n]
		for e := range g.entries {
			if o := g.entries[e].ord; ss[e] > bs[o] {
				bs[o] = ss[e]
			}
		}
	}
	for s := 1; s < ns; s++ {
		for o, v := range best[s*ids : (s+1)*ids] {
			best[o] += v
		}
	}
	return best[:ids], func() { putScores(buf) }
}

// stage1Single is stage1 for one probe sample on a gallery of one
// template per identity (a face gallery): entry e is then ordinal e
// (ordinals are handed out in the order of the entries, and compact
// renumbers them so), the fused score is the entry's own, and each worker
// keeps the best k of its part of the gallery while the part is in its
// cache, so that nothing after the scan runs on one core but the merge of
// the workers' k best.
func (g *Gallery) stage1Single(probes []ProbeSample, pv [][]int8, k int) []ordScore {
	n := len(g.entries)
	buf := getScores(n)
	defer putScores(buf)
	wide := widenAll(pv)
	workers := min(g.workers, max(1, n/4096))
	heaps := make([][]ordScore, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() {
			h := make([]ordScore, 0, k)
			// Blocks of entries: scanned, then selected from while the
			// scores are in the first-level cache.
			const block = 4096
			for b := lo; b < hi; b += block {
				e := min(hi, b+block)
				g.scanPart(probes, pv, wide, buf[:n], b, e)
				h = selectBest(h, buf[b:e], b, k)
			}
			heaps[w] = h
		})
	}
	wg.Wait()
	h := heaps[0]
	for _, o := range heaps[1:] {
		for _, c := range o {
			h = pushBest(h, c, k)
		}
	}
	sortBest(h)
	return h
}

// selectBest offers scores[i] as ordinal base+i to the min-heap h of at
// most k best and returns it. A negative score counts 0, as it does when
// several samples' scores are fused.
func selectBest(h []ordScore, scores []int32, base, k int) []ordScore {
	for i, f := range scores {
		f = max(f, 0)
		if len(h) == k && f <= h[0].score {
			continue // the common case, and ties go to the lower ordinal already kept
		}
		h = pushBest(h, ordScore{int32(base + i), f}, k)
	}
	return h
}

// pushBest offers c to the min-heap h of at most k best.
func pushBest(h []ordScore, c ordScore, k int) []ordScore {
	switch {
	case len(h) < k:
		h = append(h, c)
		siftUp(h, len(h)-1)
	case worse(h[0], c):
		h[0] = c
		siftDown(h, 0)
	}
	return h
}

// sortBest orders a heap's identities best first.
func sortBest(h []ordScore) {
	slices.SortFunc(h, func(a, b ordScore) int {
		switch {
		case worse(b, a):
			return -1
		case worse(a, b):
			return 1
		}
		return 0
	})
}

// widenAll widens each probe vector.
func widenAll(pv [][]int8) [][]int16 {
	wide := make([][]int16, len(pv))
	for s := range pv {
		wide[s] = widen(pv[s])
	}
	return wide
}

// Stage1Rank returns how many identities stage 1 ranks above identity
// for these probes (0: first), by the order Stage1 uses, and false when
// the gallery does not hold the identity or has no vectors: the rank of a
// mate, to measure hit rate against penetration rate, without keeping a
// shortlist of the size of the rates measured.
func (g *Gallery) Stage1Rank(probes []ProbeSample, identity string) (int, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	o, ok := g.ids.ordOf[identity]
	pv := g.probeVectors(probes)
	if !ok || pv == nil {
		return 0, false
	}
	fused, release := g.stage1Fused(probes, pv)
	defer release()
	mate, rank := ordScore{o, fused[o]}, 0
	for i, f := range fused {
		if worse(mate, ordScore{int32(i), f}) {
			rank++
		}
	}
	return rank, true
}

// scanPart writes the stage-1 score of entries [lo, hi) for each probe
// sample: the dot product where the positions are compatible, else 0.
func (g *Gallery) scanPart(probes []ProbeSample, pv [][]int8, wide [][]int16, scores []int32, lo, hi int) {
	n, dim := len(g.entries), g.dim
	for s, p := range probes {
		out := scores[s*n : (s+1)*n]
		if p.Position == biometric.UnknownFinger {
			// Every entry is compatible: one call scans the whole part.
			scanWide(g.vecs[lo*dim:hi*dim], dim, pv[s], wide[s], out[lo:hi])
		} else {
			for e := lo; e < hi; e++ {
				if compatible(p.Position, g.entries[e].position) {
					scanWide(g.vecs[e*dim:(e+1)*dim], dim, pv[s], wide[s], out[e:e+1])
				} else {
					out[e] = 0
				}
			}
		}
		g.addBias(p.Position, out[lo:hi], lo, hi)
	}
}

// addBias adds the gallery's stage-1 constants (BiasedIndexer) of
// entries [lo, hi) to out, entry e's at out[e-lo], where the sample's
// position is compatible with the entry's.
func (g *Gallery) addBias(pos biometric.FingerPosition, out []int32, lo, hi int) {
	if g.bias == nil {
		return
	}
	b := g.bias[lo:hi]
	out = out[:len(b)]
	if pos == biometric.UnknownFinger {
		for i, x := range b {
			out[i] += x
		}
		return
	}
	for i, x := range b {
		if compatible(pos, g.entries[lo+i].position) {
			out[i] += x
		}
	}
}

// scanWide is ScanInt8 with the probe already widened.
func scanWide(vecs []int8, dim int, probe []int8, wide []int16, out []int32) {
	if useAVX2 && dim%64 == 0 && len(out) > 0 {
		_ = vecs[len(out)*dim-1]
		scanInt8AVX2(&vecs[0], dim, &wide[0], &out[0], len(out))
		return
	}
	for i := range out {
		out[i] = dotInt8Go(vecs[i*dim:(i+1)*dim], probe)
	}
}

// rescore is stage 2: the exact fused score of each shortlisted identity,
// computed by all workers, each with its own probe clones. The caller
// holds the read lock.
func (g *Gallery) rescore(probes []ProbeSample, short []ordScore, limit int, floor float64) []biometric.Candidate {
	scores := make([]float64, len(short))
	workers := min(g.workers, max(1, len(short)/8))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ps := forWorker(probes)
			for i := w; i < len(short); i += workers {
				scores[i] = g.fuse(ps, short[i].ord)
			}
		})
	}
	wg.Wait()
	var out []biometric.Candidate
	for i, s := range short {
		if scores[i] >= floor {
			out = append(out, biometric.Candidate{IdentityID: g.ids.names[s.ord], Score: scores[i]})
		}
	}
	sortCandidates(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// sortCandidates orders candidates best first, ties by identity.
func sortCandidates(c []biometric.Candidate) {
	sort.Slice(c, func(i, j int) bool {
		if c[i].Score != c[j].Score {
			return c[i].Score > c[j].Score
		}
		return c[i].IdentityID < c[j].IdentityID
	})
}

// ordScore is an identity ordinal with its fused stage-1 score.
type ordScore struct {
	ord   int32
	score int32
}

// The best k identities are kept in a min-heap of ordScores, the weakest
// on top, written out rather than through container/heap: with ten
// million identities the interface calls were most of stage 1's time
// after the scan.

// worse reports whether a ranks below b: a lower score, or an equal score
// and a later ordinal.
func worse(a, b ordScore) bool {
	return a.score < b.score || a.score == b.score && a.ord > b.ord
}

func siftUp(h []ordScore, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func siftDown(h []ordScore, i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && worse(h[c+1], h[c]) {
			c++
		}
		if !worse(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// scorePool recycles the per-search score arrays (8 MB for a two-finger
// search of a million fingers), which would otherwise be garbage at every
// search.
var scorePool sync.Pool

func getScores(n int) []int32 {
	if b, ok := scorePool.Get().(*[]int32); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]int32, n)
}

func putScores(b []int32) { scorePool.Put(&b) }
