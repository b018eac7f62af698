// Package search is the node's 1:N engine: an in-memory gallery of prepared
// templates for one modality, searched by every core in parallel, with
// multi-sample fusion per identity and a bounded candidate list.
//
// A search has two stages, as large ABIS do. When the engine gives each
// template a fixed-length int8 vector (Indexer), stage 1 scans the vectors,
// kept end to end in one array, with an int8 dot-product kernel (ScanInt8),
// fuses the scores per identity over the probe's samples, and keeps the
// best identities (Shortlist: a penetration rate); stage 2 re-scores only
// those with the engine's exact comparison. Without vectors, or with the
// shortlist set to the whole gallery, stage 1 is the exact comparison of
// every probe sample with every template of a compatible position, keeping
// the best few hundred identities per worker, which stage 2 fuses exactly.
// The engine that compares templates is pluggable (see Engine), so the
// same gallery serves fingerprints, faces and irises.
package search

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/ebsp/ebsp/biometric"
)

// Engine turns stored template bytes into the forms a gallery compares.
type Engine interface {
	// Algorithm names the template format the engine reads, as stored with
	// each template ("ebsp-minutiae/1", say).
	Algorithm() string
	// PrepareGallery decodes a stored template into its gallery-side form.
	PrepareGallery(data []byte) (any, error)
	// PrepareProbe decodes a probe template into a form that compares fast
	// against many gallery forms.
	PrepareProbe(data []byte) (Probe, error)
}

// Probe is a prepared probe template. Compare returns a similarity score,
// higher meaning more alike. A Probe that keeps scratch space between
// comparisons implements Cloner; otherwise Compare must be safe for
// concurrent use.
type Probe interface {
	Compare(gallery any) float64
}

// Cloner is a Probe with per-goroutine state: each search worker compares
// with its own clone.
type Cloner interface {
	Clone() Probe
}

// forWorker returns probes that one worker goroutine may use.
func forWorker(probes []ProbeSample) []ProbeSample {
	out := make([]ProbeSample, len(probes))
	for i, p := range probes {
		out[i] = p
		if c, ok := p.Probe.(Cloner); ok {
			out[i].Probe = c.Clone()
		}
	}
	return out
}

// ProbeSample is one probe sample: its prepared template and, for
// fingerprints, its position (UnknownFinger matches every position).
type ProbeSample struct {
	Position biometric.FingerPosition
	Probe    Probe
}

// entry is one template. Its identity is an ordinal (identityIndex), not
// a string: at ten million templates a string and a map entry per template
// cost more than the stage-1 vectors.
type entry struct {
	templateID string
	prepared   any
	ord        int32 // the identity's ordinal (identityIndex.names)
	next       int32 // the identity's next entry, -1 after the last
	position   biometric.FingerPosition
}

// identityIndex maps identities to dense ordinals and ordinals to their
// entries, so that stage 1 fuses into plain arrays and a gallery of
// millions holds one string and one map entry per identity, none per
// template.
type identityIndex struct {
	names []string // names[o] is the identity of ordinal o
	ordOf map[string]int32
	first []int32 // first[o] is an entry of ordinal o; entry.next chains the rest
}

// add returns the ordinal of identity, giving it the next one if new.
func (x *identityIndex) add(identity string) int32 {
	o, ok := x.ordOf[identity]
	if !ok {
		o = int32(len(x.names))
		x.ordOf[identity] = o
		x.names = append(x.names, identity)
		x.first = append(x.first, -1)
	}
	return o
}

// Gallery holds the prepared templates of one modality. It is safe for
// concurrent use: searches share a read lock, Add and Remove take the write
// lock, so a removed identity is never returned by a search that starts after
// Remove returns.
type Gallery struct {
	engine  Engine
	workers int

	// ix is the engine as an Indexer, nil when it has no first-stage
	// vectors; dim is their length.
	ix  Indexer
	dim int
	// vecOnly: the vector is the template (VectorTemplate); entries hold
	// no prepared form.
	vecOnly bool
	// bx is the engine as a BiasedIndexer, nil when it is not one.
	bx BiasedIndexer

	mu      sync.RWMutex
	entries []entry
	// vecs holds the stage-1 vector of entries[i] at [i*dim:(i+1)*dim],
	// and bias[i] its constant (BiasedIndexer; nil otherwise).
	vecs      []int8
	bias      []int32
	ids       identityIndex
	shortlist Shortlist
	compacted bool // keep the engine's compact form (SetCompact)
}

