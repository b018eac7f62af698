package exchange

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/synth"
)

// testClock is an injectable clock the tests advance.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func quantise(t fingerprint.Template, pos biometric.FingerPosition) fingerprint.Template {
	rec, err := iso19794.MinutiaeRecordFromTemplate(t, iso19794.ISO19794_2_2005, pos)
	if err != nil {
		panic(err)
	}
	b, err := rec.Marshal()
	if err != nil {
		panic(err)
	}
	back, _, err := iso19794.ParseMinutiaeAs(b, iso19794.ISO19794_2_2005)
	if err != nil {
		panic(err)
	}
	out, err := back.Template(0)
	if err != nil {
		panic(err)
	}
	return out
}

func isoBytes(t fingerprint.Template, pos biometric.FingerPosition) []byte {
	rec, err := iso19794.MinutiaeRecordFromTemplate(t, iso19794.ISO19794_2_2005, pos)
	if err != nil {
		panic(err)
	}
	b, err := rec.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// galleryPerson is one enrolled identity of the test gallery.
type galleryPerson struct {
	id      string
	finger  uint64                              // synth finger number (master)
	fingers map[biometric.FingerPosition][]byte // ISO record bytes of the enrolled impression
	prep    *fingerprint.Prepared
	fields  map[string]string
}

// matchThreshold is the score above which the test gallery reports a
// candidate. The tests probe with the enrolled impression itself (see
// probeOf), which the MCC matcher scores far above any impostor pair, so
// the tests do not depend on the matcher's accuracy on synthetic genuine
// pairs (which synth deliberately makes as hard as real ones). 0.45 lies
// far above the impostor scores of synthetic fingers (engine.
// SyntheticFingerTail: 0.108 at FMR 1e-3, 0.211 at 1e-6), so that a
// fresh probe (freshProbe) against a test gallery of hundreds makes no
// false candidate whatever the matcher's constants; it was 0.1, set
// when synthetic impostors scored at most 0.026, and became a 1e-3-FMR
// threshold when the synthetic prints were fitted to real impostor
// scores (issue 14).
const matchThreshold = 0.45

// memGallery is the tests' gallery. By default its searches go through
// the node's own 1:N gallery (search.Gallery with the fingerprint engine of
// package engine: stage-1 shortlist, then MCC re-rank), so the safeguard
// tests run against the gallery a real node searches; with real nil (the
// MCC benchmark) it compares the probe with every person, split over the
// available cores. Disclose returns more than asked, so that the
// responder's minimisation is what is tested.
type memGallery struct {
	mu       sync.Mutex
	people   []*galleryPerson
	real     *search.Gallery
	searches atomic.Int64
	discl    atomic.Int64
}

func newMemGallery() *memGallery {
	return &memGallery{real: search.NewGallery(engine.Finger{}, 0)}
}

func (g *memGallery) add(p *galleryPerson) {
	g.mu.Lock()
	g.people = append(g.people, p)
	if g.real != nil && p.prep != nil {
		g.real.AddPrepared(p.id, p.id+"-t", biometric.RightIndex, p.prep)
	}
	g.mu.Unlock()
}

func (g *memGallery) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.people)
}

func (g *memGallery) Search(ctx context.Context, p Probe) ([]biometric.Candidate, error) {
	g.searches.Add(1)
	g.mu.Lock()
	people := slices.Clone(g.people)
	real := g.real
	g.mu.Unlock()
	if real != nil {
		var probes []search.ProbeSample
		for _, f := range p.Fingers {
			probes = append(probes, search.ProbeSample{Position: f.Position, Probe: engine.FingerProbe(f.Template)})
		}
		var out []biometric.Candidate
		for _, c := range real.Search(probes, len(people), matchThreshold) {
			if c.Score >= matchThreshold {
				out = append(out, c)
			}
		}
		return out, ctx.Err()
	}
	best := make([]float64, len(people))
	for _, f := range p.Fingers {
		m := fingerprint.NewMatcher(f.Template)
		workers := runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int, m *fingerprint.Matcher) {
				defer wg.Done()
				for i := w; i < len(people); i += workers {
					if people[i].prep == nil || ctx.Err() != nil {
						continue
					}
					if s := m.Compare(people[i].prep); s > best[i] {
						best[i] = s
					}
				}
			}(w, m.Clone())
		}
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []biometric.Candidate
	for i, s := range best {
		if s >= matchThreshold {
			out = append(out, biometric.Candidate{IdentityID: people[i].id, Score: s})
		}
	}
	slices.SortFunc(out, func(a, b biometric.Candidate) int { return cmp.Compare(b.Score, a.Score) })
	return out, nil
}

