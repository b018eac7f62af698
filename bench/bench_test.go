package bench

import (
	"bytes"
	"context"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/internal/testneed"
	"github.com/ebsp/ebsp/search"
	"os"
	"path/filepath"
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
	for _, o := range []SearchOptions{
		{Fingers: 160, Searches: 6, Workers: 2, Seed: 3, Exhaustive: true},
		// More identities than the shortlist's minimum: two stages.
		{Fingers: 400, Searches: 6, Workers: 2, Seed: 3, Shortlist: search.Shortlist{Min: 20, Fraction: 0.05}, Compact: true},
		{Faces: 3000, Searches: 6, Workers: 2, Seed: 3, Shortlist: search.Shortlist{Min: 20, Fraction: 0.01}},
	} {
		r, err := RunSearch(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		checkLatency(t, "search", r.Latency, 6)
		size := max(r.Fingers, r.Faces)
		per := r.Comparisons / int64(r.Searches)
		short := r.Shortlist.Fraction * float64(r.Identities)
		switch {
		case r.Exhaustive:
			// Each probe finger meets every gallery finger of its position
			// once in stage 1, and stage 2 re-scores the shortlisted
			// identities.
			if per < int64(size) || per > int64(size)+int64(2*r.Identities) {
				t.Errorf("%+v: %d comparisons per search", o, per)
			}
		case float64(per) > 2*2*max(short, float64(r.Shortlist.Min)):
			t.Errorf("%+v: %d exact comparisons per search, shortlist %.0f identities", o, per, short)
		}
		if !r.Exhaustive && len(r.Penetration) != len(penetrationRates) {
			t.Errorf("%+v: penetration %v", o, r.Penetration)
		}
		if r.BytesPerFinger+r.BytesPerFace <= 0 || r.Identities != r.Fingers/2+r.Faces || r.LoadSeconds <= 0 {
			t.Errorf("%+v: %+v", o, r)
		}
		if a := r.Accuracy; r.Faces > 0 {
			// Synthetic faces follow the recogniser's London distances, and
			// the engine's fitted tail puts the hit threshold (FMR about
			// 3e-7 per comparison here) among the genuine scores: a mate
			// may end as review, never as a miss or a false hit.
			if a.MissedHits != 0 || a.FalseHits != 0 || a.TrueHits == 0 || a.TrueHits+a.Reviews+a.CorrectNoHits != 6 {
				t.Errorf("%+v: accuracy %s", o, a)
			}
		} else if !a.consistent(6) {
			t.Errorf("%+v: accuracy %s", o, a)
		}
		if !strings.Contains(r.Table(), "latency ms") {
			t.Error("table lacks the latency row")
		}
	}
}

// TestSearchSnapshot checks that a search benchmark with a snapshot file
// builds the gallery and writes it once, reads it the next time (a
// restart, timed) with the same searches deciding the same, and builds
// afresh when the file holds another gallery.
func TestSearchSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gallery.snap")
	o := SearchOptions{Fingers: 400, Searches: 6, Workers: 2, Seed: 3, Shortlist: search.Shortlist{Min: 20, Fraction: 0.05}, Snapshot: path}
	first, err := RunSearch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if first.Restarted {
		t.Fatal("the first run read a snapshot that did not exist")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no snapshot written: %v", err)
	}
	again, err := RunSearch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Restarted || again.Identities != first.Identities || again.Accuracy != first.Accuracy || again.Comparisons != first.Comparisons {
		t.Errorf("read from the snapshot: restarted %v, %d identities, %s, %d comparisons; built: %d identities, %s, %d comparisons",
			again.Restarted, again.Identities, again.Accuracy, again.Comparisons, first.Identities, first.Accuracy, first.Comparisons)
	}
	if again.CPUSeconds <= 0 || again.CPU.Count != o.Searches {
		t.Errorf("CPU per search not measured: %v s, %+v", again.CPUSeconds, again.CPU)
	}
	// The same gallery's snapshot, made by another synthetic generator
	// (its digest differs): rebuilt, not read.
	g := search.NewGallery(engine.Finger{}, 2)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := g.ReadSnapshot(f)
	f.Close()
	if err != nil || string(meta) != string(snapshotMeta(o)) {
		t.Fatalf("snapshot meta %q (%v), want %q", meta, err, snapshotMeta(o))
	}
	i := bytes.Index(meta, []byte("synth="))
	if i < 0 {
		t.Fatalf("snapshot meta %q names no synthetic generator", meta)
	}
	older := append(bytes.Clone(meta[:i]), "synth=0123"...)
	if err := g.SaveSnapshot(path, older); err != nil {
		t.Fatal(err)
	}
	stale, err := RunSearch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if stale.Restarted || stale.Accuracy != first.Accuracy {
		t.Errorf("another generator's snapshot: restarted %v, %s (built: %s)", stale.Restarted, stale.Accuracy, first.Accuracy)
	}
	o.Seed = 4
	other, err := RunSearch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if other.Restarted {
		t.Error("a snapshot of seed 3's gallery was read for seed 4")
	}
}

