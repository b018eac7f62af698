package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/synth"
)

// SearchOptions configure an in-process 1:N search benchmark: a fingerprint
// gallery (two index fingers per person) or a face gallery (one face per
// person).
type SearchOptions struct {
	// Fingers is the fingerprint gallery size (even: two per person);
	// Faces the face gallery size. Exactly one is set.
	Fingers, Faces int
	// Searches is the number of searches, half by enrolled people.
	Searches int
	// Workers is the gallery's search goroutines (GOMAXPROCS when 0).
	Workers int
	// Exhaustive compares every template exactly (no stage 1).
	Exhaustive bool
	// Compact keeps fingerprint templates in their compact form
	// (search.Gallery.SetCompact).
	Compact bool
	// Shards, when above 0, spreads the gallery over that many `ebsp
	// matcher` processes (Executable) on an embedded NATS server, each
	// filling its share of the synthetic population; searches are
	// scatter-gathered by a cluster.Client.
	Shards     int
	Executable string
	// Shortlist overrides the engine's default shortlist
	// (search.DefaultShortlistOf) when its Fraction is set.
	Shortlist search.Shortlist
	Seed      uint64
	// Snapshot, when set, is a gallery snapshot file (in-process galleries
	// only): read when it holds this gallery (size, seed, engine version),
	// which is then timed as a restart; otherwise the gallery is built and
	// the snapshot written, so that a large gallery is built once.
	Snapshot string
	Progress Progress
}

// SearchResult is what a search benchmark measured.
type SearchResult struct {
	Machine    Machine          `json:"machine"`
	Workers    int              `json:"workers"`
	Fingers    int              `json:"fingers"`
	Faces      int              `json:"faces"`
	Shards     int              `json:"shards"`
	Identities int              `json:"identities"`
	Exhaustive bool             `json:"exhaustive"`
	Compact    bool             `json:"compact"`
	Shortlist  search.Shortlist `json:"shortlist"`
	// LoadSeconds is the time to build the gallery: make the synthetic
	// templates, prepare them and add them.
	LoadSeconds float64 `json:"load_seconds"`
	// Restarted says the gallery was read from the snapshot file
	// (SearchOptions.Snapshot), in LoadSeconds wall and LoadCPUSeconds of
	// process CPU, instead of being built.
	Restarted      bool    `json:"restarted,omitempty"`
	LoadCPUSeconds float64 `json:"load_cpu_seconds"`
	// BytesPerFinger (or BytesPerFace) is the Go heap growth per template
	// added, after a collection: prepared form, stage-1 vector, index.
	BytesPerFinger float64 `json:"bytes_per_finger,omitempty"`
	BytesPerFace   float64 `json:"bytes_per_face,omitempty"`
	Searches       int     `json:"searches"`
	// Comparisons counts the exact (stage-2 or exhaustive) comparisons the
	// searches made; stage-1 vector products are not counted.
	Comparisons int64   `json:"comparisons"`
	Seconds     float64 `json:"seconds"`
	// CPUSeconds is the CPU of the searches, summed over each search from
	// the probe's preparation to the decision (what the latency
	// measures): this process's, and with shards the matcher processes'
	// too (in 10 ms clock ticks: the per-search figures are coarse, their
	// sum is not). CPU is its per-search summary, in milliseconds.
	CPUSeconds float64 `json:"cpu_seconds"`
	CPU        Latency `json:"cpu_per_search"`
	// Stage1CPU is the process CPU of stage 1's scan and fusion per
	// mated search (Gallery.Stage1Rank), in milliseconds, measured outside
	// the searches; empty for an exhaustive or sharded run.
	Stage1CPU      Latency `json:"stage1_cpu"`
	SearchesPerSec float64 `json:"searches_per_second"`
	P50            float64 `json:"p50_ms"`
	P99            float64 `json:"p99_ms"`
	Latency        Latency `json:"latency"`
	Accuracy
	// Partial counts the answers a shard was missing from.
	Partial int `json:"partial_answers"`
	// Penetration is, for the mated searches, how often stage 1 ranked the
	// mate's identity within each penetration rate (fraction of the
	// gallery's identities): the hit-rate/penetration-rate curve of AFIS
	// indexing. Empty for an exhaustive run.
	Penetration []PenetrationPoint `json:"penetration,omitempty"`
}

// PenetrationPoint is one point of the hit rate against penetration rate.
type PenetrationPoint struct {
	Rate    float64 `json:"penetration_rate"`
	HitRate float64 `json:"hit_rate"`
}

