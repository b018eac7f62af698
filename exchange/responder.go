package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/privacy"
	"github.com/ebsp/ebsp/store"
)

// ResponderConfig is what a Responder needs from its node.
type ResponderConfig struct {
	Credentials *NodeCredentials
	Agreements  []*Agreement
	Searcher    Searcher
	Discloser   Discloser
	Log         *audit.Log   // the node's transparency log
	Examiners   ExaminerAuth // who may confirm or reject matches
	Now         func() time.Time
	Logger      *slog.Logger  // operational log; never given probe data
	Window      time.Duration // accepted clock difference (default 2 min)
	// State, when set, keeps suspensions, quota counts, the replay cache
	// and cases durable (state.go); nil keeps them in memory only, lost
	// when the process stops.
	State store.ExchangeState
	// Revocations, when set, refuses revoked partner certificates at the
	// TLS handshake and on every envelope (revocation.go).
	Revocations *Revocations
	// Keys holds the node's encrypted-search key material (nil: no
	// encrypted search); Faces gives its face gallery for it.
	Keys  *Keyring
	Faces FaceVectors
}

// Responder is the responding side of the exchange: it answers partners'
// step-1 searches and step-2 disclosure requests, and holds the examiners'
// queue. It is independent of HTTP (see Handler for the endpoint) and safe
// for concurrent use.
type Responder struct {
	self       Address
	sealer     *Sealer
	opener     *Opener
	agreements map[string]*Agreement
	searcher   Searcher
	discloser  Discloser
	log        *audit.Log
	examiners  ExaminerAuth
	now        func() time.Time
	logger     *slog.Logger
	tlsCert    tls.Certificate
	junkCount  junkCounter
	state      store.ExchangeState
	revoked    *Revocations
	keys       *Keyring
	faces      FaceVectors
	refKey     [32]byte // MAC key of encrypted-search references

	encMu        sync.Mutex
	encGalleries map[string]*encSlot // by agreement (encrypted.go)

	keyMu       sync.Mutex
	keySessions map[string]*keySession // by agreement
	keyStarts   map[string]time.Time   // by agreement: the latest key-setup start
	rotations   []rotationAt           // this node's key_rotation leaves (rotation.go)

	mu        sync.Mutex
	suspended map[string]bool
	cases     map[string]*caseRec
	quota     map[quotaKey]int
}

type quotaKey struct {
	agreement, partner string
	search             SearchType
	day                string
}

// Case states. A case exists only for a hit.
const (
	caseAwaiting = "awaiting" // hit replied; the reference has not been used
	caseDeciding = "deciding" // an examiner's decision is being recorded
	// caseDelivering: the release is being delivered. The store holds it
	// before the release leaf is written, so that a node stopped in
	// between delivers it on the next poll without a second leaf.
	caseDelivering = "delivering"
)

// caseRec is what the responder keeps of a hit: which gallery identities
// were candidates and, only until an examiner decides, the probe (in memory,
// never on disk) so the examiner can compare. A no-hit creates no case.
type caseRec struct {
	id         string
	secretHash [32]byte
	agreement  *Agreement
	partner    Address
	purpose    Purpose
	searchType SearchType
	candidates []string
	probe      Probe
	created    time.Time
	refUntil   time.Time
	status     string
	fields     []string
	deadline   time.Time
	release    *Release
	examiner   string
	// firstExaminer and firstCandidate: the first confirmation of a
	// four-eyes case.
	firstExaminer, firstCandidate string
	pending                       *pendingDecision // while deciding: the decision, recorded before its leaf
	lastLeaf                      int64            // index of the latest audit leaf about this case
	probeLost                     bool             // restored after a restart: the probe was never on disk
	delivering                    bool             // a status poll is delivering the release now
}

