package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ebsp/ebsp/audit"
	"golang.org/x/mod/sumdb/tlog"
)

// ClientConfig is what the requesting side needs to talk to one partner.
type ClientConfig struct {
	Credentials *NodeCredentials
	Agreement   *Agreement
	Endpoint    string // partner base URL; default the agreement's endpoint of the partner
	Now         func() time.Time
	Log         *audit.Log // the requesting node's own log (optional): sent requests and received releases
	Window      time.Duration
	Transport   http.RoundTripper // default: mutual TLS from the credentials and the partner CA
	// EvidenceDir, when set, receives the evidence of a partner log fork
	// (LogForkError), one JSON file each, for the data-protection
	// authority.
	EvidenceDir string
	// Revocations, when set, refuses a partner whose TLS server
	// certificate or reply signing certificate is revoked.
	Revocations *Revocations
	// Keys holds the node's encrypted-search key material (nil: no
	// encrypted search from this side).
	Keys *Keyring
}

// Client is the requesting side of the exchange with one partner. It
// signs requests, verifies replies (signature, freshness, binding to the
// request, and the audit proof of the reply's leaf), keeps every
// checkpoint of the partner's log it was shown, and holds released data
// under their handling tags.
type Client struct {
	self     Address
	partner  *Party
	a        *Agreement
	base     string
	sealer   *Sealer
	opener   *Opener
	http     *http.Client
	slow     *http.Client // key setup and encrypted search: the partner computes before it answers
	now      func() time.Time
	log      *audit.Log
	received *Received

	evidenceDir string

	mu           sync.Mutex
	ring         *audit.KeyRing // the partner's log keys: the agreement's, and those its rotations introduced
	latest       audit.Checkpoint
	latestSigned []byte // the signed note of latest
	checkpoints  [][]byte
	suspended    bool
	forks        []*LogForkError
	keys         *Keyring
	pending      map[string]pendingProbe // own probes after an encrypted hit, by reference
}

// NewClient makes a client for the partner of cfg.Agreement.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Credentials == nil || cfg.Agreement == nil {
		return nil, errors.New("exchange: client needs credentials and an agreement")
	}
	if err := cfg.Agreement.Validate(); err != nil {
		return nil, err
	}
	nc := cfg.Credentials
	self := Address{nc.State, nc.Node}
	if p := cfg.Agreement.Party(self.State); p == nil || p.Node != self.Node {
		return nil, fmt.Errorf("exchange: agreement %s does not name this node %s", cfg.Agreement.ID, self)
	}
	partner := cfg.Agreement.Partner(self.State)
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	base := cfg.Endpoint
	if base == "" {
		base = partner.Endpoint
	}
	if base == "" {
		return nil, fmt.Errorf("exchange: no endpoint for %s", partner.addr())
	}
	rt := cfg.Transport
	if rt == nil {
		roots := x509.NewCertPool()
		roots.AddCert(partner.CA())
		rt = &http.Transport{
			TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, Certificates: []tls.Certificate{nc.TLS},
				VerifyConnection: func(cs tls.ConnectionState) error { return cfg.Revocations.verifyConnection(cs.VerifiedChains) }},
			MaxIdleConnsPerHost: 64,
			ForceAttemptHTTP2:   true,
		}
	}
	ring, err := audit.NewKeyRingOf(partner.LogVerifier())
	if err != nil {
		return nil, err
	}
	return &Client{
		ring: ring,
		self: self, partner: partner, a: cfg.Agreement, base: strings.TrimSuffix(base, "/"),
		sealer: NewSealer(nc, now), opener: &Opener{Self: self, Now: now, Window: cfg.Window, Revocations: cfg.Revocations},
		http: &http.Client{Transport: rt, Timeout: 60 * time.Second}, now: now, log: cfg.Log,
		slow:     &http.Client{Transport: rt, Timeout: keySetupTimeout},
		received: &Received{recs: map[string]ReceivedRecord{}}, evidenceDir: cfg.EvidenceDir, keys: cfg.Keys,
	}, nil
}

