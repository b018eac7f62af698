package sqlite

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ebsp/ebsp/store"
)

// Erase deletes the identity; the schema's ON DELETE CASCADE removes its
// encounters, samples, templates and flags in the same statement.
func (s *Store) Erase(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM identities WHERE id = ?", id)
	if err != nil {
		return classify("erase", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classify("erase", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: erase %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// ExpireBefore deletes, in one transaction, every identity whose expiry is
// before t (with everything it holds) and every flag whose own expiry is
// before t, and returns the deleted identities' ids in order.
func (s *Store) ExpireBefore(ctx context.Context, t time.Time) ([]string, error) {
	// Stored expiries are whole microseconds: e < t exactly when e is
	// below t rounded up to the next microsecond.
	cut := t.UnixMicro()
	if time.UnixMicro(cut).Before(t) {
		cut++
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, classify("expire", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "DELETE FROM identities WHERE expiry IS NOT NULL AND expiry < ? RETURNING id", cut)
	if err != nil {
		return nil, classify("expire", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, classify("expire", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify("expire", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM flags WHERE expiry IS NOT NULL AND expiry < ?", cut); err != nil {
		return nil, classify("expire flags", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, classify("expire: commit", err)
	}
	sort.Strings(ids)
	return ids, nil
}
