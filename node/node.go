// Package node is a national biometric node: the role DHS IDENT/HART plays
// for the United States, or a Prüm national AFIS for an EU state. It keeps
// identities, encounters, flags and biometric samples in a store, holds the
// templates in memory for 1:N identification and 1:1 verification, and serves
// all of it over an authenticated HTTP API (see Handler and
// api/openapi.json).
//
// The node enforces least disclosure: a search answers with a decision and
// pseudonymous candidate ids only; reading an identity takes the examiner
// role; nobody can list the gallery; logs carry no biometric data, names or
// credentials.
package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/cluster"
	"github.com/ebsp/ebsp/country"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/store"
)

// Node is one state's biometric node.
type Node struct {
	cfg       *Config
	observer  atomic.Pointer[func(PartnerSearch)] // ObservePartnerSearches
	store     store.Store
	engines   map[biometric.Modality]engine.Engine
	galleries map[biometric.Modality]*search.Gallery // in-process galleries
	// sharded holds the modalities whose galleries are in matcher shards
	// (Config.Cluster); clusterParts what the node started for them.
	sharded      map[biometric.Modality]*shardedGallery
	clusterParts *clusterParts
	snapshots    gallerySnapshots // of the in-process galleries
	log          *slog.Logger
	auth         *authenticator
	limits       *limiters
	public       *limiters // per client address, for the routes without credentials
	metrics      *metrics
	ready        atomic.Bool
	draining     atomic.Bool // shutting down: /readyz answers 503
	now          func() time.Time
	exchange     *partnerships // nil unless EnableExchange
	mountMu      sync.Mutex
	mounts       []mount // handlers served beside the API (Mount)
	// storageFault is the latest write refused for a full or unreachable
	// store (storageError); /readyz reports it for a while.
	storageFault atomic.Pointer[storageFault]
	selfcal      *selfCal // nil unless self_calibration is on
}

// New returns a node over an open store with the engines for the modalities
// it matches. The gallery is empty until LoadGallery.
func New(cfg *Config, st store.Store, engines map[biometric.Modality]engine.Engine, log *slog.Logger) (*Node, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	auth, err := newAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for m, t := range cfg.ImpostorTails {
		s, ok := engines[m].(engine.ScoreScaled)
		switch {
		case !ok:
		case t.ScoreScale == "":
			log.Warn("the configured impostor tail does not say on which score scale it was measured: if it predates the engine's current scale its thresholds are wrong; measure it again with 'ebsp eval tail --fit'",
				"modality", m, "engine_scale", s.ScoreScale())
		case t.ScoreScale != s.ScoreScale():
			return nil, fmt.Errorf("config: impostor_tails.%s was measured on score scale %q; the engine scores on %q: measure it again with 'ebsp eval tail --fit'", m, t.ScoreScale, s.ScoreScale())
		}
	}
	n := &Node{
		cfg: cfg, store: st, engines: engines, log: log, auth: auth,
		galleries: map[biometric.Modality]*search.Gallery{},
		sharded:   map[biometric.Modality]*shardedGallery{},
		limits:    newLimiters(cfg.RatePerSecond, cfg.Burst),
		public:    newLimiters(cfg.RatePerSecond, cfg.Burst),
		now:       time.Now,
	}
	for m, e := range engines {
		if cfg.Cluster != nil && slices.Contains(cfg.Cluster.Modalities, m) {
			continue // in the shards (openCluster, from LoadGallery)
		}
		n.galleries[m] = search.NewGallery(e, cfg.Workers)
		n.galleries[m].SetCompact(cfg.CompactFingerprints && m == biometric.Finger)
	}
	if err := n.loadSelfCal(); err != nil {
		return nil, err
	}
	n.metrics = newMetrics(n)
	n.metrics.setGallery(n)
	return n, nil
}

// Ready reports whether the gallery is loaded. A draining node (Drain) is
// still ready to serve: only /readyz says it is going.
func (n *Node) Ready() bool { return n.ready.Load() }

// Drain marks the node as shutting down: /readyz answers 503 from now on,
// so that a load balancer stops sending it requests, while the requests in
// flight and those still arriving are served until the server closes.
func (n *Node) Drain() { n.draining.Store(true) }