// Step1Params is a step-1 search.
type Step1Params struct {
	Purpose         Purpose
	LegalBasis      string
	Officer         string
	SearchType      SearchType
	OffenceMaxYears int
	Probe           Probe
}

// Step1Result is a verified step-1 reply.
type Step1Result struct {
	Outcome        string // "hit" or "no_hit"
	Reference      string
	CandidateCount int
	ReferenceUntil time.Time
	// Encrypted says the search ran on an encrypted probe; the outcome
	// and CandidateCount (the number of gallery entries above the
	// threshold) are the requester's own decryption of the partner's
	// answer. BytesUp and BytesDown are the ciphertexts' sizes.
	Encrypted          bool
	BytesUp, BytesDown int
}

// Step1 sends a search and returns the verified reply. A refusal is a
// *Refusal error (RetryAfter set for quotas).
func (c *Client) Step1(ctx context.Context, p Step1Params) (*Step1Result, error) {
	if m, ok := searchModality[p.SearchType]; ok && c.a.encryptedFor(m) {
		return c.encryptedStep1(ctx, p)
	}
	fingers, err := encodeProbe(p.Probe)
	if err != nil {
		return nil, err
	}
	faces := encodeFaces(p.Probe)
	req := Step1Request{Purpose: p.Purpose, LegalBasis: p.LegalBasis, Officer: p.Officer, SearchType: p.SearchType,
		OffenceMaxYears: p.OffenceMaxYears, Fingers: fingers, Faces: faces}
	var rep Step1Reply
	sent, err := c.roundTrip(ctx, "", PathStep1, MsgStep1Request, MsgStep1Reply, func(known int64) any { req.KnownTreeSize = known; return &req }, &rep, func() *AuditProof { return &rep.Audit })
	for i := range fingers {
		clear(fingers[i].Record)
	}
	for i := range faces {
		clear(faces[i].Embedding)
	}
	if err != nil {
		return nil, err
	}
	if rep.Outcome != audit.OutcomeHit && rep.Outcome != audit.OutcomeNoHit {
		return nil, fmt.Errorf("exchange: step-1 reply outcome %q is neither hit nor no_hit", rep.Outcome)
	}
	if c.log != nil {
		// The search is only shown once this state has recorded that it was
		// made: an answer without its leaf would be an unaccountable search.
		if _, err := c.log.Append(audit.Leaf{Time: c.now(), Kind: audit.KindRequestSent, Partner: c.partner.State, Agreement: c.a.ID,
			Purpose: string(p.Purpose), SearchType: string(p.SearchType), Outcome: rep.Outcome, Actor: p.Officer, Message: sent.HeaderHash(), Key: sent.KeyID()}); err != nil {
			return nil, fmt.Errorf("exchange: %w: recording the step-1 search sent to %s: %v", ErrStorage, c.partner.State, err)
		}
	}
	return &Step1Result{Outcome: rep.Outcome, Reference: rep.Reference, CandidateCount: rep.CandidateCount, ReferenceUntil: rep.ReferenceUntil}, nil
}

// RequestDisclosure asks for the allow-listed fields (all of them if fields
// is empty) under a step-1 reference, and returns the case id and the
// examiner deadline.
func (c *Client) RequestDisclosure(ctx context.Context, reference string, fields []string, officer string) (caseID string, deadline time.Time, err error) {
	// After an encrypted hit, step 2 carries the probe.
	req := Step2Request{Reference: reference, Fields: fields, Officer: officer, Faces: c.pendingFaces(reference)}
	var rep Step2Reply
	_, err = c.roundTrip(ctx, "", PathStep2, MsgStep2Request, MsgStep2Reply, func(known int64) any { req.KnownTreeSize = known; return &req }, &rep, func() *AuditProof { return &rep.Audit })
	for i := range req.Faces {
		clear(req.Faces[i].Embedding)
	}
	if err != nil {
		return "", time.Time{}, err
	}
	c.dropPending(reference)
	return rep.Case, rep.Deadline, nil
}

