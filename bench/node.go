package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/store/postgres"
)

// NodeOptions configure a node benchmark.
type NodeOptions struct {
	// Store is "sqlite" or a PostgreSQL URL. A PostgreSQL run works in a
	// schema of its own, made for the run and dropped after it, so runs are
	// repeatable and leave nothing behind.
	Store string
	// DataDir, when set, is where the node's data directory is made (and
	// kept); otherwise a temporary directory is used and removed.
	DataDir string
	// Fingers is the gallery size; each person gives two index fingers, so
	// Fingers/2 people are enrolled.
	Fingers int
	// Concurrency is the number of enrolling clients.
	Concurrency int
	// Searches is the number of identifications, half by enrolled people.
	Searches int
	// SearchConcurrency is the number of searching clients (1: one search
	// at a time, so latency is the node's own, not queueing).
	SearchConcurrency int
	Seed              uint64
	Progress          Progress
	Log               io.Writer // the node's JSON log (nil: discarded)
}

// NodeResult is what a node benchmark measured.
type NodeResult struct {
	Machine Machine `json:"machine"`
	Store   string  `json:"store"` // "sqlite" or "postgresql" (never the URL: it may hold a password)
	People  int     `json:"people"`
	Fingers int     `json:"fingers"`
	// GenerateSeconds is the time spent making the synthetic samples
	// before the timed phases; it is not part of any rate.
	GenerateSeconds float64     `json:"generate_seconds"`
	Enrol           EnrolPhase  `json:"enrol"`
	Identify        SearchPhase `json:"identify"`
	Reload          ReloadPhase `json:"reload"`
}

// EnrolPhase is the enrolment of the population through the HTTP API.
type EnrolPhase struct {
	Concurrency      int     `json:"concurrency"`
	Enrolments       int     `json:"enrolments"`
	Seconds          float64 `json:"seconds"`
	CPUSeconds       float64 `json:"cpu_seconds"`
	EnrolmentsPerSec float64 `json:"enrolments_per_second"`
	FingersPerSec    float64 `json:"fingers_per_second"`
	Latency          Latency `json:"latency"`
}

// SearchPhase is a run of 1:N identifications through the HTTP API.
type SearchPhase struct {
	Concurrency    int      `json:"concurrency"`
	Searches       int      `json:"searches"`
	GallerySize    int      `json:"gallery_identities"` // as the node reported it
	Seconds        float64  `json:"seconds"`
	CPUSeconds     float64  `json:"cpu_seconds"`
	SearchesPerSec float64  `json:"searches_per_second"`
	Latency        Latency  `json:"latency"`
	Accuracy       Accuracy `json:"accuracy"`
}

// ReloadPhase is the restart of the node: store reopened, gallery loaded.
type ReloadPhase struct {
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Templates  int     `json:"templates"`
	Identities int     `json:"identities"` // as a search after the reload reported
}

func (o *NodeOptions) check() error {
	switch {
	case o.Store != "sqlite" && !strings.HasPrefix(o.Store, "postgres://") && !strings.HasPrefix(o.Store, "postgresql://"):
		return fmt.Errorf("bench: store %q: want sqlite or a postgres:// URL", redact(o.Store))
	case o.Fingers < 2 || o.Fingers%2 != 0:
		return fmt.Errorf("bench: fingers %d: want an even number >= 2 (two index fingers per person)", o.Fingers)
	case o.Searches < 2:
		return fmt.Errorf("bench: searches %d: want at least 2 (half enrolled, half not)", o.Searches)
	case o.Searches/2 > o.Fingers/2:
		return fmt.Errorf("bench: searches %d: at most 2 per enrolled person (%d people)", o.Searches, o.Fingers/2)
	}
	o.Concurrency = max(1, o.Concurrency)
	o.SearchConcurrency = max(1, o.SearchConcurrency)
	return nil
}

