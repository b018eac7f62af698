package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// Identity reads an identity and what hangs off it in one read transaction,
// so the parts agree. Encounters come in time order, samples in their
// encounters' order then by id, flags in creation order.
func (s *Store) Identity(ctx context.Context, id string) (store.IdentityRecord, error) {
	var rec store.IdentityRecord
	if !store.ValidID(id) {
		return rec, fmt.Errorf("sqlite: identity %q: %w", id, store.ErrNotFound)
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rec, classify("identity", err)
	}
	defer tx.Rollback()

	in := &rec.Identity
	var names, nat sql.NullString
	var created int64
	var expiry sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT id, names, date_of_birth, nationality, case_ref, created,
		source_agency, legal_basis, expiry FROM identities WHERE id = ?`, id).
		Scan(&in.ID, &names, &in.DateOfBirth, &nat, &in.CaseRef, &created, &in.SourceAgency, &in.LegalBasis, &expiry)
	if err == sql.ErrNoRows {
		return rec, fmt.Errorf("sqlite: identity %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return rec, classify("identity", err)
	}
	in.Created = fromMicros(sql.NullInt64{Int64: created, Valid: true})
	in.Expiry = fromMicros(expiry)
	if in.Names, err = parseList(names); err != nil {
		return rec, fmt.Errorf("sqlite: identity %q: names: %v", id, err)
	}
	if in.Nationality, err = parseList(nat); err != nil {
		return rec, fmt.Errorf("sqlite: identity %q: nationality: %v", id, err)
	}

	if rec.Encounters, err = readEncounters(ctx, tx, id); err != nil {
		return rec, classify("identity "+id+": encounters", err)
	}
	if rec.Samples, err = readSamples(ctx, tx, id); err != nil {
		return rec, classify("identity "+id+": samples", err)
	}
	if rec.Flags, err = readFlags(ctx, tx, id); err != nil {
		return rec, classify("identity "+id+": flags", err)
	}
	return rec, nil
}

func readEncounters(ctx context.Context, tx *sql.Tx, id string) ([]store.Encounter, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, identity_id, time, place, agency, purpose, source_agency,
		legal_basis, expiry FROM encounters WHERE identity_id = ? ORDER BY time, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Encounter
	for rows.Next() {
		var e store.Encounter
		var t int64
		var expiry sql.NullInt64
		if err := rows.Scan(&e.ID, &e.IdentityID, &t, &e.Place, &e.Agency, &e.Purpose, &e.SourceAgency,
			&e.LegalBasis, &expiry); err != nil {
			return nil, err
		}
		e.Time = fromMicros(sql.NullInt64{Int64: t, Valid: true})
		e.Expiry = fromMicros(expiry)
		out = append(out, e)
	}
	return out, rows.Err()
}

func readSamples(ctx context.Context, tx *sql.Tx, id string) ([]store.Sample, error) {
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.encounter_id, s.modality, s.position, s.format, s.data,
		s.quality, s.source_agency, s.legal_basis, s.expiry
		FROM samples s JOIN encounters e ON e.id = s.encounter_id
		WHERE e.identity_id = ? ORDER BY e.time, e.id, s.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Sample
	for rows.Next() {
		var s store.Sample
		var modality string
		var pos int
		var expiry sql.NullInt64
		if err := rows.Scan(&s.ID, &s.EncounterID, &modality, &pos, &s.Format, &s.Data, &s.Quality,
			&s.SourceAgency, &s.LegalBasis, &expiry); err != nil {
			return nil, err
		}
		s.Modality = biometric.Modality(modality)
		s.Position = biometric.FingerPosition(pos)
		s.Expiry = fromMicros(expiry)
		out = append(out, s)
	}
	return out, rows.Err()
}

func readFlags(ctx context.Context, tx *sql.Tx, id string) ([]store.Flag, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, identity_id, category, source, created, source_agency,
		legal_basis, expiry FROM flags WHERE identity_id = ? ORDER BY created, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Flag
	for rows.Next() {
		var f store.Flag
		var created int64
		var expiry sql.NullInt64
		if err := rows.Scan(&f.ID, &f.IdentityID, &f.Category, &f.Source, &created, &f.SourceAgency,
			&f.LegalBasis, &expiry); err != nil {
			return nil, err
		}
		f.Created = fromMicros(sql.NullInt64{Int64: created, Valid: true})
		f.Expiry = fromMicros(expiry)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Gallery streams the templates of modality m, row by row, from one SELECT
// on a read connection: the statement reads one consistent snapshot of the
// file (WAL), nothing is gathered in memory, and enrolments can commit
// meanwhile (they are not in the snapshot). Each entry's Data is a fresh
// slice that fn may keep.
func (s *Store) Gallery(ctx context.Context, m biometric.Modality, fn func(store.GalleryEntry) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT e.identity_id, s.position, t.algorithm, t.id, t.data
		FROM templates t
		JOIN samples s ON s.id = t.sample_id
		JOIN encounters e ON e.id = s.encounter_id
		WHERE s.modality = ?`, string(m))
	if err != nil {
		return classify("gallery", err)
	}
	defer rows.Close()
	for rows.Next() {
		// database/sql reacts to a cancelled context asynchronously;
		// checking here makes a walk that fn cancels stop at once.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sqlite: gallery: %w", err)
		}
		g := store.GalleryEntry{Modality: m}
		var pos int
		if err := rows.Scan(&g.IdentityID, &pos, &g.Algorithm, &g.TemplateID, &g.Data); err != nil {
			return classify("gallery", err)
		}
		g.Position = biometric.FingerPosition(pos)
		if err := fn(g); err != nil {
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
	err = s.r.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM identities), (SELECT count(*) FROM templates)").
		Scan(&identities, &templates)
	if err != nil {
		return 0, 0, classify("counts", err)
	}
	return identities, templates, nil
}

// EncounterIdentity returns the identity of an encounter.
func (s *Store) EncounterIdentity(ctx context.Context, encounterID string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, "SELECT identity_id FROM encounters WHERE id = ?", encounterID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", fmt.Errorf("sqlite: encounter %q: %w", encounterID, store.ErrNotFound)
	}
	return id, classify("encounter", err)
}