// newID returns a random identifier (128 bits, base32).
func newID() string { return rand.Text() }

// EnrolRequest is the body of POST /v1/enrolments.
type EnrolRequest struct {
	Identity   IdentityInput    `json:"identity"`
	Encounter  EncounterInput   `json:"encounter"`
	Provenance store.Provenance `json:"provenance"`
	Samples    []SampleInput    `json:"samples"`
	Flags      []FlagInput      `json:"flags,omitempty"`
}

// IdentityInput is the identity part of an enrolment. An empty ID makes a
// new identity; an existing ID adds the encounter to it.
type IdentityInput struct {
	ID          string   `json:"id,omitempty"`
	Names       []string `json:"names,omitempty"`
	DateOfBirth string   `json:"date_of_birth,omitempty"`
	Nationality []string `json:"nationality,omitempty"` // ISO 3166-1, alpha-2 or alpha-3; stored alpha-3
	CaseRef     string   `json:"case_reference,omitempty"`
}

// EncounterInput is the encounter part of an enrolment.
type EncounterInput struct {
	ID      string    `json:"id,omitempty"`
	Time    time.Time `json:"time,omitzero"`
	Place   string    `json:"place,omitempty"`
	Agency  string    `json:"agency,omitempty"`
	Purpose string    `json:"purpose,omitempty"`
}

// FlagInput is a flag set at enrolment.
type FlagInput struct {
	Category string    `json:"category"`
	Source   string    `json:"source,omitempty"`
	Expiry   time.Time `json:"expiry,omitzero"`
}

// SampleResult reports what the node made of one enrolled sample.
type SampleResult struct {
	ID       string                   `json:"id"`
	Modality biometric.Modality       `json:"modality"`
	Position biometric.FingerPosition `json:"position,omitempty"`
	Quality  int                      `json:"quality"`
	Template bool                     `json:"template"` // whether it is searchable
}

// EnrolResponse is the body of a successful enrolment.
type EnrolResponse struct {
	IdentityID  string         `json:"identity_id"`
	EncounterID string         `json:"encounter_id"`
	Samples     []SampleResult `json:"samples"`
	// Replayed is set when the encounter was enrolled before: a retry
	// with the same client-supplied encounter id (or Idempotency-Key)
	// answers the first enrolment and writes nothing.
	Replayed bool `json:"replayed,omitempty"`
}

// enrolledBefore answers a retried enrolment: when req's client-supplied
// encounter id is already stored, under the identity req names (or any
// identity when req names none) and with as many samples, it returns what
// the first enrolment answered. Otherwise the id is a genuine clash: nil.
func (n *Node) enrolledBefore(ctx context.Context, req *EnrolRequest, samples int) *EnrolResponse {
	f, ok := n.store.(store.EncounterFinder)
	if !ok {
		return nil
	}
	idn, err := f.EncounterIdentity(ctx, req.Encounter.ID)
	if err != nil || req.Identity.ID != "" && req.Identity.ID != idn {
		return nil
	}
	rec, err := n.store.Identity(ctx, idn)
	if err != nil {
		return nil
	}
	resp := &EnrolResponse{IdentityID: idn, EncounterID: req.Encounter.ID, Replayed: true}
	for _, s := range rec.Samples {
		if s.EncounterID == req.Encounter.ID {
			resp.Samples = append(resp.Samples, SampleResult{ID: s.ID, Modality: s.Modality, Position: s.Position, Quality: s.Quality, Template: n.searchable(s.Modality)})
		}
	}
	if len(resp.Samples) != samples {
		return nil
	}
	return resp
}

const maxIDLen = 128

func checkID(field, id string) *apiError {
	if len(id) > maxIDLen {
		return errf(CodeInvalidField, fmt.Sprintf("%s: longer than %d bytes", field, maxIDLen))
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e || r == '/' {
			return errf(CodeInvalidField, fmt.Sprintf("%s: only printable ASCII without '/' and spaces", field))
		}
	}
	return nil
}

var flagCategories = map[string]bool{"wanted": true, "immigration_violation": true, "removed": true, "watchlist": true, "missing_person": true}

