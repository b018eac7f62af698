package exchange

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/internal/durable"
	"github.com/ebsp/ebsp/privacy"
)

// Encrypted search (docs/privacy.md, docs/exchange.md "Encrypted search"):
// an agreement may require that step 1 of a modality runs on an encrypted
// probe. The requester sends its face embedding, reduced by the agreed
// projection and encrypted under its own key share (package privacy); the
// responder computes, over the ciphertext, how many gallery entries lie
// above the agreed threshold and returns that count encrypted, which only
// the requester can finish decrypting. The responder so never sees a probe
// that matches nothing. A hit proceeds to step 2, whose request then
// carries the probe in the clear: the responder's examiner needs it, and
// the responder learns of the hit only then.

// EncryptedSearch is the part of an agreement that makes step 1 of some
// modalities encrypted. Both parties hold the same values.
type EncryptedSearch struct {
	// Modalities whose step 1 must be encrypted: face only for now (the
	// fingerprint's fixed-length vector, fingerprint.Vector, only ranks a
	// shortlist for the exact comparison; it cannot decide a hit alone).
	Modalities []biometric.Modality `json:"modalities"`
	// Threshold is the cosine similarity, in the reduced space, above
	// which a gallery entry counts (docs/privacy.md: chosen on held-out
	// scores).
	Threshold float64 `json:"threshold"`
	// Projection is privacy.Projection.MarshalBinary of the agreed
	// reduction from the recogniser's embeddings (face.RecogniserDim) to
	// the searched dimension.
	Projection []byte `json:"projection"`
	// LogN is the ring degree's logarithm: 0 means 15, the only secure
	// value; 12 to 14 are accepted with InsecureTestParameters only.
	LogN                   int  `json:"log_n,omitempty"`
	InsecureTestParameters bool `json:"insecure_test_parameters,omitempty"`

	proj   *privacy.Projection
	params privacy.Params
	key    string // the values params and proj were built from
}

// validate checks the settings against the agreement and builds the
// parameters (once: Validate runs more than once on an agreement).
func (e *EncryptedSearch) validate(a *Agreement) error {
	if len(e.Modalities) == 0 {
		return errors.New("no modalities")
	}
	for i, m := range e.Modalities {
		if m != biometric.Face {
			return fmt.Errorf("modalities[%d] %q: only face search can be encrypted", i, m)
		}
		if !slices.Contains(a.Modalities, m) {
			return fmt.Errorf("modalities[%d] %q is not a permitted modality of the agreement", i, m)
		}
	}
	logN := e.LogN
	if logN == 0 {
		logN = 15
	}
	if logN < 12 || logN > 15 {
		return fmt.Errorf("log_n %d out of range 12-15", e.LogN)
	}
	if logN < 15 && !e.InsecureTestParameters {
		return fmt.Errorf("log_n %d is not secure (docs/privacy.md); only tests may set it, with insecure_test_parameters", logN)
	}
	key := fmt.Sprint(logN, e.Threshold, hex.EncodeToString(e.Projection))
	if e.key == key {
		return nil
	}
	proj, err := privacy.UnmarshalProjection(e.Projection)
	if err != nil {
		return fmt.Errorf("projection: %v", err)
	}
	if proj.In != face.RecogniserDim {
		return fmt.Errorf("projection takes %d dimensions, the recogniser's embeddings have %d", proj.In, face.RecogniserDim)
	}
	params, err := privacy.NewParams(logN, proj.Out, e.Threshold)
	if err != nil {
		return err
	}
	e.proj, e.params, e.key = proj, params, key
	return nil
}

// Params returns the agreement's encryption parameters (after Validate).
func (e *EncryptedSearch) Params() privacy.Params { return e.params }

// encryptedFor says whether the agreement requires encrypted step-1
// searches of modality m.
func (a *Agreement) encryptedFor(m biometric.Modality) bool {
	return a.EncryptedSearch != nil && slices.Contains(a.EncryptedSearch.Modalities, m)
}

// Refusal reasons of encrypted search.
const (
	// ReasonEncryption: the request's form does not match what the
	// agreement requires (an encrypted probe where a clear one is due, or
	// the reverse).
	ReasonEncryption = "encryption_mismatch"
	// ReasonKeySetup: no finished key setup for the agreement.
	ReasonKeySetup = "key_setup_required"
	// ReasonNoCandidates: a step-2 request after an encrypted step 1 whose
	// probe, searched in the clear, gives no candidate.
	ReasonNoCandidates = "no_candidates"
	// ReasonBadCount: the requester could not read or decrypt the
	// encrypted count (reported by the requester's own client).
	ReasonBadCount = "bad_encrypted_count"
)

