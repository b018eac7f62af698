package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebsp/ebsp/store"
)

var _ store.ExchangeState = (*Store)(nil)

// SetAgreementStatus records whether an agreement is suspended.
func (s *Store) SetAgreementStatus(ctx context.Context, a store.AgreementStatus) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO exchange_agreements (agreement, suspended, actor, changed) VALUES ($1, $2, $3, $4)
		ON CONFLICT (agreement) DO UPDATE SET suspended = excluded.suspended, actor = excluded.actor, changed = excluded.changed`,
		a.Agreement, a.Suspended, a.Actor, a.Changed.UTC())
	return classify("agreement status", err)
}

// AgreementStatuses returns every recorded agreement status.
func (s *Store) AgreementStatuses(ctx context.Context) ([]store.AgreementStatus, error) {
	rows, _ := s.pool.Query(ctx, "SELECT agreement, suspended, actor, changed FROM exchange_agreements ORDER BY agreement")
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AgreementStatus, error) {
		var a store.AgreementStatus
		err := r.Scan(&a.Agreement, &a.Suspended, &a.Actor, &a.Changed)
		a.Changed = a.Changed.UTC()
		return a, err
	})
	return out, classify("agreement statuses", err)
}

// PutQuota records a partner's use of a daily quota; a lower count than
// the one held changes nothing.
func (s *Store) PutQuota(ctx context.Context, q store.ExchangeQuota) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO exchange_quota (agreement, partner, search_type, day, used) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (agreement, partner, search_type, day) DO UPDATE SET used = greatest(exchange_quota.used, excluded.used)`,
		q.Agreement, q.Partner, q.SearchType, q.Day, q.Used)
	return classify("quota", err)
}

// Quotas returns the quota counts of day.
func (s *Store) Quotas(ctx context.Context, day string) ([]store.ExchangeQuota, error) {
	rows, _ := s.pool.Query(ctx, `SELECT agreement, partner, search_type, day, used FROM exchange_quota WHERE day = $1
		ORDER BY agreement, partner, search_type`, day)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ExchangeQuota, error) {
		var q store.ExchangeQuota
		err := r.Scan(&q.Agreement, &q.Partner, &q.SearchType, &q.Day, &q.Used)
		return q, err
	})
	return out, classify("quotas", err)
}

// RememberNonce records a nonce unless the sender used it already.
func (s *Store) RememberNonce(ctx context.Context, sender string, nonce []byte, expires time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, "INSERT INTO exchange_nonces (sender, nonce, expires) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		sender, nonce, expires.UTC())
	if err != nil {
		return false, classify("nonce", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Nonces returns the nonces that expire after t.
func (s *Store) Nonces(ctx context.Context, after time.Time) ([]store.ExchangeNonce, error) {
	rows, _ := s.pool.Query(ctx, "SELECT sender, nonce, expires FROM exchange_nonces WHERE expires > $1", after.UTC())
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ExchangeNonce, error) {
		var n store.ExchangeNonce
		err := r.Scan(&n.Sender, &n.Nonce, &n.Expires)
		n.Expires = n.Expires.UTC()
		return n, err
	})
	return out, classify("nonces", err)
}

// PutCase writes a case.
func (s *Store) PutCase(ctx context.Context, c store.ExchangeCase) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO exchange_cases (id, agreement, status, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET agreement = excluded.agreement, status = excluded.status, data = excluded.data`,
		c.ID, c.Agreement, c.Status, c.Data)
	return classify("case", err)
}

// DeleteCase deletes a case.
func (s *Store) DeleteCase(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM exchange_cases WHERE id = $1", id)
	return classify("delete case", err)
}

// Cases returns every case, by id.
func (s *Store) Cases(ctx context.Context) ([]store.ExchangeCase, error) {
	rows, _ := s.pool.Query(ctx, "SELECT id, agreement, status, data FROM exchange_cases ORDER BY id")
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ExchangeCase, error) {
		var c store.ExchangeCase
		err := r.Scan(&c.ID, &c.Agreement, &c.Status, &c.Data)
		return c, err
	})
	return out, classify("cases", err)
}

// PruneExchange deletes expired nonces and past days' quota counts.
func (s *Store) PruneExchange(ctx context.Context, now time.Time, day string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return classify("prune exchange", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "DELETE FROM exchange_nonces WHERE expires < $1", now.UTC()); err != nil {
		return classify("prune exchange", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM exchange_quota WHERE day < $1", day); err != nil {
		return classify("prune exchange", err)
	}
	return classify("prune exchange", tx.Commit(ctx))
}
