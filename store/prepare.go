package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ebsp/ebsp/biometric"
)

// Limits every engine enforces, so that one record cannot be unbounded.
const (
	// MaxIDLen bounds every record id (bytes).
	MaxIDLen = 200
	// MaxTextLen bounds every free-text field (bytes).
	MaxTextLen = 2000
	// MaxQuality is the top of the quality scale: 0-100 as in
	// ISO/IEC 29794-1 and NFIQ 2.
	MaxQuality = 100
)

// PrepareEnrolment checks an enrolment and returns it as an engine stores
// it. It is what every engine calls before writing, so both engines accept
// and refuse exactly the same enrolments; the node may call it to check a
// request early. now fills the times the caller left zero.
//
// The rules:
//   - Identity.ID, Encounter.ID, every Sample.ID, Template.ID and Flag.ID are
//     required, at most MaxIDLen bytes; an id used twice within the
//     enrolment is ErrDuplicate.
//   - Identity.SourceAgency and Identity.LegalBasis are required. An
//     encounter, sample or flag that leaves its SourceAgency or LegalBasis
//     empty inherits it from its parent (sample from encounter, encounter
//     and flag from identity), so every stored record carries both. Expiry
//     is not inherited: zero means the record lives as long as its parent.
//   - Encounter.IdentityID, Sample.EncounterID and Flag.IdentityID may be
//     left empty (they are filled in) and must otherwise name the parent in
//     this enrolment.
//   - A sample's modality must be known; a finger sample's position must be
//     an ANSI/NIST-ITL FGP code (biometric.FingerPosition.Valid), other
//     modalities have position 0; quality is 0-MaxQuality.
//   - A template must name a sample of this enrolment, an algorithm, and
//     carry bytes.
//   - A flag needs a category and a source.
//   - Identity.Created, Encounter.Time and Flag.Created default to now.
//     Every time is converted to UTC and truncated to microseconds, the
//     precision both engines keep.
//
// Errors wrap ErrInvalid or ErrDuplicate and say which record and field.
func PrepareEnrolment(e Enrolment, now time.Time) (Enrolment, error) {
	now = storeTime(now)
	id := &e.Identity
	if err := checkID("identity", "", id.ID); err != nil {
		return e, err
	}
	if err := checkProvenance("identity "+quote(id.ID), &id.Provenance, nil); err != nil {
		return e, err
	}
	if err := checkText("identity "+quote(id.ID), "date_of_birth", id.DateOfBirth); err != nil {
		return e, err
	}
	if err := checkText("identity "+quote(id.ID), "case_reference", id.CaseRef); err != nil {
		return e, err
	}
	for _, list := range [][]string{id.Names, id.Nationality} {
		for _, s := range list {
			if err := checkText("identity "+quote(id.ID), "names/nationality", s); err != nil {
				return e, err
			}
		}
	}
	id.Names = nilIfEmpty(id.Names)
	id.Nationality = nilIfEmpty(id.Nationality)
	id.Created = orNow(id.Created, now)
	id.Expiry = storeTime(id.Expiry)

	enc := &e.Encounter
	where := "encounter " + quote(enc.ID)
	if err := checkID("encounter", "", enc.ID); err != nil {
		return e, err
	}
	if enc.IdentityID == "" {
		enc.IdentityID = id.ID
	} else if enc.IdentityID != id.ID {
		return e, fmt.Errorf("%w: %s: identity_id %q is not the enrolment's identity %q", ErrInvalid, where, enc.IdentityID, id.ID)
	}
	for _, f := range []struct{ name, v string }{{"place", enc.Place}, {"agency", enc.Agency}, {"purpose", enc.Purpose}} {
		if err := checkText(where, f.name, f.v); err != nil {
			return e, err
		}
	}
	if err := checkProvenance(where, &enc.Provenance, &id.Provenance); err != nil {
		return e, err
	}
	enc.Time = orNow(enc.Time, now)

	samples := make(map[string]bool, len(e.Samples))
	e.Samples = append([]Sample(nil), e.Samples...)
	for i := range e.Samples {
		s := &e.Samples[i]
		where := fmt.Sprintf("sample %d (%q)", i, s.ID)
		if err := checkID("sample", where, s.ID); err != nil {
			return e, err
		}
		if samples[s.ID] {
			return e, fmt.Errorf("%w: %s: id used twice in the enrolment", ErrDuplicate, where)
		}
		samples[s.ID] = true
		if s.EncounterID == "" {
			s.EncounterID = enc.ID
		} else if s.EncounterID != enc.ID {
			return e, fmt.Errorf("%w: %s: encounter_id %q is not the enrolment's encounter %q", ErrInvalid, where, s.EncounterID, enc.ID)
		}
		if !s.Modality.Valid() {
			return e, fmt.Errorf("%w: %s: modality %q unknown", ErrInvalid, where, s.Modality)
		}
		if s.Modality == biometric.Finger && !s.Position.Valid() {
			return e, fmt.Errorf("%w: %s: finger position %d is not an ANSI/NIST-ITL FGP code", ErrInvalid, where, s.Position)
		}
		if s.Modality != biometric.Finger && s.Position != 0 {
			return e, fmt.Errorf("%w: %s: position %d given for modality %q", ErrInvalid, where, s.Position, s.Modality)
		}
		if s.Quality < 0 || s.Quality > MaxQuality {
			return e, fmt.Errorf("%w: %s: quality %d outside 0-%d", ErrInvalid, where, s.Quality, MaxQuality)
		}
		if err := checkText(where, "format", s.Format); err != nil {
			return e, err
		}
		if err := checkProvenance(where, &s.Provenance, &enc.Provenance); err != nil {
			return e, err
		}
	}

	templates := make(map[string]bool, len(e.Templates))
	for i, t := range e.Templates {
		where := fmt.Sprintf("template %d (%q)", i, t.ID)
		if err := checkID("template", where, t.ID); err != nil {
			return e, err
		}
		if templates[t.ID] {
			return e, fmt.Errorf("%w: %s: id used twice in the enrolment", ErrDuplicate, where)
		}
		templates[t.ID] = true
		if !samples[t.SampleID] {
			return e, fmt.Errorf("%w: %s: sample_id %q is not a sample of this enrolment", ErrInvalid, where, t.SampleID)
		}
		if t.Algorithm == "" {
			return e, fmt.Errorf("%w: %s: algorithm missing", ErrInvalid, where)
		}
		if err := checkText(where, "algorithm", t.Algorithm); err != nil {
			return e, err
		}
		if err := checkText(where, "version", t.Version); err != nil {
			return e, err
		}
		if len(t.Data) == 0 {
			return e, fmt.Errorf("%w: %s: no template bytes", ErrInvalid, where)
		}
	}

	flags := make(map[string]bool, len(e.Flags))
	e.Flags = append([]Flag(nil), e.Flags...)
	for i := range e.Flags {
		f := &e.Flags[i]
		where := fmt.Sprintf("flag %d (%q)", i, f.ID)
		if flags[f.ID] {
			return e, fmt.Errorf("%w: %s: id used twice in the enrolment", ErrDuplicate, where)
		}
		flags[f.ID] = true
		if f.IdentityID == "" {
			f.IdentityID = id.ID
		} else if f.IdentityID != id.ID {
			return e, fmt.Errorf("%w: %s: identity_id %q is not the enrolment's identity %q", ErrInvalid, where, f.IdentityID, id.ID)
		}
		if err := prepareFlag(f, &id.Provenance, now); err != nil {
			return e, err
		}
	}
	return e, nil
}

