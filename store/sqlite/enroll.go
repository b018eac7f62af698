package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ebsp/ebsp/store"
)

const (
	insertIdentity = `INSERT INTO identities
		(id, names, date_of_birth, nationality, case_ref, created, source_agency, legal_basis, expiry)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	insertEncounter = `INSERT INTO encounters
		(id, identity_id, time, place, agency, purpose, source_agency, legal_basis, expiry)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertSample = `INSERT INTO samples
		(id, encounter_id, modality, position, format, data, quality, source_agency, legal_basis, expiry)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertTemplate = `INSERT INTO templates (id, sample_id, algorithm, version, data) VALUES (?, ?, ?, ?, ?)`
	insertFlag     = `INSERT INTO flags
		(id, identity_id, category, source, created, source_agency, legal_basis, expiry)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
)

func writeEnrolment(ctx context.Context, tx *sql.Tx, e *store.Enrolment) error {
	id := &e.Identity
	if _, err := tx.ExecContext(ctx, insertIdentity, id.ID, jsonList(id.Names), id.DateOfBirth,
		jsonList(id.Nationality), id.CaseRef, id.Created.UnixMicro(), id.SourceAgency, id.LegalBasis,
		micros(id.Expiry)); err != nil {
		return fmt.Errorf("identity %q: %w", id.ID, err)
	}
	enc := &e.Encounter
	if _, err := tx.ExecContext(ctx, insertEncounter, enc.ID, enc.IdentityID, enc.Time.UnixMicro(),
		enc.Place, enc.Agency, enc.Purpose, enc.SourceAgency, enc.LegalBasis, micros(enc.Expiry)); err != nil {
		return fmt.Errorf("encounter %q: %w", enc.ID, err)
	}
	for i := range e.Samples {
		sm := &e.Samples[i]
		if _, err := tx.ExecContext(ctx, insertSample, sm.ID, sm.EncounterID, string(sm.Modality), int(sm.Position),
			sm.Format, sm.Data, sm.Quality, sm.SourceAgency, sm.LegalBasis, micros(sm.Expiry)); err != nil {
			return fmt.Errorf("sample %q: %w", sm.ID, err)
		}
	}
	for i := range e.Templates {
		t := &e.Templates[i]
		if _, err := tx.ExecContext(ctx, insertTemplate, t.ID, t.SampleID, t.Algorithm, t.Version, t.Data); err != nil {
			return fmt.Errorf("template %q: %w", t.ID, err)
		}
	}
	for i := range e.Flags {
		if err := writeFlag(ctx, tx, &e.Flags[i]); err != nil {
			return err
		}
	}
	return nil
}

func writeFlag(ctx context.Context, tx *sql.Tx, f *store.Flag) error {
	if _, err := tx.ExecContext(ctx, insertFlag, f.ID, f.IdentityID, f.Category, f.Source, f.Created.UnixMicro(),
		f.SourceAgency, f.LegalBasis, micros(f.Expiry)); err != nil {
		return fmt.Errorf("flag %q: %w", f.ID, err)
	}
	return nil
}

// AddFlag attaches a flag to an existing identity (ErrNotFound if there is
// none).
func (s *Store) AddFlag(ctx context.Context, f store.Flag) error {
	f, err := store.PrepareFlag(f, time.Now())
	if err != nil {
		return classify("add flag", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return classify("add flag: begin", err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, "SELECT 1 FROM identities WHERE id = ?", f.IdentityID).Scan(&one)
	if err == sql.ErrNoRows {
		return fmt.Errorf("sqlite: add flag %q: identity %q: %w", f.ID, f.IdentityID, store.ErrNotFound)
	}
	if err != nil {
		return classify("add flag", err)
	}
	if err := writeFlag(ctx, tx, &f); err != nil {
		return classify("add flag", err)
	}
	return classify("add flag: commit", tx.Commit())
}

// micros is t as stored: microseconds since the Unix epoch, NULL for zero.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// jsonList stores a list as a JSON array, NULL when empty.
func jsonList(l []string) any {
	if len(l) == 0 {
		return nil
	}
	b, err := json.Marshal(l)
	if err != nil { // []string always marshals
		panic(err)
	}
	return string(b)
}

func parseList(v sql.NullString) ([]string, error) {
	if !v.Valid || v.String == "" {
		return nil, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(v.String), &l); err != nil {
		return nil, fmt.Errorf("stored list %.40q: %v", v.String, err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}