// Status asks how a disclosure request stands. When the data are released
// they are kept in Received under their handling tags and returned.
func (c *Client) Status(ctx context.Context, caseID string) (string, *Release, error) {
	req := StatusRequest{Case: caseID}
	var rep StatusReply
	if _, err := c.roundTrip(ctx, caseID, PathStatus, MsgStatusRequest, MsgStatusReply, func(known int64) any { req.KnownTreeSize = known; return &req }, &rep, func() *AuditProof { return &rep.Audit }); err != nil {
		return "", nil, err
	}
	if rep.Case != caseID {
		return "", nil, fmt.Errorf("exchange: status reply is about case %q, asked %q", rep.Case, caseID)
	}
	if rep.Release != nil {
		if rep.Status != StatusReleased {
			return "", nil, fmt.Errorf("exchange: status %q carries a release", rep.Status)
		}
		h := rep.Release.Handling
		if h.DestroyBy.IsZero() || h.Agreement != c.a.ID {
			return "", nil, errors.New("exchange: release without handling tags of this agreement refused")
		}
		for f := range rep.Release.Fields {
			if !slices.Contains(c.a.Disclosure, f) {
				return "", nil, fmt.Errorf("exchange: release holds field %q outside the allow-list; refused", f)
			}
		}
		// The partner marks a release delivered once sent: keep it even when
		// this node cannot record its receipt, and say so.
		c.received.put(caseID, c.partner.State, *rep.Release, c.now())
		if c.log != nil {
			names := make([]string, 0, len(rep.Release.Fields))
			for k := range rep.Release.Fields {
				names = append(names, k)
			}
			slices.Sort(names)
			if _, err := c.log.Append(audit.Leaf{Time: c.now(), Kind: audit.KindReleaseReceive, Partner: c.partner.State, Agreement: c.a.ID,
				Case: caseID, Fields: names, Handling: h.tags()}); err != nil {
				return "", nil, fmt.Errorf("exchange: %w: case %s: the release is kept under its handling tags (Received) but its receipt is not recorded in this node's audit log: %v", ErrStorage, caseID, err)
			}
		}
	}
	return rep.Status, rep.Release, nil
}

// roundTrip seals a request, posts it, and verifies the reply: a signed
// envelope from the partner, for this node, fresh and not replayed, of the
// expected type (or a refusal), answering this very request, with a valid
// audit proof whose leaf names this request.
func (c *Client) roundTrip(ctx context.Context, caseID, path string, reqType, repType MsgType, body func(known int64) any, rep any, proofOf func() *AuditProof) (*Envelope, error) {
	return c.roundTripWith(ctx, c.http, caseID, path, reqType, repType, body, rep, proofOf)
}

// roundTripSlow is roundTrip with the long timeout of key setup and
// encrypted search.
func (c *Client) roundTripSlow(ctx context.Context, caseID, path string, reqType, repType MsgType, body func(known int64) any, rep any, proofOf func() *AuditProof) (*Envelope, error) {
	return c.roundTripWith(ctx, c.slow, caseID, path, reqType, repType, body, rep, proofOf)
}