// redact hides the password of a URL for messages.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// RunNode starts a node on loopback with a fresh store, enrols
// o.Fingers/2 synthetic people through its HTTP API with o.Concurrency
// clients, runs o.Searches identifications, then restarts the node on the
// same store and times the gallery load.
func RunNode(ctx context.Context, o NodeOptions) (*NodeResult, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &NodeResult{Machine: machine(), Store: "sqlite", People: o.Fingers / 2, Fingers: o.Fingers}
	dir, cleanup, err := dataDir(o.DataDir, "ebsp-bench-node-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	storeURL := o.Store
	if storeURL != "sqlite" {
		res.Store = "postgresql"
		var drop func() error
		if storeURL, drop, err = postgres.FreshSchema(ctx, o.Store, "ebsp_bench_"); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer drop()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	logger := slog.New(slog.NewJSONHandler(o.Log, nil))
	token := rand.Text()
	cfg := &node.Config{State: "USA", Agency: "USA-bench", DataDir: dir, Store: storeURL, Listen: "127.0.0.1:0",
		RatePerSecond: 1e6, Burst: 1e6, // the benchmark's clients must not be rate limited
		Tokens: []node.TokenConfig{{Name: "bench", SHA256: node.TokenHash(token),
			Roles: []node.Role{node.RoleEnroller, node.RoleSearcher}}}}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}

	// The samples are made before the clock starts: the rates are the
	// node's, not the generator's.
	sw := start()
	people := make([][]node.SampleInput, res.People)
	if err := parallel(ctx, res.People, o.Concurrency, func(p int) error {
		s, err := enrolmentSamples(o.Seed, p)
		people[p] = s
		return err
	}, "generate gallery", o.Progress); err != nil {
		return nil, err
	}
	probes, err := makeProbes(ctx, o.Seed, res.People, o.Searches, o.Concurrency, o.Progress)
	if err != nil {
		return nil, err
	}
	res.GenerateSeconds, _ = sw.elapsed()

	srv, err := startNode(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	cl := node.NewClient(srv.url, token, nil)

	res.Enrol, err = enrolAll(ctx, cl, people, o.Concurrency, o.Progress)
	if err != nil {
		return nil, err
	}
	res.Identify, err = identifyAll(ctx, cl, probes, o.SearchConcurrency, o.Progress)
	if err != nil {
		return nil, err
	}
	srv.close()

	// Restart: a new node over the same store loads the gallery.
	sw = start()
	a, err := partnership.Assemble(ctx, cfg, partnership.AssembleOptions{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("bench: reopen the node: %w", err)
	}
	defer a.Close()
	n := a.Node
	if err := n.LoadGallery(ctx, func(m biometric.Modality, loaded int) {
		if m == biometric.Finger {
			res.Reload.Templates = loaded
			if o.Progress != nil {
				o.Progress("reload gallery", loaded, res.Fingers)
			}
		}
	}); err != nil {
		return nil, err
	}
	res.Reload.Seconds, res.Reload.CPUSeconds = sw.elapsed()
	// One search shows the reloaded gallery is the one enrolled.
	r, err := n.Identify(ctx, &node.IdentifyRequest{Samples: probes[0].samples, Purpose: "border_screening"})
	if err != nil {
		return nil, fmt.Errorf("bench: search after reload: %w", err)
	}
	res.Reload.Identities = r.GallerySize
	return res, nil
}

// dataDir returns a fresh directory under parent (a temporary one, removed
// by cleanup, when parent is empty).
func dataDir(parent, pattern string) (dir string, cleanup func(), err error) {
	if parent == "" {
		dir, err = os.MkdirTemp("", pattern)
		return dir, func() { os.RemoveAll(dir) }, err
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", nil, err
	}
	dir, err = os.MkdirTemp(parent, pattern)
	return dir, func() {}, err
}

// server is a node serving its API on loopback.
type server struct {
	url   string
	once  sync.Once
	close func()
}

func startNode(ctx context.Context, cfg *node.Config, logger *slog.Logger) (*server, error) {
	a, err := partnership.Assemble(ctx, cfg, partnership.AssembleOptions{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := a.Node.LoadGallery(ctx, nil); err != nil {
		a.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		return nil, err
	}
	hs, scheme, _, err := a.Serve(ln)
	if err != nil {
		ln.Close()
		a.Close()
		return nil, err
	}
	s := &server{url: scheme + "://" + ln.Addr().String()}
	s.close = func() {
		s.once.Do(func() {
			hs.Close()
			a.Close()
		})
	}
	return s, nil
}

// enrolAll enrols the people through the API, concurrency clients at once.
func enrolAll(ctx context.Context, cl *node.Client, people [][]node.SampleInput, concurrency int, progress Progress) (EnrolPhase, error) {
	ph := EnrolPhase{Concurrency: concurrency, Enrolments: len(people)}
	lat := make([]time.Duration, len(people))
	sw := start()
	err := parallel(ctx, len(people), concurrency, func(p int) error {
		t0 := time.Now()
		_, err := cl.Enroll(ctx, &node.EnrolRequest{
			Identity:   node.IdentityInput{ID: personID(p)},
			Encounter:  node.EncounterInput{Purpose: "visa", Place: "consulate"},
			Provenance: store.Provenance{SourceAgency: "USA-bench", LegalBasis: "benchmark: synthetic population"},
			Samples:    people[p]})
		lat[p] = time.Since(t0)
		if err != nil {
			return fmt.Errorf("bench: enrol person %d: %w", p, err)
		}
		return nil
	}, "enrol", progress)
	if err != nil {
		return ph, err
	}
	ph.Seconds, ph.CPUSeconds = sw.elapsed()
	ph.EnrolmentsPerSec = perSec(len(people), ph.Seconds)
	fingers := 0
	for _, s := range people {
		fingers += len(s)
	}
	ph.FingersPerSec = perSec(fingers, ph.Seconds)
	ph.Latency = summarise(lat)
	return ph, nil
}

func personID(p int) string { return fmt.Sprintf("P%07d", p) }

// identifyAll runs the probes as identifications and scores the decisions
// against the ground truth.
func identifyAll(ctx context.Context, cl *node.Client, probes []probe, concurrency int, progress Progress) (SearchPhase, error) {
	ph := SearchPhase{Concurrency: concurrency, Searches: len(probes)}
	lat := make([]time.Duration, len(probes))
	resp := make([]*node.IdentifyResponse, len(probes))
	sw := start()
	err := parallel(ctx, len(probes), concurrency, func(i int) error {
		t0 := time.Now()
		r, err := cl.Identify(ctx, &node.IdentifyRequest{Samples: probes[i].samples, Purpose: "border_screening"})
		lat[i] = time.Since(t0)
		if err != nil {
			return fmt.Errorf("bench: identify probe %d: %w", i, err)
		}
		resp[i] = r
		return nil
	}, "identify", progress)
	if err != nil {
		return ph, err
	}
	ph.Seconds, ph.CPUSeconds = sw.elapsed()
	ph.SearchesPerSec = perSec(len(probes), ph.Seconds)
	ph.Latency = summarise(lat)
	for i, r := range resp {
		ph.GallerySize = r.GallerySize
		top := ""
		if len(r.Candidates) > 0 {
			top = r.Candidates[0].IdentityID
		}
		ph.Accuracy.add(probes[i], r.Decision, top)
	}
	return ph, nil
}

// add counts one decision; top is the first candidate's identity id.
func (a *Accuracy) add(p probe, d biometric.Decision, top string) {
	switch {
	case d == biometric.Review:
		a.Reviews++
	case p.enrolled && d == biometric.Hit && top == personID(p.person):
		a.TrueHits++
	case p.enrolled && d == biometric.Hit:
		a.MissedHits++
		a.FalseHits++ // someone else ranked first
	case p.enrolled:
		a.MissedHits++
	case d == biometric.Hit:
		a.FalseHits++
	default:
		a.CorrectNoHits++
	}
}

// Table is the human-readable report of a node benchmark.
func (r *NodeResult) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ebsp bench node: %s store, %d fingers (%d people x 2 index fingers), HTTP API on loopback\n",
		r.Store, r.Fingers, r.People)
	fmt.Fprintf(&b, "machine: %d CPUs, GOMAXPROCS %d, %s, load average %.2f at start\n",
		r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.Load1)
	e, s := r.Enrol, r.Identify
	b.WriteString("\nenrolment\n")
	b.WriteString(table([][2]string{
		{"clients", fmt.Sprint(e.Concurrency)},
		{"enrolments", fmt.Sprintf("%d in %.2f s (CPU %.2f s)", e.Enrolments, e.Seconds, e.CPUSeconds)},
		{"enrolments/s", fmt.Sprintf("%.1f", e.EnrolmentsPerSec)},
		{"fingers/s", fmt.Sprintf("%.1f", e.FingersPerSec)},
		{"latency ms", latencyRow(e.Latency)},
	}))
	b.WriteString("\nidentification (2 fingers per probe, half enrolled people, half never enrolled)\n")
	b.WriteString(table([][2]string{
		{"clients", fmt.Sprint(s.Concurrency)},
		{"gallery", fmt.Sprintf("%d identities", s.GallerySize)},
		{"searches", fmt.Sprintf("%d in %.2f s (CPU %.2f s)", s.Searches, s.Seconds, s.CPUSeconds)},
		{"searches/s", fmt.Sprintf("%.2f", s.SearchesPerSec)},
		{"latency ms", latencyRow(s.Latency)},
		{"accuracy", s.Accuracy.String()},
	}))
	b.WriteString("\nrestart\n")
	b.WriteString(table([][2]string{
		{"gallery load", fmt.Sprintf("%d templates in %.2f s (CPU %.2f s); %d identities searchable",
			r.Reload.Templates, r.Reload.Seconds, r.Reload.CPUSeconds, r.Reload.Identities)},
	}))
	fmt.Fprintf(&b, "\n(synthetic samples generated beforehand in %.2f s, not timed above)\n", r.GenerateSeconds)
	return b.String()
}

func latencyRow(l Latency) string {
	return fmt.Sprintf("p50 %.1f  p95 %.1f  p99 %.1f  max %.1f  mean %.1f", l.P50, l.P95, l.P99, l.Max, l.Mean)
}