// penetrationRates are the points of SearchResult.Penetration.
var penetrationRates = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1}

// RunSearch fills a search.Gallery with synthetic templates, without HTTP
// or store, and times searches, scoring the decisions of the node's
// default policy against the ground truth.
func RunSearch(ctx context.Context, o SearchOptions) (*SearchResult, error) {
	if (o.Fingers > 0) == (o.Faces > 0) {
		return nil, fmt.Errorf("bench: want a fingerprint or a face gallery size, one of the two")
	}
	people := o.Faces
	if o.Fingers > 0 {
		if o.Fingers < 2 || o.Fingers%2 != 0 {
			return nil, fmt.Errorf("bench: gallery size %d: want an even number >= 2 (two index fingers per person)", o.Fingers)
		}
		people = o.Fingers / 2
	}
	if o.Searches < 2 || o.Searches/2 > people {
		return nil, fmt.Errorf("bench: %d searches: want at least 2, at most 2 per enrolled person (%d people)", o.Searches, people)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := &SearchResult{Machine: machine(), Workers: workers, Fingers: o.Fingers, Faces: o.Faces,
		Searches: o.Searches, Exhaustive: o.Exhaustive, Compact: o.Compact && o.Fingers > 0}
	var eng search.Engine = engine.Finger{}
	mod := biometric.Finger
	if o.Faces > 0 {
		eng, mod = engine.Face{}, biometric.Face
	}
	res.Shortlist = search.DefaultShortlistOf(eng)
	if o.Shortlist.Fraction > 0 {
		res.Shortlist = o.Shortlist
	}
	if o.Exhaustive {
		res.Shortlist = search.Exhaustive
	}
	newGallery := func() *search.Gallery {
		g := search.NewGallery(eng, workers)
		g.SetShortlist(res.Shortlist)
		g.SetCompact(res.Compact)
		return g
	}
	g := newGallery()

	var srch searcher
	if o.Shards > 0 {
		cl, err := startShards(ctx, o, res)
		if err != nil {
			return nil, err
		}
		defer cl.stop()
		srch = cl
	} else {
		heap0 := heapInUse()
		sw := start()
		var restarted bool
		var err error
		if g, restarted, err = loadGallery(ctx, newGallery, o, workers); err != nil {
			return nil, err
		}
		res.Restarted = restarted
		res.LoadSeconds, res.LoadCPUSeconds = sw.elapsed()
		per := float64(heapInUse()-heap0) / float64(max(o.Fingers, o.Faces))
		if o.Faces > 0 {
			res.BytesPerFace = per
		} else {
			res.BytesPerFinger = per
		}
		_, res.Identities = g.Len()
		if o.Snapshot != "" && !restarted {
			if err := g.SaveSnapshot(o.Snapshot, snapshotMeta(o)); err != nil {
				return nil, err
			}
		}
		srch = localSearcher{g, eng}
	}

	var err error
	var probes []probe
	if o.Faces > 0 {
		probes = faceProbes(o.Seed, people, o.Searches)
	} else if probes, err = makeProbes(ctx, o.Seed, people, o.Searches, workers, o.Progress); err != nil {
		return nil, err
	}
	var c node.Config
	c.Defaults()
	pol := node.GalleryPolicy(mod, eng.(engine.Engine), &c, res.Identities)
	lat := make([]time.Duration, len(probes))
	cpu := make([]time.Duration, len(probes))
	mateRanks := []int{}
	var stage1 []time.Duration
	var counters comparisonCounter
	sw := start()
	for i, p := range probes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c0, o0, t0 := fvc.ProcessCPU(), srch.otherCPU(), time.Now()
		// As node.Identify does: the review threshold is the floor.
		_, review := pol.Thresholds(len(p.samples))
		cands, ps, partial, err := srch.search(ctx, p, pol.Cap, review, &counters)
		if err != nil {
			return nil, err
		}
		if partial {
			res.Partial++
		}
		d, cands := pol.Decide(cands, len(p.samples))
		lat[i], cpu[i] = time.Since(t0), fvc.ProcessCPU()-c0+srch.otherCPU()-o0
		top := ""
		if len(cands) > 0 {
			top = cands[0].IdentityID
		}
		res.Accuracy.add(p, d, top)
		if p.enrolled && !o.Exhaustive && o.Shards == 0 {
			// Not in the search's time: where stage 1 ranked the mate, and
			// what stage 1's scan and fusion cost (without the shortlist's
			// selection).
			c1 := fvc.ProcessCPU()
			mateRanks = append(mateRanks, stage1Rank(g, ps, personID(p.person), res.Identities))
			stage1 = append(stage1, fvc.ProcessCPU()-c1)
		}
		if o.Progress != nil {
			o.Progress("search", i+1, len(probes))
		}
	}
	res.Seconds, _ = sw.elapsed()
	res.CPU, res.Stage1CPU = summarise(cpu), summarise(stage1)
	for _, c := range cpu {
		res.CPUSeconds += c.Seconds()
	}
	res.Comparisons = counters.total()
	res.SearchesPerSec = perSec(len(probes), res.Seconds)
	res.Latency = summarise(lat)
	res.P50, res.P99 = res.Latency.P50, res.Latency.P99
	for _, r := range penetrationRates {
		if len(mateRanks) == 0 {
			break
		}
		k := max(1, int(r*float64(res.Identities)))
		hit := 0
		for _, rank := range mateRanks {
			if rank < k {
				hit++
			}
		}
		res.Penetration = append(res.Penetration, PenetrationPoint{Rate: r, HitRate: float64(hit) / float64(len(mateRanks))})
	}
	runtime.KeepAlive(g)
	return res, nil
}