func (c *Client) roundTripWith(ctx context.Context, hc *http.Client, caseID, path string, reqType, repType MsgType, body func(known int64) any, rep any, proofOf func() *AuditProof) (*Envelope, error) {
	c.mu.Lock()
	if c.suspended {
		c.mu.Unlock()
		return nil, &Refusal{Reason: ReasonSuspended, Detail: "agreement " + c.a.ID + " is suspended here"}
	}
	known := c.latest
	c.mu.Unlock()
	raw, sent, err := c.sealer.Seal(reqType, c.a.ID, c.partner.addr(), body(known.Size))
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(hreq)
	clear(raw)
	if err != nil {
		// Both wrapped: a handshake refused for a revoked certificate
		// carries its *Refusal (certificate_revoked).
		return nil, fmt.Errorf("exchange: %w: %s: %w", ErrPartnerUnreachable, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxEnvelopeBytes+1))
	if err != nil {
		return nil, fmt.Errorf("exchange: %s: reading reply: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		rf := &Refusal{Status: resp.StatusCode, Reason: "http_" + strconv.Itoa(resp.StatusCode)}
		if s := resp.Header.Get("Retry-After"); s != "" {
			if n, err := strconv.Atoi(s); err == nil {
				rf.RetryAfter = time.Duration(n) * time.Second
			}
		}
		env, _, orf := c.opener.Open(b, c.agreementByID, MsgRefusal)
		if orf != nil {
			// Unsigned refusals (the responder could not establish who we
			// are) are reported but cannot be proven.
			var plain RefusalReply
			if decodeBody(b, &plain) == nil && plain.Reason != "" {
				rf.Reason, rf.Detail = plain.Reason, plain.Detail+" (unsigned reply)"
			}
			return sent, rf
		}
		var body RefusalReply
		if err := decodeBody(env.Body, &body); err != nil {
			return sent, fmt.Errorf("exchange: refusal body: %v", err)
		}
		rf.Reason, rf.Detail = body.Reason, body.Detail
		if body.InReplyTo != sent.HeaderHash() {
			return sent, errors.New("exchange: signed refusal answers another request")
		}
		if body.Audit != nil {
			if err := c.checkProof(ctx, body.Audit, known, sent, ""); err != nil {
				return sent, err
			}
		}
		if body.Reason == ReasonSuspended {
			if _, err := c.Suspend(); err != nil {
				return sent, errors.Join(rf, err)
			}
		}
		return sent, rf
	}
	env, _, orf := c.opener.Open(b, c.agreementByID, repType)
	if orf != nil {
		return sent, fmt.Errorf("exchange: reply from %s refused: %w", c.partner.addr(), orf)
	}
	if err := decodeBody(env.Body, rep); err != nil {
		return sent, fmt.Errorf("exchange: %s body: %v", repType, err)
	}
	var irt struct {
		InReplyTo string `json:"in_reply_to"`
	}
	json.Unmarshal(env.Body, &irt)
	if irt.InReplyTo != sent.HeaderHash() {
		return sent, errors.New("exchange: reply answers another request")
	}
	if err := c.checkProof(ctx, proofOf(), known, sent, caseID); err != nil {
		return sent, err
	}
	return sent, nil
}

func (c *Client) agreementByID(id string) *Agreement {
	if id == c.a.ID {
		return c.a
	}
	return nil
}

// checkProof verifies a reply's audit proof: the checkpoint is signed by
// the partner's log key, the leaf is in it, the leaf is about this request
// (for leaves written in answer to it), and the checkpoint extends the
// latest one this client held when it sent the request.
func (c *Client) checkProof(ctx context.Context, p *AuditProof, known audit.Checkpoint, sent *Envelope, caseID string) error {
	cp, err := c.openCheckpoint(ctx, p.Checkpoint)
	if err != nil {
		return fmt.Errorf("exchange: reply checkpoint: %v", err)
	}
	incl := make(tlog.RecordProof, len(p.Inclusion))
	for i, h := range p.Inclusion {
		if len(h) != tlog.HashSize {
			return errors.New("exchange: malformed inclusion proof")
		}
		copy(incl[i][:], h)
	}
	if err := audit.CheckInclusion(cp, p.Index, p.Leaf, incl); err != nil {
		return fmt.Errorf("exchange: reply leaf: %v", err)
	}
	leaf, err := audit.DecodeLeaf(p.Leaf)
	if err != nil {
		return fmt.Errorf("exchange: reply leaf: %v", err)
	}
	// The leaf must be the one written in answer to this request; only an
	// unchanged status may prove the case's latest leaf instead.
	if leaf.Message != sent.HeaderHash() && (caseID == "" || leaf.Case != caseID) {
		return errors.New("exchange: reply proves a leaf that is not about this request")
	}
	if known.Size > 0 {
		if p.ConsistencyFrom != known.Size {
			return c.fork(p.Checkpoint, p.Consistency, fmt.Sprintf("no consistency proof from the checkpoint of size %d held here (the reply's checkpoint has %d leaves): a fork or a rollback", known.Size, cp.Size))
		}
		cons := make(tlog.TreeProof, len(p.Consistency))
		for i, h := range p.Consistency {
			if len(h) != tlog.HashSize {
				return errors.New("exchange: malformed consistency proof")
			}
			copy(cons[i][:], h)
		}
		if err := audit.CheckConsistency(known, cp, cons); err != nil {
			return c.fork(p.Checkpoint, p.Consistency, err.Error())
		}
	}
	c.mu.Lock()
	if cp.Size > c.latest.Size {
		c.latest, c.latestSigned = cp, slices.Clone(p.Checkpoint)
	}
	if n := len(c.checkpoints); n == 0 || !bytes.Equal(c.checkpoints[n-1], p.Checkpoint) {
		c.checkpoints = append(c.checkpoints, slices.Clone(p.Checkpoint))
	}
	c.mu.Unlock()
	return nil
}

// Checkpoints returns the signed checkpoints of the partner's log this
// client verified, in the order received: what it hands to an auditor.
func (c *Client) Checkpoints() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.checkpoints)
}

