package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/store"
)

// This file holds how a Responder keeps its state durable. Its maps (cases,
// quota counts, suspensions) and its Opener's replay cache are the working
// copy; with ResponderConfig.State set, every change is written through to
// the store before the reply that depends on it, and NewResponder reads the
// state back, so that a restart or a kill -9 lifts no safeguard. The probe
// of a hit is never written: after a restart an examiner sees the case
// without it (ExaminerCase.ProbeLost).

// storeTimeout bounds one write of the exchange state.
const storeTimeout = 10 * time.Second

// ReasonStorage refuses a request the node could not record durably (its
// store or audit log is full or unreachable); the partner may retry.
const ReasonStorage = "storage_unavailable"

// storageRetry is the Retry-After of a storage refusal.
const storageRetry = 30 * time.Second

func storageRefusal(err error) *Refusal {
	rf := refuse(http.StatusServiceUnavailable, ReasonStorage, "this node could not record the request durably; retry later")
	rf.RetryAfter = storageRetry
	return rf
}

// caseState is a case as the store keeps it (ExchangeCase.Data).
type caseState struct {
	ID         string     `json:"id"`
	SecretHash []byte     `json:"secret_hash"`
	Agreement  string     `json:"agreement"`
	Partner    Address    `json:"partner"`
	Purpose    Purpose    `json:"purpose"`
	SearchType SearchType `json:"search_type"`
	Candidates []string   `json:"candidates"`
	Created    time.Time  `json:"created"`
	RefUntil   time.Time  `json:"reference_until"`
	Status     string     `json:"status"`
	Fields     []string   `json:"fields,omitempty"`
	Deadline   time.Time  `json:"deadline,omitzero"`
	Release    *Release   `json:"release,omitempty"`
	Examiner   string     `json:"examiner,omitempty"`
	LastLeaf   int64      `json:"last_leaf"`
	// The first confirmation of a four-eyes case.
	FirstExaminer  string `json:"first_examiner,omitempty"`
	FirstCandidate string `json:"first_candidate,omitempty"`
	// Pending is the decision of a case deciding: held before its leaf
	// is written (DecideCase).
	Pending *pendingDecision `json:"pending_decision,omitempty"`
}

// persistCase writes c through to the store. Callers hold r.mu, so that
// the writes of one case reach the store in the order they happened.
func (r *Responder) persistCase(c *caseRec) error {
	if r.state == nil {
		return nil
	}
	var pending *pendingDecision
	if c.status == caseDeciding {
		pending = c.pending
	}
	data, err := json.Marshal(caseState{ID: c.id, SecretHash: c.secretHash[:], Agreement: c.agreement.ID, Partner: c.partner,
		Purpose: c.purpose, SearchType: c.searchType, Candidates: c.candidates, Created: c.created, RefUntil: c.refUntil,
		Status: c.status, Fields: c.fields, Deadline: c.deadline, Release: c.release, Examiner: c.examiner, LastLeaf: c.lastLeaf,
		FirstExaminer: c.firstExaminer, FirstCandidate: c.firstCandidate, Pending: pending})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return r.state.PutCase(ctx, store.ExchangeCase{ID: c.id, Agreement: c.agreement.ID, Status: c.status, Data: data})
}

// persistQuota records a quota count; counts only grow within a day, so
// writes that cross on the way to the store cannot lower it.
func (r *Responder) persistQuota(k quotaKey, used int) error {
	if r.state == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return r.state.PutQuota(ctx, store.ExchangeQuota{Agreement: k.agreement, Partner: k.partner, SearchType: string(k.search), Day: k.day, Used: used})
}

