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

type removeRequest struct {
	Identity string `json:"identity"`
}

type reply struct {
	Count int    `json:"count"`
	Error string `json:"error,omitempty"`
}

// Info is what a matcher says about its shard.
type Info struct {
	Shard      string `json:"shard"`
	Templates  int    `json:"templates"`
	Identities int    `json:"identities"`
	// HeapBytes is the matcher process's live Go heap after a collection.
	HeapBytes int64 `json:"heap_bytes"`
}