// OutcomeEncrypted is the step-1 outcome of an encrypted search as the
// responder sees and logs it: it returned an encrypted count and does not
// know whether it was a hit.
const OutcomeEncrypted = "encrypted_count"

// FaceVectors gives a responder its face gallery as the recogniser's float
// embeddings, one per enrolled face, for encrypted searches.
type FaceVectors interface {
	FaceVectors(ctx context.Context) ([][]float32, error)
}

// Keyring keeps a node's finished key-setup parties, one per agreement,
// each in <dir>/<agreement id>.party (mode 0600, written atomically and
// synced): the node's share of the agreement's decryption key and the
// joint evaluation keys survive a restart. Safe for concurrent use.
type Keyring struct {
	dir     string
	mu      sync.Mutex
	parties map[string]*privacy.Party
}

// OpenKeyring uses dir (created if missing) for the key material.
func OpenKeyring(dir string) (*Keyring, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("exchange: keyring: %v", err)
	}
	return &Keyring{dir: dir, parties: map[string]*privacy.Party{}}, nil
}

func (k *Keyring) path(a *Agreement) string { return filepath.Join(k.dir, a.ID+".party") }

// Party returns the finished party of agreement a, loading it from disk
// the first time; nil without error when the key setup has not run.
func (k *Keyring) Party(a *Agreement) (*privacy.Party, error) {
	if k == nil || a.EncryptedSearch == nil {
		return nil, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if pa := k.parties[a.ID]; pa != nil {
		return pa, nil
	}
	b, err := os.ReadFile(k.path(a))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("exchange: keyring: %v", err)
	}
	pa, err := privacy.UnmarshalParty(a.EncryptedSearch.params, b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("exchange: keyring %s: %v", k.path(a), err)
	}
	k.parties[a.ID] = pa
	return pa, nil
}

// put stores a finished party durably, replacing an earlier one.
func (k *Keyring) put(a *Agreement, pa *privacy.Party) error {
	b, err := pa.MarshalBinary()
	if err != nil {
		return err
	}
	defer clear(b)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := durable.WriteFile(k.path(a), b); err != nil {
		return fmt.Errorf("exchange: keyring: %v", err)
	}
	k.parties[a.ID] = pa
	return nil
}

// faceVector is the float embedding of a face template.
func faceVector(b []byte) ([]float32, error) {
	e, err := face.ParseEmbedding(b)
	if err != nil {
		return nil, err
	}
	v := make([]float32, len(e.Vector))
	for i, x := range e.Vector {
		v[i] = float32(x) * e.Scale
	}
	return v, nil
}

// Encrypted-search references. The responder does not know whether an
// encrypted search was a hit, so it keeps nothing: its step-1 reply carries
// a reference that authenticates itself,
//
//	"e." case id (24 hex) "." expiry (Unix seconds) "." purpose "." search type "." MAC
//
// where MAC is HMAC-SHA-256 (key derived from the node's signing key) over
// the agreement, the partner's address and the rest. A step 2 under it
// creates the case; a case of that id existing means the reference was
// used (cases outlive their reference: retention ≥ the step-2 deadline).
const encRefPrefix = "e."

