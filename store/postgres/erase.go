package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// Erase deletes the identity; the schema's ON DELETE CASCADE removes its
// encounters, samples, templates and flags in the same statement.
func (s *Store) Erase(ctx context.Context, id string) error {
	if !store.ValidID(id) {
		return fmt.Errorf("postgres: erase %q: %w", id, store.ErrNotFound)
	}
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
	cut := store.CeilMicro(t)
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

var _ store.RecordExpirer = (*Store)(nil)

// ExpireRecordsBefore deletes encounters and samples whose own expiry is
// before t (their samples and templates go by cascade) and returns the
// templates deleted, in one transaction. The listing and the deletes see
// one REPEATABLE READ snapshot, so a record committed meanwhile cannot be
// deleted without being listed (a concurrent change to a listed row makes
// the transaction fail with a serialization error instead; call again).
func (s *Store) ExpireRecordsBefore(ctx context.Context, t time.Time) ([]store.ExpiredTemplate, error) {
	cut := store.CeilMicro(t)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, classify("expire records", err)
	}
	defer tx.Rollback(ctx)
	// UNION rather than OR, so each half can use its partial index.
	rows, _ := tx.Query(ctx, `
		SELECT e.identity_id, t.id, s.modality FROM samples s
			JOIN templates t ON t.sample_id = s.id
			JOIN encounters e ON e.id = s.encounter_id
			WHERE s.expiry < $1
		UNION
		SELECT e.identity_id, t.id, s.modality FROM encounters e
			JOIN samples s ON s.encounter_id = e.id
			JOIN templates t ON t.sample_id = s.id
			WHERE e.expiry < $1`, cut)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ExpiredTemplate, error) {
		var x store.ExpiredTemplate
		var m string
		err := r.Scan(&x.IdentityID, &x.TemplateID, &m)
		x.Modality = biometric.Modality(m)
		return x, err
	})
	if err != nil {
		return nil, classify("expire records", err)
	}
	for _, q := range []string{
		"DELETE FROM encounters WHERE expiry < $1",
		"DELETE FROM samples WHERE expiry < $1",
	} {
		if _, err := tx.Exec(ctx, q, cut); err != nil {
			return nil, classify("expire records", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, classify("expire records: commit", err)
	}
	return out, nil
}
