package exchange

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Envelope is a signed message between two nodes. On the wire it is JSON
// (byte slices in base64); the signature is over a length-prefixed binary
// encoding of the fields (see signedBytes), not over the JSON.
//
// Why binary and not canonical JSON: the body is signed as the opaque bytes
// that were sent, so the verifier checks the signature before it parses
// anything in the body, and no JSON canonicalisation (key order, number and
// string escapes, which every implementation must then reproduce exactly)
// is needed. Length prefixes make the encoding unambiguous: no field can
// bleed into the next. A third party re-derives the signed bytes from the
// envelope with a few lines of code in any language.
type Envelope struct {
	Version   int       `json:"v"`
	Type      MsgType   `json:"type"`
	Agreement string    `json:"agreement"`
	From      Address   `json:"from"`
	To        Address   `json:"to"`
	Nonce     []byte    `json:"nonce"` // 16 random bytes
	Time      time.Time `json:"time"`  // when the sender signed it
	Body      []byte    `json:"body"`  // the message, JSON
	Cert      []byte    `json:"cert"`  // DER of the sender's signing certificate
	Sig       []byte    `json:"sig"`   // Ed25519 over signedBytes

	signer ed25519.PublicKey // set by Seal and by Open once the signature verified
}

// KeyID returns the short id of the key that signed e (after Seal or a
// successful Open; "" otherwise): the key hash of its note verifier key
// (SignVerifierKey), which rotation statements and audit leaves use.
func (e *Envelope) KeyID() string {
	if e == nil || e.signer == nil {
		return ""
	}
	v, err := note.NewVerifier(SignVerifierKey(e.From.State, e.From.Node, e.signer))
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%08x", v.KeyHash())
}

// Address names a node.
type Address struct {
	State string `json:"state"`
	Node  string `json:"node"`
}

func (a Address) String() string { return a.State + "/" + a.Node }

// MsgType is the type of an envelope's body.
type MsgType string

// Message types.
const (
	MsgStep1Request  MsgType = "step1_request"
	MsgStep1Reply    MsgType = "step1_reply"
	MsgStep2Request  MsgType = "step2_request"
	MsgStep2Reply    MsgType = "step2_reply"
	MsgStatusRequest MsgType = "status_request"
	MsgStatusReply   MsgType = "status_reply"
	MsgRefusal       MsgType = "refusal"
)

// envelopeDomain separates these signatures from any other use of the key.
const envelopeDomain = "ebsp exchange envelope v1\x00"

// MaxEnvelopeBytes bounds an envelope on the wire.
const MaxEnvelopeBytes = 4 << 20

const nonceSize = 16

func putField(b []byte, f []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}

// header is the length-prefixed encoding of every field but the body,
// certificate and signature.
func (e *Envelope) header() []byte {
	b := []byte(envelopeDomain)
	b = binary.BigEndian.AppendUint32(b, uint32(e.Version))
	for _, s := range []string{string(e.Type), e.Agreement, e.From.State, e.From.Node, e.To.State, e.To.Node} {
		b = putField(b, []byte(s))
	}
	b = putField(b, e.Nonce)
	return binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
}

// signedBytes is what the signature covers: the header, then the body and
// the signing certificate, each length-prefixed.
func (e *Envelope) signedBytes() []byte {
	return putField(putField(e.header(), e.Body), e.Cert)
}

// HeaderHash is the hex SHA-256 of the header: it identifies the message in
// audit leaves and binds replies to requests. It leaves the body out on
// purpose, so that a logged hash is no trace of a probe.
func (e *Envelope) HeaderHash() string {
	h := sha256.Sum256(e.header())
	return hex.EncodeToString(h[:])
}

// Sealer signs envelopes for one node.
type Sealer struct {
	From Address
	Cert *x509.Certificate
	Key  ed25519.PrivateKey
	Now  func() time.Time
}

// NewSealer makes a sealer from node credentials.
func NewSealer(nc *NodeCredentials, now func() time.Time) *Sealer {
	return &Sealer{From: Address{nc.State, nc.Node}, Cert: nc.SignCert, Key: nc.SignKey, Now: now}
}

// Seal encodes body as JSON and signs it into an envelope.
func (s *Sealer) Seal(t MsgType, agreement string, to Address, body any) ([]byte, *Envelope, error) {
	bb, err := json.Marshal(body)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: encoding %s: %v", t, err)
	}
	e := &Envelope{Version: 1, Type: t, Agreement: agreement, From: s.From, To: to,
		Nonce: make([]byte, nonceSize), Time: s.Now().UTC(), Body: bb, Cert: s.Cert.Raw}
	if _, err := rand.Read(e.Nonce); err != nil {
		return nil, nil, err
	}
	e.Sig = ed25519.Sign(s.Key, e.signedBytes())
	e.signer = s.Key.Public().(ed25519.PublicKey)
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, nil, err
	}
	return raw, e, nil
}