// Received returns the store of released data.
func (c *Client) Received() *Received { return c.received }

// Suspend marks the agreement suspended on this side: no more requests are
// sent, and data received under it are destroyed at once (revocation
// overrides the destroy-by date).
//
// The error says the suspension could not be recorded in the audit log; the
// suspension and the destruction hold all the same.
func (c *Client) Suspend() (int, error) {
	c.mu.Lock()
	c.suspended = true
	c.mu.Unlock()
	n := c.received.destroyAll()
	if c.log != nil {
		now := c.now()
		if _, err := c.log.Append(audit.Leaf{Time: now, Kind: audit.KindAgreement, Partner: c.partner.State, Agreement: c.a.ID, Outcome: audit.OutcomeSuspended, Count: n}); err != nil {
			return n, fmt.Errorf("exchange: %w: recording the suspension of agreement %s: %v", ErrStorage, c.a.ID, err)
		}
	}
	return n, nil
}

// SaveCheckpoints writes the kept checkpoints into dir, one file each
// (STATE-NNNNNN.checkpoint), for `ebsp audit verify --checkpoints DIR`.
func (c *Client) SaveCheckpoints(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("exchange: %v", err)
	}
	for i, cp := range c.Checkpoints() {
		name := filepath.Join(dir, fmt.Sprintf("%s-%06d.checkpoint", c.partner.State, i))
		if err := os.WriteFile(name, cp, 0o600); err != nil {
			return fmt.Errorf("exchange: %v", err)
		}
	}
	return nil
}

// Refresh fetches the partner log's latest checkpoint and a consistency
// proof from the latest one this client holds, verifies both and keeps the
// new checkpoint. It is what a partner (or its auditor) runs between
// exchanges to keep watching the log; it returns the new tree size.
func (c *Client) Refresh(ctx context.Context) (int64, error) {
	signed, err := c.get(ctx, PathCheckpoint)
	if err != nil {
		return 0, err
	}
	cp, err := c.openCheckpoint(ctx, signed)
	if err != nil {
		return 0, fmt.Errorf("exchange: partner checkpoint: %v", err)
	}
	c.mu.Lock()
	known := c.latest
	c.mu.Unlock()
	var proof tlog.TreeProof
	if known.Size > 0 && known.Size < cp.Size {
		b, err := c.get(ctx, fmt.Sprintf("%s?old=%d&new=%d", PathConsistency, known.Size, cp.Size))
		if err != nil {
			return 0, err
		}
		var rep ConsistencyReply
		if err := json.Unmarshal(b, &rep); err != nil || rep.Old != known.Size || rep.New != cp.Size {
			return 0, fmt.Errorf("exchange: malformed consistency reply")
		}
		for _, h := range rep.Proof {
			if len(h) != tlog.HashSize {
				return 0, errors.New("exchange: malformed consistency proof")
			}
			var x tlog.Hash
			copy(x[:], h)
			proof = append(proof, x)
		}
	}
	if known.Size > 0 {
		if err := audit.CheckConsistency(known, cp, proof); err != nil {
			var hs [][]byte
			for _, h := range proof {
				hs = append(hs, h[:])
			}
			return 0, c.fork(signed, hs, err.Error())
		}
	}
	c.mu.Lock()
	if cp.Size > c.latest.Size {
		c.latest, c.latestSigned = cp, slices.Clone(signed)
	}
	if n := len(c.checkpoints); n == 0 || !bytes.Equal(c.checkpoints[n-1], signed) {
		c.checkpoints = append(c.checkpoints, signed)
	}
	c.mu.Unlock()
	return cp.Size, nil
}

