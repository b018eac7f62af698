package store

import (
	"context"
	"time"
)

// ExchangeState is the durable state of a node's partnership exchange
// (package exchange): which agreements are suspended, how much of each
// day's quota partners used, the nonces seen within the signature window,
// and the cases opened by hits with their examiner decisions and pending
// releases. A responder writes it through as it changes and reads it back
// when the node starts, so that a restart (or a kill -9) lifts no
// safeguard: a suspended agreement stays suspended, a quota is not reset,
// a replayed request inside the window is still refused, and a confirmed
// release is delivered once. Both engines of this module implement it; it
// is a separate interface so that Store stays as the node first used it.
//
// Every write that returns nil is durable, as for Store.
type ExchangeState interface {
	// SetAgreementStatus records whether an agreement is suspended.
	SetAgreementStatus(ctx context.Context, s AgreementStatus) error
	// AgreementStatuses returns every recorded agreement status.
	AgreementStatuses(ctx context.Context) ([]AgreementStatus, error)
	// PutQuota records how many searches of a kind a partner made on a
	// day under an agreement. Counts only grow within a day: a count
	// lower than the one held changes nothing, so that writes of
	// concurrent requests that cross on their way cannot lower it.
	PutQuota(ctx context.Context, q ExchangeQuota) error
	// Quotas returns the counts of day (YYYY-MM-DD, UTC).
	Quotas(ctx context.Context, day string) ([]ExchangeQuota, error)
	// RememberNonce records that sender used nonce, until expires; it
	// reports false, and records nothing, when the pair is already held.
	RememberNonce(ctx context.Context, sender string, nonce []byte, expires time.Time) (fresh bool, err error)
	// Nonces returns the nonces held that expire after t.
	Nonces(ctx context.Context, after time.Time) ([]ExchangeNonce, error)
	// PutCase writes a case, replacing the one with the same id.
	PutCase(ctx context.Context, c ExchangeCase) error
	// DeleteCase deletes a case; deleting a missing case is no error.
	DeleteCase(ctx context.Context, id string) error
	// Cases returns every case held, by id.
	Cases(ctx context.Context) ([]ExchangeCase, error)
	// PruneExchange deletes the nonces that expired before now and the
	// quota counts of days before day.
	PruneExchange(ctx context.Context, now time.Time, day string) error
}

// AgreementStatus is whether an agreement is suspended, who last changed
// it and when.
type AgreementStatus struct {
	Agreement string
	Suspended bool
	Actor     string
	Changed   time.Time
}

// ExchangeQuota is a partner's use of a daily quota.
type ExchangeQuota struct {
	Agreement, Partner, SearchType string
	Day                            string // YYYY-MM-DD, UTC
	Used                           int
}

// ExchangeNonce is a nonce seen from a sender, remembered until Expires.
type ExchangeNonce struct {
	Sender  string
	Nonce   []byte
	Expires time.Time
}

// ExchangeCase is a case of the exchange: a hit's reference, then the
// disclosure request, the examiner's decision and the pending release.
// The store keeps Data (the exchange package's JSON encoding of the case)
// as given; it never holds the probe.
type ExchangeCase struct {
	ID        string
	Agreement string
	Status    string
	Data      []byte
}
