package node

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/cluster"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/store"
)

// ExchangeSetup is what a node needs to take part in partnerships: its
// credentials (from `ebsp pki`), the agreements it holds and its
// transparency log.
type ExchangeSetup struct {
	Credentials *exchange.NodeCredentials
	Agreements  []*exchange.Agreement
	Log         *audit.Log
	Now         func() time.Time // nil: time.Now
	// Revocations, when set, are checked at every handshake and message,
	// both as responder and as client (exchange.Revocations).
	Revocations *exchange.Revocations
	// ExpiryWarning is how long before a certificate expires the node
	// warns; 0 means 30 days.
	ExpiryWarning time.Duration
}

// partnerships is the node's side of the exchange: the responder that
// answers partners, and one client per partner state.
type partnerships struct {
	setup     ExchangeSetup
	responder *exchange.Responder
	mu        sync.Mutex
	clients   map[string]*exchange.Client // by partner state
	// evidenceDir receives the evidence of partner log forks.
	evidenceDir string
	certs       *certWatch
	keys        *exchange.Keyring // encrypted-search key material; nil without encrypted search
}

// EnableExchange makes the node a party to its agreements: it answers
// partners' searches through PartnerHandler and can search partners through
// the /v1/exchange API. The node's own examiners (principals with the
// examiner role, authenticated by their bearer token) decide step-2 cases.
func (n *Node) EnableExchange(s ExchangeSetup) error {
	if s.Credentials == nil || s.Log == nil {
		return errors.New("node: exchange needs credentials and a log")
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	// Suspensions, quota counts, the replay cache and cases live in the
	// node's store (both engines hold them), so that a restart lifts no
	// safeguard.
	state, ok := n.store.(store.ExchangeState)
	if !ok {
		return errors.New("node: the store does not keep exchange state (store.ExchangeState); a partnership needs it")
	}
	keys, err := n.keyringFor(s.Agreements)
	if err != nil {
		return err
	}
	r, err := exchange.NewResponder(exchange.ResponderConfig{
		Credentials: s.Credentials, Agreements: s.Agreements, Searcher: exchangeSearcher{n}, Discloser: exchangeDiscloser{n},
		Log: s.Log, Examiners: examinerAuth{n.auth}, Now: s.Now, Logger: n.log, State: state, Revocations: s.Revocations,
		Keys: keys, Faces: nodeFaceVectors{n},
	})
	if err != nil {
		return err
	}
	w := n.watchCertificates(s)
	n.exchange = &partnerships{setup: s, responder: r, clients: map[string]*exchange.Client{}, certs: w,
		evidenceDir: filepath.Join(n.cfg.DataDir, "evidence"), keys: keys}
	return nil
}

// PartnerHandler is the partner endpoint (mutual TLS, signed envelopes),
// served on its own listener with PartnerTLS. Nil when the exchange is off.
func (n *Node) PartnerHandler() http.Handler {
	if n.exchange == nil {
		return nil
	}
	return n.exchange.responder.Handler()
}

// Responder returns the node's exchange responder, nil when the exchange
// is off.
func (n *Node) Responder() *exchange.Responder {
	if n.exchange == nil {
		return nil
	}
	return n.exchange.responder
}

// client returns the exchange client for a partner state.
func (p *partnerships) client(state string) (*exchange.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[state]; ok {
		return c, nil
	}
	for _, a := range p.setup.Agreements {
		if a.Party(p.setup.Credentials.State) != nil && a.Partner(p.setup.Credentials.State) != nil &&
			a.Partner(p.setup.Credentials.State).State == state {
			c, err := exchange.NewClient(exchange.ClientConfig{Credentials: p.setup.Credentials, Agreement: a, Now: p.setup.Now, Log: p.setup.Log,
				EvidenceDir: p.evidenceDir, Revocations: p.setup.Revocations, Keys: p.keys})
			if err != nil {
				return nil, err
			}
			p.clients[state] = c
			return c, nil
		}
	}
	return nil, errf(CodeNotFound, fmt.Sprintf("no agreement with partner %q", state))
}

// exchangeSearcher answers a partner's step-1 search from the gallery: the
// candidates at or above the hit threshold, best first. The probe's
// prepared form lives only for this call.
type exchangeSearcher struct{ n *Node }

func (s exchangeSearcher) Search(ctx context.Context, p exchange.Probe) ([]biometric.Candidate, error) {
	mod := biometric.Finger
	q, err := s.n.fingerQuery(p.Fingers)
	if err != nil {
		return nil, err
	}
	if len(p.Faces) > 0 {
		// Faces compare only with this node's own recogniser's templates.
		mod = biometric.Face
		eng, ok := s.n.engines[mod]
		if !ok || eng.Algorithm() != exchange.FaceFormat {
			return nil, errors.New("node: face probe, but this node does not search face photos (--face-models)")
		}
		for _, f := range p.Faces {
			pr, err := eng.PrepareProbe(f)
			if err != nil {
				return nil, err
			}
			q.probes = append(q.probes, search.ProbeSample{Probe: pr})
			q.samples = append(q.samples, cluster.Sample{Data: f})
		}
	}
	if len(q.probes) == 0 {
		return nil, errors.New("node: empty probe")
	}
	pol := s.n.policy(mod)
	hit, _ := pol.Thresholds(len(q.probes))
	res, err := s.n.gallerySearch(ctx, mod, q, max(pol.Cap, 10), hit)
	if err != nil {
		return nil, err
	}
	if res.partial {
		// A partner cannot be told "partial" in step 1's answer: refuse
		// rather than answer a no-hit that may be wrong.
		return nil, fmt.Errorf("node: gallery shards %v did not answer the partner's search", res.missing)
	}
	var out []biometric.Candidate
	for _, c := range res.candidates {
		if c.Score >= hit {
			out = append(out, c)
		}
	}
	d := biometric.NoHit
	if len(out) > 0 {
		d = biometric.Hit
	}
	s.n.metrics.partner.WithLabelValues(string(d)).Inc()
	if f := s.n.observer.Load(); f != nil {
		(*f)(PartnerSearch{Decision: d, Candidates: out})
	}
	return out, nil
}

// PartnerSearch is what the node answered a partner's step-1 search: the
// decision and the candidates (identity ids and scores, best first) behind
// the opaque reference the partner receives.
type PartnerSearch struct {
	Decision   biometric.Decision
	Candidates []biometric.Candidate
}

// ObservePartnerSearches calls f, synchronously, with every partner search
// the node answers: the ground truth a simulation (the PoC) needs behind
// the partner's opaque reply, without a second exchange. f must not keep
// the candidates' slice. nil stops observing. Operators do not need it: the
// transparency log and ebsp_partner_search_decisions_total say the same
// without identities.
func (n *Node) ObservePartnerSearches(f func(PartnerSearch)) {
	if f == nil {
		n.observer.Store(nil)
		return
	}
	n.observer.Store(&f)
}

// exchangeDiscloser reads the fields an agreement may release.
type exchangeDiscloser struct{ n *Node }

func (d exchangeDiscloser) Disclose(ctx context.Context, id string, fields []string) (map[string]string, error) {
	rec, err := d.n.store.Identity(ctx, id)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range fields {
		switch f {
		case "names":
			out[f] = strings.Join(rec.Identity.Names, "; ")
		case "date_of_birth":
			out[f] = rec.Identity.DateOfBirth
		case "nationality":
			out[f] = strings.Join(rec.Identity.Nationality, ",")
		case "case_reference":
			out[f] = rec.Identity.CaseRef
		case "flags":
			var c []string
			for _, fl := range rec.Flags {
				c = append(c, fl.Category)
			}
			out[f] = strings.Join(c, ",")
		case "encounters":
			var e []string
			for _, en := range rec.Encounters {
				e = append(e, en.Time.UTC().Format("2006-01-02")+" "+en.Purpose)
			}
			out[f] = strings.Join(e, "; ")
		}
	}
	return out, nil
}

// examinerAuth lets the node's examiners open the step-2 gate: the
// examiner id is the principal's name, the secret its bearer token, or for
// an examiner authenticated by client certificate the node's certGate
// secret of that name.
type examinerAuth struct{ a *authenticator }

func (e examinerAuth) Authenticate(examiner, secret string) bool {
	if e.a.certExaminer(examiner, secret) {
		return true
	}
	p := e.a.authenticateToken(secret)
	return p != nil && p.Name == examiner && p.Has(RoleExaminer)
}

// gateSecret is what p presents at the examiner gate: its bearer token,
// or for a certificate principal the node's secret for it.
func (n *Node) gateSecret(p *Principal, token string) string {
	if p.cert {
		return n.auth.certGate(p.Name)
	}
	return token
}

// ExchangeSearchRequest is the body of POST /v1/exchange/search: a step-1
// search of one partner's gallery.
type ExchangeSearchRequest struct {
	Partner         string        `json:"partner"`
	Purpose         string        `json:"purpose"`
	LegalBasis      string        `json:"legal_basis"`
	Officer         string        `json:"officer"` // pseudonymous id of the requesting officer
	SearchType      string        `json:"search_type,omitempty"`
	OffenceMaxYears int           `json:"offence_max_years,omitempty"`
	Samples         []SampleInput `json:"samples"`
}

// ExchangeDisclosureRequest is the body of POST /v1/exchange/disclosures.
type ExchangeDisclosureRequest struct {
	Partner   string   `json:"partner"`
	Reference string   `json:"reference"`
	Fields    []string `json:"fields,omitempty"`
	Officer   string   `json:"officer"`
}

// ExchangeDecision is the body of POST /v1/exchange/cases/{id}.
type ExchangeDecision struct {
	Confirm   bool   `json:"confirm"`
	Candidate string `json:"candidate,omitempty"`
	Reason    string `json:"reason,omitempty"` // a rejection's reason code (exchange.RejectReasons)
}

func (n *Node) exchangeOn() (*partnerships, error) {
	if n.exchange == nil {
		return nil, errf(CodeUnsupported, "this node takes part in no partnership")
	}
	return n.exchange, nil
}

// refusalError maps what a partner answered (a refusal, a log that
// forked, no answer) to an API error.
func refusalError(err error) error {
	var fork *exchange.LogForkError
	if errors.As(err, &fork) {
		return &apiError{Code: CodePartnerLogFork, Message: fork.Error(), cause: err}
	}
	var r *exchange.Refusal
	if errors.As(err, &r) && r.Reason == exchange.ReasonRevoked {
		// Either the partner refused this node's certificate, or this
		// node refused the partner's at the handshake or on its reply.
		return &apiError{Code: CodeCertificateRevoked, Message: strings.TrimPrefix(r.Error(), "exchange: "), cause: err}
	}
	if errors.Is(err, exchange.ErrPartnerUnreachable) {
		return &apiError{Code: CodePartnerUnavailable, Message: "the partner's endpoint did not answer", cause: err}
	}
	if errors.As(err, &r) {
		code := CodeForbidden
		switch {
		case r.Status == 429:
			code = CodeRateLimited
		case r.Status == 404:
			code = CodeNotFound
		case r.Status == 400 || r.Status == 401 || r.Status == 413:
			code = CodeInvalidField
		case r.Status == 409 || r.Status == 410:
			code = CodeCaseState
		case r.Status >= 500:
			code = CodePartnerUnavailable
		}
		return &apiError{Code: code, Message: fmt.Sprintf("partner refused: %s: %s", r.Reason, r.Detail), RetryAfter: r.RetryAfter, cause: err}
	}
	if errors.Is(err, exchange.ErrNotExaminer) {
		return errf(CodeForbidden, "examiner not authenticated for this case")
	}
	return err
}

// exchangeError maps an error of the node's responder (an examiner's
// decision, a suspension) to an API error with its own status and code.
func exchangeError(err error) error {
	for _, m := range []struct {
		err  error
		code string
	}{
		{exchange.ErrNotExaminer, CodeForbidden},
		{exchange.ErrInvalid, CodeInvalidField},
		{exchange.ErrUnknownCase, CodeUnknownCase},
		{exchange.ErrNotCandidate, CodeNotCandidate},
		{exchange.ErrUnknownAgreement, CodeUnknownAgreement},
		{exchange.ErrCaseState, CodeCaseState},
		{exchange.ErrStorage, CodeStorageUnavailable},
	} {
		if errors.Is(err, m.err) {
			msg := strings.TrimPrefix(err.Error(), "exchange: ")
			if m.code == CodeStorageUnavailable {
				// The details name files and servers: the log has them.
				msg = "the node could not record this; retry later"
			}
			return &apiError{Code: m.code, Message: msg, cause: err}
		}
	}
	return err
}

func (n *Node) handleExchangeSearch(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	var req ExchangeSearchRequest
	if e := decodeJSON(r, &req); e != nil {
		return e
	}
	res, err := n.ExchangeSearch(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, 200, res)
	return nil
}

// ExchangeSearch runs a step-1 search of a partner's gallery: what
// POST /v1/exchange/search does, and the console's cross-border search.
func (n *Node) ExchangeSearch(ctx context.Context, req *ExchangeSearchRequest) (*exchange.Step1Result, error) {
	p, err := n.exchangeOn()
	if err != nil {
		return nil, err
	}
	if req.Officer == "" || req.LegalBasis == "" || req.Purpose == "" {
		return nil, errf(CodeInvalidField, "purpose, legal_basis and officer are required for a partner search")
	}
	probe := exchange.Probe{}
	for i := range req.Samples {
		s := &req.Samples[i]
		if e := validateSample(i, s); e != nil {
			return nil, e
		}
		if s.Modality == biometric.Face {
			// A face probe travels as this node's recogniser's embedding.
			eng, ok := n.engines[biometric.Face]
			if !ok || eng.Algorithm() != exchange.FaceFormat {
				return nil, errf(CodeUnsupported, fmt.Sprintf("samples[%d]: partner face searches need the face models: "+
					"run 'ebsp models fetch' and start the node with --face-models", i))
			}
			tmpl, _, err := eng.Template(s, n.cfg.MaxImagePixels)
			if err != nil {
				return nil, prefixSample(i, err)
			}
			probe.Faces = append(probe.Faces, tmpl)
			continue
		}
		if s.Modality != biometric.Finger {
			return nil, errf(CodeUnsupported, fmt.Sprintf("samples[%d]: partner searches take fingerprints or faces", i))
		}
		tmpl, _, err := engine.Finger{}.Template(s, n.cfg.MaxImagePixels)
		if err != nil {
			return nil, prefixSample(i, err)
		}
		t, err := engine.DecodeFinger(tmpl)
		if err != nil {
			return nil, errf(CodeBadSample, err.Error())
		}
		probe.Fingers = append(probe.Fingers, exchange.FingerProbe{Position: s.Position, Template: t})
	}
	if len(probe.Fingers) == 0 && len(probe.Faces) == 0 {
		return nil, errf(CodeInvalidField, "samples: at least one fingerprint or face is needed")
	}
	if len(probe.Fingers) > 0 && len(probe.Faces) > 0 {
		return nil, errf(CodeInvalidField, "samples: fingerprints or faces, one modality per partner search")
	}
	c, err := p.client(req.Partner)
	if err != nil {
		return nil, err
	}
	st := exchange.SearchType(req.SearchType)
	if st == "" {
		st = exchange.Tenprint
		if len(probe.Faces) > 0 {
			st = exchange.FaceSearch
		}
	}
	res, err := c.Step1(ctx, exchange.Step1Params{Purpose: exchange.Purpose(req.Purpose), LegalBasis: req.LegalBasis,
		Officer: req.Officer, SearchType: st, OffenceMaxYears: req.OffenceMaxYears, Probe: probe})
	if err != nil {
		return nil, refusalError(err)
	}
	return res, nil
}

func (n *Node) handleExchangeDisclosure(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	var req ExchangeDisclosureRequest
	if e := decodeJSON(r, &req); e != nil {
		return e
	}
	dc, err := n.RequestDisclosure(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, 202, dc)
	return nil
}

// RequestDisclosure asks a partner for the agreed fields of a step-1 hit
// (step 2): what POST /v1/exchange/disclosures does.
func (n *Node) RequestDisclosure(ctx context.Context, req *ExchangeDisclosureRequest) (*DisclosureCase, error) {
	p, err := n.exchangeOn()
	if err != nil {
		return nil, err
	}
	c, err := p.client(req.Partner)
	if err != nil {
		return nil, err
	}
	id, deadline, err := c.RequestDisclosure(ctx, req.Reference, req.Fields, req.Officer)
	if err != nil {
		return nil, refusalError(err)
	}
	return &DisclosureCase{Case: id, Deadline: deadline}, nil
}

func (n *Node) handleExchangeStatus(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	st, err := n.DisclosureStatus(r.Context(), r.PathValue("partner"), r.PathValue("case"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, st)
	return nil
}

// DisclosureStatus asks a partner about a step-2 case; a release is
// delivered once. What GET /v1/exchange/disclosures/{partner}/{case} does.
func (n *Node) DisclosureStatus(ctx context.Context, partner, caseID string) (*DisclosureStatus, error) {
	p, err := n.exchangeOn()
	if err != nil {
		return nil, err
	}
	c, err := p.client(partner)
	if err != nil {
		return nil, err
	}
	status, rel, err := c.Status(ctx, caseID)
	if err != nil {
		return nil, refusalError(err)
	}
	return &DisclosureStatus{Status: status, Release: rel}, nil
}

// examinerOf returns the examiner's id and token for the exchange's gate.
func examinerOf(r *http.Request, p *Principal) (string, string) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return p.Name, tok
}

func (n *Node) handleExchangeCases(w http.ResponseWriter, r *http.Request, pr *Principal) error {
	_, tok := examinerOf(r, pr)
	cases, err := n.ExaminerQueue(pr, tok)
	if err != nil {
		return err
	}
	if cases == nil {
		cases = []exchange.ExaminerCase{}
	}
	writeJSON(w, 200, map[string]any{"cases": cases})
	return nil
}

func (n *Node) handleExchangeDecide(w http.ResponseWriter, r *http.Request, pr *Principal) error {
	var d ExchangeDecision
	if e := decodeJSON(r, &d); e != nil {
		return e
	}
	_, tok := examinerOf(r, pr)
	if err := n.DecideCase(r.Context(), pr, tok, r.PathValue("id"), d); err != nil {
		return err
	}
	writeJSON(w, 200, map[string]string{"status": "decided"})
	return nil
}

// ExaminerQueue lists the step-2 cases waiting for an examiner, oldest
// deadline first: what GET /v1/exchange/cases answers and the console
// shows. secret is the examiner's bearer token, which the exchange's gate
// checks again (ignored for a principal authenticated by certificate).
func (n *Node) ExaminerQueue(p *Principal, secret string) ([]exchange.ExaminerCase, error) {
	x, err := n.exchangeOn()
	if err != nil {
		return nil, err
	}
	cases, err := x.responder.Queue(p.Name, n.gateSecret(p, secret))
	if err != nil {
		return nil, refusalError(err)
	}
	return cases, nil
}

// DecideCase records an examiner's decision on a step-2 case: the one
// path of POST /v1/exchange/cases/{id} and of the console, so that every
// decision is an audit leaf the same way.
func (n *Node) DecideCase(ctx context.Context, p *Principal, secret, caseID string, d ExchangeDecision) error {
	x, err := n.exchangeOn()
	if err != nil {
		return err
	}
	err = x.responder.DecideCase(ctx, p.Name, n.gateSecret(p, secret), caseID, exchange.Decision{Confirm: d.Confirm, Candidate: d.Candidate, Reason: d.Reason})
	if err != nil {
		return exchangeError(err)
	}
	n.log.Info("examiner decision", "examiner", p.Name, "case", caseID, "confirm", d.Confirm, "reason", d.Reason)
	return nil
}

// keySetupWriteTimeout bounds the wait for an encrypted-search key setup's
// answer (POST /v1/exchange/agreements/{id}/keysetup), beyond the API's
// usual write timeout.
const keySetupWriteTimeout = 30 * time.Minute

func (n *Node) handleSuspend(w http.ResponseWriter, r *http.Request, pr *Principal) error {
	p, err := n.exchangeOn()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if r.PathValue("action") == "keysetup" {
		// The setup runs to its end even if the caller stops waiting (a
		// client timeout at ring 2^15 on a loaded machine): half a setup
		// helps nobody, and its key_setup leaves say when it finished.
		// It may outlast the server's write timeout (2 minutes): a loaded
		// machine at ring 2^15 takes minutes.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(keySetupWriteTimeout)); err != nil {
			n.log.Warn("key setup: cannot extend the write deadline", "err", err.Error())
		}
		res, err := n.SetupEncryptedSearch(context.WithoutCancel(r.Context()), id)
		if err != nil {
			return err
		}
		writeJSON(w, 200, map[string]any{"agreement": id, "status": "keys_ready", "session": res.Session,
			"bytes_up": res.BytesUp, "bytes_down": res.BytesDown, "messages": res.Messages})
		return nil
	}
	if r.PathValue("action") == "suspend" {
		err = p.responder.Suspend(id, pr.Name)
	} else if r.PathValue("action") == "reinstate" {
		err = p.responder.Reinstate(id, pr.Name)
	} else {
		return errf(CodeNotFound, "want suspend, reinstate or keysetup")
	}
	if err != nil {
		return exchangeError(err)
	}
	status := map[string]string{"suspend": "suspended", "reinstate": "reinstated"}[r.PathValue("action")]
	writeJSON(w, 200, map[string]string{"agreement": id, "status": status})
	return nil
}

