// Package audit is ebsp's transparency log: every request, decision,
// examiner action, release and refusal of the partnership exchange becomes a
// leaf of an append-only Merkle tree as RFC 6962 §2.1 defines it (hashing
// and proofs from golang.org/x/mod/sumdb/tlog). The log signs checkpoints
// of its tree in the C2SP tlog-checkpoint format, as signed notes
// (C2SP signed-note, Ed25519, via golang.org/x/mod/sumdb/note), so that
// partners and oversight bodies can keep them and later prove that history
// was not rewritten.
//
// Leaves hold hashes and metadata only: never biometric samples or
// templates, never names or other personal data. Validate enforces the shape
// of that metadata; what callers put in free-text fields is their duty.
//
// The package has three parts: Log (durable storage, checkpoints, proofs),
// Verify (what a third party runs over an exported log and the checkpoints
// it kept) and Statistics (oversight counts per partner and period).
package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Kind says what a leaf records.
type Kind string

// The kinds of leaf the exchange writes. The strings are stable: they are
// part of every exported log.
const (
	KindRequest        Kind = "request"         // a step-1 search request was received and accepted for checking
	KindDecision       Kind = "decision"        // step-1 outcome: hit or no_hit
	KindRefusal        Kind = "refusal"         // a request refused before or instead of any search or release
	KindDisclosure     Kind = "disclosure"      // a step-2 disclosure request was queued for examiners
	KindExaminer       Kind = "examiner"        // an examiner confirmed or rejected a match
	KindRelease        Kind = "release"         // allow-listed fields were released, with handling tags
	KindExpiry         Kind = "expiry"          // a step-2 request passed its deadline; nothing released
	KindRetention      Kind = "retention"       // records past retention were deleted
	KindAgreement      Kind = "agreement"       // an agreement was loaded, suspended or reinstated
	KindRequestSent    Kind = "request_sent"    // the requesting side sent a request
	KindReleaseReceive Kind = "release_receive" // the requesting side received released data
	KindKeySetup       Kind = "key_setup"       // an agreement's encrypted-search key setup started or finished
	KindKeyRotation    Kind = "key_rotation"    // the node replaced its log or signing key (Rotation; keys.go)
)

var kinds = map[Kind]bool{
	KindRequest: true, KindDecision: true, KindRefusal: true, KindDisclosure: true,
	KindExaminer: true, KindRelease: true, KindExpiry: true, KindRetention: true,
	KindAgreement: true, KindRequestSent: true, KindReleaseReceive: true, KindKeySetup: true, KindKeyRotation: true,
}

// Outcomes written in Leaf.Outcome.
const (
	OutcomeHit       = "hit"
	OutcomeNoHit     = "no_hit"
	OutcomeConfirmed = "confirmed"
	// OutcomeConfirmedFirst is the first of the two confirmations a
	// four-eyes agreement needs: nothing is released yet.
	OutcomeConfirmedFirst = "confirmed_first"
	OutcomeRejected       = "rejected"
	OutcomeQueued         = "queued"
	OutcomeSuspended      = "suspended"
	OutcomeActive         = "active"
)

// Leaf is one entry of the log. Every field is metadata: identifiers are
// opaque (case ids, pseudonymous officer and examiner ids, hashes of signed
// message headers), Fields lists the names of released fields and never
// their values.
type Leaf struct {
	Time       time.Time `json:"time"`
	Kind       Kind      `json:"kind"`
	Partner    string    `json:"partner,omitempty"`     // state code of the other party
	Agreement  string    `json:"agreement,omitempty"`   // agreement id
	Case       string    `json:"case,omitempty"`        // opaque case id (never the single-use reference)
	Purpose    string    `json:"purpose,omitempty"`     // agreement purpose
	SearchType string    `json:"search_type,omitempty"` // tenprint, latent, ...
	Outcome    string    `json:"outcome,omitempty"`     // see the Outcome constants
	Reason     string    `json:"reason,omitempty"`      // refusal or rejection reason code
	Candidates int       `json:"candidates,omitempty"`  // candidate count of a hit, after the cap
	Fields     []string  `json:"fields,omitempty"`      // names of released fields
	Handling   []string  `json:"handling,omitempty"`    // handling tags on a release
	Actor      string    `json:"actor,omitempty"`       // pseudonymous officer or examiner id
	Message    string    `json:"message,omitempty"`     // hex SHA-256 of the signed message header
	// Key is the short id of the key that signed that message: the key
	// hash (8 hex digits) of its note verifier key, as key_rotation leaves
	// name keys, so that the signature stays attributable across rotations.
	Key   string `json:"key,omitempty"`
	Count int    `json:"count,omitempty"` // records deleted by a retention run; cases withdrawn; invalid messages counted (refusal); gallery entries of an encrypted search
	// BytesIn and BytesOut are the sizes of the ciphertexts an encrypted
	// search or key setup received and sent (never their contents).
	BytesIn  int64 `json:"bytes_in,omitempty"`
	BytesOut int64 `json:"bytes_out,omitempty"`
	// Rotation is the signed statement of a key_rotation leaf (keys.go):
	// public keys and a signature, nothing personal.
	Rotation *KeyRotation `json:"rotation,omitempty"`
}

