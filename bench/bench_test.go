package bench

import (
	"context"
	"github.com/ebsp/ebsp/internal/testneed"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkLatency fails unless l summarises n positive durations in order.
func checkLatency(t *testing.T, what string, l Latency, n int) {
	t.Helper()
	if l.Count != n || l.P50 <= 0 || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.Max {
		t.Errorf("%s latency %+v: want %d positive, ordered values", what, l, n)
	}
}

func checkNode(t *testing.T, store string) {
	t.Helper()
	var phases phaseSet
	r, err := RunNode(context.Background(), NodeOptions{Store: store, Fingers: 120, Concurrency: 4, Searches: 12,
		SearchConcurrency: 2, Seed: 7, Progress: phases.record})
	if err != nil {
		t.Fatal(err)
	}
	if r.People != 60 || r.Enrol.Enrolments != 60 {
		t.Errorf("enrolled %d of %d people", r.Enrol.Enrolments, r.People)
	}
	if r.Enrol.EnrolmentsPerSec <= 0 || r.Enrol.FingersPerSec != 2*r.Enrol.EnrolmentsPerSec {
		t.Errorf("enrol rates %+v", r.Enrol)
	}
	checkLatency(t, "enrol", r.Enrol.Latency, 60)
	s := r.Identify
	checkLatency(t, "identify", s.Latency, 12)
	if s.GallerySize != 60 || s.SearchesPerSec <= 0 {
		t.Errorf("identify: %+v", s)
	}
	// Six mated and six non-mated probes: the matcher finds every mate
	// at 60 people. Strangers' outcomes are counted, not asserted: they
	// measure the engine's calibration, which node's own tests check.
	if a := s.Accuracy; !a.consistent(12) {
		t.Errorf("accuracy %s", a)
	}
	if r.Reload.Templates != 120 || r.Reload.Identities != 60 || r.Reload.Seconds <= 0 {
		t.Errorf("reload %+v: want 120 templates of 60 identities", r.Reload)
	}
	for _, p := range []string{"generate gallery", "enrol", "identify", "reload gallery"} {
		if !phases.seen(p) {
			t.Errorf("no progress reported for %q", p)
		}
	}
	tab := r.Table()
	for _, want := range []string{"enrolments/s", "searches/s", "true hits 6", "120 templates"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
}

// consistent reports whether the outcomes of n searches, half by enrolled
// people who were all found, add up: the strangers' searches are each
// counted once, as a false hit, a review or a correct no-hit.
func (a Accuracy) consistent(n int) bool {
	return a.TrueHits == n/2 && a.MissedHits == 0 && a.FalseHits+a.Reviews+a.CorrectNoHits == n-n/2
}

func TestNodeSQLite(t *testing.T) { checkNode(t, "sqlite") }

func TestNodePostgres(t *testing.T) {
	dsn := os.Getenv("EBSP_TEST_POSTGRES")
	if dsn == "" {
		testneed.Missing(t, "PostgreSQL not available: set EBSP_TEST_POSTGRES (test.sh does)")
	}
	checkNode(t, dsn)
}

func TestSearch(t *testing.T) {
	r, err := RunSearch(context.Background(), SearchOptions{Sizes: []int{160, 80}, Searches: 6, Workers: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sizes) != 2 || r.Sizes[0].Fingers != 80 || r.Sizes[1].Fingers != 160 {
		t.Fatalf("sizes %+v: want 80 then 160", r.Sizes)
	}
	for _, s := range r.Sizes {
		checkLatency(t, "search", s.Latency, 6)
		// Each probe finger meets every gallery finger of its position
		// once in stage 1 (fingers/2 each, two probe fingers), and stage 2
		// re-scores the shortlisted identities: at least fingers
		// comparisons per search, and at most stage 1 plus 2 per
		// identity per probe finger.
		per := s.Comparisons / int64(s.Searches)
		if per < int64(s.Fingers) || per > int64(s.Fingers)+int64(2*s.Identities) {
			t.Errorf("%d fingers: %d comparisons per search", s.Fingers, per)
		}
		if s.BytesPerTemplate <= 0 || s.ComparisonsPerSec <= 0 || s.Identities != s.Fingers/2 {
			t.Errorf("%d fingers: %+v", s.Fingers, s)
		}
		if a := s.Accuracy; !a.consistent(6) {
			t.Errorf("%d fingers: accuracy %s", s.Fingers, a)
		}
	}
	if !strings.Contains(r.Table(), "cmp/CPU-s") {
		t.Error("table lacks the comparisons column")
	}
}

func TestExchange(t *testing.T) {
	r, err := RunExchange(context.Background(), ExchangeOptions{PartnerFingers: 120, Requests: 8, Concurrency: 3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.Enrol.Enrolments != 60 {
		t.Errorf("partner enrolled %d", r.Enrol.Enrolments)
	}
	for _, p := range []ExchangePhase{r.Sequential, r.Concurrent} {
		checkLatency(t, "step 1", p.Latency, 8)
		// Every enrolled person is a hit; what strangers get is counted.
		if p.ExpectedHits != 4 || p.MissedHits != 0 || p.Hits != 4+p.FalseHits || p.Hits+p.NoHits != 8 || p.RequestsPerSec <= 0 {
			t.Errorf("phase %+v: want the 4 enrolled people hit and consistent counts", p)
		}
	}
	if r.Concurrent.Concurrency != 3 || r.Sequential.Concurrency != 1 {
		t.Errorf("concurrency %d / %d", r.Sequential.Concurrency, r.Concurrent.Concurrency)
	}
}

func TestSummarise(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	l := summarise(d)
	if l.Count != 100 || l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 || l.Mean != 50.5 {
		t.Errorf("summarise 1..100 ms: %+v", l)
	}
	if l := summarise(d[99:]); l.P50 != 1 || l.P99 != 1 {
		t.Errorf("summarise one value: %+v", l)
	}
}

func TestBadOptions(t *testing.T) {
	ctx := context.Background()
	for _, o := range []NodeOptions{
		{Store: "mysql://x", Fingers: 10, Searches: 2},
		{Store: "sqlite", Fingers: 9, Searches: 2},
		{Store: "sqlite", Fingers: 10, Searches: 1},
		{Store: "sqlite", Fingers: 10, Searches: 12},
	} {
		if _, err := RunNode(ctx, o); err == nil {
			t.Errorf("RunNode(%+v) accepted", o)
		}
	}
	if _, err := RunSearch(ctx, SearchOptions{Sizes: []int{7}, Searches: 2}); err == nil {
		t.Error("odd gallery size accepted")
	}
	if _, err := RunExchange(ctx, ExchangeOptions{PartnerFingers: 4, Requests: 10}); err == nil {
		t.Error("more requests than partner people accepted")
	}
}

// phaseSet records which progress phases were reported.
type phaseSet struct {
	mu     sync.Mutex
	phases map[string]bool
}

func (m *phaseSet) record(phase string, done, total int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.phases == nil {
		m.phases = map[string]bool{}
	}
	m.phases[phase] = true
}

func (m *phaseSet) seen(p string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.phases[p]
}