// restore reads the state back when the responder starts: suspensions,
// today's quota counts and the cases. A case under an agreement the node
// no longer holds stays in the store, untouched, and is reported.
func (r *Responder) restore(ctx context.Context) error {
	sts, err := r.state.AgreementStatuses(ctx)
	if err != nil {
		return fmt.Errorf("exchange: reading agreement statuses: %w", err)
	}
	for _, s := range sts {
		if _, ok := r.agreements[s.Agreement]; ok && s.Suspended {
			// A suspension in the agreement file holds whatever the
			// store says; one ordered through the API holds until
			// reinstated through the API.
			r.suspended[s.Agreement] = true
		}
	}
	day := r.now().UTC().Format("2006-01-02")
	qs, err := r.state.Quotas(ctx, day)
	if err != nil {
		return fmt.Errorf("exchange: reading quota counts: %w", err)
	}
	for _, q := range qs {
		r.quota[quotaKey{q.Agreement, q.Partner, SearchType(q.SearchType), q.Day}] = q.Used
	}
	cs, err := r.state.Cases(ctx)
	if err != nil {
		return fmt.Errorf("exchange: reading cases: %w", err)
	}
	for _, sc := range cs {
		var s caseState
		if err := json.Unmarshal(sc.Data, &s); err != nil {
			return fmt.Errorf("exchange: case %s in the store: %v", sc.ID, err)
		}
		a := r.agreements[s.Agreement]
		if a == nil {
			r.logger.Warn("exchange case under an agreement this node no longer holds; left in the store", "case", s.ID, "agreement", s.Agreement)
			continue
		}
		c := &caseRec{id: s.ID, agreement: a, partner: s.Partner, purpose: s.Purpose, searchType: s.SearchType,
			candidates: s.Candidates, created: s.Created, refUntil: s.RefUntil, status: s.Status, fields: s.Fields,
			deadline: s.Deadline, release: s.Release, examiner: s.Examiner, lastLeaf: s.LastLeaf, probeLost: true,
			firstExaminer: s.FirstExaminer, firstCandidate: s.FirstCandidate}
		if len(s.SecretHash) != len(c.secretHash) {
			return fmt.Errorf("exchange: case %s in the store: secret hash of %d bytes", s.ID, len(s.SecretHash))
		}
		copy(c.secretHash[:], s.SecretHash)
		c.pending = s.Pending
		r.cases[c.id] = c
	}
	return r.catchUp()
}

