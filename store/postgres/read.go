package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// Identity reads an identity and what hangs off it in one read-only
// REPEATABLE READ transaction, so the parts come from one snapshot.
// Encounters come in time order, samples in their encounters' order then by
// id, flags in creation order.
func (s *Store) Identity(ctx context.Context, id string) (store.IdentityRecord, error) {
	var rec store.IdentityRecord
	if !store.ValidID(id) {
		return rec, fmt.Errorf("postgres: identity %q: %w", id, store.ErrNotFound)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return rec, classify("identity", err)
	}
	defer tx.Rollback(ctx)

	in := &rec.Identity
	var expiry *time.Time
	err = tx.QueryRow(ctx, `SELECT id, names, date_of_birth, nationality, case_ref, created, source_agency,
		legal_basis, expiry FROM identities WHERE id = $1`, id).
		Scan(&in.ID, &in.Names, &in.DateOfBirth, &in.Nationality, &in.CaseRef, &in.Created, &in.SourceAgency,
			&in.LegalBasis, &expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		return rec, fmt.Errorf("postgres: identity %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return rec, classify("identity", err)
	}
	in.Created = in.Created.UTC()
	in.Expiry = fromNull(expiry)
	if len(in.Names) == 0 {
		in.Names = nil
	}
	if len(in.Nationality) == 0 {
		in.Nationality = nil
	}

	rows, _ := tx.Query(ctx, `SELECT id, identity_id, time, place, agency, purpose, source_agency, legal_basis,
		expiry FROM encounters WHERE identity_id = $1 ORDER BY time, id`, id)
	rec.Encounters, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Encounter, error) {
		var e store.Encounter
		var expiry *time.Time
		err := r.Scan(&e.ID, &e.IdentityID, &e.Time, &e.Place, &e.Agency, &e.Purpose, &e.SourceAgency, &e.LegalBasis, &expiry)
		e.Time = e.Time.UTC()
		e.Expiry = fromNull(expiry)
		return e, err
	})
	if err != nil {
		return rec, classify("identity "+id+": encounters", err)
	}

	rows, _ = tx.Query(ctx, `SELECT s.id, s.encounter_id, s.modality, s.position, s.format, s.data, s.quality,
		s.source_agency, s.legal_basis, s.expiry
		FROM samples s JOIN encounters e ON e.id = s.encounter_id
		WHERE e.identity_id = $1 ORDER BY e.time, e.id, s.id`, id)
	rec.Samples, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Sample, error) {
		var sm store.Sample
		var modality string
		var pos, quality int16
		var expiry *time.Time
		err := r.Scan(&sm.ID, &sm.EncounterID, &modality, &pos, &sm.Format, &sm.Data, &quality,
			&sm.SourceAgency, &sm.LegalBasis, &expiry)
		sm.Modality = biometric.Modality(modality)
		sm.Position = biometric.FingerPosition(pos)
		sm.Quality = int(quality)
		sm.Expiry = fromNull(expiry)
		return sm, err
	})
	if err != nil {
		return rec, classify("identity "+id+": samples", err)
	}

	rows, _ = tx.Query(ctx, `SELECT id, identity_id, category, source, created, source_agency, legal_basis, expiry
		FROM flags WHERE identity_id = $1 ORDER BY created, id`, id)
	rec.Flags, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Flag, error) {
		var f store.Flag
		var expiry *time.Time
		err := r.Scan(&f.ID, &f.IdentityID, &f.Category, &f.Source, &f.Created, &f.SourceAgency, &f.LegalBasis, &expiry)
		f.Created = f.Created.UTC()
		f.Expiry = fromNull(expiry)
		return f, err
	})
	if err != nil {
		return rec, classify("identity "+id+": flags", err)
	}
	return rec, nil
}

// Gallery streams the templates of modality m from one query: pgx hands
// over each row as it arrives from the server, so memory stays flat however
// large the gallery, and the query sees one snapshot. Each entry's Data is
// a fresh slice that fn may keep. When fn fails or ctx ends, the query is
// cancelled rather than read to its end.
func (s *Store) Gallery(ctx context.Context, m biometric.Modality, fn func(store.GalleryEntry) error) error {
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := s.pool.Query(qctx, `SELECT e.identity_id, s.position, t.algorithm, t.id, t.data
		FROM templates t
		JOIN samples s ON s.id = t.sample_id
		JOIN encounters e ON e.id = s.encounter_id
		WHERE s.modality = $1`, string(m))
	if err != nil {
		return classify("gallery", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			cancel()
			return fmt.Errorf("postgres: gallery: %w", err)
		}
		g := store.GalleryEntry{Modality: m}
		var pos int16
		if err := rows.Scan(&g.IdentityID, &pos, &g.Algorithm, &g.TemplateID, &g.Data); err != nil {
			cancel()
			return classify("gallery", err)
		}
		g.Position = biometric.FingerPosition(pos)
		if err := fn(g); err != nil {
			cancel() // before rows.Close, which would otherwise read the rest
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return classify("gallery", err)
	}
	return nil
}

// Counts returns the number of identities and of templates.
func (s *Store) Counts(ctx context.Context) (identities, templates int, err error) {
	err = s.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM identities), (SELECT count(*) FROM templates)").
		Scan(&identities, &templates)
	if err != nil {
		return 0, 0, classify("counts", err)
	}
	return identities, templates, nil
}

// EncounterIdentity returns the identity of an encounter.
func (s *Store) EncounterIdentity(ctx context.Context, encounterID string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, "SELECT identity_id FROM encounters WHERE id = $1", encounterID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("postgres: encounter %q: %w", encounterID, store.ErrNotFound)
	}
	return id, classify("encounter", err)
}
