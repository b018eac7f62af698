package exchange

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ebsp/ebsp/audit"
)

// ExaminerAuth authenticates the responding state's examiners, the only
// people who can open the step-2 gate.
type ExaminerAuth interface {
	Authenticate(examiner, secret string) bool
}

// StaticExaminers is an ExaminerAuth over a fixed set of examiner ids and
// secrets (tokens). It keeps only SHA-256 hashes of the secrets and
// compares them in constant time.
type StaticExaminers struct {
	hashes map[string][32]byte
}

// NewStaticExaminers makes an ExaminerAuth from examiner id -> secret.
func NewStaticExaminers(secrets map[string]string) *StaticExaminers {
	s := &StaticExaminers{hashes: map[string][32]byte{}}
	for id, sec := range secrets {
		s.hashes[id] = sha256.Sum256([]byte(sec))
	}
	return s
}

// Authenticate reports whether secret is examiner's. An unknown examiner
// costs the same comparison as a known one.
func (s *StaticExaminers) Authenticate(examiner, secret string) bool {
	want, known := s.hashes[examiner]
	got := sha256.Sum256([]byte(secret))
	eq := subtle.ConstantTimeCompare(want[:], got[:]) == 1
	return known && eq && secret != ""
}

// ErrNotExaminer is returned when examiner authentication fails.
var ErrNotExaminer = errors.New("exchange: examiner not authenticated")

// Errors of a decision (DecideCase) and of an agreement's suspension or
// reinstatement, wrapped with the details, for callers to tell apart with
// errors.Is (the node answers each with its own HTTP status and code).
var (
	ErrInvalid          = errors.New("invalid request")                              // a malformed examiner id, actor or reason
	ErrUnknownCase      = errors.New("no such case")                                 // no case of that id
	ErrNotCandidate     = errors.New("not a candidate of the case")                  // a confirmation of someone the search did not return
	ErrCaseState        = errors.New("the case is not in a state for that decision") // decided, expired, withdrawn, suspended, four eyes
	ErrUnknownAgreement = errors.New("no such agreement")
	ErrStorage          = errors.New("the node's store or audit log failed") // full or unreachable; retry later
)

// ExaminerCase is a disclosure request waiting for an examiner: the probe
// and the gallery candidates to compare it with. It holds no biographic
// data: the examiner compares biometrics, the node shows them the gallery
// side by its identity ids.
type ExaminerCase struct {
	Case       string
	Partner    string
	Agreement  string
	Purpose    Purpose
	SearchType SearchType
	Candidates []string // gallery identity ids, at most the candidate cap
	Probe      Probe    // a copy, for comparison
	Fields     []string // what the requester asked for
	Deadline   time.Time
	// Under a four-eyes agreement, the examiner who confirmed first and
	// the candidate they confirmed; empty until then.
	ConfirmedBy, ConfirmedCandidate string
	// ProbeLost says that the node restarted since the hit: the probe is
	// never written to disk, so the examiner has no probe to compare
	// and may reject, or let the requester search again.
	ProbeLost bool `json:",omitempty"`
}

// Decision is an examiner's decision on a case. Reason is a short code
// (printable ASCII, no free text: it becomes part of the audit leaf).
type Decision struct {
	Confirm   bool
	Candidate string // the confirmed candidate's identity id
	Reason    string
}

// RejectReasons are the reason codes an examiner may give for a
// rejection (the console asks for one; the API takes it optionally).
var RejectReasons = []string{"minutiae_disagree", "insufficient_detail", "poor_quality", "wrong_finger", "other"}

// Queue lists the disclosure requests waiting for a decision, oldest
// deadline first.
func (r *Responder) Queue(examiner, secret string) ([]ExaminerCase, error) {
	if !r.examiners.Authenticate(examiner, secret) {
		return nil, ErrNotExaminer
	}
	now := r.now()
	var expired []*caseRec
	var out []ExaminerCase
	r.mu.Lock()
	for _, c := range r.cases {
		if r.expireLocked(c, now) {
			expired = append(expired, c)
		}
		if c.status != StatusQueued {
			continue
		}
		ec := ExaminerCase{Case: c.id, Partner: c.partner.State, Agreement: c.agreement.ID, Purpose: c.purpose,
			SearchType: c.searchType, Candidates: slices.Clone(c.candidates), Fields: slices.Clone(c.fields), Deadline: c.deadline,
			ConfirmedBy: c.firstExaminer, ConfirmedCandidate: c.firstCandidate, ProbeLost: c.probeLost}
		for _, f := range c.probe.Fingers {
			f.Template.Minutiae = slices.Clone(f.Template.Minutiae)
			ec.Probe.Fingers = append(ec.Probe.Fingers, f)
		}
		for _, f := range c.probe.Faces {
			ec.Probe.Faces = append(ec.Probe.Faces, slices.Clone(f))
		}
		out = append(out, ec)
	}
	r.mu.Unlock()
	for _, c := range expired {
		r.logExpiry(c, expiryReason(c), now)
	}
	slices.SortFunc(out, func(a, b ExaminerCase) int { return a.Deadline.Compare(b.Deadline) })
	return out, nil
}