func (g *memGallery) Disclose(ctx context.Context, id string, fields []string) (map[string]string, error) {
	g.discl.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.people {
		if p.id == id {
			// Return everything held, more than asked: the responder must
			// minimise, not the store.
			out := map[string]string{}
			for k, v := range p.fields {
				out[k] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("no identity %q", id)
}

// partnership is two nodes on loopback: US requests, GB responds, over
// real mutual TLS.
type partnership struct {
	clock     *testClock
	usCA      *CA
	gbCA      *CA
	us, gb    *NodeCredentials
	agreement *Agreement
	gallery   *memGallery
	log       *audit.Log
	logDir    string
	logs      *bytes.Buffer // the responder's operational log output
	resp      *Responder
	respCfg   ResponderConfig // to start the responder again (restart)
	srv       *httptest.Server
	client    *Client
}

const examinerID, examinerSecret = "gb-examiner-7", "correct horse battery staple"

func testAgreement(us, gb *NodeCredentials, endpoint string) *Agreement {
	return &Agreement{
		ID:      "US-GB-TEST",
		Parties: [2]Party{us.Party(""), gb.Party(endpoint)},
		Purposes: []PurposeRule{
			{Purpose: BorderScreening}, {Purpose: ImmigrationBenefit}, {Purpose: SeriousCrime, MinOffenceYears: 3},
		},
		Modalities: []biometric.Modality{biometric.Finger},
		Searches: map[SearchType]SearchRule{
			Tenprint: {DailyQuota: 50},
			Latent:   {DailyQuota: 20},
		},
		Handling:  Handling{NoOnwardTransfer: true, DestroyAfter: Duration(30 * 24 * time.Hour)},
		Retention: Duration(90 * 24 * time.Hour),
	}
}

func newPartnership(t testing.TB, edit func(a *Agreement)) *partnership {
	t.Helper()
	return newPartnershipState(t, edit, nil)
}

// newPartnershipState is newPartnership with the responder's state kept in
// st (nil: in memory).
func newPartnershipState(t testing.TB, edit func(a *Agreement), st store.ExchangeState) *partnership {
	t.Helper()
	return newPartnershipWith(t, edit, st, nil)
}

// newPartnershipWith is newPartnershipState with a hook that sees the
// partnership's credentials and may change the responder's and the
// client's configuration before they start.
func newPartnershipWith(t testing.TB, edit func(a *Agreement), st store.ExchangeState, configure func(p *partnership, rc *ResponderConfig, cc *ClientConfig)) *partnership {
	t.Helper()
	p := &partnership{clock: &testClock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}, gallery: newMemGallery(), logs: &bytes.Buffer{}}
	var err error
	// Certificates must be valid both at the test clock (message checks)
	// and at the real time (the TLS handshake).
	now := p.clock.Now().Add(-24 * time.Hour)
	if time.Now().Before(now) {
		now = time.Now().Add(-24 * time.Hour)
	}
	if p.usCA, err = NewCA("US", now, 5*24*time.Hour*365); err != nil {
		t.Fatal(err)
	}
	if p.gbCA, err = NewCA("GB", now, 5*24*time.Hour*365); err != nil {
		t.Fatal(err)
	}
	if p.us, err = p.usCA.IssueNode("us-node", []string{"127.0.0.1", "localhost"}, now, 5*24*time.Hour*365); err != nil {
		t.Fatal(err)
	}
	if p.gb, err = p.gbCA.IssueNode("gb-node", []string{"127.0.0.1", "localhost"}, now, 5*24*time.Hour*365); err != nil {
		t.Fatal(err)
	}
	p.logDir = filepath.Join(t.TempDir(), "gb-audit")
	if p.log, err = audit.Open(p.logDir, p.gb.LogSigner); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.log.Close() })

	// The server needs the responder, and the agreement needs the server's
	// URL: start the listener first.
	p.srv = httptest.NewUnstartedServer(nil)
	endpoint := "https://" + p.srv.Listener.Addr().String()
	p.agreement = testAgreement(p.us, p.gb, endpoint)
	if edit != nil {
		edit(p.agreement)
	}
	if err := p.agreement.Validate(); err != nil {
		t.Fatal(err)
	}
	// Each side holds its own copy of the agreement file.
	raw, _ := p.agreement.Marshal()
	gbCopy, err := ParseAgreement(raw)
	if err != nil {
		t.Fatal(err)
	}
	p.respCfg = ResponderConfig{
		Credentials: p.gb, Agreements: []*Agreement{gbCopy}, Searcher: p.gallery, Discloser: p.gallery,
		Log: p.log, Examiners: NewStaticExaminers(map[string]string{examinerID: examinerSecret}),
		Now: p.clock.Now, Logger: slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		State: st,
	}
	usCopy, _ := ParseAgreement(raw)
	cc := ClientConfig{Credentials: p.us, Agreement: usCopy, Now: p.clock.Now}
	if configure != nil {
		configure(p, &p.respCfg, &cc)
	}
	if p.resp, err = NewResponder(p.respCfg); err != nil {
		t.Fatal(err)
	}
	p.srv.Config.Handler = p.resp.Handler()
	p.srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // handshake refusals are expected in tests
	p.srv.TLS = p.resp.TLSConfig()
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	if p.client, err = NewClient(cc); err != nil {
		t.Fatal(err)
	}
	return p
}