// NewGallery returns an empty gallery for the engine's templates, searched by
// workers goroutines (GOMAXPROCS when workers <= 0).
func NewGallery(e Engine, workers int) *Gallery {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g := &Gallery{engine: e, workers: workers, ids: identityIndex{ordOf: map[string]int32{}}, shortlist: DefaultShortlistOf(e)}
	if ix, ok := e.(Indexer); ok && ix.VectorLen() > 0 {
		g.ix, g.dim = ix, ix.VectorLen()
		if vt, ok := e.(VectorTemplate); ok {
			g.vecOnly = vt.VectorIsTemplate()
		}
		if bx, ok := e.(BiasedIndexer); ok && !g.vecOnly {
			g.bx = bx
		}
	}
	return g
}

// Engine returns the gallery's engine.
func (g *Gallery) Engine() Engine { return g.engine }

// Add prepares a stored template and adds it under an identity.
func (g *Gallery) Add(identity, templateID string, pos biometric.FingerPosition, data []byte) error {
	if identity == "" {
		return errors.New("search: add: empty identity id")
	}
	p, err := g.engine.PrepareGallery(data)
	if err != nil {
		return fmt.Errorf("search: add template %s: %w", templateID, err)
	}
	g.AddPrepared(identity, templateID, pos, p)
	return nil
}

// Remove forgets every template of an identity and returns how many there
// were.
func (g *Gallery) Remove(identity string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	o, ok := g.ids.ordOf[identity]
	if !ok {
		return 0
	}
	before := len(g.entries)
	g.compact(func(e *entry) bool { return e.ord != o })
	return before - len(g.entries)
}

// Reserve makes room for templates more templates of identities more
// identities, so that filling a large gallery does not copy its arrays
// as they grow (and hold two copies at once while it does).
func (g *Gallery) Reserve(templates, identities int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.entries = slices.Grow(g.entries, templates)
	if g.ix != nil {
		g.vecs = slices.Grow(g.vecs, templates*g.dim)
	}
	if g.bx != nil {
		g.bias = slices.Grow(g.bias, templates)
	}
	g.ids.names = slices.Grow(g.ids.names, identities)
	g.ids.first = slices.Grow(g.ids.first, identities)
	if len(g.ids.ordOf) == 0 {
		g.ids.ordOf = make(map[string]int32, identities)
	}
}

// Len returns the number of templates and identities in the gallery.
func (g *Gallery) Len() (templates, identities int) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.entries), len(g.ids.names)
}

// compatible reports whether a probe at position p may be compared with a
// gallery template at position q: equal positions, or either unknown.
func compatible(p, q biometric.FingerPosition) bool {
	return p == q || p == biometric.UnknownFinger || q == biometric.UnknownFinger
}

