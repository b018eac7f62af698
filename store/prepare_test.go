package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
)

func validEnrolment() Enrolment {
	return Enrolment{
		Identity:  Identity{ID: "i1", Provenance: Provenance{SourceAgency: "A", LegalBasis: "L"}},
		Encounter: Encounter{ID: "e1", Time: time.Date(2026, 1, 1, 0, 0, 0, 1500, time.FixedZone("X", 3600))},
		Samples: []Sample{
			{ID: "s1", Modality: biometric.Finger, Position: biometric.LeftIndex, Quality: 60,
				Provenance: Provenance{LegalBasis: "L2"}},
			{ID: "s2", Modality: biometric.Face},
		},
		Templates: []Template{{ID: "t1", SampleID: "s1", Algorithm: "m", Data: []byte{1}}},
		Flags:     []Flag{{ID: "f1", Category: "wanted", Source: "NCIC"}},
	}
}

func TestPrepareEnrolmentFills(t *testing.T) {
	now := time.Date(2026, 5, 5, 5, 5, 5, 5, time.UTC)
	in := validEnrolment()
	p, err := PrepareEnrolment(in, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Encounter.IdentityID != "i1" || p.Samples[0].EncounterID != "e1" || p.Flags[0].IdentityID != "i1" {
		t.Errorf("parent ids not filled: %+v", p)
	}
	if p.Samples[0].SourceAgency != "A" || p.Samples[0].LegalBasis != "L2" || p.Samples[1].LegalBasis != "L" {
		t.Errorf("provenance not inherited (or a sample's own overwritten): %+v / %+v", p.Samples[0].Provenance, p.Samples[1].Provenance)
	}
	if want := time.Date(2025, 12, 31, 23, 0, 0, 1000, time.UTC); !p.Encounter.Time.Equal(want) || p.Encounter.Time.Location() != time.UTC {
		t.Errorf("encounter time = %v, want %v in UTC, truncated to microseconds", p.Encounter.Time, want)
	}
	if !p.Identity.Created.Equal(now.Truncate(time.Microsecond)) || !p.Flags[0].Created.Equal(p.Identity.Created) {
		t.Errorf("created = %v / %v, want now", p.Identity.Created, p.Flags[0].Created)
	}
	// The caller's slices are not written to.
	if in.Samples[1].LegalBasis != "" || in.Flags[0].IdentityID != "" {
		t.Error("PrepareEnrolment modified its argument's samples or flags")
	}
}

func TestPrepareEnrolmentSaysWhere(t *testing.T) {
	for _, c := range []struct {
		edit func(*Enrolment)
		err  error
		want string
	}{
		{func(e *Enrolment) { e.Samples[1].Modality = "voice" }, ErrInvalid, `sample 1 ("s2"): modality "voice" unknown`},
		{func(e *Enrolment) { e.Samples[0].Position = 17 }, ErrInvalid, `sample 0 ("s1"): finger position 17`},
		{func(e *Enrolment) { e.Templates[0].SampleID = "s9" }, ErrInvalid, `template 0 ("t1"): sample_id "s9"`},
		{func(e *Enrolment) { e.Identity.LegalBasis = "" }, ErrInvalid, `identity "i1": legal_basis missing`},
		{func(e *Enrolment) { e.Samples[1].ID = "s1" }, ErrDuplicate, `sample 1 ("s1"): id used twice`},
		{func(e *Enrolment) { e.Flags = append(e.Flags, e.Flags[0]) }, ErrDuplicate, `flag 1 ("f1"): id used twice`},
	} {
		e := validEnrolment()
		c.edit(&e)
		_, err := PrepareEnrolment(e, time.Now())
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("PrepareEnrolment = %v; want %v saying %q", err, c.err, c.want)
		}
	}
}

func TestCeilMicro(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ in, want time.Duration }{{0, 0}, {1, 1000}, {999, 1000}, {1000, 1000}, {1001, 2000}} {
		if got := CeilMicro(base.Add(c.in)); !got.Equal(base.Add(c.want)) {
			t.Errorf("CeilMicro(+%dns) = +%v, want +%dns", c.in, got.Sub(base), c.want)
		}
	}
}