// restart drops the responder as a killed process would (nothing is
// flushed or closed in order), reopens its audit log from disk and starts a
// new responder on the same store and endpoint.
func (p *partnership) restart(t testing.TB) {
	t.Helper()
	p.log.Close()
	var err error
	if p.log, err = audit.Open(p.logDir, p.gb.LogSigner); err != nil {
		t.Fatal(err)
	}
	p.respCfg.Log = p.log
	if p.resp, err = NewResponder(p.respCfg); err != nil {
		t.Fatal(err)
	}
	p.srv.Config.Handler = p.resp.Handler()
}

// enrol adds n people, each with the first impression of a synthetic
// right index finger (synth master number = their index, from 1000 up so
// fresh probes, from 0 up, never match).
func (p *partnership) enrol(rng *rand.Rand, n int, nationality string) []*galleryPerson {
	var out []*galleryPerson
	for i := 0; i < n; i++ {
		k := p.gallery.size()
		finger := uint64(1000 + k)
		t := quantise(impression(finger, 0), biometric.RightIndex)
		person := &galleryPerson{
			id:      fmt.Sprintf("gb-id-%06d", k),
			finger:  finger,
			fingers: map[biometric.FingerPosition][]byte{biometric.RightIndex: isoBytes(t, biometric.RightIndex)},
			prep:    fingerprint.Prepare(t),
			fields: map[string]string{
				"names": fmt.Sprintf("Person %d", k), "date_of_birth": "1980-02-03", "nationality": nationality,
				"case_reference": fmt.Sprintf("GB-CASE-%d", k), "address": "1 Secret Street", "flags": "wanted",
			},
		}
		p.gallery.add(person)
		out = append(out, person)
	}
	return out
}

// impression returns impression number imp of synthetic finger master.
func impression(finger, imp uint64) fingerprint.Template {
	m := synth.NewFingerMaster(20260601, finger)
	mt := synth.TemplateMaster(m)
	return synth.TemplateImpression(m, &mt, imp)
}

// probeOf makes a probe of a gallery person's enrolled right index
// impression, as it crosses the wire (ISO/IEC 19794-2).
func probeOf(t testing.TB, person *galleryPerson) Probe {
	return Probe{Fingers: []FingerProbe{{Position: biometric.RightIndex, Template: quantise(impression(person.finger, 0), biometric.RightIndex)}}}
}

// freshProbe makes a probe of a finger nobody enrolled.
func freshProbe(rng *rand.Rand) Probe {
	return Probe{Fingers: []FingerProbe{{Position: biometric.RightIndex, Template: quantise(impression(uint64(rng.IntN(1000)), 1), biometric.RightIndex)}}}
}

func border(probe Probe) Step1Params {
	return Step1Params{Purpose: BorderScreening, LegalBasis: "8 USC 1357(b); encounter 2026-0001", Officer: "cbp-officer-42", SearchType: Tenprint, Probe: probe}
}

// rawClient returns an HTTP client with the US node's TLS credentials, for
// posting hand-made envelopes.
func (p *partnership) rawClient(cert tls.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(p.gbCA.Cert)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}}}
}

func (p *partnership) post(t testing.TB, hc *http.Client, path string, raw []byte) (int, http.Header, []byte) {
	t.Helper()
	resp, err := hc.Post(p.srv.URL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// leaves decodes the responder's log.
func (p *partnership) leaves(t testing.TB) []audit.Leaf {
	t.Helper()
	ls, err := audit.DecodeLeaves(p.log.Leaves())
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func refusalReason(t testing.TB, err error) *Refusal {
	t.Helper()
	rf, ok := err.(*Refusal)
	if !ok {
		t.Fatalf("want a refusal, got %v", err)
	}
	return rf
}

// confirmFirst lets the test examiner confirm the first candidate of the
// only queued case.
func (p *partnership) confirmFirst(t testing.TB, caseID string) {
	t.Helper()
	q, err := p.resp.Queue(examinerID, examinerSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range q {
		if c.Case == caseID {
			if err := p.resp.Decide(context.Background(), examinerID, examinerSecret, caseID, true, c.Candidates[0]); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("case %s not queued", caseID)
}

func tlsCertNone() tls.Certificate { return tls.Certificate{} }