// prepared is one sample turned into what Enroll stores and the gallery adds.
type prepared struct {
	sample   store.Sample
	template *store.Template
	gallery  any
}

// Enroll stores an encounter with its samples atomically, then adds the
// templates to the gallery. When it returns without error the enrolment is
// durable and searchable.
func (n *Node) Enroll(ctx context.Context, req *EnrolRequest) (*EnrolResponse, error) {
	if len(req.Samples) == 0 {
		return nil, errf(CodeInvalidField, "samples: at least one sample is needed")
	}
	if len(req.Samples) > 64 {
		return nil, errf(CodeInvalidField, "samples: at most 64 per enrolment")
	}
	for f, id := range map[string]string{"identity.id": req.Identity.ID, "encounter.id": req.Encounter.ID} {
		if e := checkID(f, id); e != nil {
			return nil, e
		}
	}
	for i := range req.Samples {
		if e := validateSample(i, &req.Samples[i]); e != nil {
			return nil, e
		}
	}
	nationality := make([]string, len(req.Identity.Nationality))
	for i, s := range req.Identity.Nationality {
		c, err := country.Parse(s)
		if err != nil {
			return nil, errf(CodeInvalidField, fmt.Sprintf("identity.nationality[%d]: %v", i, err))
		}
		nationality[i] = c.String() // stored alpha-3
	}
	prov := req.Provenance
	if prov.SourceAgency == "" {
		prov.SourceAgency = n.cfg.Agency
	}
	if prov.LegalBasis == "" {
		return nil, errf(CodeInvalidField, "provenance.legal_basis: required: every record says why it is held")
	}
	now := n.now().UTC()
	idn := store.Identity{ID: req.Identity.ID, Names: req.Identity.Names, DateOfBirth: req.Identity.DateOfBirth,
		Nationality: nationality, CaseRef: req.Identity.CaseRef, Created: now, Provenance: prov}
	if idn.ID == "" {
		idn.ID = newID()
	}
	enc := store.Encounter{ID: req.Encounter.ID, IdentityID: idn.ID, Time: req.Encounter.Time, Place: req.Encounter.Place,
		Agency: req.Encounter.Agency, Purpose: req.Encounter.Purpose, Provenance: prov}
	if enc.ID == "" {
		enc.ID = newID()
	}
	if enc.Time.IsZero() {
		enc.Time = now
	}
	if enc.Agency == "" {
		enc.Agency = prov.SourceAgency
	}
	e := store.Enrolment{Identity: idn, Encounter: enc}
	for i, f := range req.Flags {
		if !flagCategories[f.Category] {
			return nil, errf(CodeInvalidField, fmt.Sprintf("flags[%d].category %q: want wanted, immigration_violation, removed, watchlist or missing_person", i, f.Category))
		}
		p := prov
		if !f.Expiry.IsZero() {
			p.Expiry = f.Expiry
		}
		src := f.Source
		if src == "" {
			src = prov.SourceAgency
		}
		e.Flags = append(e.Flags, store.Flag{ID: newID(), IdentityID: idn.ID, Category: f.Category, Source: src, Created: now, Provenance: p})
	}

	// Make every template before writing anything: a bad sample fails the
	// whole enrolment and changes nothing.
	preps := make([]prepared, len(req.Samples))
	for i := range req.Samples {
		p, err := n.prepareSample(i, &req.Samples[i], enc.ID, prov)
		if err != nil {
			return nil, err
		}
		preps[i] = p
		e.Samples = append(e.Samples, p.sample)
		if p.template != nil {
			e.Templates = append(e.Templates, *p.template)
		}
	}
	if err := n.store.Enroll(ctx, e); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			if req.Encounter.ID != "" {
				if resp := n.enrolledBefore(ctx, req, len(e.Samples)); resp != nil {
					return resp, nil
				}
			}
			return nil, errf(CodeDuplicateID, "an encounter, sample or template id is already in use")
		}
		if errors.Is(err, store.ErrInvalid) {
			return nil, errf(CodeInvalidField, err.Error())
		}
		return nil, err
	}
	if err := n.galleryAdd(ctx, idn.ID, preps); err != nil {
		return nil, err
	}
	resp := &EnrolResponse{IdentityID: idn.ID, EncounterID: enc.ID}
	for _, p := range preps {
		resp.Samples = append(resp.Samples, SampleResult{ID: p.sample.ID, Modality: p.sample.Modality,
			Position: p.sample.Position, Quality: p.sample.Quality, Template: p.template != nil})
	}
	n.metrics.enrolments.Inc()
	n.metrics.setGallery(n)
	return resp, nil
}

