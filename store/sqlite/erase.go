package sqlite

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// Erase deletes the identity; the schema's ON DELETE CASCADE removes its
// encounters, samples, templates and flags in the same statement.
func (s *Store) Erase(ctx context.Context, id string) error {
	if !store.ValidID(id) {
		return fmt.Errorf("sqlite: erase %q: %w", id, store.ErrNotFound)
	}
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
	cut := store.CeilMicro(t).UnixMicro()
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

var _ store.RecordExpirer = (*Store)(nil)

// expiredTemplates lists the templates of samples past their expiry and of
// samples of encounters past theirs (UNION, so each index serves its half).
const expiredTemplates = `
	SELECT e.identity_id, t.id, s.modality FROM samples s
		JOIN templates t ON t.sample_id = s.id
		JOIN encounters e ON e.id = s.encounter_id
		WHERE s.expiry IS NOT NULL AND s.expiry < ?1
	UNION
	SELECT e.identity_id, t.id, s.modality FROM encounters e
		JOIN samples s ON s.encounter_id = e.id
		JOIN templates t ON t.sample_id = s.id
		WHERE e.expiry IS NOT NULL AND e.expiry < ?1`

// ExpireRecordsBefore deletes encounters and samples whose own expiry is
// before t (their samples and templates go by cascade) and returns the
// templates deleted, in one transaction.
func (s *Store) ExpireRecordsBefore(ctx context.Context, t time.Time) ([]store.ExpiredTemplate, error) {
	cut := store.CeilMicro(t).UnixMicro()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, classify("expire records", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, expiredTemplates, cut)
	if err != nil {
		return nil, classify("expire records", err)
	}
	var out []store.ExpiredTemplate
	for rows.Next() {
		var x store.ExpiredTemplate
		var m string
		if err := rows.Scan(&x.IdentityID, &x.TemplateID, &m); err != nil {
			rows.Close()
			return nil, classify("expire records", err)
		}
		x.Modality = biometric.Modality(m)
		out = append(out, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify("expire records", err)
	}
	for _, q := range []string{
		"DELETE FROM encounters WHERE expiry IS NOT NULL AND expiry < ?",
		"DELETE FROM samples WHERE expiry IS NOT NULL AND expiry < ?",
	} {
		if _, err := tx.ExecContext(ctx, q, cut); err != nil {
			return nil, classify("expire records", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, classify("expire records: commit", err)
	}
	return out, nil
}
