package bench

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/search"
)

// SearchOptions configure an in-process 1:N search benchmark.
type SearchOptions struct {
	// Sizes are the gallery sizes in fingers (templates), measured in
	// increasing order as the gallery grows.
	Sizes []int
	// Searches is the number of searches at each size, half by enrolled
	// people.
	Searches int
	// Workers is the gallery's search goroutines (GOMAXPROCS when 0).
	Workers  int
	Seed     uint64
	Progress Progress
}

// SearchResult is what a search benchmark measured.
type SearchResult struct {
	Machine Machine      `json:"machine"`
	Workers int          `json:"workers"`
	Sizes   []SearchSize `json:"sizes"`
}

// SearchSize is the measurement at one gallery size.
type SearchSize struct {
	Fingers    int `json:"fingers"`
	Identities int `json:"identities"`
	// BytesPerTemplate is the Go heap growth per template added (the
	// prepared matcher form and the gallery's entry), after a collection.
	BytesPerTemplate float64 `json:"bytes_per_template"`
	Searches         int     `json:"searches"`
	// Comparisons is the number of template comparisons the searches
	// made (both stages), counted, not estimated.
	Comparisons    int64   `json:"comparisons"`
	Seconds        float64 `json:"seconds"`
	CPUSeconds     float64 `json:"cpu_seconds"`
	SearchesPerSec float64 `json:"searches_per_second"`
	// ComparisonsPerSec is over the wall clock, all workers together;
	// per CPU-second it is what one core does when it is not shared.
	ComparisonsPerSec    float64  `json:"comparisons_per_second"`
	ComparisonsPerCPUSec float64  `json:"comparisons_per_cpu_second"`
	Latency              Latency  `json:"latency"`
	Accuracy             Accuracy `json:"accuracy"`
}