// PartnerCheckpoints returns the checkpoints of a partner's transparency
// log that this node was shown in replies, for an audit of that log.
func (n *Node) PartnerCheckpoints(state string) [][]byte {
	if n.exchange == nil {
		return nil
	}
	n.exchange.mu.Lock()
	c := n.exchange.clients[state]
	n.exchange.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Checkpoints()
}

// certWarning is how long before a certificate expires the node warns,
// unless ExchangeSetup.ExpiryWarning says otherwise.
const certWarning = 30 * 24 * time.Hour

// namedCert is a certificate the exchange rests on, with its metric label.
type namedCert struct {
	name string
	cert *x509.Certificate
}

// certWatch follows the certificates of the exchange and the revocation
// lists: their time left is computed at every scrape of /metrics, and
// check warns in the log, at most once a day each, for those within the
// warning window (or past it).
type certWatch struct {
	certs  []namedCert
	rv     *exchange.Revocations
	window time.Duration
	now    func() time.Time
	log    *slog.Logger
	certsD *prometheus.Desc
	crlD   *prometheus.Desc
	mu     sync.Mutex
	warned map[string]time.Time // by name: when last warned
}

func (w *certWatch) Describe(ch chan<- *prometheus.Desc) { ch <- w.certsD; ch <- w.crlD }