// NewResponder checks the configuration and makes a Responder.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	switch {
	case cfg.Credentials == nil:
		return nil, errors.New("exchange: responder needs node credentials")
	case cfg.Searcher == nil || cfg.Discloser == nil:
		return nil, errors.New("exchange: responder needs a Searcher and a Discloser")
	case cfg.Log == nil:
		return nil, errors.New("exchange: responder needs an audit log")
	case cfg.Examiners == nil:
		return nil, errors.New("exchange: responder needs an ExaminerAuth")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	self := Address{cfg.Credentials.State, cfg.Credentials.Node}
	r := &Responder{
		self:       self,
		sealer:     NewSealer(cfg.Credentials, now),
		opener:     &Opener{Self: self, Now: now, Window: cfg.Window, Revocations: cfg.Revocations},
		state:      cfg.State,
		revoked:    cfg.Revocations,
		agreements: map[string]*Agreement{},
		searcher:   cfg.Searcher,
		discloser:  cfg.Discloser,
		log:        cfg.Log,
		examiners:  cfg.Examiners,
		now:        now,
		logger:     logger,
		tlsCert:    cfg.Credentials.TLS,
		suspended:  map[string]bool{},
		cases:      map[string]*caseRec{},
		quota:      map[quotaKey]int{},
		keys:       cfg.Keys,
		faces:      cfg.Faces,
		refKey:     refKey(cfg.Credentials),

		keySessions: map[string]*keySession{},
	}
	for _, a := range cfg.Agreements {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if p := a.Party(self.State); p == nil || p.Node != self.Node {
			return nil, fmt.Errorf("exchange: agreement %s does not name this node %s", a.ID, self)
		}
		if _, dup := r.agreements[a.ID]; dup {
			return nil, fmt.Errorf("exchange: agreement %s given twice", a.ID)
		}
		r.agreements[a.ID] = a
		r.suspended[a.ID] = a.Suspended
	}
	if err := r.recordRotations(cfg.Credentials, now()); err != nil {
		return nil, err
	}
	if r.state != nil {
		r.opener.Nonces = r.state
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := r.restore(ctx); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// TLSConfig is the server side of mutual TLS: this node's certificate, and
// client certificates required to chain to one of the partners' CAs.
func (r *Responder) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	for _, a := range r.agreements {
		pool.AddCert(a.Partner(r.self.State).CA())
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{r.tlsCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return r.revoked.verifyConnection(cs.VerifiedChains)
		},
	}
}

// Response is what the responder answers: an HTTP status, a signed
// envelope, and for quota refusals when to retry.
type Response struct {
	Status     int
	RetryAfter time.Duration
	Body       []byte
}

// Serve handles one message. peerChain is the TLS peer's verified chain
// (leaf first); its root must be the CA of the agreement's partner. typ is
// the message type the endpoint accepts. Serve overwrites raw with zeros
// before it returns: a step-1 request holds the probe.
func (r *Responder) Serve(ctx context.Context, typ MsgType, peerChain []*x509.Certificate, raw []byte) Response {
	// Clear the raw bytes once parsed: a step-1 request holds the probe.
	defer clear(raw)
	partner := ""
	if len(peerChain) > 0 && len(peerChain[len(peerChain)-1].Subject.Country) == 1 {
		partner = peerChain[len(peerChain)-1].Subject.Country[0]
	}
	if over, retry := r.junkCount.limited(partner, r.now()); over {
		return junkLimited(retry)
	}
	env, a, rf := r.opener.Open(raw, r.agreement, typ)
	if rf == nil {
		p := a.Partner(r.self.State)
		if len(peerChain) == 0 || !bytes.Equal(peerChain[len(peerChain)-1].Raw, p.CA().Raw) {
			rf = refuse(http.StatusForbidden, ReasonWrongPeer, "TLS client certificate does not chain to the %s CA of agreement %s", p.State, a.ID)
		} else {
			// A connection opened before the CRL listed its certificate
			// stays open under keep-alive: check the chain on every message.
			rf = r.revoked.checkChain(peerChain, "TLS client certificate")
		}
	}
	if rf != nil {
		if env != nil {
			clear(env.Body)
		}
		if rf.Reason == ReasonStorage || rf.Reason == ReasonOverloaded {
			// This node's trouble, not the peer's.
			return plainRefusal(rf)
		}
		return r.junk(partner, rf)
	}
	defer clear(env.Body)
	switch typ {
	case MsgStep1Request:
		return r.step1(ctx, env, a)
	case MsgStep2Request:
		return r.step2(env, a)
	case MsgStatusRequest:
		return r.status(ctx, env, a)
	case MsgKeySetupRequest:
		return r.keySetup(env, a)
	}
	return r.refusal(env, a, partner, "", refuse(http.StatusNotFound, ReasonUnexpectedMessage, "no endpoint for %s", typ))
}