// loadGallery returns a gallery (made by newGallery) holding o's synthetic
// gallery: read from o.Snapshot when that holds it (true), else built and,
// the caller saves it there.
func loadGallery(ctx context.Context, newGallery func() *search.Gallery, o SearchOptions, workers int) (*search.Gallery, bool, error) {
	meta := snapshotMeta(o)
	if o.Snapshot != "" {
		if f, err := os.Open(o.Snapshot); err == nil {
			g := newGallery()
			got, err := g.ReadSnapshot(f)
			f.Close()
			if err == nil && string(got) == string(meta) {
				return g, true, nil
			}
			// Another gallery's, or stale or damaged: built afresh.
		}
	}
	g := newGallery()
	if err := FillGallery(ctx, g, Fill{Fingers: o.Fingers, Faces: o.Faces, Seed: o.Seed, Workers: workers}, o.Progress); err != nil {
		return nil, false, err
	}
	return g, false, nil
}

// fullTemplateBytes is the heap a finger takes with its full prepared
// template (bytes_per_finger: 13,453 at 100,000 synthetic fingers, most
// with the 48 minutiae a prepared template keeps, and the global
// verification's grid; 12,888 before it), rounded up.
const fullTemplateBytes = 13500

// FullTemplatesFit reports whether a gallery of fingers full prepared
// templates fits in this process's memory: at most nine tenths of the Go
// memory limit (GOMEMLIMIT) when one is set, else of the memory the
// system has available (MemAvailable), so that building it leaves the
// collector room. Compact templates (search.Gallery.SetCompact) take about
// 40% of the memory and cost stage 2 about 2.5 times the CPU (docs/search.md).
func FullTemplatesFit(fingers int) bool {
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		if avail, ok := memAvailable(); ok {
			limit = avail
		}
	}
	return float64(fingers)*fullTemplateBytes <= 0.9*float64(limit)
}

// memAvailable is /proc/meminfo's MemAvailable in bytes (Linux only).
func memAvailable() (int64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		var kb int64
		if _, err := fmt.Sscanf(line, "MemAvailable: %d kB", &kb); err == nil {
			return kb << 10, true
		}
	}
	return 0, false
}

// snapshotMeta names the synthetic gallery a snapshot file holds: its
// size, seed and a digest of what the synthetic generator makes for it
// (synthDigest), so that a snapshot of an older generator's gallery,
// whose ground truth no longer matches the probes, is rebuilt rather than
// read.
func snapshotMeta(o SearchOptions) []byte {
	people := max(o.Fingers/2, o.Faces)
	var digest []byte
	if o.Faces > 0 {
		gen := faceGen(o.Seed)
		digest = synthDigest(people, func(p int) []byte {
			e := faceTemplate(gen, p, 1)
			return e.Bytes()
		})
	} else {
		digest = synthDigest(people, func(p int) []byte {
			var b []byte
			for f := range indexFingers {
				b = append(b, preparedBytes(fingerTemplate(o.Seed, p, f, 1))...)
			}
			return b
		})
	}
	return fmt.Appendf(nil, "bench search fingers=%d faces=%d seed=%d synth=%x", o.Fingers, o.Faces, o.Seed, digest)
}

// synthDigestPeople is how many people of a gallery synthDigest reads.
const synthDigestPeople = 64