func (n *Node) prepareSample(i int, s *SampleInput, encounterID string, prov store.Provenance) (prepared, error) {
	p := prepared{sample: store.Sample{ID: newID(), EncounterID: encounterID, Modality: s.Modality, Position: s.Position,
		Format: s.Format, Data: s.Data, Provenance: prov}}
	eng, ok := n.engines[s.Modality]
	if ok && s.Modality == biometric.Finger && !slices.Contains(eng.Formats(), s.Format) {
		// Every fingerprint must be searchable: an unknown format is more
		// likely a client's mistake than a sample to keep unmatched.
		return p, errf(CodeUnsupported, fmt.Sprintf("samples[%d].format %q: want one of %v", i, s.Format, eng.Formats()))
	}
	if !ok || !slices.Contains(eng.Formats(), s.Format) {
		// Kept as a record (a DNA profile, a face photo) but not searchable
		// here.
		return p, nil
	}
	tmpl, q, err := eng.Template(s, n.cfg.MaxImagePixels)
	if err != nil {
		return p, prefixSample(i, err)
	}
	p.sample.Quality = q
	if s.Modality == biometric.Finger && q < n.cfg.MinQuality {
		return p, sampleErr(i, CodeLowQuality, fmt.Sprintf("quality %d below the gate %d", q, n.cfg.MinQuality))
	}
	if s.Modality == biometric.Finger && n.cfg.MinMinutiae > 0 {
		t, err := engine.DecodeFinger(tmpl)
		if err != nil {
			return p, errf(CodeBadSample, fmt.Sprintf("samples[%d]: %v", i, err))
		}
		if len(t.Minutiae) < n.cfg.MinMinutiae {
			return p, sampleErr(i, CodeTooFewMinutiae, fmt.Sprintf("%d minutiae, below the gate %d", len(t.Minutiae), n.cfg.MinMinutiae))
		}
	}
	g, err := eng.PrepareGallery(tmpl)
	if err != nil {
		return p, errf(CodeBadSample, fmt.Sprintf("samples[%d]: %v", i, err))
	}
	alg := eng.Algorithm()
	p.template = &store.Template{ID: newID(), SampleID: p.sample.ID, Algorithm: alg, Version: algVersion(alg), Data: tmpl}
	p.gallery = g
	return p, nil
}

func algVersion(alg string) string {
	for i := len(alg) - 1; i >= 0; i-- {
		if alg[i] == '/' {
			return alg[i+1:]
		}
	}
	return ""
}

func prefixSample(i int, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return errf(ae.Code, fmt.Sprintf("samples[%d]: %s", i, ae.Message))
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return errf(ee.Code, fmt.Sprintf("samples[%d]: %s", i, ee.Message))
	}
	return errf(CodeBadSample, fmt.Sprintf("samples[%d]: %v", i, err))
}