func (r *Responder) agreement(id string) *Agreement { return r.agreements[id] }

// decodeBody parses an envelope body strictly.
func decodeBody(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}

// pseudonym checks an officer or examiner id: short printable ASCII, so
// that it is a pseudonymous code and not a name.
func pseudonym(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("id must be 1-64 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return fmt.Errorf("id %q may hold only letters, digits and the characters - _ . : (colon)", s)
		}
	}
	return nil
}

// inForce says whether a may be used now.
func (r *Responder) inForce(a *Agreement, now time.Time) *Refusal {
	r.mu.Lock()
	susp := r.suspended[a.ID]
	r.mu.Unlock()
	if susp {
		return refuse(http.StatusForbidden, ReasonSuspended, "agreement %s is suspended", a.ID)
	}
	if err := a.InForce(now); err != nil {
		return refuse(http.StatusForbidden, ReasonNotInForce, "%v", err)
	}
	return nil
}

func (r *Responder) step1(ctx context.Context, env *Envelope, a *Agreement) Response {
	start := time.Now()
	now := r.now()
	partner := env.From.State
	var req Step1Request
	if err := decodeBody(env.Body, &req); err != nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "step-1 request: %v", err))
	}
	encrypted := len(req.Encrypted) > 0
	var probe Probe
	var err error
	if encrypted {
		if len(req.Fingers) > 0 || len(req.Faces) > 0 {
			err = errors.New("an encrypted probe comes without fingers or faces")
		}
	} else {
		probe, err = decodeProbe(req.Fingers, req.Faces)
	}
	clear(req.Fingers)
	for i := range req.Faces {
		clear(req.Faces[i].Embedding)
	}
	// The probe lives only in this stack frame (and, for a hit, in the
	// in-memory case until an examiner decides); wipe it on every path.
	defer probe.wipe()
	if err != nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "%v", err))
	}
	if rf := r.inForce(a, now); rf != nil {
		return r.refusal(env, a, partner, "", rf)
	}
	if err := pseudonym(req.Officer); err != nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "officer: %v", err))
	}
	if strings.TrimSpace(req.LegalBasis) == "" || len(req.LegalBasis) > 256 {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMissingBasis, "a legal basis reference (1-256 bytes) is required"))
	}
	rule := a.purposeRule(req.Purpose)
	if rule == nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusForbidden, ReasonPurpose, "purpose %q is not permitted by agreement %s", req.Purpose, a.ID))
	}
	if rule.Purpose == SeriousCrime && req.OffenceMaxYears < rule.MinOffenceYears {
		return r.refusal(env, a, partner, "", refuse(http.StatusForbidden, ReasonSeriousness, "offence carries at most %d years; agreement %s requires %d", req.OffenceMaxYears, a.ID, rule.MinOffenceYears))
	}
	srule, ok := a.Searches[req.SearchType]
	if !ok {
		return r.refusal(env, a, partner, "", refuse(http.StatusForbidden, ReasonSearchType, "search type %q is not permitted by agreement %s", req.SearchType, a.ID))
	}
	if m := searchModality[req.SearchType]; !slices.Contains(a.Modalities, m) || (m != biometric.Finger && m != biometric.Face) {
		// Probes carry fingerprints or faces.
		return r.refusal(env, a, partner, "", refuse(http.StatusForbidden, ReasonModality, "modality %s is not permitted for %s", m, req.SearchType))
	} else if a.encryptedFor(m) != encrypted {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonEncryption, "agreement %s requires encrypted %s searches: %v; this request's probe is encrypted: %v", a.ID, m, a.encryptedFor(m), encrypted))
	} else if !encrypted && (m == biometric.Face) != (len(probe.Faces) > 0) {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "a %s search needs a probe of %s samples only", req.SearchType, m))
	}
	var encParty *privacy.Party
	var encProbe *privacy.Probe
	if encrypted {
		var rf *Refusal
		if r.faces == nil {
			rf = refuse(http.StatusServiceUnavailable, ReasonSearchFailed, "this node has no face gallery for encrypted search")
		} else {
			encParty, encProbe, rf = r.openEncryptedProbe(a, req.Encrypted)
		}
		if rf != nil {
			return r.refusal(env, a, partner, "", rf)
		}
	}
	// Quota: a request that passed every other check counts, whatever its
	// outcome; request N+1 of the UTC day is refused until midnight UTC.
	day := now.UTC().Format("2006-01-02")
	qk := quotaKey{a.ID, partner, req.SearchType, day}
	r.mu.Lock()
	if r.quota[qk] >= srule.DailyQuota {
		r.mu.Unlock()
		midnight := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		rf := refuse(http.StatusTooManyRequests, ReasonQuota, "daily quota of %d %s searches under agreement %s used", srule.DailyQuota, req.SearchType, a.ID)
		rf.RetryAfter = midnight.Sub(now)
		return r.refusal(env, a, partner, req.Purpose, rf)
	}
	r.quota[qk]++
	used := r.quota[qk]
	r.mu.Unlock()
	if err := r.persistQuota(qk, used); err != nil {
		// The count stays taken: a request the node could not count is
		// refused, and counts lean towards the partner's quota.
		r.logger.Error("exchange state write failed", "what", "quota", "err", err)
		return r.refusal(env, a, partner, req.Purpose, storageRefusal(err))
	}

	msg := env.HeaderHash()
	// The request leaf is written before the search and made durable by
	// the fsync of the decision (or refusal) leaf that always follows it
	// before any reply: one fsync per request.
	if _, err := r.log.AppendUnsynced(audit.Leaf{Time: now, Kind: audit.KindRequest, Partner: partner, Agreement: a.ID,
		Purpose: string(req.Purpose), SearchType: string(req.SearchType), Actor: req.Officer, Message: msg, Key: env.KeyID()}); err != nil {
		return r.internal(env, a, err)
	}
	if encrypted {
		return r.encryptedStep1(ctx, env, a, &req, encParty, encProbe, msg, now, start)
	}

	sctx, cancel := context.WithTimeout(ctx, time.Duration(a.Deadlines.Step1))
	cands, err := r.searcher.Search(sctx, probe)
	cancel()
	if err != nil {
		r.logger.Warn("step1 search failed", "partner", partner, "agreement", a.ID, "err", err)
		return r.refusal(env, a, partner, req.Purpose, refuse(http.StatusServiceUnavailable, ReasonSearchFailed, "the search did not complete"))
	}
	if len(cands) > srule.CandidateCap {
		cands = cands[:srule.CandidateCap]
	}
	reply := Step1Reply{InReplyTo: msg, Outcome: audit.OutcomeNoHit}
	decision := audit.Leaf{Time: r.now(), Kind: audit.KindDecision, Partner: partner, Agreement: a.ID,
		Purpose: string(req.Purpose), SearchType: string(req.SearchType), Outcome: audit.OutcomeNoHit, Message: msg}
	if len(cands) > 0 {
		c, ref, err := r.newCase(a, env.From, req, cands, probe, now)
		if err != nil {
			r.logger.Error("exchange state write failed", "what", "case", "err", err)
			return r.refusal(env, a, partner, req.Purpose, storageRefusal(err))
		}
		probe = Probe{} // now owned by the case
		reply.Outcome, reply.Reference, reply.CandidateCount, reply.ReferenceUntil = audit.OutcomeHit, ref, len(cands), c.refUntil
		decision.Outcome, decision.Case, decision.Candidates = audit.OutcomeHit, c.id, len(cands)
	}
	var hitCase *caseRec
	if len(cands) > 0 {
		hitCase = r.caseByID(decision.Case)
	}
	resp := r.reply(env, a, MsgStep1Reply, decision, hitCase, &reply.Audit, &reply, req.KnownTreeSize)
	r.logger.Info("step1", "partner", partner, "agreement", a.ID, "outcome", reply.Outcome, "candidates", reply.CandidateCount, "ms", time.Since(start).Milliseconds())
	return resp
}