func expiryReason(c *caseRec) string {
	if c.fields == nil {
		return "reference_unused"
	}
	return "examiner_deadline"
}

// Decide records an examiner's decision on a queued case, with no reason
// code; see DecideCase.
func (r *Responder) Decide(ctx context.Context, examiner, secret, caseID string, confirm bool, candidate string) error {
	return r.DecideCase(ctx, examiner, secret, caseID, Decision{Confirm: confirm, Candidate: candidate})
}

// DecideCase records an examiner's decision on a queued case. Only a
// confirmation of one of the case's candidates releases anything, and
// then only the allow-listed fields the requester asked for, tagged; a
// rejection releases nothing. Either way the probe is dropped. Under a
// four-eyes agreement the first confirmation is logged and the case stays
// queued for a second, different examiner, who must confirm the same
// candidate for the release (or reject).
func (r *Responder) DecideCase(ctx context.Context, examiner, secret, caseID string, d Decision) error {
	if !r.examiners.Authenticate(examiner, secret) {
		return ErrNotExaminer
	}
	if err := pseudonym(examiner); err != nil {
		return fmt.Errorf("exchange: %w: examiner %v", ErrInvalid, err)
	}
	if d.Reason != "" && !slices.Contains(RejectReasons, d.Reason) {
		return fmt.Errorf("exchange: %w: reason %q unknown (want one of %v)", ErrInvalid, d.Reason, RejectReasons)
	}
	confirm, candidate := d.Confirm, d.Candidate
	now := r.now()
	r.mu.Lock()
	c := r.cases[caseID]
	if c == nil {
		r.mu.Unlock()
		return fmt.Errorf("exchange: %w: %q", ErrUnknownCase, caseID)
	}
	if r.expireLocked(c, now) {
		r.mu.Unlock()
		r.logExpiry(c, "examiner_deadline", now)
		return fmt.Errorf("exchange: %w: case %s passed its deadline; nothing can be released", ErrCaseState, caseID)
	}
	if c.status != StatusQueued {
		r.mu.Unlock()
		return fmt.Errorf("exchange: %w: case %s is %s, not waiting for an examiner", ErrCaseState, caseID, c.status)
	}
	if confirm && !slices.Contains(c.candidates, candidate) {
		r.mu.Unlock()
		return fmt.Errorf("exchange: %w: %q is not a candidate of case %s", ErrNotCandidate, candidate, caseID)
	}
	if r.suspended[c.agreement.ID] {
		r.mu.Unlock()
		return fmt.Errorf("exchange: %w: agreement %s is suspended; nothing can be released", ErrCaseState, c.agreement.ID)
	}
	first := false // the first of two confirmations under four eyes
	if confirm && c.agreement.FourEyes {
		switch {
		case c.firstExaminer == "":
			first = true
		case c.firstExaminer == examiner:
			r.mu.Unlock()
			return fmt.Errorf("exchange: %w: case %s: four eyes: %s confirmed already; a second, different examiner must confirm", ErrCaseState, caseID, examiner)
		case c.firstCandidate != candidate:
			r.mu.Unlock()
			return fmt.Errorf("exchange: %w: case %s: four eyes: the first examiner confirmed %s; confirm that candidate or reject", ErrCaseState, caseID, c.firstCandidate)
		}
	}
	// Claim the case so that a concurrent decision cannot also act on it.
	c.status = caseDeciding
	a, fields := c.agreement, c.fields
	r.mu.Unlock()

	pd := &pendingDecision{Examiner: examiner, Candidate: candidate, Outcome: audit.OutcomeRejected, Reason: d.Reason}
	switch {
	case first:
		pd.Outcome = audit.OutcomeConfirmedFirst
	case confirm:
		pd.Outcome = audit.OutcomeConfirmed
		got, err := r.discloser.Disclose(ctx, candidate, slices.Clone(fields))
		if err != nil {
			r.mu.Lock()
			if c.status == caseDeciding {
				c.status = StatusQueued
			}
			r.mu.Unlock()
			return fmt.Errorf("exchange: %w: case %s: reading the fields to release: %v", ErrStorage, caseID, err)
		}
		// Minimisation: whatever the store returned, only fields both asked
		// for and on the allow-list leave.
		pd.Release = &Release{Fields: map[string]string{}, Handling: HandlingTags{
			NoOnwardTransfer: a.Handling.NoOnwardTransfer, DestroyBy: now.Add(time.Duration(a.Handling.DestroyAfter)).UTC(),
			Agreement: a.ID, Purpose: c.purpose}}
		for _, f := range fields {
			if v, ok := got[f]; ok && v != "" && slices.Contains(a.Disclosure, f) {
				pd.Release.Fields[f] = v
			}
		}
	}
	// The store holds the decision before its leaf is written, so that a
	// node stopped between the two finds the leaf at its next start and
	// completes the decision (resolvePending) instead of letting an
	// examiner decide the case a second time.
	r.mu.Lock()
	if c.status != caseDeciding {
		// Withdrawn by a suspension while the fields were read.
		r.mu.Unlock()
		return fmt.Errorf("exchange: %w: case %s was %s meanwhile; nothing released", ErrCaseState, caseID, c.status)
	}
	c.pending = pd
	if err := r.persistCase(c); err != nil {
		c.status, c.pending = StatusQueued, nil
		r.mu.Unlock()
		return fmt.Errorf("exchange: %w: case %s: recording the decision: %v", ErrStorage, caseID, err)
	}
	r.mu.Unlock()

	idx, err := r.log.Append(audit.Leaf{Time: now, Kind: audit.KindExaminer, Partner: c.partner.State, Agreement: a.ID, Case: c.id,
		Purpose: string(c.purpose), SearchType: string(c.searchType), Outcome: pd.Outcome, Reason: d.Reason, Actor: examiner})
	failpoint("decision-leaf")
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		// No leaf, no decision: the case waits for an examiner again. The
		// store's pending decision, if this write fails too, finds no leaf
		// at the next start and is dropped there.
		if c.status == caseDeciding {
			c.status = StatusQueued
		}
		c.pending = nil
		if perr := r.persistCase(c); perr != nil {
			r.logger.Error("exchange state write failed", "what", "undecided case", "case", c.id, "err", perr)
		}
		return fmt.Errorf("exchange: %w: %v", ErrStorage, err)
	}
	if c.status != caseDeciding {
		// Withdrawn by a suspension after the store recorded the decision.
		c.pending = nil
		return fmt.Errorf("exchange: %w: case %s was %s meanwhile; nothing released", ErrCaseState, caseID, c.status)
	}
	c.apply(pd, idx)
	if err := r.persistCase(c); err != nil {
		// The decision stands: its leaf is written and the store holds it
		// as pending, which the next start completes from the leaf.
		r.logger.Error("exchange state write failed", "what", "decided case", "case", c.id, "err", err)
	}
	return nil
}

// pendingDecision is an examiner's decision the store holds before its
// leaf is in the log (caseState.Pending).
type pendingDecision struct {
	Examiner  string   `json:"examiner"`
	Candidate string   `json:"candidate,omitempty"`
	Outcome   string   `json:"outcome"` // the leaf's: confirmed_first, confirmed or rejected
	Reason    string   `json:"reason,omitempty"`
	Release   *Release `json:"release,omitempty"`
}

// apply makes d, whose leaf is index idx, the case's decision.
func (c *caseRec) apply(d *pendingDecision, idx int64) {
	c.pending, c.lastLeaf = nil, idx
	switch d.Outcome {
	case audit.OutcomeConfirmedFirst:
		c.status = StatusQueued
		c.firstExaminer, c.firstCandidate = d.Examiner, d.Candidate
		return
	case audit.OutcomeConfirmed:
		c.status, c.release = StatusReleased, d.Release
	default:
		c.status = StatusRejected
	}
	c.examiner = d.Examiner
	c.probe.wipe()
}
