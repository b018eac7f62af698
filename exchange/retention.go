package exchange

import (
	"context"
	"fmt"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/store"
)

// SweepResult says what a Sweep did.
type SweepResult struct {
	Expired int // cases closed by their deadline, releasing nothing
	Deleted int // case records deleted past retention
}

// Sweep applies deadlines and retention at the responder's clock: unused
// references and unanswered disclosure requests past their deadline expire
// (nothing is released), and case records older than the agreement's
// retention are deleted, with whatever they held. Every expiry is a leaf,
// and each deletion run is a leaf per partner with the count deleted. The
// node calls it periodically; tests call it after advancing the clock.
func (r *Responder) Sweep() (SweepResult, error) {
	now := r.now()
	var res SweepResult
	var expired []*caseRec
	type pk struct{ partner, agreement string }
	deleted := map[pk]int{}
	r.mu.Lock()
	for id, c := range r.cases {
		if r.expireLocked(c, now) {
			expired = append(expired, c)
		}
		if now.Sub(c.created) > time.Duration(c.agreement.Retention) {
			if r.state != nil {
				ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
				err := r.state.DeleteCase(ctx, id)
				cancel()
				if err != nil {
					// Kept until the next sweep can delete it from the store too.
					r.logger.Error("exchange state write failed", "what", "case deletion", "case", id, "err", err)
					continue
				}
			}
			c.probe.wipe()
			c.release = nil
			delete(r.cases, id)
			deleted[pk{c.partner.State, c.agreement.ID}]++
			res.Deleted++
		}
	}
	today := now.UTC().Format("2006-01-02")
	for k := range r.quota {
		if k.day < today {
			delete(r.quota, k)
		}
	}
	r.mu.Unlock()
	// A gallery prepared for encrypted searches under an agreement that
	// has ended or is suspended is dropped (dropEncryptedGallery).
	r.encMu.Lock()
	held := make([]string, 0, len(r.encGalleries))
	for id := range r.encGalleries {
		held = append(held, id)
	}
	r.encMu.Unlock()
	for _, id := range held {
		if a := r.agreements[id]; a == nil || r.inForce(a, now) != nil {
			r.dropEncryptedGallery(id)
		}
	}
	if r.state != nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := r.state.PruneExchange(ctx, now, today)
		cancel()
		if err != nil {
			r.logger.Error("exchange state write failed", "what", "prune", "err", err)
		}
	}
	for _, c := range expired {
		r.logExpiry(c, expiryReason(c), now)
		res.Expired++
	}
	if err := r.flushJunk(now); err != nil {
		return res, err
	}
	for k, n := range deleted {
		if _, err := r.log.Append(audit.Leaf{Time: now, Kind: audit.KindRetention, Partner: k.partner, Agreement: k.agreement, Count: n}); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Suspend revokes an agreement at once: new requests under it are refused,
// open cases are withdrawn (no examiner can release anything, data awaiting
// delivery is dropped), and the suspension is a leaf. actor is the
// pseudonymous id of whoever ordered it.
func (r *Responder) Suspend(agreementID, actor string) error {
	return r.setSuspended(agreementID, actor, true)
}

// Reinstate lifts a suspension; withdrawn cases stay withdrawn.
func (r *Responder) Reinstate(agreementID, actor string) error {
	return r.setSuspended(agreementID, actor, false)
}

func (r *Responder) setSuspended(agreementID, actor string, on bool) error {
	if err := pseudonym(actor); err != nil {
		return fmt.Errorf("exchange: %w: actor %v", ErrInvalid, err)
	}
	a := r.agreements[agreementID]
	if a == nil {
		return fmt.Errorf("exchange: %w: %q", ErrUnknownAgreement, agreementID)
	}
	now := r.now()
	withdrawn := 0
	r.mu.Lock()
	if r.state != nil {
		// The status is durable before it takes effect: a suspension
		// acknowledged holds through a restart.
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := r.state.SetAgreementStatus(ctx, store.AgreementStatus{Agreement: agreementID, Suspended: on, Actor: actor, Changed: now})
		cancel()
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("exchange: %w: recording the status of agreement %s: %v", ErrStorage, agreementID, err)
		}
	}
	r.suspended[agreementID] = on
	if on {
		for _, c := range r.cases {
			if c.agreement != a {
				continue
			}
			switch c.status {
			case caseAwaiting, StatusQueued, StatusReleased, caseDeciding, caseDelivering:
				c.status = StatusWithdrawn
				c.probe.wipe()
				c.release = nil
				withdrawn++
				if err := r.persistCase(c); err != nil {
					// The suspension itself is recorded and refuses every
					// request under the agreement, this case's too.
					r.logger.Error("exchange state write failed", "what", "withdrawn case", "case", c.id, "err", err)
				}
			}
		}
	}
	r.mu.Unlock()
	if on {
		r.dropEncryptedGallery(agreementID)
	}
	out := audit.OutcomeActive
	if on {
		out = audit.OutcomeSuspended
	}
	_, err := r.log.Append(audit.Leaf{Time: now, Kind: audit.KindAgreement, Partner: a.Partner(r.self.State).State,
		Agreement: a.ID, Outcome: out, Actor: actor, Count: withdrawn})
	if err != nil {
		return fmt.Errorf("exchange: %w: %v", ErrStorage, err)
	}
	return nil
}

// Pending returns the number of cases the responder holds (any status), for
// tests and the node's metrics.
func (r *Responder) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cases)
}