// newCase records a hit and returns its single-use reference:
// "<case id>.<secret>", where only SHA-256(secret) is kept and compared in
// constant time; the case id alone (which appears in audit leaves) opens
// nothing.
func (r *Responder) newCase(a *Agreement, from Address, req Step1Request, cands []biometric.Candidate, probe Probe, now time.Time) (*caseRec, string, error) {
	var id [12]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, "", err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, "", err
	}
	c := &caseRec{
		id: hex.EncodeToString(id[:]), secretHash: sha256.Sum256(secret[:]), agreement: a, partner: from,
		purpose: req.Purpose, searchType: req.SearchType, probe: probe, created: now,
		refUntil: now.Add(time.Duration(a.Deadlines.Step2)), status: caseAwaiting,
		// Every leaf about the case comes after this one: where a start
		// that catches the case up with the log begins to read (catchUp).
		lastLeaf: r.log.Size() - 1,
	}
	for _, cd := range cands {
		c.candidates = append(c.candidates, cd.IdentityID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.persistCase(c); err != nil {
		return nil, "", err
	}
	r.cases[c.id] = c
	return c, c.id + "." + base64.RawURLEncoding.EncodeToString(secret[:]), nil
}

// lookupReference finds the case of a reference, comparing its secret in
// constant time.
func (r *Responder) lookupReference(ref string) *caseRec {
	id, sec, ok := strings.Cut(ref, ".")
	if !ok {
		return nil
	}
	secret, err := base64.RawURLEncoding.DecodeString(sec)
	if err != nil {
		return nil
	}
	h := sha256.Sum256(secret)
	c := r.cases[id]
	if c == nil || subtle.ConstantTimeCompare(h[:], c.secretHash[:]) != 1 {
		return nil
	}
	return c
}

func (r *Responder) step2(env *Envelope, a *Agreement) Response {
	now := r.now()
	partner := env.From.State
	var req Step2Request
	if err := decodeBody(env.Body, &req); err != nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "step-2 request: %v", err))
	}
	if err := pseudonym(req.Officer); err != nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "officer: %v", err))
	}
	if rf := r.inForce(a, now); rf != nil {
		return r.refusal(env, a, partner, "", rf)
	}
	fields := req.Fields
	if len(fields) == 0 {
		fields = a.Disclosure
	}
	for _, f := range fields {
		if !slices.Contains(a.Disclosure, f) {
			return r.refusal(env, a, partner, "", refuse(http.StatusForbidden, ReasonFieldNotPermitted, "field %q is not on the allow-list of agreement %s", f, a.ID))
		}
	}
	if strings.HasPrefix(req.Reference, encRefPrefix) {
		return r.encryptedStep2(env, a, &req, fields, now)
	}
	r.mu.Lock()
	c := r.lookupReference(req.Reference)
	if c == nil || c.partner != env.From || c.agreement != a {
		r.mu.Unlock()
		return r.refusal(env, a, partner, "", refuse(http.StatusNotFound, ReasonUnknownReference, "no such reference"))
	}
	justExpired := r.expireLocked(c, now)
	switch c.status {
	case caseAwaiting:
	case StatusExpired:
		r.mu.Unlock()
		if justExpired {
			r.logExpiry(c, "reference_unused", now)
		}
		return r.refusal(env, a, partner, c.purpose, refuse(http.StatusGone, ReasonReferenceExpired, "reference expired"))
	default:
		r.mu.Unlock()
		return r.refusal(env, a, partner, c.purpose, refuse(http.StatusConflict, ReasonReferenceUsed, "reference already used"))
	}
	c.status = StatusQueued
	c.fields = slices.Clone(fields)
	c.deadline = now.Add(time.Duration(a.Deadlines.Step2))
	if err := r.persistCase(c); err != nil {
		c.status, c.fields, c.deadline = caseAwaiting, nil, time.Time{}
		r.mu.Unlock()
		r.logger.Error("exchange state write failed", "what", "case", "err", err)
		return r.refusal(env, a, partner, c.purpose, storageRefusal(err))
	}
	reply := Step2Reply{InReplyTo: env.HeaderHash(), Case: c.id, Status: StatusQueued, Deadline: c.deadline}
	r.mu.Unlock()
	leaf := audit.Leaf{Time: now, Kind: audit.KindDisclosure, Partner: partner, Agreement: a.ID, Case: c.id,
		Purpose: string(c.purpose), SearchType: string(c.searchType), Outcome: audit.OutcomeQueued, Fields: c.fields, Actor: req.Officer, Message: env.HeaderHash()}
	return r.reply(env, a, MsgStep2Reply, leaf, c, &reply.Audit, &reply, req.KnownTreeSize)
}