// Refusal reasons. They are stable codes: they appear in replies, in audit
// leaves and in statistics.
const (
	ReasonMalformed          = "malformed"
	ReasonUnsigned           = "unsigned"
	ReasonBadSignature       = "bad_signature"
	ReasonUntrustedCert      = "untrusted_certificate"
	ReasonReplayed           = "replayed"
	ReasonExpired            = "expired"
	ReasonWrongRecipient     = "wrong_recipient"
	ReasonUnknownAgreement   = "unknown_agreement"
	ReasonNotAParty          = "not_a_party"
	ReasonWrongPeer          = "tls_peer_mismatch"
	ReasonSuspended          = "agreement_suspended"
	ReasonNotInForce         = "agreement_not_in_force"
	ReasonPurpose            = "purpose_not_permitted"
	ReasonSeriousness        = "below_seriousness_threshold"
	ReasonModality           = "modality_not_permitted"
	ReasonSearchType         = "search_type_not_permitted"
	ReasonQuota              = "quota_exceeded"
	ReasonMissingBasis       = "missing_legal_basis"
	ReasonUnknownReference   = "unknown_reference"
	ReasonReferenceUsed      = "reference_used"
	ReasonReferenceExpired   = "reference_expired"
	ReasonFieldNotPermitted  = "field_not_permitted"
	ReasonUnknownCase        = "unknown_case"
	ReasonUnexpectedMessage  = "unexpected_message"
	ReasonSearchFailed       = "search_failed"
	ReasonOverloaded         = "overloaded"
	ReasonDeliveryInProgress = "delivery_in_progress"
	// ReasonRevoked (revocation.go): certificate_revoked.
)

// Refusal is a request refused, with a reason code, an HTTP status and, for
// quotas, when to retry.
type Refusal struct {
	Reason     string
	Detail     string
	Status     int
	RetryAfter time.Duration
}

func (r *Refusal) Error() string {
	if r.Detail == "" {
		return "exchange: refused: " + r.Reason
	}
	return "exchange: refused: " + r.Reason + ": " + r.Detail
}

func refuse(status int, reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Status: status, Detail: fmt.Sprintf(format, args...)}
}

// Opener verifies envelopes addressed to one node.
type Opener struct {
	Self   Address
	Now    func() time.Time
	Window time.Duration // accepted clock difference; also how long nonces are remembered

	mu      sync.Mutex
	nonces  map[string]time.Time // sender+nonce -> forget after
	pruneAt time.Time
	certs   map[[32]byte]*x509.Certificate // verified signing certificates by SHA-256 of DER and CA

	// Nonces, when set, keeps the replay cache durable: a nonce is also
	// recorded there, and one it already holds is a replay, so that a
	// restart inside the window does not forget what was seen.
	Nonces NonceStore
	// Revocations, when set, refuses a signing certificate it lists
	// (certificate_revoked), checked on every message.
	Revocations *Revocations
}

// NonceStore is a durable replay cache (store.ExchangeState is one).
type NonceStore interface {
	RememberNonce(ctx context.Context, sender string, nonce []byte, expires time.Time) (fresh bool, err error)
}

// DefaultWindow is the accepted clock difference between nodes.
const DefaultWindow = 2 * time.Minute

// maxNonces bounds the replay cache; when full, messages are refused rather
// than nonces forgotten early (forgetting would let a replay through).
const maxNonces = 1 << 20