// Search compares the probe samples with the gallery and returns at most
// limit candidates, best first, each with its fused score (see fuse).
// Identities whose fused score is below floor are left out. With stage-1
// vectors (Indexer, and every probe a VectorProbe) only the shortlist is
// compared exactly; see Shortlist.
func (g *Gallery) Search(probes []ProbeSample, limit int, floor float64) []biometric.Candidate {
	if len(probes) == 0 || limit <= 0 {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if pv := g.probeVectors(probes); pv != nil {
		if k := g.shortlist.Size(len(g.ids.names)); k < len(g.ids.names) {
			return g.rescore(probes, g.stage1(probes, pv, k), limit, floor)
		}
	}
	return g.exhaustive(probes, limit, floor)
}

// exhaustive is Search comparing every template exactly. The caller holds
// the read lock.
func (g *Gallery) exhaustive(probes []ProbeSample, limit int, floor float64) []biometric.Candidate {
	// Stage 1: each worker scans a contiguous part of the gallery and keeps
	// its best keep identities by single-sample score.
	keep := max(4*limit, 64)
	n := len(g.entries)
	workers := min(g.workers, max(1, n/256))
	shortlists := make([][]scored, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			shortlists[w] = g.scan(forWorker(probes), lo, hi, keep)
		}()
	}
	wg.Wait()

	// Stage 2: fuse exactly over every template of each shortlisted identity.
	seen := map[int32]bool{}
	var out []biometric.Candidate
	for _, sl := range shortlists {
		for _, s := range sl {
			if seen[s.ord] {
				continue
			}
			seen[s.ord] = true
			f := g.fuse(probes, s.ord)
			if f >= floor {
				out = append(out, biometric.Candidate{IdentityID: g.ids.names[s.ord], Score: f})
			}
		}
	}
	sortCandidates(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

type scored struct {
	ord   int32
	score float64
}

// scan returns the keep best (identity, score) pairs of entries [lo, hi),
// one per entry, unordered.
func (g *Gallery) scan(probes []ProbeSample, lo, hi int, keep int) []scored {
	best := make([]scored, 0, keep)
	minIdx, minScore := -1, math.Inf(-1)
	part := g.entries[lo:hi]
	for i := range part {
		e := &part[i]
		s := math.Inf(-1)
		for _, p := range probes {
			if compatible(p.Position, e.position) {
				s = max(s, p.Probe.Compare(g.template(e, i+lo)))
			}
		}
		if math.IsInf(s, -1) {
			continue
		}
		if len(best) < keep {
			best = append(best, scored{e.ord, s})
			if len(best) == keep {
				minIdx, minScore = lowest(best)
			}
			continue
		}
		if s > minScore {
			best[minIdx] = scored{e.ord, s}
			minIdx, minScore = lowest(best)
		}
	}
	return best
}

// template is what a probe compares with for entry e at index i: its
// prepared form, or its vector when the gallery keeps only that.
func (g *Gallery) template(e *entry, i int) any {
	if g.vecOnly {
		return g.vecs[i*g.dim : (i+1)*g.dim]
	}
	return e.prepared
}

func lowest(s []scored) (int, float64) {
	i := 0
	for j := range s {
		if s[j].score < s[i].score {
			i = j
		}
	}
	return i, s[i].score
}

// fuse is the identity's fused score: for each probe sample, the best score
// against the identity's templates at a compatible position, summed over the
// probe samples. Sum-of-max fusion is what multi-finger AFIS use; it rewards
// agreement of several fingers while one poor capture costs only its share.
func (g *Gallery) fuse(probes []ProbeSample, ord int32) float64 {
	total := 0.0
	for _, p := range probes {
		best := 0.0
		for i := g.ids.first[ord]; i >= 0; i = g.entries[i].next {
			e := &g.entries[i]
			if compatible(p.Position, e.position) {
				best = max(best, p.Probe.Compare(g.template(e, int(i))))
			}
		}
		total += best
	}
	return total
}

// Verify returns the fused score of the probe samples against one identity
// (1:1), and false when the gallery holds no template of it.
func (g *Gallery) Verify(probes []ProbeSample, identity string) (float64, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	o, ok := g.ids.ordOf[identity]
	if !ok {
		return 0, false
	}
	return g.fuse(probes, o), true
}

// EachTemplate calls fn with the identity and id of every template, in
// the gallery's order, under the read lock (fn must not call back into
// the gallery).
func (g *Gallery) EachTemplate(fn func(identity, templateID string)) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for i := range g.entries {
		fn(g.ids.names[g.entries[i].ord], g.entries[i].templateID)
	}
}

// AnyIdentity reports whether f is true of some identity the gallery
// holds (a matcher asks whether a ring places any of its identities on
// another shard before it reads its log for them).
func (g *Gallery) AnyIdentity(f func(identity string) bool) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for o, id := range g.ids.names {
		if g.ids.first[o] >= 0 && f(id) {
			return true
		}
	}
	return false
}