// probes turns request samples into a query of one modality: prepared
// probes, and the templates in stored form for shards.
func (n *Node) probes(samples []SampleInput) (biometric.Modality, galleryQuery, error) {
	var q galleryQuery
	if len(samples) == 0 {
		return "", q, errf(CodeInvalidField, "samples: at least one sample is needed")
	}
	if len(samples) > 16 {
		return "", q, errf(CodeInvalidField, "samples: at most 16 per search")
	}
	mod := samples[0].Modality
	for i := range samples {
		s := &samples[i]
		if e := validateSample(i, s); e != nil {
			return "", q, e
		}
		if s.Modality != mod {
			return "", q, errf(CodeInvalidField, fmt.Sprintf("samples[%d].modality: one modality per search", i))
		}
		eng, ok := n.engines[mod]
		if !ok {
			return "", q, errf(CodeUnsupported, fmt.Sprintf("samples[%d]: this node does not search %s samples", i, mod))
		}
		tmpl, _, err := eng.Template(s, n.cfg.MaxImagePixels)
		if err != nil {
			return "", q, prefixSample(i, err)
		}
		pr, err := eng.PrepareProbe(tmpl)
		if err != nil {
			return "", q, errf(CodeBadSample, fmt.Sprintf("samples[%d]: %v", i, err))
		}
		q.probes = append(q.probes, search.ProbeSample{Position: s.Position, Probe: pr})
		if _, ok := n.sharded[mod]; ok {
			q.samples = append(q.samples, cluster.Sample{Position: s.Position, Data: tmpl})
		}
	}
	return mod, q, nil
}

// IdentifyRequest is the body of POST /v1/identify.
type IdentifyRequest struct {
	Samples []SampleInput `json:"samples"`
	Purpose string        `json:"purpose,omitempty"`
}

// Thresholds are the score thresholds a decision used. In an engine's
// defaults and the configuration they are single-sample thresholds, with
// the engine's mean impostor score to scale them for fused samples (see
// search.Policy); in a response, the thresholds applied.
type Thresholds struct {
	Hit          float64 `json:"hit"`
	Review       float64 `json:"review"`
	ImpostorMean float64 `json:"impostor_mean,omitempty"`
}

// IdentifyResponse is the result of a 1:N search. It never says admit or
// deny: a hit means an examiner should look.
type IdentifyResponse struct {
	Decision     biometric.Decision    `json:"decision"`
	Candidates   []biometric.Candidate `json:"candidates"`
	Threshold    Thresholds            `json:"threshold"`
	CandidateCap int                   `json:"candidate_cap"`
	GallerySize  int                   `json:"gallery_size"`
	// Partial is set when shards of a clustered gallery did not answer
	// (MissingShards names them): an identity held there could not be
	// found, so no_hit is not a no-hit.
	Partial       bool     `json:"partial,omitempty"`
	MissingShards []string `json:"missing_shards,omitempty"`
}

// Identify searches the gallery (1:N). The probe is held in memory only.
func (n *Node) Identify(ctx context.Context, req *IdentifyRequest) (*IdentifyResponse, error) {
	mod, q, err := n.probes(req.Samples)
	if err != nil {
		return nil, err
	}
	pol := n.policy(mod)
	hit, review := pol.Thresholds(len(q.probes))
	res, err := n.gallerySearch(ctx, mod, q, pol.Cap, review)
	if err != nil {
		return nil, err
	}
	dec, out := pol.Decide(res.candidates, len(q.probes))
	if dec == biometric.Hit && !n.calibrated(mod) {
		dec = biometric.Review // no measured tail says what a hit's FPIR is
	}
	if out == nil {
		out = []biometric.Candidate{}
	}
	n.metrics.decisions.WithLabelValues(string(dec)).Inc()
	_, ids := n.galleryLen(mod)
	return &IdentifyResponse{Decision: dec, Candidates: out, Threshold: Thresholds{Hit: hit, Review: review},
		CandidateCap: pol.Cap, GallerySize: ids, Partial: res.partial, MissingShards: res.missing}, nil
}

// VerifyRequest is the body of POST /v1/verify.
type VerifyRequest struct {
	IdentityID string        `json:"identity_id"`
	Samples    []SampleInput `json:"samples"`
}

// VerifyResponse is the result of a 1:1 comparison. Its threshold is the
// score at the configured per-comparison false-match rate (fmr_verify),
// whatever the gallery's size.
type VerifyResponse struct {
	Decision  string  `json:"decision"` // "match", "no_match", or "review" when the modality has no calibrated tail
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	FMR       float64 `json:"fmr"` // the false-match rate the threshold is set for
}