func (w *certWatch) Collect(ch chan<- prometheus.Metric) {
	now := w.now()
	for _, c := range w.certs {
		ch <- prometheus.MustNewConstMetric(w.certsD, prometheus.GaugeValue, c.cert.NotAfter.Sub(now).Seconds(), c.name)
	}
	if w.rv != nil {
		for path, next := range w.rv.NextUpdates() {
			if !next.IsZero() {
				ch <- prometheus.MustNewConstMetric(w.crlD, prometheus.GaugeValue, next.Sub(now).Seconds(), filepath.Base(path))
			}
		}
	}
}

// check logs a warning for each certificate that expires within the
// window, and each revocation list past its next update, at most once a
// day each. The lines name the certificate's role and subject (a node or
// CA name, never a person) and the days left.
func (w *certWatch) check() {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	due := func(name string) bool {
		if t, ok := w.warned[name]; ok && now.Sub(t) < 24*time.Hour {
			return false
		}
		w.warned[name] = now
		return true
	}
	for _, c := range w.certs {
		left := c.cert.NotAfter.Sub(now)
		if left < w.window && due(c.name) {
			w.log.Warn("exchange certificate expires soon", "certificate", c.name, "subject", c.cert.Subject.String(),
				"not_after", c.cert.NotAfter.UTC().Format(time.RFC3339), "days_left", int(left.Hours()/24))
		}
	}
	if w.rv != nil {
		for path, next := range w.rv.NextUpdates() {
			if !next.IsZero() && now.After(next) && due("crl:"+path) {
				w.log.Warn("revocation list is past its next update; fetch a fresh one from its CA", "file", filepath.Base(path),
					"next_update", next.UTC().Format(time.RFC3339))
			}
		}
	}
}