func (r *Responder) status(ctx context.Context, env *Envelope, a *Agreement) Response {
	now := r.now()
	partner := env.From.State
	var req StatusRequest
	if err := decodeBody(env.Body, &req); err != nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "status request: %v", err))
	}
	r.mu.Lock()
	c := r.cases[req.Case]
	if c == nil || c.partner != env.From || c.agreement != a || c.status == caseAwaiting {
		r.mu.Unlock()
		return r.refusal(env, a, partner, "", refuse(http.StatusNotFound, ReasonUnknownCase, "no such case"))
	}
	expired := r.expireLocked(c, now)
	reply := StatusReply{InReplyTo: env.HeaderHash(), Case: c.id, Status: c.status}
	leaf := audit.Leaf{Time: now, Kind: audit.KindExpiry, Partner: partner, Agreement: a.ID, Case: c.id, Purpose: string(c.purpose), Reason: "examiner_deadline", Message: env.HeaderHash()}
	if !expired && (c.status == StatusReleased || c.status == caseDelivering) {
		if r.suspended[a.ID] || a.InForce(now) != nil {
			// Cannot happen (Suspend withdraws releases), but never release under a suspended agreement.
			r.mu.Unlock()
			return r.refusal(env, a, partner, c.purpose, refuse(http.StatusForbidden, ReasonSuspended, "agreement %s is suspended", a.ID))
		}
		return r.deliver(env, a, c, now, &reply, req.KnownTreeSize)
	} else if !expired {
		// Nothing changed. A poll is not an audit event (logging every poll
		// would flood the log), so the reply proves the case's latest leaf.
		last := c.lastLeaf
		r.mu.Unlock()
		return r.replyProving(env, a, MsgStatusReply, last, &reply.Audit, &reply, req.KnownTreeSize)
	}
	r.mu.Unlock()
	return r.reply(env, a, MsgStatusReply, leaf, c, &reply.Audit, &reply, req.KnownTreeSize)
}