// HasTemplate reports whether the gallery holds a template of that id
// under the identity: a matcher skips a template it holds already, so that
// an enrolment sent twice (a retry, a rebalance's copy) is kept once.
func (g *Gallery) HasTemplate(identity, templateID string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	o, ok := g.ids.ordOf[identity]
	if !ok {
		return false
	}
	for i := g.ids.first[o]; i >= 0; i = g.entries[i].next {
		if g.entries[i].templateID == templateID {
			return true
		}
	}
	return false
}

// Identities returns the number of distinct identities with a template at
// one of the positions; used to scale thresholds with gallery size.
func (g *Gallery) Identities() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.ids.names)
}

// AddPrepared adds a template already prepared by the gallery's engine.
func (g *Gallery) AddPrepared(identity, templateID string, pos biometric.FingerPosition, prepared any) {
	var vec []int8
	if g.ix != nil {
		// Outside the lock: a vector costs about as much as a comparison.
		vec = make([]int8, g.dim)
		g.ix.GalleryVector(prepared, vec)
		if g.vecOnly {
			prepared = nil
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.engine.(Compacter); ok && g.compacted && prepared != nil {
		prepared = c.Compact(prepared)
	}
	g.add(identity, entry{templateID: templateID, position: pos, prepared: prepared}, vec)
}

// add appends an entry of identity and its vector; the caller holds the
// write lock.
func (g *Gallery) add(identity string, e entry, vec []int8) {
	e.ord = g.ids.add(identity)
	e.next = g.ids.first[e.ord]
	g.ids.first[e.ord] = int32(len(g.entries))
	g.entries = append(g.entries, e)
	if g.ix != nil {
		g.vecs = append(g.vecs, vec...)
	}
	if g.bx != nil {
		g.bias = append(g.bias, g.bx.GalleryBias(e.prepared))
	}
}

// RemoveTemplates forgets the templates with the given ids (of any
// identity) and returns how many it removed.
func (g *Gallery) RemoveTemplates(ids map[string]bool) int {
	if len(ids) == 0 {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	before := len(g.entries)
	g.compact(func(e *entry) bool { return !ids[e.templateID] })
	return before - len(g.entries)
}

// compact keeps the entries for which keep is true and rebuilds the index.
// Removals are rare next to searches, so an O(N) rebuild keeps the search
// loop free of tombstone checks. The caller holds the write lock.
func (g *Gallery) compact(keep func(*entry) bool) {
	kept := g.entries[:0]
	vecs := g.vecs[:0]
	bias := g.bias[:0]
	for i := range g.entries {
		if keep(&g.entries[i]) {
			kept = append(kept, g.entries[i])
			if g.ix != nil {
				// In place: the destination never runs ahead of the source.
				vecs = append(vecs, g.vecs[i*g.dim:(i+1)*g.dim]...)
			}
			if g.bx != nil {
				bias = append(bias, g.bias[i])
			}
		}
	}
	clear(g.entries[len(kept):]) // drop references for the collector
	g.entries, g.vecs = kept, vecs
	if g.bx != nil {
		g.bias = bias
	}
	old := g.ids.names
	g.ids = identityIndex{ordOf: make(map[string]int32, len(g.ids.ordOf))}
	for i := range g.entries {
		e := &g.entries[i]
		e.ord = g.ids.add(old[e.ord])
		e.next = g.ids.first[e.ord]
		g.ids.first[e.ord] = int32(i)
	}
}

// Entry returns the identity of entry i and what a probe compares with for
// it (the prepared template, or the stage-1 vector where the gallery keeps
// only that); ok is false when i is out of range, as it may be once the
// gallery has shrunk. Self-calibration samples pairs of entries with it.
func (g *Gallery) Entry(i int) (identity string, tmpl any, ok bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if i < 0 || i >= len(g.entries) {
		return "", nil, false
	}
	e := &g.entries[i]
	return g.ids.names[e.ord], g.template(e, i), true
}