// synthDigest is a SHA-256 of the gallery templates (template(p), the
// bytes of person p's) of synthDigestPeople people spread evenly over
// the gallery, the first and the last included: a change of the
// synthetic generator that changes their templates changes it. It reads a
// sample, not every template (that would cost what building the gallery
// does), so a change that spares all 64 people is not seen.
func synthDigest(people int, template func(p int) []byte) []byte {
	h := sha256.New()
	n := min(people, synthDigestPeople)
	for k := range n {
		p := 0
		if n > 1 {
			p = int(int64(k) * int64(people-1) / int64(n-1))
		}
		b := template(p)
		h.Write(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(p)), uint32(len(b))))
		h.Write(b)
	}
	return h.Sum(nil)
}

// preparedBytes is t's prepared form as the snapshot stores it
// (fingerprint.Prepared.MarshalBinary): what the gallery would hold.
func preparedBytes(t fingerprint.Template) []byte {
	b, err := fingerprint.Prepare(t).MarshalBinary()
	if err != nil {
		// A synthetic template always encodes; an error still must
		// change the digest rather than pass for an empty template.
		return []byte(err.Error())
	}
	return b
}

// stage1Rank is the 0-based rank of identity in stage 1's ranking, or
// identities when the gallery does not hold it.
func stage1Rank(g *search.Gallery, ps []search.ProbeSample, identity string, identities int) int {
	if rank, ok := g.Stage1Rank(ps, identity); ok {
		return rank
	}
	return identities
}

// Fill describes a synthetic gallery: Fingers fingers (two index fingers
// per person) or Faces faces (one per person) of a seed's population,
// optionally only the people Owns accepts (a shard's share), prepared on
// Workers goroutines.
type Fill struct {
	Fingers, Faces int
	Seed           uint64
	Workers        int
	Owns           func(identity string) bool
}

// FillGallery adds the synthetic gallery f to g: impression (capture) 1 of
// each person, prepared in batches on all workers and added in person
// order, so that runs are reproducible.
func FillGallery(ctx context.Context, g *search.Gallery, f Fill, progress Progress) error {
	people, batch := f.Fingers/2, 4096
	var gen *synth.FaceGenerator
	if f.Faces > 0 {
		people, batch, gen = f.Faces, 16384, faceGen(f.Seed)
	}
	workers := max(1, f.Workers)
	if f.Owns == nil {
		g.Reserve(max(f.Fingers, f.Faces), people)
	}
	for lo := 0; lo < people; lo += batch {
		hi := min(people, lo+batch)
		var mine []int
		for p := lo; p < hi; p++ {
			if f.Owns == nil || f.Owns(personID(p)) {
				mine = append(mine, p)
			}
		}
		fingers := make([][2]*fingerprint.Prepared, len(mine))
		faces := make([]face.Embedding, len(mine))
		if err := parallel(ctx, len(mine), workers, func(i int) error {
			if gen != nil {
				faces[i] = faceTemplate(gen, mine[i], 1)
				return nil
			}
			for fi := range indexFingers {
				fingers[i][fi] = fingerprint.Prepare(fingerTemplate(f.Seed, mine[i], fi, 1))
			}
			return nil
		}, "", nil); err != nil {
			return err
		}
		for i, p := range mine {
			id := personID(p)
			if gen != nil {
				g.AddPrepared(id, "", biometric.UnknownFinger, &faces[i])
				continue
			}
			for fi, pos := range indexFingers {
				g.AddPrepared(id, fmt.Sprintf("%s-%d", id, fi), pos, fingers[i][fi])
			}
		}
		if progress != nil {
			progress("gallery", hi, people)
		}
	}
	return nil
}

// faceGen is the synthetic face population of a seed.
func faceGen(seed uint64) *synth.FaceGenerator {
	return synth.NewFaceGenerator(seed, synth.DefaultFaceModel())
}

// faceTemplate is capture k of person p's face, as the node stores it.
func faceTemplate(gen *synth.FaceGenerator, p int, k uint64) face.Embedding {
	id := uint64(p)
	return gen.Embedding(gen.Identity(id), id, k, gen.Quality(id, k), 0)
}

// faceProbes returns n face probes, alternating enrolled people (capture
// 2) and never-enrolled ones, as makeProbes does for fingers.
func faceProbes(seed uint64, people, n int) []probe {
	gen := faceGen(seed)
	out := make([]probe, n)
	for i := range out {
		pr := probe{enrolled: i%2 == 0}
		if pr.enrolled {
			pr.person = int(int64(i/2) * int64(people) / int64(max(1, (n+1)/2)))
		} else {
			pr.person = people + i/2
		}
		t := faceTemplate(gen, pr.person, 2)
		pr.samples = []node.SampleInput{{Modality: biometric.Face, Format: "face-embedding", Data: t.Bytes()}}
		out[i] = pr
	}
	return out
}

