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

// queryAll runs a read query and scans every row with scan.
func queryAll[T any](ctx context.Context, s *Store, op, q string, scan func(*sql.Rows) (T, error), args ...any) ([]T, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, classify(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, classify(op, err)
		}
		out = append(out, v)
	}
	return out, classify(op, rows.Err())
}

// AgreementStatuses returns every recorded agreement status.
func (s *Store) AgreementStatuses(ctx context.Context) ([]store.AgreementStatus, error) {
	return queryAll(ctx, s, "agreement statuses", "SELECT agreement, suspended, actor, changed FROM exchange_agreements ORDER BY agreement",
		func(rows *sql.Rows) (store.AgreementStatus, error) {
			var a store.AgreementStatus
			var changed int64
			err := rows.Scan(&a.Agreement, &a.Suspended, &a.Actor, &changed)
			a.Changed = fromMicros(sql.NullInt64{Int64: changed, Valid: true})
			return a, err
		})
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
	return queryAll(ctx, s, "quotas", `SELECT agreement, partner, search_type, day, used FROM exchange_quota WHERE day = ?
		ORDER BY agreement, partner, search_type`, func(rows *sql.Rows) (store.ExchangeQuota, error) {
		var q store.ExchangeQuota
		err := rows.Scan(&q.Agreement, &q.Partner, &q.SearchType, &q.Day, &q.Used)
		return q, err
	}, day)
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
	return queryAll(ctx, s, "nonces", "SELECT sender, nonce, expires FROM exchange_nonces WHERE expires > ?", func(rows *sql.Rows) (store.ExchangeNonce, error) {
		var n store.ExchangeNonce
		var exp int64
		err := rows.Scan(&n.Sender, &n.Nonce, &exp)
		n.Expires = fromMicros(sql.NullInt64{Int64: exp, Valid: true})
		return n, err
	}, after.UnixMicro())
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
	return queryAll(ctx, s, "cases", "SELECT id, agreement, status, data FROM exchange_cases ORDER BY id", func(rows *sql.Rows) (store.ExchangeCase, error) {
		var c store.ExchangeCase
		err := rows.Scan(&c.ID, &c.Agreement, &c.Status, &c.Data)
		return c, err
	})
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