// maxLeafBytes bounds one encoded leaf; a longer record is refused on append
// and treated as corrupt when reading.
const maxLeafBytes = 16 << 10

// maxFieldLen bounds each string of a leaf.
const maxFieldLen = 256

// Validate checks that l is well formed: a known kind, a time, and short
// printable ASCII strings (which keeps free text, and so most personal data,
// out of the log).
func (l *Leaf) Validate() error {
	if !kinds[l.Kind] {
		return fmt.Errorf("audit: leaf kind %q unknown", l.Kind)
	}
	if l.Time.IsZero() {
		return fmt.Errorf("audit: %s leaf has no time", l.Kind)
	}
	if l.Candidates < 0 || l.Count < 0 || l.BytesIn < 0 || l.BytesOut < 0 {
		return fmt.Errorf("audit: %s leaf has a negative count", l.Kind)
	}
	check := func(name, s string) error {
		if len(s) > maxFieldLen {
			return fmt.Errorf("audit: %s leaf: %s is %d bytes, limit %d", l.Kind, name, len(s), maxFieldLen)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return fmt.Errorf("audit: %s leaf: %s has byte 0x%02x at %d; only printable ASCII is allowed", l.Kind, name, s[i], i)
			}
		}
		return nil
	}
	for _, f := range []struct{ n, v string }{
		{"partner", l.Partner}, {"agreement", l.Agreement}, {"case", l.Case}, {"purpose", l.Purpose},
		{"search_type", l.SearchType}, {"outcome", l.Outcome}, {"reason", l.Reason},
		{"actor", l.Actor}, {"message", l.Message}, {"key", l.Key},
	} {
		if err := check(f.n, f.v); err != nil {
			return err
		}
	}
	for i, s := range append(append([]string(nil), l.Fields...), l.Handling...) {
		if err := check(fmt.Sprintf("list item %d", i), s); err != nil {
			return err
		}
	}
	if (l.Kind == KindKeyRotation) != (l.Rotation != nil) {
		return fmt.Errorf("audit: %s leaf: a rotation statement belongs to a key_rotation leaf, and only there", l.Kind)
	}
	if l.Rotation != nil {
		// The shape only: the signature is a verifier's to check
		// (RingFromLeaves), against keys it trusts.
		if err := l.Rotation.validateShape(); err != nil {
			return err
		}
		if err := check("rotation.old", l.Rotation.Old); err != nil {
			return err
		}
		if err := check("rotation.new", l.Rotation.New); err != nil {
			return err
		}
		if len(l.Rotation.Sig) > 256 {
			return fmt.Errorf("audit: key_rotation leaf: signature of %d bytes", len(l.Rotation.Sig))
		}
	}
	return nil
}

// Encode returns the bytes of l that the log stores and hashes: JSON with
// the struct's fixed field order and the time in UTC. The encoding is only
// ever produced here and then kept verbatim, so no canonical form is needed
// for verification: verifiers hash the stored bytes.
func (l Leaf) Encode() ([]byte, error) {
	l.Time = l.Time.UTC()
	if err := l.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("audit: encoding %s leaf: %v", l.Kind, err)
	}
	if len(b) > maxLeafBytes {
		return nil, fmt.Errorf("audit: %s leaf is %d bytes, limit %d", l.Kind, len(b), maxLeafBytes)
	}
	return b, nil
}

// DecodeLeaf parses a stored leaf strictly: unknown fields and trailing data
// are errors, and the result must Validate.
func DecodeLeaf(b []byte) (Leaf, error) {
	var l Leaf
	if len(b) > maxLeafBytes {
		return l, fmt.Errorf("audit: leaf is %d bytes, limit %d", len(b), maxLeafBytes)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&l); err != nil {
		return l, fmt.Errorf("audit: leaf: %v", err)
	}
	if d.More() {
		return l, fmt.Errorf("audit: leaf: data after the JSON object")
	}
	if err := l.Validate(); err != nil {
		return l, err
	}
	return l, nil
}