// Open parses and verifies raw: a version-1 envelope of one of the wanted
// types, addressed to this node, under an agreement find returns, from the
// partner party of that agreement, with a signing certificate that chains
// to that party's CA and names the sender, a valid Ed25519 signature, a
// time within the window and a nonce not seen before. The checks that need
// no secret come first; the nonce is remembered only once all else passed,
// so forged messages cannot fill the cache.
func (o *Opener) Open(raw []byte, find func(id string) *Agreement, want ...MsgType) (*Envelope, *Agreement, *Refusal) {
	if len(raw) > MaxEnvelopeBytes {
		return nil, nil, refuse(http.StatusRequestEntityTooLarge, ReasonMalformed, "envelope is %d bytes, limit %d", len(raw), MaxEnvelopeBytes)
	}
	var e Envelope
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil {
		return nil, nil, refuse(http.StatusBadRequest, ReasonMalformed, "envelope: %v", err)
	}
	if e.Version != 1 {
		return nil, nil, refuse(http.StatusBadRequest, ReasonMalformed, "envelope version %d, want 1", e.Version)
	}
	if !slices.Contains(want, e.Type) {
		return &e, nil, refuse(http.StatusBadRequest, ReasonUnexpectedMessage, "message type %q not accepted here", e.Type)
	}
	if len(e.Sig) == 0 || len(e.Cert) == 0 {
		return &e, nil, refuse(http.StatusUnauthorized, ReasonUnsigned, "message carries no signature or no signing certificate")
	}
	if e.To != o.Self {
		return &e, nil, refuse(http.StatusBadRequest, ReasonWrongRecipient, "message is for %s, this is %s", e.To, o.Self)
	}
	a := find(e.Agreement)
	if a == nil {
		return &e, nil, refuse(http.StatusForbidden, ReasonUnknownAgreement, "no agreement %q", e.Agreement)
	}
	partner := a.Partner(o.Self.State)
	if partner == nil || partner.State != e.From.State || partner.Node != e.From.Node {
		return &e, a, refuse(http.StatusForbidden, ReasonNotAParty, "%s is not the partner of %s under agreement %s", e.From, o.Self, a.ID)
	}
	now := o.Now()
	cert, rf := o.verifyCert(e.Cert, partner, e.From, now)
	if rf != nil {
		return &e, a, rf
	}
	if rf := o.Revocations.checkChain([]*x509.Certificate{cert}, "signing certificate"); rf != nil {
		return &e, a, rf
	}
	if len(e.Sig) != ed25519.SignatureSize || !ed25519.Verify(cert.PublicKey.(ed25519.PublicKey), e.signedBytes(), e.Sig) {
		return &e, a, refuse(http.StatusUnauthorized, ReasonBadSignature, "signature does not verify with the certificate of %s", e.From)
	}
	e.signer = cert.PublicKey.(ed25519.PublicKey)
	window := o.Window
	if window == 0 {
		window = DefaultWindow
	}
	if age := now.Sub(e.Time); age > window || age < -window {
		return &e, a, refuse(http.StatusUnauthorized, ReasonExpired, "message time %s is %v from now, window %v", e.Time.Format(time.RFC3339Nano), age.Round(time.Second), window)
	}
	if len(e.Nonce) != nonceSize {
		return &e, a, refuse(http.StatusBadRequest, ReasonMalformed, "nonce is %d bytes, want %d", len(e.Nonce), nonceSize)
	}
	key := e.From.String() + "\x00" + string(e.Nonce)
	if rf := o.remember(key, e.From, now, window, e.Time.Add(window)); rf != nil {
		return &e, a, rf
	}
	if o.Nonces != nil {
		// The in-memory cache has already refused a second copy in
		// flight; the store refuses one seen before a restart.
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		fresh, err := o.Nonces.RememberNonce(ctx, e.From.String(), e.Nonce, e.Time.Add(window))
		if err != nil {
			o.mu.Lock()
			delete(o.nonces, key)
			o.mu.Unlock()
			return &e, a, storageRefusal(err)
		}
		if !fresh {
			return &e, a, refuse(http.StatusUnauthorized, ReasonReplayed, "nonce already seen from %s", e.From)
		}
	}
	return &e, a, nil
}

// remember records key in the in-memory replay cache until until, or
// refuses it as a replay (or when the cache is full).
func (o *Opener) remember(key string, from Address, now time.Time, window time.Duration, until time.Time) *Refusal {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.nonces == nil {
		o.nonces = map[string]time.Time{}
	}
	if now.After(o.pruneAt) {
		for k, t := range o.nonces {
			if now.After(t) {
				delete(o.nonces, k)
			}
		}
		o.pruneAt = now.Add(window / 4)
	}
	if _, seen := o.nonces[key]; seen {
		return refuse(http.StatusUnauthorized, ReasonReplayed, "nonce already seen from %s", from)
	}
	if len(o.nonces) >= maxNonces {
		return refuse(http.StatusServiceUnavailable, ReasonOverloaded, "replay cache full")
	}
	// Remember the nonce until the message could no longer pass the time check.
	o.nonces[key] = until
	return nil
}

// verifyCert checks that der is a signing certificate for from issued by
// the party's CA. Verified certificates are cached by hash and CA.
func (o *Opener) verifyCert(der []byte, party *Party, from Address, now time.Time) (*x509.Certificate, *Refusal) {
	k := sha256.Sum256(append(append([]byte(nil), der...), party.ca.Raw...))
	o.mu.Lock()
	cert := o.certs[k]
	o.mu.Unlock()
	if cert != nil && now.After(cert.NotBefore) && now.Before(cert.NotAfter) {
		return cert, nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, refuse(http.StatusUnauthorized, ReasonUntrustedCert, "signing certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(party.ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, refuse(http.StatusUnauthorized, ReasonUntrustedCert, "signing certificate of %s does not chain to the %s CA of the agreement: %v", from, party.State, err)
	}
	if _, ok := cert.PublicKey.(ed25519.PublicKey); !ok || cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, refuse(http.StatusUnauthorized, ReasonUntrustedCert, "certificate of %s is not an Ed25519 signing certificate", from)
	}
	if cert.Subject.CommonName != from.Node || !slices.Equal(cert.Subject.Country, []string{from.State}) {
		return nil, refuse(http.StatusUnauthorized, ReasonUntrustedCert, "signing certificate names %s/%s, message is from %s", cert.Subject.Country, cert.Subject.CommonName, from)
	}
	o.mu.Lock()
	if o.certs == nil || len(o.certs) > 1024 {
		o.certs = map[[32]byte]*x509.Certificate{}
	}
	o.certs[k] = cert
	o.mu.Unlock()
	return cert, nil
}