// deliver hands a released case's data to the requester, once, and then
// keeps no copy of the released values. The store marks the case
// delivering before the release leaf is written and delivered after, so
// that a node stopped in between finds the leaf (deliveredAt) and delivers
// on the next poll without writing a second one. Callers hold r.mu; deliver
// releases it.
func (r *Responder) deliver(env *Envelope, a *Agreement, c *caseRec, now time.Time, reply *StatusReply, known int64) Response {
	partner := env.From.State
	if c.delivering {
		r.mu.Unlock()
		return r.refusal(env, a, partner, c.purpose, refuse(http.StatusConflict, ReasonDeliveryInProgress, "the release of case %s is being delivered in answer to another request", c.id))
	}
	recovered := c.status == caseDelivering
	c.status, c.delivering = caseDelivering, true
	if err := r.persistCase(c); err != nil {
		c.status, c.delivering = StatusReleased, false
		r.mu.Unlock()
		r.logger.Error("exchange state write failed", "what", "case", "err", err)
		return r.refusal(env, a, partner, c.purpose, storageRefusal(err))
	}
	reply.Status, reply.Release = StatusReleased, c.release
	names := make([]string, 0, len(c.release.Fields))
	for k := range c.release.Fields {
		names = append(names, k)
	}
	slices.Sort(names)
	leaf := audit.Leaf{Time: now, Kind: audit.KindRelease, Partner: partner, Agreement: a.ID, Case: c.id,
		Purpose: string(c.purpose), Outcome: StatusReleased, Fields: names, Handling: c.release.Handling.tags(), Actor: c.examiner, Message: env.HeaderHash()}
	from := c.lastLeaf
	r.mu.Unlock()
	idx := int64(-1)
	if recovered {
		idx = r.deliveredAt(c.id, from)
	}
	if idx < 0 {
		var err error
		if idx, err = r.log.Append(leaf); err != nil {
			r.mu.Lock()
			c.delivering = false
			r.mu.Unlock()
			return r.internal(env, a, err)
		}
	}
	failpoint("release-leaf")
	r.mu.Lock()
	rel, last := c.release, c.lastLeaf
	c.release, c.status, c.lastLeaf, c.delivering = nil, StatusDelivered, idx, false
	if err := r.persistCase(c); err != nil {
		// The data leaves only once the store says delivered: were it
		// sent now, a restart before the store recovers would find the
		// case delivering and send it again. The case stays delivering
		// with its leaf written; the next poll finds the leaf and
		// delivers without a second one.
		c.release, c.status, c.lastLeaf = rel, caseDelivering, last
		r.mu.Unlock()
		r.logger.Error("exchange state write failed", "what", "delivered case", "case", c.id, "err", err)
		return r.refusal(env, a, partner, c.purpose, storageRefusal(err))
	}
	r.mu.Unlock()
	return r.replyProving(env, a, MsgStatusReply, idx, &reply.Audit, reply, known)
}

func (h HandlingTags) tags() []string {
	t := []string{"destroy_by=" + h.DestroyBy.UTC().Format(time.RFC3339)}
	if h.NoOnwardTransfer {
		t = append(t, "no_onward_transfer")
	}
	return t
}

// expireLocked closes c if its deadline passed: an unused reference after
// refUntil, a queued request after its examiner deadline. It reports
// whether c expired now. Callers hold r.mu; the expiry leaf is theirs to
// write (status does, Sweep does).
func (r *Responder) expireLocked(c *caseRec, now time.Time) bool {
	switch {
	case c.status == caseAwaiting && now.After(c.refUntil),
		c.status == StatusQueued && now.After(c.deadline):
		c.status = StatusExpired
		c.probe.wipe()
		if err := r.persistCase(c); err != nil {
			// The store's copy expires at the next look after a restart.
			r.logger.Error("exchange state write failed", "what", "expired case", "case", c.id, "err", err)
		}
		return true
	}
	return false
}