// PrepareFlag checks a flag for AddFlag and returns it as an engine stores
// it: id, identity id, category, source, source agency and legal basis are
// required; Created defaults to now.
func PrepareFlag(f Flag, now time.Time) (Flag, error) {
	if f.IdentityID == "" {
		return f, fmt.Errorf("%w: flag %q: identity_id missing", ErrInvalid, f.ID)
	}
	if err := checkText("flag "+quote(f.ID), "identity_id", f.IdentityID); err != nil {
		return f, err
	}
	err := prepareFlag(&f, nil, storeTime(now))
	return f, err
}

func prepareFlag(f *Flag, parent *Provenance, now time.Time) error {
	where := "flag " + quote(f.ID)
	if err := checkID("flag", where, f.ID); err != nil {
		return err
	}
	if f.Category == "" {
		return fmt.Errorf("%w: %s: category missing", ErrInvalid, where)
	}
	if f.Source == "" {
		return fmt.Errorf("%w: %s: source missing", ErrInvalid, where)
	}
	if err := checkText(where, "category", f.Category); err != nil {
		return err
	}
	if err := checkText(where, "source", f.Source); err != nil {
		return err
	}
	if err := checkProvenance(where, &f.Provenance, parent); err != nil {
		return err
	}
	f.Created = orNow(f.Created, now)
	return nil
}

// ValidID reports whether id could name a stored record: non-empty, at
// most MaxIDLen bytes, valid UTF-8 without NUL. Engines answer ErrNotFound
// for any other id without asking the database.
func ValidID(id string) bool {
	return checkID("", "id", id) == nil
}

func checkID(kind, where, id string) error {
	if where == "" {
		where = kind
	}
	switch {
	case id == "":
		return fmt.Errorf("%w: %s: id missing", ErrInvalid, where)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %s: id of %d bytes, more than %d", ErrInvalid, where, len(id), MaxIDLen)
	}
	return checkText(where, "id", id)
}

// checkText bounds a text field and requires valid UTF-8 without NUL:
// PostgreSQL's text type refuses both, so without this check the two
// engines would disagree (and PostgreSQL's refusal would not be
// ErrInvalid).
func checkText(where, field, v string) error {
	switch {
	case len(v) > MaxTextLen:
		return fmt.Errorf("%w: %s: %s of %d bytes, more than %d", ErrInvalid, where, field, len(v), MaxTextLen)
	case !utf8.ValidString(v):
		return fmt.Errorf("%w: %s: %s is not valid UTF-8", ErrInvalid, where, field)
	case strings.IndexByte(v, 0) >= 0:
		return fmt.Errorf("%w: %s: %s contains a NUL character", ErrInvalid, where, field)
	}
	return nil
}

// checkProvenance fills p's empty agency and legal basis from parent (nil
// for none), then requires both.
func checkProvenance(where string, p, parent *Provenance) error {
	if parent != nil {
		if p.SourceAgency == "" {
			p.SourceAgency = parent.SourceAgency
		}
		if p.LegalBasis == "" {
			p.LegalBasis = parent.LegalBasis
		}
	}
	if p.SourceAgency == "" {
		return fmt.Errorf("%w: %s: source_agency missing", ErrInvalid, where)
	}
	if p.LegalBasis == "" {
		return fmt.Errorf("%w: %s: legal_basis missing", ErrInvalid, where)
	}
	if err := checkText(where, "source_agency", p.SourceAgency); err != nil {
		return err
	}
	if err := checkText(where, "legal_basis", p.LegalBasis); err != nil {
		return err
	}
	p.Expiry = storeTime(p.Expiry)
	return nil
}

// storeTime is t as the engines keep it: UTC, microsecond precision (what a
// PostgreSQL timestamptz holds), zero staying zero.
func storeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return storeTime(t)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