// RunSearch fills a search.Gallery with engine.Finger templates of
// synthetic people and times searches at each size, without HTTP or store.
func RunSearch(ctx context.Context, o SearchOptions) (*SearchResult, error) {
	if len(o.Sizes) == 0 || o.Searches < 2 {
		return nil, fmt.Errorf("bench: want at least one gallery size and 2 searches")
	}
	sizes := slices.Clone(o.Sizes)
	slices.Sort(sizes)
	for _, n := range sizes {
		if n < 2 || n%2 != 0 {
			return nil, fmt.Errorf("bench: gallery size %d: want an even number >= 2 (two index fingers per person)", n)
		}
		if o.Searches/2 > n/2 {
			return nil, fmt.Errorf("bench: %d searches: at most 2 per enrolled person (%d people at size %d)", o.Searches, n/2, n)
		}
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := &SearchResult{Machine: machine(), Workers: workers}
	eng := engine.Finger{}
	g := search.NewGallery(eng, workers)
	people := 0
	for _, size := range sizes {
		// Grow the gallery to size: prepared templates made by all workers,
		// added in person order so that runs are reproducible.
		target := size / 2
		prepared := make([][2]*fingerprint.Prepared, target-people)
		heap0 := heapInUse()
		if err := parallel(ctx, len(prepared), workers, func(i int) error {
			for f := range indexFingers {
				prepared[i][f] = fingerprint.Prepare(fingerTemplate(o.Seed, people+i, f, 1))
			}
			return nil
		}, fmt.Sprintf("gallery to %d", size), o.Progress); err != nil {
			return nil, err
		}
		for i, pp := range prepared {
			id := personID(people + i)
			for f, pos := range indexFingers {
				g.AddPrepared(id, fmt.Sprintf("%s-%d", id, f), pos, pp[f])
			}
		}
		added := 2 * len(prepared)
		prepared = nil
		grown := heapInUse() - heap0
		people = target

		ss := SearchSize{Fingers: size, Searches: o.Searches}
		if added > 0 {
			ss.BytesPerTemplate = float64(grown) / float64(added)
		}
		_, ss.Identities = g.Len()
		probes, err := makeProbes(ctx, o.Seed, people, o.Searches, workers, nil)
		if err != nil {
			return nil, err
		}
		lat := make([]time.Duration, len(probes))
		var counters comparisonCounter
		sw := start()
		for i, p := range probes {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t0 := time.Now()
			var ps []search.ProbeSample
			for _, s := range p.samples {
				pr, err := eng.PrepareProbe(s.Data)
				if err != nil {
					return nil, err
				}
				ps = append(ps, search.ProbeSample{Position: s.Position, Probe: counters.wrap(pr)})
			}
			// As node.Identify does: the review threshold is the floor.
			_, ids := g.Len()
			pol := fingerPolicy(eng, ids)
			_, review := pol.Thresholds(len(ps))
			cands := g.Search(ps, pol.Cap, review)
			d, cands := pol.Decide(cands, len(ps))
			lat[i] = time.Since(t0)
			top := ""
			if len(cands) > 0 {
				top = cands[0].IdentityID
			}
			ss.Accuracy.add(p, d, top)
			if o.Progress != nil {
				o.Progress(fmt.Sprintf("search %d", size), i+1, len(probes))
			}
		}
		ss.Seconds, ss.CPUSeconds = sw.elapsed()
		ss.Comparisons = counters.total()
		ss.SearchesPerSec = perSec(len(probes), ss.Seconds)
		if ss.Seconds > 0 {
			ss.ComparisonsPerSec = float64(ss.Comparisons) / ss.Seconds
		}
		if ss.CPUSeconds > 0 {
			ss.ComparisonsPerCPUSec = float64(ss.Comparisons) / ss.CPUSeconds
		}
		ss.Latency = summarise(lat)
		res.Sizes = append(res.Sizes, ss)
	}
	runtime.KeepAlive(g)
	return res, nil
}

// fingerPolicy is the decision policy of a node with the default
// configuration for a fingerprint gallery of that many identities.
func fingerPolicy(eng engine.Finger, identities int) search.Policy {
	var c node.Config
	c.Defaults()
	return node.GalleryPolicy(biometric.Finger, eng, &c, identities)
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

func (c *comparisonCounter) wrap(p search.Probe) *countingProbe {
	cp := &countingProbe{inner: p, c: c}
	c.mu.Lock()
	c.probes = append(c.probes, cp)
	c.mu.Unlock()
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

// Table is the human-readable report of a search benchmark.
func (r *SearchResult) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ebsp bench search: in-process 1:N fingerprint search (search.Gallery, engine.Finger), %d workers\n", r.Workers)
	fmt.Fprintf(&b, "machine: %d CPUs, GOMAXPROCS %d, %s, load average %.2f at start\n",
		r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.Load1)
	fmt.Fprintf(&b, "\n%9s %9s %9s %8s %8s %8s %8s %9s %12s %12s %12s\n",
		"fingers", "B/tmpl", "searches", "search/s", "p50 ms", "p95 ms", "p99 ms", "CPU s", "cmp/s wall", "cmp/CPU-s", "cmp/search")
	for _, s := range r.Sizes {
		fmt.Fprintf(&b, "%9d %9.0f %9d %8.2f %8.1f %8.1f %8.1f %9.2f %12.0f %12.0f %12.0f\n",
			s.Fingers, s.BytesPerTemplate, s.Searches, s.SearchesPerSec, s.Latency.P50, s.Latency.P95, s.Latency.P99,
			s.CPUSeconds, s.ComparisonsPerSec, s.ComparisonsPerCPUSec, float64(s.Comparisons)/float64(max(1, s.Searches)))
	}
	b.WriteString("\naccuracy (decision with the node's calibrated fingerprint thresholds)\n")
	for _, s := range r.Sizes {
		fmt.Fprintf(&b, "  %9d fingers: %s\n", s.Fingers, s.Accuracy)
	}
	b.WriteString("\ncmp/CPU-s is comparisons per second of process CPU time: what one unshared core does.\n")
	return b.String()
}
