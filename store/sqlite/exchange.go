package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/ebsp/ebsp/store"
)

var _ store.ExchangeState = (*Store)(nil)

// The exchange state's writes are single statements on the writer
// connection: each commits (and fsyncs the WAL) on its own.

// SetAgreementStatus records whether an agreement is suspended.
func (s *Store) SetAgreementStatus(ctx context.Context, a store.AgreementStatus) error {
	susp := 0
	if a.Suspended {
		susp = 1
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO exchange_agreements (agreement, suspended, actor, changed) VALUES (?, ?, ?, ?)
		ON CONFLICT (agreement) DO UPDATE SET suspended = excluded.suspended, actor = excluded.actor, changed = excluded.changed`,
		a.Agreement, susp, a.Actor, a.Changed.UnixMicro())
	return classify("agreement status", err)
}

// AgreementStatuses returns every recorded agreement status.
func (s *Store) AgreementStatuses(ctx context.Context) ([]store.AgreementStatus, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT agreement, suspended, actor, changed FROM exchange_agreements ORDER BY agreement")
	if err != nil {
		return nil, classify("agreement statuses", err)
	}
	defer rows.Close()
	var out []store.AgreementStatus
	for rows.Next() {
		var a store.AgreementStatus
		var changed int64
		if err := rows.Scan(&a.Agreement, &a.Suspended, &a.Actor, &changed); err != nil {
			return nil, classify("agreement statuses", err)
		}
		a.Changed = fromMicros(sql.NullInt64{Int64: changed, Valid: true})
		out = append(out, a)
	}
	return out, classify("agreement statuses", rows.Err())
}

// PutQuota records a partner's use of a daily quota; a lower count than
// the one held changes nothing.
func (s *Store) PutQuota(ctx context.Context, q store.ExchangeQuota) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO exchange_quota (agreement, partner, search_type, day, used) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (agreement, partner, search_type, day) DO UPDATE SET used = max(exchange_quota.used, excluded.used)`,
		q.Agreement, q.Partner, q.SearchType, q.Day, q.Used)
	return classify("quota", err)
}

// Quotas returns the quota counts of day.
func (s *Store) Quotas(ctx context.Context, day string) ([]store.ExchangeQuota, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT agreement, partner, search_type, day, used FROM exchange_quota WHERE day = ?
		ORDER BY agreement, partner, search_type`, day)
	if err != nil {
		return nil, classify("quotas", err)
	}
	defer rows.Close()
	var out []store.ExchangeQuota
	for rows.Next() {
		var q store.ExchangeQuota
		if err := rows.Scan(&q.Agreement, &q.Partner, &q.SearchType, &q.Day, &q.Used); err != nil {
			return nil, classify("quotas", err)
		}
		out = append(out, q)
	}
	return out, classify("quotas", rows.Err())
}

// RememberNonce records a nonce unless the sender used it already.
func (s *Store) RememberNonce(ctx context.Context, sender string, nonce []byte, expires time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, "INSERT INTO exchange_nonces (sender, nonce, expires) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		sender, nonce, expires.UnixMicro())
	if err != nil {
		return false, classify("nonce", err)
	}
	n, err := res.RowsAffected()
	return n == 1, classify("nonce", err)
}

// Nonces returns the nonces that expire after t.
func (s *Store) Nonces(ctx context.Context, after time.Time) ([]store.ExchangeNonce, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT sender, nonce, expires FROM exchange_nonces WHERE expires > ?", after.UnixMicro())
	if err != nil {
		return nil, classify("nonces", err)
	}
	defer rows.Close()
	var out []store.ExchangeNonce
	for rows.Next() {
		var n store.ExchangeNonce
		var exp int64
		if err := rows.Scan(&n.Sender, &n.Nonce, &exp); err != nil {
			return nil, classify("nonces", err)
		}
		n.Expires = fromMicros(sql.NullInt64{Int64: exp, Valid: true})
		out = append(out, n)
	}
	return out, classify("nonces", rows.Err())
}

// PutCase writes a case.
func (s *Store) PutCase(ctx context.Context, c store.ExchangeCase) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO exchange_cases (id, agreement, status, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET agreement = excluded.agreement, status = excluded.status, data = excluded.data`,
		c.ID, c.Agreement, c.Status, c.Data)
	return classify("case", err)
}

// DeleteCase deletes a case.
func (s *Store) DeleteCase(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, "DELETE FROM exchange_cases WHERE id = ?", id)
	return classify("delete case", err)
}

// Cases returns every case, by id.
func (s *Store) Cases(ctx context.Context) ([]store.ExchangeCase, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, agreement, status, data FROM exchange_cases ORDER BY id")
	if err != nil {
		return nil, classify("cases", err)
	}
	defer rows.Close()
	var out []store.ExchangeCase
	for rows.Next() {
		var c store.ExchangeCase
		if err := rows.Scan(&c.ID, &c.Agreement, &c.Status, &c.Data); err != nil {
			return nil, classify("cases", err)
		}
		out = append(out, c)
	}
	return out, classify("cases", rows.Err())
}

// PruneExchange deletes expired nonces and past days' quota counts.
func (s *Store) PruneExchange(ctx context.Context, now time.Time, day string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return classify("prune exchange", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM exchange_nonces WHERE expires < ?", now.UnixMicro()); err != nil {
		return classify("prune exchange", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM exchange_quota WHERE day < ?", day); err != nil {
		return classify("prune exchange", err)
	}
	return classify("prune exchange", tx.Commit())
}
