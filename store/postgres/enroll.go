package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ebsp/ebsp/store"
)

const (
	insertIdentity = `INSERT INTO identities
		(id, names, date_of_birth, nationality, case_ref, created, source_agency, legal_basis, expiry)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`
	insertEncounter = `INSERT INTO encounters
		(id, identity_id, time, place, agency, purpose, source_agency, legal_basis, expiry)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	insertSample = `INSERT INTO samples
		(id, encounter_id, modality, position, format, data, quality, source_agency, legal_basis, expiry)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	insertTemplate = `INSERT INTO templates (id, sample_id, algorithm, version, data) VALUES ($1, $2, $3, $4, $5)`
	insertFlag     = `INSERT INTO flags
		(id, identity_id, category, source, created, source_agency, legal_basis, expiry)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
)

// Enroll writes the enrolment in one transaction, its inserts sent as one
// pipelined batch (one round trip instead of one per row). An existing
// identity is kept as it is and gains the encounter; two first enrolments
// of one identity racing each other both succeed (ON CONFLICT DO NOTHING
// waits for the other transaction). Any failure rolls everything back.
func (s *Store) Enroll(ctx context.Context, e store.Enrolment) error {
	e, err := store.PrepareEnrolment(e, time.Now())
	if err != nil {
		return classify("enroll", err)
	}
	b := &pgx.Batch{}
	id := &e.Identity
	b.Queue(insertIdentity, id.ID, id.Names, id.DateOfBirth, id.Nationality, id.CaseRef, id.Created,
		id.SourceAgency, id.LegalBasis, nullTime(id.Expiry))
	enc := &e.Encounter
	b.Queue(insertEncounter, enc.ID, enc.IdentityID, enc.Time, enc.Place, enc.Agency, enc.Purpose,
		enc.SourceAgency, enc.LegalBasis, nullTime(enc.Expiry))
	for i := range e.Samples {
		sm := &e.Samples[i]
		b.Queue(insertSample, sm.ID, sm.EncounterID, string(sm.Modality), int16(sm.Position), sm.Format, sm.Data,
			int16(sm.Quality), sm.SourceAgency, sm.LegalBasis, nullTime(sm.Expiry))
	}
	for i := range e.Templates {
		t := &e.Templates[i]
		b.Queue(insertTemplate, t.ID, t.SampleID, t.Algorithm, t.Version, t.Data)
	}
	for i := range e.Flags {
		queueFlag(b, &e.Flags[i])
	}

	// A batch sent outside an explicit transaction runs as one implicit
	// transaction: the inserts are pipelined and followed by a single Sync,
	// and the server commits at the Sync or, on the first error, rolls
	// everything back (PostgreSQL docs, protocol flow, "Pipelining":
	// protocol-flow.html#PROTOCOL-FLOW-PIPELINING). pgx prepares statements
	// it has not cached in a separate step that executes nothing. Close
	// returns after the server's reply to the Sync, that is after the
	// durable commit: one round trip per enrolment instead of three.
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return classify("enroll "+enc.ID, err)
	}
	return nil
}

func queueFlag(b *pgx.Batch, f *store.Flag) {
	b.Queue(insertFlag, f.ID, f.IdentityID, f.Category, f.Source, f.Created, f.SourceAgency, f.LegalBasis, nullTime(f.Expiry))
}

// AddFlag attaches a flag to an existing identity (ErrNotFound if there is
// none: the foreign key decides, so a concurrent Erase cannot slip between
// a check and the insert).
func (s *Store) AddFlag(ctx context.Context, f store.Flag) error {
	f, err := store.PrepareFlag(f, time.Now())
	if err != nil {
		return classify("add flag", err)
	}
	_, err = s.pool.Exec(ctx, insertFlag, f.ID, f.IdentityID, f.Category, f.Source, f.Created, f.SourceAgency, f.LegalBasis, nullTime(f.Expiry))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeForeignKeyViolation {
		return fmt.Errorf("postgres: add flag %q: identity %q: %w", f.ID, f.IdentityID, store.ErrNotFound)
	}
	return classify("add flag", err)
}

// nullTime is t as a timestamptz parameter, NULL for zero.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromNull is the inverse of nullTime, in UTC.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