// get fetches one of the partner's read-only audit paths.
func (c *Client) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("exchange: %w: %s: %w", ErrPartnerUnreachable, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("exchange: %s: HTTP %d: %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}

// ErrPartnerUnreachable wraps a failure to reach the partner's endpoint
// (connection refused, TLS handshake failed, timeout).
var ErrPartnerUnreachable = errors.New("partner unreachable")

// ReasonLogFork names a partner whose transparency log does not extend a
// checkpoint this node holds (LogForkError).
const ReasonLogFork = "partner_log_fork"

// LogForkError says that the partner's log, as a reply or Refresh showed
// it, does not extend the latest signed checkpoint this client held: the
// partner rewrote or forked its history (or rolled it back). Both signed
// checkpoints and the proof given are the evidence: each is signed by the
// partner's log key, so a third party can verify that the partner showed
// two histories that cannot both be true. The client keeps the evidence
// (Forks) and writes it to ClientConfig.EvidenceDir; the reply is not used.
type LogForkError struct {
	Partner   string    `json:"partner"`
	Agreement string    `json:"agreement"`
	Detected  time.Time `json:"detected"`
	Detail    string    `json:"detail"`
	Held      string    `json:"held_checkpoint"`  // the signed checkpoint held here (note text)
	Shown     string    `json:"shown_checkpoint"` // the signed checkpoint the partner showed
	Proof     [][]byte  `json:"consistency_proof,omitempty"`
	LogKeys   []string  `json:"log_keys"` // the partner's log keys trusted here, which verify both checkpoints
	File      string    `json:"-"`        // where the evidence was written, if it was
}

func (e *LogForkError) Error() string {
	s := fmt.Sprintf("exchange: %s: the log of %s does not extend the checkpoint held here: %s", ReasonLogFork, e.Partner, e.Detail)
	if e.File != "" {
		s += " (evidence kept in " + e.File + ")"
	}
	return s
}

// fork records the evidence of a fork and returns it as the error.
func (c *Client) fork(shown []byte, proof [][]byte, detail string) error {
	c.mu.Lock()
	e := &LogForkError{Partner: c.partner.State, Agreement: c.a.ID, Detected: c.now().UTC(), Detail: detail,
		Held: string(c.latestSigned), Shown: string(shown), LogKeys: c.ring.Keys()}
	c.mu.Unlock()
	for _, h := range proof {
		e.Proof = append(e.Proof, slices.Clone(h))
	}
	if c.evidenceDir != "" {
		b, err := json.MarshalIndent(e, "", "  ")
		if err == nil {
			err = os.MkdirAll(c.evidenceDir, 0o700)
		}
		name := filepath.Join(c.evidenceDir, fmt.Sprintf("%s-log-fork-%s-%s.json", c.partner.State, e.Detected.Format("20060102T150405Z"), rand.Text()[:8]))
		if err == nil {
			err = os.WriteFile(name, b, 0o600)
		}
		if err == nil {
			e.File = name
		} else {
			e.Detail += fmt.Sprintf("; writing the evidence failed: %v", err)
		}
	}
	if c.log != nil {
		if _, err := c.log.Append(audit.Leaf{Time: e.Detected, Kind: audit.KindRefusal, Partner: c.partner.State, Agreement: c.a.ID, Reason: ReasonLogFork}); err != nil {
			e.Detail += fmt.Sprintf("; recording the fork in this node's audit log failed: %v", err)
		}
	}
	c.mu.Lock()
	c.forks = append(c.forks, e)
	c.mu.Unlock()
	return e
}

// Forks returns the evidence of every fork of the partner's log this
// client detected.
func (c *Client) Forks() []*LogForkError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.forks)
}
