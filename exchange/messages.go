package exchange

import (
	"time"
)

// The bodies of the envelopes. Replies never carry scores, identity ids or
// biographic data before step 2, and nothing in them says admit or deny.

// Step1Request asks the responder to search its gallery.
type Step1Request struct {
	Purpose         Purpose      `json:"purpose"`
	LegalBasis      string       `json:"legal_basis"`                 // reference to the national legal basis or case file
	Officer         string       `json:"officer"`                     // pseudonymous id of the requesting officer
	SearchType      SearchType   `json:"search_type"`                 // tenprint, latent
	OffenceMaxYears int          `json:"offence_max_years,omitempty"` // serious_crime: maximum custodial sentence of the offence
	KnownTreeSize   int64        `json:"known_tree_size"`             // size of the latest checkpoint of the responder's log the requester holds
	Fingers         []WireFinger `json:"fingers"`
	Faces           []WireFace   `json:"faces,omitempty"` // a face search's probe, instead of fingers
	// Encrypted is an encrypted face probe (privacy.Params.MarshalProbe),
	// instead of fingers and faces, where the agreement's encrypted_search
	// requires it.
	Encrypted []byte `json:"encrypted,omitempty"`
}

// Step1Reply is the automated answer: hit or no_hit, nothing more.
type Step1Reply struct {
	InReplyTo      string    `json:"in_reply_to"`               // header hash of the request
	Outcome        string    `json:"outcome"`                   // "hit" or "no_hit"
	Reference      string    `json:"reference,omitempty"`       // hit: opaque single-use step-2 reference
	CandidateCount int       `json:"candidate_count,omitempty"` // hit: number of candidates, at most the cap
	ReferenceUntil time.Time `json:"reference_until,omitzero"`  // hit: the reference is void after this
	// EncryptedCount answers an encrypted search (outcome
	// "encrypted_count"): the encrypted number of gallery entries above
	// the agreement's threshold (privacy.Params.MarshalReply). Reference
	// then serves a step 2 if the requester finds a hit.
	EncryptedCount []byte     `json:"encrypted_count,omitempty"`
	Audit          AuditProof `json:"audit"`
}

// Step2Request asks for disclosure under a step-1 reference.
type Step2Request struct {
	Reference     string   `json:"reference"`
	Fields        []string `json:"fields,omitempty"` // subset of the allow-list; empty means the whole allow-list
	Officer       string   `json:"officer"`
	KnownTreeSize int64    `json:"known_tree_size"`
	// Faces is the probe, after an encrypted step 1: the responder saw
	// nothing of it before (docs/privacy.md).
	Faces []WireFace `json:"faces,omitempty"`
}

// Step2Reply acknowledges a disclosure request: it is queued for the
// responder's examiners until Deadline.
type Step2Reply struct {
	InReplyTo string     `json:"in_reply_to"`
	Case      string     `json:"case"`
	Status    string     `json:"status"` // "queued"
	Deadline  time.Time  `json:"deadline"`
	Audit     AuditProof `json:"audit"`
}

// StatusRequest asks how a disclosure request stands.
type StatusRequest struct {
	Case          string `json:"case"`
	KnownTreeSize int64  `json:"known_tree_size"`
}

// Case statuses in StatusReply.
const (
	StatusQueued    = "queued"    // waiting for an examiner
	StatusReleased  = "released"  // confirmed; Release holds the data (sent once)
	StatusDelivered = "delivered" // released earlier; the data are no longer held
	StatusRejected  = "rejected"  // the examiner rejected the match; nothing is released
	StatusExpired   = "expired"   // the deadline passed; nothing is released
	StatusWithdrawn = "withdrawn" // the agreement was suspended; nothing is released
)

// StatusReply says how a disclosure request stands, with the release when
// there is one.
type StatusReply struct {
	InReplyTo string     `json:"in_reply_to"`
	Case      string     `json:"case"`
	Status    string     `json:"status"`
	Release   *Release   `json:"release,omitempty"`
	Audit     AuditProof `json:"audit"`
}

// Release is data released after an examiner confirmed a match: only
// allow-listed fields, always with handling tags.
type Release struct {
	Fields   map[string]string `json:"fields"`
	Handling HandlingTags      `json:"handling"`
}

// HandlingTags go with every release and bind the receiver.
type HandlingTags struct {
	NoOnwardTransfer bool      `json:"no_onward_transfer"`
	DestroyBy        time.Time `json:"destroy_by"`
	Agreement        string    `json:"agreement"`
	Purpose          Purpose   `json:"purpose"`
}

// RefusalReply is the body of a refusal.
type RefusalReply struct {
	InReplyTo         string      `json:"in_reply_to,omitempty"`
	Reason            string      `json:"reason"`
	Detail            string      `json:"detail,omitempty"`
	RetryAfterSeconds int         `json:"retry_after_seconds,omitempty"`
	Audit             *AuditProof `json:"audit,omitempty"`
}

// AuditProof proves that the reply's own leaf is in the responder's
// transparency log: the leaf, its index, a signed checkpoint, the inclusion
// proof under it, and a consistency proof from the tree size the requester
// said it knew.
type AuditProof struct {
	Index           int64    `json:"index"`
	Leaf            []byte   `json:"leaf"`
	Checkpoint      []byte   `json:"checkpoint"`
	Inclusion       [][]byte `json:"inclusion"`
	ConsistencyFrom int64    `json:"consistency_from"`
	Consistency     [][]byte `json:"consistency"`
}
