package cluster

import (
	"github.com/ebsp/ebsp/biometric"
)

// Operations, the last element of a subject.
const (
	opSearch = "search"
	opEnrol  = "enrol"
	opRemove = "remove"
	opInfo   = "info"
	opVerify = "verify"
	// opHandOff pages through the identities a shard holds but the
	// request's ring places elsewhere (the rebalance's source side);
	// opRelease drops identities that have been copied to their owner.
	opHandOff = "handoff"
	opRelease = "release"
)

// queueGroup is the NATS queue group matchers subscribe in.
const queueGroup = "matchers"

// subject is the subject of an operation on a shard.
func subject(prefix, shard, op string) string { return prefix + ".shard." + shard + "." + op }

// Template is one stored template of an identity, in the engine's stored
// form.
type Template struct {
	ID       string                   `json:"id"`
	Position biometric.FingerPosition `json:"position"`
	Data     []byte                   `json:"data"`
}

// Sample is one probe sample: the engine's stored form and the position.
type Sample struct {
	Position biometric.FingerPosition `json:"position"`
	Data     []byte                   `json:"data"`
}

type searchRequest struct {
	Samples []Sample `json:"samples"`
	Limit   int      `json:"limit"`
	Floor   float64  `json:"floor"`
}

type searchReply struct {
	Shard      string                `json:"shard"`
	Candidates []biometric.Candidate `json:"candidates"`
	Templates  int                   `json:"templates"`
	Identities int                   `json:"identities"`
	Error      string                `json:"error,omitempty"`
}

type enrolRequest struct {
	Identities []Enrolment `json:"identities"`
}

// Enrolment is an identity with its templates.
type Enrolment struct {
	Identity  string     `json:"identity"`
	Templates []Template `json:"templates"`
}

// removeRequest erases an identity, or only the named templates of it.
type removeRequest struct {
	Identity  string   `json:"identity"`
	Templates []string `json:"templates,omitempty"`
}

type reply struct {
	Count int    `json:"count"`
	Error string `json:"error,omitempty"`
}

// infoRequest asks a shard for its size; Heap also for its live heap,
// which costs a garbage collection.
type infoRequest struct {
	Heap bool `json:"heap,omitempty"`
}

// Info is what a matcher says about its shard.
type Info struct {
	Shard      string `json:"shard"`
	Templates  int    `json:"templates"`
	Identities int    `json:"identities"`
	// Digest sums TemplateDigest over the shard's templates: a node
	// compares the sum over every shard with its store's to see whether
	// the shards hold what the store does, without moving either.
	Digest uint64 `json:"digest"`
	// HeapBytes is the matcher process's live Go heap after a collection
	// (Client.Info; Client.Size leaves it 0).
	HeapBytes int64 `json:"heap_bytes"`
}

type verifyRequest struct {
	Identity string   `json:"identity"`
	Samples  []Sample `json:"samples"`
}

type verifyReply struct {
	Score float64 `json:"score"`
	Found bool    `json:"found"`
	Error string  `json:"error,omitempty"`
}

// handOffRequest asks a shard for a page of the identities it holds that
// Ring places on another shard, in identity order after After; a page
// holds at most MaxBytes of template data (NATS bounds a message).
type handOffRequest struct {
	Ring     []string `json:"ring"`
	After    string   `json:"after,omitempty"`
	MaxBytes int      `json:"max_bytes"`
}

type handOffReply struct {
	Identities []Enrolment `json:"identities"`
	// More is true when identities after the last remain.
	More  bool   `json:"more"`
	Error string `json:"error,omitempty"`
}

// releaseRequest drops identities from a shard once their owner holds
// them; an identity the ring places on this shard is kept whatever the
// request says.
type releaseRequest struct {
	Ring       []string `json:"ring"`
	Identities []string `json:"identities"`
}