// catchUp settles, at start, the open cases whose store record is behind
// the log. The store is written before each leaf, so two cases arise:
//
//   - A node stopped deciding (a crash between the store's pending
//     decision and the examiner leaf, or before the decided case was
//     stored): a decision whose leaf is in the log stands, one whose leaf
//     is not never happened and the case waits for an examiner again.
//   - A store restored from a backup whose copy was taken before the log's
//     (docs/deploy.md, "Backups"): leaves were written about the case that
//     the store never saw. A release or expiry leaf closes the case as the
//     log says; a rejection rejects it; a decision or disclosure the store
//     lacks the details of (the released values, the candidate, the
//     fields asked for) closes it with an expiry leaf, releasing nothing,
//     rather than let it be decided or released a second time.
//
// It reads the log once, from the oldest open case's latest leaf on.
func (r *Responder) catchUp() error {
	from := int64(-1)
	for _, c := range r.cases {
		if c.open() && (from < 0 || c.lastLeaf < from) {
			from = max(c.lastLeaf, 0)
		}
	}
	if from < 0 {
		return nil
	}
	later := map[string][]caseLeaf{}
	err := r.log.Scan(from, func(i int64, b []byte) error {
		l, err := audit.DecodeLeaf(b)
		if err != nil || l.Case == "" {
			return nil
		}
		if c := r.cases[l.Case]; c != nil && c.open() && i > c.lastLeaf {
			later[l.Case] = append(later[l.Case], caseLeaf{i, l})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("exchange: reading the log for the open cases: %w", err)
	}
	now := r.now()
	for _, c := range r.cases {
		if !c.open() {
			continue
		}
		before, beforeLeaf := c.status, c.lastLeaf
		ls := later[c.id]
		if c.status == caseDeciding {
			r.resolvePending(c, ls)
		}
		closed := c.follow(ls)
		if closed {
			r.logger.Warn("exchange case behind the log (restored from a backup?): closed, nothing released", "case", c.id, "status", before)
			idx, err := r.log.Append(audit.Leaf{Time: now, Kind: audit.KindExpiry, Partner: c.partner.State, Agreement: c.agreement.ID,
				Case: c.id, Purpose: string(c.purpose), Reason: "store_behind_log"})
			if err != nil {
				return fmt.Errorf("exchange: closing case %s: %w", c.id, err)
			}
			c.lastLeaf = idx
		}
		if c.status != before || c.lastLeaf != beforeLeaf || closed {
			if err := r.persistCase(c); err != nil {
				// The store keeps the old record; the next start settles
				// it again, the same way.
				r.logger.Error("exchange state write failed", "what", "settled case", "case", c.id, "err", err)
			}
		}
	}
	return nil
}

// caseLeaf is a leaf about a case and its index.
type caseLeaf struct {
	i int64
	l audit.Leaf
}

// open says whether a case may still change.
func (c *caseRec) open() bool {
	switch c.status {
	case caseAwaiting, StatusQueued, caseDeciding, StatusReleased, caseDelivering:
		return true
	}
	return false
}

// resolvePending settles a case the node stopped deciding: its pending
// decision stands if its examiner leaf is among ls (matched by examiner
// and outcome); otherwise the case waits for an examiner again.
func (r *Responder) resolvePending(c *caseRec, ls []caseLeaf) {
	if d := c.pending; d != nil {
		for _, x := range ls {
			if x.l.Kind == audit.KindExaminer && x.l.Actor == d.Examiner && x.l.Outcome == d.Outcome {
				c.apply(d, x.i)
				return
			}
		}
	}
	c.status, c.pending = StatusQueued, nil
}

// follow brings c up to the leaves written about it after its store
// record (ls, in order). It reports whether c must be closed because the
// log went further than the store can follow. A leaf that agrees with the
// store (the hit's decision, the disclosure request of a queued case)
// becomes the case's latest leaf, which a status poll proves.
func (c *caseRec) follow(ls []caseLeaf) (closed bool) {
	for _, x := range ls {
		l := x.l
		switch {
		case l.Kind == audit.KindRelease && c.status == caseDelivering:
			// Cut short between the leaf and the store's record of the
			// delivery: the next poll delivers, proving this leaf
			// (deliveredAt).
			return false
		case l.Kind == audit.KindRelease:
			c.status, c.release, c.lastLeaf = StatusDelivered, nil, x.i
			return false
		case l.Kind == audit.KindExpiry:
			c.status, c.lastLeaf = StatusExpired, x.i
			c.probe.wipe()
			return false
		case l.Kind == audit.KindDisclosure && c.status == caseAwaiting,
			l.Kind == audit.KindExaminer && l.Outcome == audit.OutcomeConfirmedFirst && c.status == StatusQueued && c.firstExaminer != l.Actor,
			l.Kind == audit.KindExaminer && l.Outcome == audit.OutcomeConfirmed && c.status != StatusReleased && c.status != caseDelivering:
			c.status, c.release, c.lastLeaf = StatusExpired, nil, x.i
			c.probe.wipe()
			return true
		case l.Kind == audit.KindExaminer && l.Outcome == audit.OutcomeRejected && c.status != StatusRejected:
			c.status, c.release, c.examiner, c.lastLeaf = StatusRejected, nil, l.Actor, x.i
			c.probe.wipe()
			return false
		case x.i > c.lastLeaf:
			c.lastLeaf = x.i
		}
	}
	return false
}

// deliveredAt finds the release leaf of case id written after index from,
// if a delivery was cut short after writing it (the node stopped, or the
// store failed, between the leaf and the store's record of the delivery).
// It returns -1 if there is none.
func (r *Responder) deliveredAt(id string, from int64) int64 {
	return r.leafAfter(from, func(l audit.Leaf) bool { return l.Kind == audit.KindRelease && l.Case == id })
}

// leafAfter returns the index of the first leaf after index from that
// match accepts, -1 if there is none. Only cases cut short between their
// store record and their leaf look, from the case's latest leaf on.
func (r *Responder) leafAfter(from int64, match func(audit.Leaf) bool) int64 {
	for i := max(from+1, 0); i < r.log.Size(); i++ {
		b, err := r.log.Leaf(i)
		if err != nil {
			return -1
		}
		if l, err := audit.DecodeLeaf(b); err == nil && match(l) {
			return i
		}
	}
	return -1
}