// Verify compares the samples with one identity's templates (1:1).
func (n *Node) Verify(ctx context.Context, req *VerifyRequest) (*VerifyResponse, error) {
	if req.IdentityID == "" {
		return nil, errf(CodeInvalidField, "identity_id: required")
	}
	mod, q, err := n.probes(req.Samples)
	if err != nil {
		return nil, err
	}
	probes := q.probes
	score, ok, err := n.galleryVerify(ctx, mod, q, req.IdentityID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errf(CodeNotFound, fmt.Sprintf("no %s templates for that identity", mod))
	}
	tail, _ := n.tail(mod)
	th := engine.Verification(tail, n.cfg.FMRVerify, len(probes))
	d := "no_match"
	switch {
	case score >= th && n.calibrated(mod):
		d = "match"
	case score >= th:
		d = "review" // no measured tail says what the threshold's FMR is
	}
	return &VerifyResponse{Decision: d, Score: score, Threshold: th, FMR: n.cfg.FMRVerify}, nil
}

// Identity reads an identity with its encounters, samples and flags.
func (n *Node) Identity(ctx context.Context, id string) (*store.IdentityRecord, error) {
	rec, err := n.store.Identity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(CodeNotFound, "no such identity")
	}
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// Erase deletes an identity from the store and the gallery; a search that
// starts after Erase returns cannot find it.
func (n *Node) Erase(ctx context.Context, id string) error {
	if err := n.shardsRemove(ctx, id); err != nil {
		return err
	}
	err := n.store.Erase(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return errf(CodeNotFound, "no such identity")
	}
	if err != nil {
		return err
	}
	for m, g := range n.galleries {
		if g.Remove(id) > 0 {
			n.snapshots.touch(m)
		}
	}
	n.metrics.erasures.Inc()
	n.metrics.setGallery(n)
	return nil
}

// tail is the impostor tail thresholds follow for modality m: the
// configuration's measured one, or the engine's built-in one.
func (c *Config) tail(m biometric.Modality, e engine.Engine) engine.Tail {
	if t, ok := c.ImpostorTails[m]; ok {
		return t
	}
	return e.Tail()
}

// calibrated reports whether modality m's thresholds rest on a measured
// impostor tail (or on thresholds the configuration fixes): only then may a
// decision be a hit or a match.
func (n *Node) calibrated(m biometric.Modality) bool {
	_, fixed := n.cfg.Thresholds[m]
	tail, src := n.tail(m)
	return fixed || src == "configured" || tail.Calibrated()
}

// Store returns the node's store.
func (n *Node) Store() store.Store { return n.store }

// tail returns the impostor tail modality m's thresholds follow now, and
// where it comes from: the configuration's ("configured"), the gallery's
// own once self-calibration has measured it deep enough for the gallery's
// size ("gallery"), or the engine's built-in one ("engine").
func (n *Node) tail(m biometric.Modality) (engine.Tail, string) {
	if t, ok := n.cfg.ImpostorTails[m]; ok {
		return t, "configured"
	}
	if t, ok := n.selfTail(m); ok {
		return t, "gallery"
	}
	return n.engines[m].Tail(), "engine"
}

// policy returns the decision policy of a modality for the gallery as it is
// now: fixed thresholds when the configuration sets them, otherwise the
// scores at which the impostor tail (Node.tail) gives the configured
// false-positive identification rates against this many identities.
func (n *Node) policy(m biometric.Modality) search.Policy {
	tail, _ := n.tail(m)
	if t, ok := n.cfg.Thresholds[m]; ok {
		mean := t.ImpostorMean
		if mean == 0 {
			mean = tail.Mean
		}
		return search.Policy{Hit: t.Hit, Review: t.Review, Mean: mean, Cap: n.cfg.CandidateCap}
	}
	_, ids := n.galleryLen(m)
	return engine.Identification(tail, n.cfg.FPIRHit, n.cfg.FPIRReview, n.cfg.CandidateCap, ids)
}

// GalleryPolicy is the decision policy a node with configuration cfg uses
// for modality m and its engine when its gallery holds that many identities
// (the configuration's fixed thresholds are not consulted; its impostor
// tail is).
func GalleryPolicy(m biometric.Modality, e engine.Engine, cfg *Config, identities int) search.Policy {
	return engine.Identification(cfg.tail(m, e), cfg.FPIRHit, cfg.FPIRReview, cfg.CandidateCap, identities)
}