// refKey derives the reference MAC key from the node's signing key.
func refKey(nc *NodeCredentials) [32]byte {
	h := sha256.New()
	h.Write([]byte("ebsp exchange encrypted-search reference key v1\x00"))
	h.Write(nc.SignKey.Seed())
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

func (r *Responder) refMAC(a *Agreement, partner Address, body string) string {
	m := hmac.New(sha256.New, r.refKey[:])
	m.Write([]byte(a.ID + "\x00" + partner.String() + "\x00" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newEncRef makes a reference for an encrypted step 1.
func (r *Responder) newEncRef(a *Agreement, partner Address, purpose Purpose, st SearchType, until time.Time) (id, ref string, err error) {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	id = hex.EncodeToString(raw[:])
	body := encRefPrefix + id + "." + strconv.FormatInt(until.Unix(), 10) + "." + string(purpose) + "." + string(st)
	return id, body + "." + r.refMAC(a, partner, body), nil
}

// openEncRef checks a reference newEncRef made for this agreement and
// partner and returns its parts.
func (r *Responder) openEncRef(a *Agreement, partner Address, ref string) (id string, until time.Time, purpose Purpose, st SearchType, ok bool) {
	i := strings.LastIndexByte(ref, '.')
	if i < 0 {
		return
	}
	body, mac := ref[:i], ref[i+1:]
	if !hmac.Equal([]byte(mac), []byte(r.refMAC(a, partner, body))) {
		return
	}
	parts := strings.Split(strings.TrimPrefix(body, encRefPrefix), ".")
	if len(parts) != 4 {
		return
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return
	}
	return parts[0], time.Unix(sec, 0), Purpose(parts[2]), SearchType(parts[3]), true
}

// openEncryptedProbe checks that the agreement has a finished key setup
// and parses the probe.
func (r *Responder) openEncryptedProbe(a *Agreement, raw []byte) (*privacy.Party, *privacy.Probe, *Refusal) {
	pa, err := r.keys.Party(a)
	if err != nil {
		r.logger.Error("keyring", "agreement", a.ID, "err", err)
		return nil, nil, refuse(http.StatusServiceUnavailable, ReasonKeySetup, "this node cannot read its key material for agreement %s", a.ID)
	}
	if pa == nil {
		return nil, nil, refuse(http.StatusConflict, ReasonKeySetup, "no finished key setup for agreement %s: run it first", a.ID)
	}
	pr, err := a.EncryptedSearch.params.UnmarshalProbe(raw)
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, ReasonMalformed, "encrypted probe: %v", err)
	}
	return pa, pr, nil
}

// encPrecomputeLimit is the most memory a responder spends, per
// agreement, on its face gallery's plaintexts encoded once for encrypted
// searches (privacy.Gallery.Precompute, Params.PrecomputeBytes: 3.7 to
// 4.4 KB per entry at 64-d, so some 250,000 faces); a larger gallery is
// encoded per query, which costs more CPU per search (docs/privacy.md).
const encPrecomputeLimit = 1 << 30

// encGallery is a face gallery prepared for one agreement's encrypted
// searches: reduced by its projection, quantised, and with its plaintexts
// encoded once when they fit encPrecomputeLimit.
type encGallery struct {
	key string   // the agreement's EncryptedSearch settings it was built for
	sum [32]byte // SHA-256 of the embeddings it was built from
	g   *privacy.Gallery
}

// encSlot is one agreement's prepared gallery and the right to check or
// rebuild it: a token in build, so that a search of another agreement
// never waits for this one's build and a waiting search can give up.
type encSlot struct {
	build chan struct{} // capacity 1: held while cur is read or replaced
	cur   *encGallery
}

// encryptedGallery returns agreement a's prepared face gallery, rebuilt
// only when the node's face gallery or the agreement's settings changed:
// projecting and encoding a gallery costs more than searching it.
func (r *Responder) encryptedGallery(ctx context.Context, a *Agreement) (*privacy.Gallery, error) {
	enc := a.EncryptedSearch
	vecs, err := r.faces.FaceVectors(ctx)
	if err != nil {
		return nil, err
	}
	sum := vectorsSum(vecs)
	r.encMu.Lock()
	slot := r.encGalleries[a.ID]
	if slot == nil {
		if r.encGalleries == nil {
			r.encGalleries = map[string]*encSlot{}
		}
		slot = &encSlot{build: make(chan struct{}, 1)}
		r.encGalleries[a.ID] = slot
	}
	r.encMu.Unlock()
	// One build at a time per agreement: a second search of it waits for
	// the first's gallery rather than building its own.
	select {
	case slot.build <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-slot.build }()
	if c := slot.cur; c != nil && c.key == enc.key && c.sum == sum {
		return c.g, nil
	}
	reduced := make([][]float32, len(vecs))
	for i, v := range vecs {
		if reduced[i], err = enc.proj.Apply(v); err != nil {
			return nil, err
		}
	}
	g, err := privacy.NewGallery(enc.params.Dim, reduced)
	if err != nil {
		return nil, err
	}
	if enc.params.PrecomputeBytes(g.Len()) <= encPrecomputeLimit {
		if err := g.Precompute(enc.params); err != nil {
			return nil, err
		}
	}
	slot.cur = &encGallery{key: enc.key, sum: sum, g: g}
	return g, nil
}

// dropEncryptedGallery forgets agreement id's prepared gallery: a
// projection of this node's faces made for a partner (and up to
// encPrecomputeLimit of memory) is not kept once that partner may no
// longer search (a suspension, or the agreement out of force). A search
// building it at that moment keeps its own slot, which nothing else
// reaches afterwards.
func (r *Responder) dropEncryptedGallery(id string) {
	r.encMu.Lock()
	delete(r.encGalleries, id)
	r.encMu.Unlock()
}

// vectorsSum is a SHA-256 over the embeddings, their lengths included.
func vectorsSum(vecs [][]float32) [32]byte {
	h := sha256.New()
	var b [4]byte
	var buf []byte
	for _, v := range vecs {
		binary.LittleEndian.PutUint32(b[:], uint32(len(v)))
		h.Write(b[:])
		buf = slices.Grow(buf[:0], 4*len(v))[:4*len(v)]
		for i, x := range v {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		h.Write(buf)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// encryptedStep1 runs the search over an encrypted probe and answers with
// the encrypted count and a self-authenticating reference. The leaf
// records the sizes and the outcome, never a ciphertext.
func (r *Responder) encryptedStep1(ctx context.Context, env *Envelope, a *Agreement, req *Step1Request, pa *privacy.Party, pr *privacy.Probe, msg string, now time.Time, start time.Time) Response {
	partner := env.From.State
	enc := a.EncryptedSearch
	g, err := r.encryptedGallery(ctx, a)
	var reply *privacy.Reply
	if err == nil {
		reply, err = pa.Search(g, pr)
	}
	var count []byte
	if err == nil {
		count, err = enc.params.MarshalReply(reply)
	}
	if err != nil {
		r.logger.Warn("step1 encrypted search failed", "partner", partner, "agreement", a.ID, "err", err)
		return r.refusal(env, a, partner, req.Purpose, refuse(http.StatusServiceUnavailable, ReasonSearchFailed, "the search did not complete"))
	}
	until := now.Add(time.Duration(a.Deadlines.Step2))
	id, ref, err := r.newEncRef(a, env.From, req.Purpose, req.SearchType, until)
	if err != nil {
		return r.internal(env, a, err)
	}
	rep := Step1Reply{InReplyTo: msg, Outcome: OutcomeEncrypted, Reference: ref, ReferenceUntil: until, EncryptedCount: count}
	leaf := audit.Leaf{Time: r.now(), Kind: audit.KindDecision, Partner: partner, Agreement: a.ID, Case: id,
		Purpose: string(req.Purpose), SearchType: string(req.SearchType), Outcome: OutcomeEncrypted, Message: msg,
		Count: g.Len(), BytesIn: int64(len(req.Encrypted)), BytesOut: int64(len(count))}
	resp := r.reply(env, a, MsgStep1Reply, leaf, nil, &rep.Audit, &rep, req.KnownTreeSize)
	r.logger.Info("step1", "partner", partner, "agreement", a.ID, "outcome", OutcomeEncrypted, "gallery", g.Len(),
		"bytes_in", len(req.Encrypted), "bytes_out", len(count), "ms", time.Since(start).Milliseconds())
	return resp
}

// encryptedStep2 answers a step-2 request under an encrypted-search
// reference: the request carries the probe in the clear, which the
// responder searches now; candidates make a case for the examiners, as
// after a clear step-1 hit.
func (r *Responder) encryptedStep2(env *Envelope, a *Agreement, req *Step2Request, fields []string, now time.Time) Response {
	partner := env.From.State
	id, until, purpose, st, ok := r.openEncRef(a, env.From, req.Reference)
	if !ok {
		return r.refusal(env, a, partner, "", refuse(http.StatusNotFound, ReasonUnknownReference, "no such reference"))
	}
	if now.After(until) {
		return r.refusal(env, a, partner, purpose, refuse(http.StatusGone, ReasonReferenceExpired, "reference expired"))
	}
	r.mu.Lock()
	used := r.cases[id] != nil
	r.mu.Unlock()
	if used {
		return r.refusal(env, a, partner, purpose, refuse(http.StatusConflict, ReasonReferenceUsed, "reference already used"))
	}
	faces, err := decodeFaces(req.Faces)
	for i := range req.Faces {
		clear(req.Faces[i].Embedding)
	}
	probe := Probe{Faces: faces}
	defer probe.wipe()
	if err != nil || len(faces) == 0 {
		return r.refusal(env, a, partner, purpose, refuse(http.StatusBadRequest, ReasonMalformed, "a step-2 request after an encrypted search carries the face probe"))
	}
	// Claim the reference before searching, so that two requests under it
	// cannot both make a case.
	c := &caseRec{id: id, agreement: a, partner: env.From, purpose: purpose, searchType: st, created: now, refUntil: until,
		status: caseDeciding}
	r.mu.Lock()
	if r.cases[id] != nil {
		r.mu.Unlock()
		return r.refusal(env, a, partner, purpose, refuse(http.StatusConflict, ReasonReferenceUsed, "reference already used"))
	}
	r.cases[id] = c
	r.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(a.Deadlines.Step1))
	cands, err := r.searcher.Search(sctx, probe)
	cancel()
	if err != nil {
		r.mu.Lock()
		delete(r.cases, id)
		r.mu.Unlock()
		r.logger.Warn("step2 search failed", "partner", partner, "agreement", a.ID, "err", err)
		return r.refusal(env, a, partner, purpose, refuse(http.StatusServiceUnavailable, ReasonSearchFailed, "the search did not complete"))
	}
	if rule, ok := a.Searches[st]; ok && len(cands) > rule.CandidateCap {
		cands = cands[:rule.CandidateCap]
	}
	r.mu.Lock()
	if len(cands) == 0 {
		// The reference is used up; nothing of the probe is kept.
		c.status = StatusRejected
		err := r.persistCase(c)
		r.mu.Unlock()
		if err != nil {
			r.logger.Error("exchange state write failed", "what", "case", "err", err)
		}
		return r.refusal(env, a, partner, purpose, refuse(http.StatusNotFound, ReasonNoCandidates, "the probe has no candidate in this gallery"))
	}
	for _, cd := range cands {
		c.candidates = append(c.candidates, cd.IdentityID)
	}
	c.probe, probe = probe, Probe{}
	c.status, c.fields, c.deadline = StatusQueued, slices.Clone(fields), now.Add(time.Duration(a.Deadlines.Step2))
	if err := r.persistCase(c); err != nil {
		c.probe.wipe()
		delete(r.cases, id)
		r.mu.Unlock()
		r.logger.Error("exchange state write failed", "what", "case", "err", err)
		return r.refusal(env, a, partner, purpose, storageRefusal(err))
	}
	reply := Step2Reply{InReplyTo: env.HeaderHash(), Case: c.id, Status: StatusQueued, Deadline: c.deadline}
	r.mu.Unlock()
	leaf := audit.Leaf{Time: now, Kind: audit.KindDisclosure, Partner: partner, Agreement: a.ID, Case: c.id,
		Purpose: string(purpose), SearchType: string(st), Outcome: audit.OutcomeQueued, Fields: c.fields, Actor: req.Officer,
		Candidates: len(c.candidates), Message: env.HeaderHash()}
	return r.reply(env, a, MsgStep2Reply, leaf, c, &reply.Audit, &reply, req.KnownTreeSize)
}

// maxCount bounds a decrypted count the requester believes: more than
// 2^20 entries do not fit the parameters (docs/privacy.md), and a count
// outside [0, maxCount] is a failed decryption, not a hit.
const maxCount = 1 << 20

// encryptedStep1 is Client.Step1 for a modality the agreement encrypts.
func (c *Client) encryptedStep1(ctx context.Context, p Step1Params) (*Step1Result, error) {
	enc := c.a.EncryptedSearch
	pa, err := c.keys.Party(c.a)
	if err != nil {
		return nil, &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonKeySetup, Detail: err.Error()}
	}
	if pa == nil {
		return nil, &Refusal{Status: http.StatusConflict, Reason: ReasonKeySetup, Detail: "no finished key setup for agreement " + c.a.ID + " here: run it first"}
	}
	if len(p.Probe.Faces) != 1 || len(p.Probe.Fingers) > 0 {
		return nil, &Refusal{Status: http.StatusBadRequest, Reason: ReasonMalformed,
			Detail: fmt.Sprintf("an encrypted search takes exactly one face, got %d faces and %d fingers", len(p.Probe.Faces), len(p.Probe.Fingers))}
	}
	v, err := faceVector(p.Probe.Faces[0])
	if err == nil {
		v, err = enc.proj.Apply(v)
	}
	var pr *privacy.Probe
	if err == nil {
		pr, err = pa.EncryptProbe(v)
	}
	clear(v)
	var raw []byte
	if err == nil {
		raw, err = enc.params.MarshalProbe(pr)
	}
	if err != nil {
		return nil, &Refusal{Status: http.StatusBadRequest, Reason: ReasonMalformed, Detail: fmt.Sprintf("encrypt probe: %v", err)}
	}
	req := Step1Request{Purpose: p.Purpose, LegalBasis: p.LegalBasis, Officer: p.Officer, SearchType: p.SearchType,
		OffenceMaxYears: p.OffenceMaxYears, Encrypted: raw}
	var rep Step1Reply
	sent, err := c.roundTripSlow(ctx, "", PathStep1, MsgStep1Request, MsgStep1Reply, func(known int64) any { req.KnownTreeSize = known; return &req }, &rep, func() *AuditProof { return &rep.Audit })
	if err != nil {
		return nil, err
	}
	// A reply that cannot be read or decrypts to nonsense is the
	// partner's failure (502 at the node's API), not a no-hit.
	badReply := func(format string, args ...any) error {
		return &Refusal{Status: http.StatusBadGateway, Reason: ReasonBadCount, Detail: fmt.Sprintf(format, args...)}
	}
	if rep.Outcome != OutcomeEncrypted || rep.Reference == "" {
		return nil, badReply("encrypted step-1 reply has outcome %q", rep.Outcome)
	}
	r, err := enc.params.UnmarshalReply(rep.EncryptedCount)
	if err != nil {
		return nil, badReply("encrypted step-1 reply: %v", err)
	}
	n, err := pa.Count(r)
	if err != nil {
		return nil, badReply("encrypted step-1 reply: %v", err)
	}
	if math.IsNaN(n) || n < -0.5 || n > maxCount {
		return nil, badReply("encrypted step-1 count %g is outside [0, %d]: the decryption failed (docs/privacy.md)", n, maxCount)
	}
	count := int(math.Round(n))
	res := &Step1Result{Outcome: audit.OutcomeNoHit, Encrypted: true, BytesUp: len(raw), BytesDown: len(rep.EncryptedCount)}
	if count > 0 {
		res.Outcome, res.Reference, res.CandidateCount, res.ReferenceUntil = audit.OutcomeHit, rep.Reference, count, rep.ReferenceUntil
		c.mu.Lock()
		if c.pending == nil {
			c.pending = map[string]pendingProbe{}
		}
		now := c.now()
		for ref, pp := range c.pending {
			if now.After(pp.until) {
				clear(pp.face)
				delete(c.pending, ref)
			}
		}
		c.pending[rep.Reference] = pendingProbe{face: slices.Clone(p.Probe.Faces[0]), until: rep.ReferenceUntil}
		c.mu.Unlock()
	}
	if c.log != nil {
		c.log.Append(audit.Leaf{Time: c.now(), Kind: audit.KindRequestSent, Partner: c.partner.State, Agreement: c.a.ID,
			Purpose: string(p.Purpose), SearchType: string(p.SearchType), Outcome: res.Outcome, Actor: p.Officer, Message: sent.HeaderHash(),
			BytesIn: int64(len(rep.EncryptedCount)), BytesOut: int64(len(raw))})
	}
	return res, nil
}

// pendingProbe is the requester's own probe after an encrypted hit, kept
// in memory until step 2 sends it (or the reference expires).
type pendingProbe struct {
	face  []byte
	until time.Time
}

// takePending returns the probe kept for an encrypted-search reference.
func (c *Client) pendingFaces(ref string) []WireFace {
	c.mu.Lock()
	defer c.mu.Unlock()
	pp, ok := c.pending[ref]
	if !ok {
		return nil
	}
	return []WireFace{{Format: FaceFormat, Embedding: slices.Clone(pp.face)}}
}

// dropPending forgets the probe of a reference step 2 has used.
func (c *Client) dropPending(ref string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pp, ok := c.pending[ref]; ok {
		clear(pp.face)
		delete(c.pending, ref)
	}
}
