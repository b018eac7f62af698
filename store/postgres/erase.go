package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebsp/ebsp/store"
)

// Erase deletes the identity; the schema's ON DELETE CASCADE removes its
// encounters, samples, templates and flags in the same statement.
func (s *Store) Erase(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM identities WHERE id = $1", id)
	if err != nil {
		return classify("erase", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: erase %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// ExpireBefore deletes, in one transaction, every identity whose expiry is
// before t (with everything it holds) and every flag whose own expiry is
// before t, and returns the deleted identities' ids in order.
func (s *Store) ExpireBefore(ctx context.Context, t time.Time) ([]string, error) {
	// Stored expiries are whole microseconds: e < t exactly when e is
	// below t rounded up to the next microsecond.
	cut := t.Truncate(time.Microsecond)
	if cut.Before(t) {
		cut = cut.Add(time.Microsecond)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, classify("expire", err)
	}
	defer tx.Rollback(ctx)
	rows, _ := tx.Query(ctx, "DELETE FROM identities WHERE expiry < $1 RETURNING id", cut)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, classify("expire", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM flags WHERE expiry < $1", cut); err != nil {
		return nil, classify("expire flags", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, classify("expire: commit", err)
	}
	sort.Strings(ids)
	return ids, nil
}