// TestSynthDigest checks that the digest a bench snapshot records changes
// when the generator's template of any person it samples changes, first
// and last included, and depends on the seed.
func TestSynthDigest(t *testing.T) {
	const people = 1000
	tmpl := func(seed uint64, moved int) func(int) []byte {
		return func(p int) []byte {
			tp := fingerTemplate(seed, p, 0, 1)
			if p == moved {
				for i := range tp.Minutiae {
					tp.Minutiae[i].X++
				}
			}
			return preparedBytes(tp)
		}
	}
	base := synthDigest(people, tmpl(1, -1))
	if !bytes.Equal(base, synthDigest(people, tmpl(1, -1))) {
		t.Fatal("digest not reproducible")
	}
	mid := int(int64(synthDigestPeople/2) * (people - 1) / (synthDigestPeople - 1)) // a sampled person
	for _, moved := range []int{0, mid, people - 1} {
		if bytes.Equal(base, synthDigest(people, tmpl(1, moved))) {
			t.Errorf("a minutia of person %d moved: same digest", moved)
		}
	}
	if bytes.Equal(base, synthDigest(people, tmpl(2, -1))) {
		t.Error("seeds 1 and 2: same digest")
	}
	a := snapshotMeta(SearchOptions{Faces: 100, Seed: 1})
	if b := snapshotMeta(SearchOptions{Faces: 100, Seed: 2}); bytes.Equal(a, b) || !bytes.Contains(a, []byte("synth=")) {
		t.Errorf("face snapshot metas %q and %q", a, b)
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
	if _, err := RunSearch(ctx, SearchOptions{Fingers: 7, Searches: 2}); err == nil {
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

// TestRunPrivacy runs the privacy benchmark on a small gallery with
// insecure, fast parameters and checks the figures it must print.
func TestRunPrivacy(t *testing.T) {
	if underRace {
		t.Skip("slow under -race")
	}
	r, err := RunPrivacy(context.Background(), PrivacyOptions{Gallery: 300, Queries: 2, Dim: 64, LogN: 12, Train: 300, Heldout: 100, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if r.SecureParameters || r.Dimensions != 64 || r.Gallery != 300 || r.Mated != 1 {
		t.Fatalf("unexpected result %+v", r)
	}
	if r.BytesUp == 0 || r.BytesDown == 0 || r.SecondsPerQuery <= 0 || r.CPUSecondsPerQuery <= 0 {
		t.Fatalf("sizes or times missing: %+v", r)
	}
	if r.DisagreementsOutsideMargin != 0 || r.EntryAgreement < 0.999 {
		t.Fatalf("entry agreement %.6f, %d disagreements outside the margin", r.EntryAgreement, r.DisagreementsOutsideMargin)
	}
	if r.MatedHits != 1 || r.NonMatedHits != 0 {
		t.Fatalf("hits on mated %d, non-mated %d", r.MatedHits, r.NonMatedHits)
	}
	if r.Reduction.ImpostorSDReduced <= r.Reduction.ImpostorSDFull {
		t.Errorf("reduction did not widen the impostor spread (%.4f → %.4f)", r.Reduction.ImpostorSDFull, r.Reduction.ImpostorSDReduced)
	}
}

// TestEnrolmentSamplesLeaveOutAFinger: person 1420 of seed 1 has a finger
// with too few minutiae in every retake; the capture leaves it out rather
// than send what the node's gate refuses (which stopped ebsp bench node at
// 10,000 fingers), and a person without such a finger gives both.
func TestEnrolmentSamplesLeaveOutAFinger(t *testing.T) {
	for _, c := range []struct{ person, want int }{{1420, 1}, {0, 2}} {
		s, err := enrolmentSamples(1, c.person)
		if err != nil || len(s) != c.want {
			t.Fatalf("person %d: %d samples, %v; want %d", c.person, len(s), err, c.want)
		}
		if c.want == 1 && s[0].Position != indexFingers[1] {
			t.Errorf("person %d: kept %v, want the finger that passes (%v)", c.person, s[0].Position, indexFingers[1])
		}
	}
}