// watchCertificates exports the time left on every certificate the
// exchange rests on (this node's mutual-TLS and signing certificates, its
// CA, each partner's CA) as ebsp_exchange_certificate_expiry_seconds, and
// the time to each revocation list's next update as
// ebsp_exchange_revocation_list_next_update_seconds, and logs a warning
// for each certificate that expires within the window or has expired (at
// start, then at most daily from Retain): an expired certificate stops the
// exchange (handshakes and envelope checks refuse it), so the operator
// must see it coming.
func (n *Node) watchCertificates(s ExchangeSetup) *certWatch {
	w := &certWatch{rv: s.Revocations, window: s.ExpiryWarning, now: s.Now, log: n.log, warned: map[string]time.Time{},
		certsD: prometheus.NewDesc("ebsp_exchange_certificate_expiry_seconds",
			"Seconds until a certificate of the exchange expires (negative: expired), by certificate.", []string{"certificate"}, nil),
		crlD: prometheus.NewDesc("ebsp_exchange_revocation_list_next_update_seconds",
			"Seconds until a revocation list's next update (negative: past it; fetch a fresh list), by file name.", []string{"file"}, nil)}
	if w.window <= 0 {
		w.window = certWarning
	}
	if len(s.Credentials.TLS.Certificate) > 0 {
		if c, err := x509.ParseCertificate(s.Credentials.TLS.Certificate[0]); err == nil {
			w.certs = append(w.certs, namedCert{"tls", c})
		}
	}
	w.certs = append(w.certs, namedCert{"sign", s.Credentials.SignCert}, namedCert{"ca", s.Credentials.CACert})
	for _, a := range s.Agreements {
		if p := a.Partner(s.Credentials.State); p != nil {
			w.certs = append(w.certs, namedCert{"partner_ca:" + a.ID, p.CA()})
		}
	}
	w.certs = slices.DeleteFunc(w.certs, func(c namedCert) bool { return c.cert == nil })
	w.check()
	if err := n.metrics.reg.Register(w); err != nil {
		n.log.Warn("certificate expiry metric not registered", "err", err.Error())
	}
	return w
}