// heapInUse returns the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// comparisonCounter counts the comparisons probes make. Each search worker
// compares with its own clone (search.Cloner), so each clone has a plain
// counter of its own and the total is summed after the search: no atomic
// operation in the comparison loop.
type comparisonCounter struct {
	mu     sync.Mutex
	probes []*countingProbe
}

type countingProbe struct {
	inner search.Probe
	n     int64
	c     *comparisonCounter
}

func (c *comparisonCounter) wrap(p search.Probe) search.Probe {
	cp := &countingProbe{inner: p, c: c}
	c.mu.Lock()
	c.probes = append(c.probes, cp)
	c.mu.Unlock()
	if _, ok := p.(search.VectorProbe); ok {
		return vectorCountingProbe{cp}
	}
	return cp
}

func (c *comparisonCounter) total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t int64
	for _, p := range c.probes {
		t += p.n
	}
	return t
}

// Compare implements search.Probe.
func (p *countingProbe) Compare(g any) float64 {
	p.n++
	return p.inner.Compare(g)
}

// Clone implements search.Cloner.
func (p *countingProbe) Clone() search.Probe {
	inner := p.inner
	if cl, ok := inner.(search.Cloner); ok {
		inner = cl.Clone()
	}
	return p.c.wrap(inner)
}

// vectorCountingProbe is a countingProbe that passes on the inner probe's
// stage-1 vector.
type vectorCountingProbe struct{ *countingProbe }

// Vector implements search.VectorProbe.
func (p vectorCountingProbe) Vector(dst []int8) { p.inner.(search.VectorProbe).Vector(dst) }

// Table is the human-readable report of a search benchmark.
func (r *SearchResult) Table() string {
	var b strings.Builder
	what, size, per := "fingerprint", fmt.Sprintf("%d fingers (%d people x 2 index fingers)", r.Fingers, r.Identities), r.BytesPerFinger
	if r.Faces > 0 {
		what, size, per = "face", fmt.Sprintf("%d faces", r.Faces), r.BytesPerFace
	}
	mode := fmt.Sprintf("two-stage, shortlist %.2f%% of identities (at least %d)", 100*r.Shortlist.Fraction, r.Shortlist.Min)
	if r.Shortlist.Fraction == 0 {
		mode = fmt.Sprintf("two-stage, shortlist %d identities", r.Shortlist.Min)
	}
	if r.Exhaustive {
		mode = "exhaustive"
	}
	if r.Compact {
		mode += ", compact templates"
	}
	built := "built"
	if r.Restarted {
		built = "read from its snapshot"
	}
	where := fmt.Sprintf("in-process (search.Gallery), %d workers", r.Workers)
	if r.Shards > 0 {
		where = fmt.Sprintf("over %d ebsp matcher processes on NATS (cluster.Client)", r.Shards)
	}
	fmt.Fprintf(&b, "ebsp bench search: 1:N %s search %s, %s\n", what, where, mode)
	fmt.Fprintf(&b, "machine: %d CPUs, GOMAXPROCS %d, %s, load average %.2f at start\n",
		r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.Load1)
	b.WriteString(table([][2]string{
		{"gallery", fmt.Sprintf("%s, %s in %.1f s (CPU %.1f s), %.0f heap bytes per template", size, built, r.LoadSeconds, r.LoadCPUSeconds, per)},
		{"searches", fmt.Sprintf("%d in %.2f s (CPU %.2f s), %.2f/s", r.Searches, r.Seconds, r.CPUSeconds, r.SearchesPerSec)},
		{"latency ms", latencyRow(r.Latency)},
		{"CPU ms per search", latencyRow(r.CPU)},
		{"stage 1 CPU ms", latencyRow(r.Stage1CPU)},
		{"exact comparisons", fmt.Sprintf("%.0f per search", float64(r.Comparisons)/float64(max(1, r.Searches)))},
		{"accuracy", r.Accuracy.String()},
		{"partial answers", fmt.Sprint(r.Partial)},
	}))
	if len(r.Penetration) > 0 {
		b.WriteString("\nstage 1: mated searches whose mate ranks within the penetration rate\n")
		for _, p := range r.Penetration {
			fmt.Fprintf(&b, "  %6.2f%% of identities (%d)  hit rate %.1f%%\n", 100*p.Rate,
				max(1, int(p.Rate*float64(r.Identities))), 100*p.HitRate)
		}
	}
	return b.String()
}
