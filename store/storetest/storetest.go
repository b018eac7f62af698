// Package storetest is the conformance suite of the store.Store contract:
// one set of tests that every engine (store/sqlite, store/postgres) runs
// from its own tests, so both engines behave alike for every method, every
// error (store.ErrNotFound, ErrDuplicate, ErrInvalid), atomicity of
// enrolment, concurrency, streaming of the gallery, cascade on erasure and
// expiry. It also holds the benchmarks both engines run (bench.go).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// Opener returns a new, empty store for one test and arranges (with
// tb.Cleanup) for it to be closed and its data removed. Closing it twice
// must be harmless: some tests close it themselves.
type Opener func(tb testing.TB) store.Store

// Run runs the whole suite against the engine open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"EmptyStore", testEmpty},
		{"EnrollAndRead", testEnrollAndRead},
		{"Defaults", testDefaults},
		{"SecondEncounter", testSecondEncounter},
		{"Duplicates", testDuplicates},
		{"Invalid", testInvalid},
		{"Atomicity", testAtomicity},
		{"NotFound", testNotFound},
		{"AddFlag", testAddFlag},
		{"Erase", testErase},
		{"ExpireBefore", testExpireBefore},
		{"ExpireRecordsBefore", testExpireRecordsBefore},
		{"Gallery", testGallery},
		{"GalleryReentrant", testGalleryReentrant},
		{"ConcurrentEnrol", testConcurrentEnrol},
		{"ConcurrentDuplicate", testConcurrentDuplicate},
		{"ConcurrentSameIdentity", testConcurrentSameIdentity},
		{"UseAfterClose", testUseAfterClose},
		{"ExchangeState", testExchangeState},
		{"EncounterIdentity", testEncounterIdentity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each test has a store of its own, so they run side by side:
			// most of their time is spent waiting for fsync.
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

var fingers2 = []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustEnroll(t *testing.T, s store.Store, e store.Enrolment) {
	t.Helper()
	if err := s.Enroll(ctxT(t), e); err != nil {
		t.Fatalf("Enroll(%s): %v", e.Encounter.ID, err)
	}
}

func checkCounts(t *testing.T, s store.Store, identities, templates int) {
	t.Helper()
	i, n, err := s.Counts(ctxT(t))
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if i != identities || n != templates {
		t.Fatalf("Counts = %d identities, %d templates; want %d, %d", i, n, identities, templates)
	}
}

func checkRecord(t *testing.T, s store.Store, want store.IdentityRecord) {
	t.Helper()
	got, err := s.Identity(ctxT(t), want.Identity.ID)
	if err != nil {
		t.Fatalf("Identity(%s): %v", want.Identity.ID, err)
	}
	if d := diffRecord(got, want); d != "" {
		t.Fatalf("Identity(%s): %s", want.Identity.ID, d)
	}
}

func checkAbsent(t *testing.T, s store.Store, id string) {
	t.Helper()
	_, err := s.Identity(ctxT(t), id)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Identity(%s) = %v, want ErrNotFound", id, err)
	}
}

// gallery collects a modality's gallery by template id.
func gallery(t *testing.T, s store.Store, m biometric.Modality) map[string]store.GalleryEntry {
	t.Helper()
	out := map[string]store.GalleryEntry{}
	err := s.Gallery(ctxT(t), m, func(g store.GalleryEntry) error {
		if _, dup := out[g.TemplateID]; dup {
			return fmt.Errorf("template %s streamed twice", g.TemplateID)
		}
		out[g.TemplateID] = g
		return nil
	})
	if err != nil {
		t.Fatalf("Gallery(%s): %v", m, err)
	}
	return out
}

func testEmpty(t *testing.T, open Opener) {
	s := open(t)
	if err := s.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	checkCounts(t, s, 0, 0)
	if g := gallery(t, s, biometric.Finger); len(g) != 0 {
		t.Fatalf("empty store's gallery has %d entries", len(g))
	}
	ids, err := s.ExpireBefore(ctxT(t), time.Now())
	if err != nil || len(ids) != 0 {
		t.Fatalf("ExpireBefore on an empty store = %v, %v", ids, err)
	}
}

func testEnrollAndRead(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(1)
	e := f.enrolment(fingers2, true)
	loc := time.FixedZone("UTC-5", -5*3600)
	e.Identity.DateOfBirth = "1980-05"
	e.Identity.Nationality = []string{"MEX", "USA"}
	e.Identity.Names = []string{"ÁLVARO TEST", "AL TEST"}
	e.Identity.CaseRef = "case/42"
	e.Identity.Expiry = time.Date(2100, 1, 2, 3, 4, 5, 678901234, loc) // sub-microsecond, non-UTC
	e.Encounter.Time = time.Date(2026, 3, 1, 7, 0, 0, 123456789, loc)
	e.Encounter.Provenance = store.Provenance{SourceAgency: "USA-ICE", LegalBasis: "INA 287(g)", Expiry: time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC)}
	e.Samples[0].Provenance.Expiry = time.Date(2080, 1, 1, 0, 0, 0, 0, time.UTC)
	e.Samples = append(e.Samples, store.Sample{ID: nextID("sample"), Modality: biometric.DNA, Format: "codis", Data: []byte("D3S1358:15,16"), Quality: 0})
	e.Samples = append(e.Samples, store.Sample{ID: nextID("sample"), Modality: biometric.Iris, Quality: 100}) // no bytes
	e.Flags = []store.Flag{
		{ID: nextID("flag"), Category: "wanted", Source: "NCIC", Created: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{ID: nextID("flag"), Category: "immigration_violation", Source: "ICE", Created: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			Provenance: store.Provenance{SourceAgency: "USA-ICE", LegalBasis: "INA 237", Expiry: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	mustEnroll(t, s, e)
	want := expected(e)
	checkRecord(t, s, want)
	checkCounts(t, s, 1, 3)

	got, _ := s.Identity(ctxT(t), e.Identity.ID)
	// Spot checks that do not go through PrepareEnrolment, so that a bug
	// shared by it and an engine still shows.
	if !got.Identity.Expiry.Equal(time.Date(2100, 1, 2, 8, 4, 5, 678901000, time.UTC)) {
		t.Errorf("identity expiry = %v, want 2100-01-02 08:04:05.678901 UTC", got.Identity.Expiry)
	}
	if !got.Encounters[0].Time.Equal(time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)) {
		t.Errorf("encounter time = %v", got.Encounters[0].Time)
	}
	if got.Flags[0].Category != "immigration_violation" || got.Flags[1].Category != "wanted" {
		t.Errorf("flags not in creation order: %s, %s", got.Flags[0].Category, got.Flags[1].Category)
	}
	for _, sm := range got.Samples {
		if sm.ID == e.Samples[0].ID && (sm.Position != biometric.RightIndex || sm.Quality != e.Samples[0].Quality) {
			t.Errorf("sample %s: position %d quality %d", sm.ID, sm.Position, sm.Quality)
		}
	}
}

func testDefaults(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(2)
	e := f.enrolment(fingers2[:1], false)
	e.Identity.Created = time.Time{}
	e.Encounter.Time = time.Time{}
	e.Flags = []store.Flag{{ID: nextID("flag"), Category: "removed", Source: "ERO"}}
	before := time.Now().Add(-time.Second)
	mustEnroll(t, s, e)
	after := time.Now().Add(time.Second)
	rec, err := s.Identity(ctxT(t), e.Identity.ID)
	if err != nil {
		t.Fatal(err)
	}
	for what, tm := range map[string]time.Time{
		"identity created": rec.Identity.Created, "encounter time": rec.Encounters[0].Time, "flag created": rec.Flags[0].Created,
	} {
		if tm.Before(before) || tm.After(after) {
			t.Errorf("%s = %v, want the time of enrolment", what, tm)
		}
	}
	enc, sm, fl := rec.Encounters[0], rec.Samples[0], rec.Flags[0]
	if enc.IdentityID != e.Identity.ID || sm.EncounterID != e.Encounter.ID || fl.IdentityID != e.Identity.ID {
		t.Errorf("parent ids not filled: encounter->%q sample->%q flag->%q", enc.IdentityID, sm.EncounterID, fl.IdentityID)
	}
	for what, p := range map[string]store.Provenance{"encounter": enc.Provenance, "sample": sm.Provenance, "flag": fl.Provenance} {
		if p.SourceAgency != "USA-CBP" || p.LegalBasis != "8 USC 1365b" || !p.Expiry.IsZero() {
			t.Errorf("%s provenance = %+v, want the identity's agency and legal basis and no expiry", what, p)
		}
	}
}

func testSecondEncounter(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(3)
	e1 := f.enrolment(fingers2, false)
	e2 := f.enrolment(fingers2[:1], true)
	e2.Identity = e1.Identity
	e2.Identity.Names = []string{"SOMEONE ELSE"} // the stored identity is not rewritten
	e2.Identity.LegalBasis = "another basis"
	e2.Encounter.Time = e1.Encounter.Time.Add(-time.Hour) // earlier: read back first
	mustEnroll(t, s, e1)
	mustEnroll(t, s, e2)
	checkRecord(t, s, expected(e1, e2))
	checkCounts(t, s, 1, 4)
	rec, _ := s.Identity(ctxT(t), e1.Identity.ID)
	if rec.Encounters[0].ID != e2.Encounter.ID {
		t.Errorf("encounters not in time order: first is %s", rec.Encounters[0].ID)
	}
}

// enrolled makes a store holding one enrolment with a flag, for the error
// tests to collide with.
func enrolled(t *testing.T, open Opener, seed uint64) (store.Store, store.Enrolment) {
	s := open(t)
	e := newFixture(seed).enrolment(fingers2, true)
	e.Flags = []store.Flag{{ID: nextID("flag"), Category: "wanted", Source: "NCIC", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	mustEnroll(t, s, e)
	return s, e
}

func testDuplicates(t *testing.T, open Opener) {
	s, old := enrolled(t, open, 4)
	f := newFixture(40)
	cases := []struct {
		name string
		edit func(e *store.Enrolment)
	}{
		{"encounter id of another identity", func(e *store.Enrolment) { e.Encounter.ID = old.Encounter.ID }},
		{"sample id", func(e *store.Enrolment) {
			e.Samples[1].ID = old.Samples[0].ID
			e.Templates[1].SampleID = old.Samples[0].ID
		}},
		{"template id", func(e *store.Enrolment) { e.Templates[2].ID = old.Templates[1].ID }},
		{"flag id", func(e *store.Enrolment) {
			e.Flags = []store.Flag{{ID: old.Flags[0].ID, Category: "wanted", Source: "NCIC"}}
		}},
		{"sample id twice in one enrolment", func(e *store.Enrolment) {
			e.Samples[1].ID = e.Samples[0].ID
			e.Templates[1].SampleID = e.Samples[0].ID
		}},
		{"template id twice in one enrolment", func(e *store.Enrolment) { e.Templates[1].ID = e.Templates[0].ID }},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			e := f.enrolment(fingers2, true)
			c.edit(&e)
			err := s.Enroll(ctxT(t), e)
			if !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("Enroll = %v, want ErrDuplicate", err)
			}
			checkAbsent(t, s, e.Identity.ID)
			checkCounts(t, s, 1, 3)
			checkRecord(t, s, expected(old))
		})
	}
}

func testInvalid(t *testing.T, open Opener) {
	s, old := enrolled(t, open, 5)
	f := newFixture(50)
	long := strings.Repeat("x", store.MaxTextLen+1)
	cases := []struct {
		name string
		edit func(e *store.Enrolment)
	}{
		{"identity id missing", func(e *store.Enrolment) { e.Identity.ID = "" }},
		{"identity id too long", func(e *store.Enrolment) { e.Identity.ID = strings.Repeat("i", store.MaxIDLen+1) }},
		{"identity source agency missing", func(e *store.Enrolment) { e.Identity.SourceAgency = "" }},
		{"identity legal basis missing", func(e *store.Enrolment) { e.Identity.LegalBasis = "" }},
		{"identity name too long", func(e *store.Enrolment) { e.Identity.Names = []string{long} }},
		{"identity name with NUL", func(e *store.Enrolment) { e.Identity.Names = []string{"A\x00B"} }},
		{"identity name not UTF-8", func(e *store.Enrolment) { e.Identity.Names = []string{"A\xffB"} }},
		{"encounter id with NUL", func(e *store.Enrolment) { e.Encounter.ID += "\x00" }},
		{"sample format not UTF-8", func(e *store.Enrolment) { e.Samples[0].Format = "\xc3" }},
		{"encounter id missing", func(e *store.Enrolment) { e.Encounter.ID = "" }},
		{"encounter of another identity", func(e *store.Enrolment) { e.Encounter.IdentityID = old.Identity.ID }},
		{"encounter place too long", func(e *store.Enrolment) { e.Encounter.Place = long }},
		{"sample id missing", func(e *store.Enrolment) { e.Samples[0].ID = "" }},
		{"sample of another encounter", func(e *store.Enrolment) { e.Samples[0].EncounterID = old.Encounter.ID }},
		{"sample modality missing", func(e *store.Enrolment) { e.Samples[0].Modality = "" }},
		{"sample modality unknown", func(e *store.Enrolment) { e.Samples[0].Modality = "voice" }},
		{"finger position not an FGP code", func(e *store.Enrolment) { e.Samples[0].Position = 16 }},
		{"finger position negative", func(e *store.Enrolment) { e.Samples[0].Position = -1 }},
		{"face with a finger position", func(e *store.Enrolment) { e.Samples[2].Position = biometric.RightThumb }},
		{"quality above 100", func(e *store.Enrolment) { e.Samples[0].Quality = 101 }},
		{"quality negative", func(e *store.Enrolment) { e.Samples[0].Quality = -1 }},
		{"template id missing", func(e *store.Enrolment) { e.Templates[0].ID = "" }},
		{"template of no sample", func(e *store.Enrolment) { e.Templates[0].SampleID = "" }},
		{"template of another enrolment's sample", func(e *store.Enrolment) { e.Templates[0].SampleID = old.Samples[0].ID }},
		{"template algorithm missing", func(e *store.Enrolment) { e.Templates[0].Algorithm = "" }},
		{"template bytes missing", func(e *store.Enrolment) { e.Templates[0].Data = nil }},
		{"flag id missing", func(e *store.Enrolment) { e.Flags = []store.Flag{{Category: "wanted", Source: "NCIC"}} }},
		{"flag category missing", func(e *store.Enrolment) { e.Flags = []store.Flag{{ID: nextID("flag"), Source: "NCIC"}} }},
		{"flag source missing", func(e *store.Enrolment) { e.Flags = []store.Flag{{ID: nextID("flag"), Category: "wanted"}} }},
		{"flag of another identity", func(e *store.Enrolment) {
			e.Flags = []store.Flag{{ID: nextID("flag"), IdentityID: old.Identity.ID, Category: "wanted", Source: "NCIC"}}
		}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			e := f.enrolment(fingers2, true)
			c.edit(&e)
			err := s.Enroll(ctxT(t), e)
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("Enroll = %v, want ErrInvalid", err)
			}
			if e.Identity.ID != "" && len(e.Identity.ID) <= store.MaxIDLen && e.Identity.ID != old.Identity.ID {
				checkAbsent(t, s, e.Identity.ID)
			}
			checkCounts(t, s, 1, 3)
			checkRecord(t, s, expected(old))
		})
	}
}

// testAtomicity checks that an enrolment failing on its last row leaves no
// trace of the rows before it, for a new identity and for a new encounter
// of an existing identity, and that a cancelled enrolment writes nothing.
func testAtomicity(t *testing.T, open Opener) {
	s, old := enrolled(t, open, 6)
	f := newFixture(60)
	ten := []biometric.FingerPosition{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

	e := f.enrolment(ten, true)
	e.Flags = []store.Flag{{ID: old.Flags[0].ID, Category: "wanted", Source: "NCIC"}} // flags are written last
	if err := s.Enroll(ctxT(t), e); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Enroll with a reused flag id = %v, want ErrDuplicate", err)
	}
	checkAbsent(t, s, e.Identity.ID)
	checkCounts(t, s, 1, 3)
	for _, m := range []biometric.Modality{biometric.Finger, biometric.Face} {
		for id := range gallery(t, s, m) {
			if id != old.Templates[0].ID && id != old.Templates[1].ID && id != old.Templates[2].ID {
				t.Fatalf("gallery holds template %s of the failed enrolment", id)
			}
		}
	}

	e2 := f.enrolment(ten, false)
	e2.Identity = old.Identity
	e2.Templates[9].ID = old.Templates[0].ID
	if err := s.Enroll(ctxT(t), e2); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second encounter with a reused template id = %v, want ErrDuplicate", err)
	}
	checkRecord(t, s, expected(old))

	// The same enrolments go through once the collision is gone: the
	// failures above left nothing behind that blocks them.
	e.Flags[0].ID = nextID("flag")
	e2.Templates[9].ID = nextID("template")
	mustEnroll(t, s, e)
	mustEnroll(t, s, e2)
	checkCounts(t, s, 2, 3+11+10)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e3 := f.enrolment(ten, false)
	if err := s.Enroll(ctx, e3); err == nil {
		t.Fatal("Enroll with a cancelled context succeeded")
	}
	checkAbsent(t, s, e3.Identity.ID)
	checkCounts(t, s, 2, 3+11+10)
}

func testNotFound(t *testing.T, open Opener) {
	s, _ := enrolled(t, open, 7)
	ctx := ctxT(t)
	if _, err := s.Identity(ctx, "no-such-identity"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Identity(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.Erase(ctx, "no-such-identity"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Erase(unknown) = %v, want ErrNotFound", err)
	}
	// Ids no record can have (PostgreSQL's text refuses NUL and invalid
	// UTF-8) are simply not found, not a database error.
	for _, id := range []string{"", "a\x00b", "\xff", strings.Repeat("x", store.MaxIDLen+1)} {
		if _, err := s.Identity(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Identity(%q) = %v, want ErrNotFound", id, err)
		}
		if err := s.Erase(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Erase(%q) = %v, want ErrNotFound", id, err)
		}
	}
	fl := store.Flag{ID: nextID("flag"), IdentityID: "no-such-identity", Category: "wanted", Source: "NCIC",
		Provenance: store.Provenance{SourceAgency: "FBI", LegalBasis: "28 CFR 20"}}
	if err := s.AddFlag(ctx, fl); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddFlag(unknown identity) = %v, want ErrNotFound", err)
	}
	checkCounts(t, s, 1, 3)
}

func testAddFlag(t *testing.T, open Opener) {
	s, old := enrolled(t, open, 8)
	ctx := ctxT(t)
	fl := store.Flag{ID: nextID("flag"), IdentityID: old.Identity.ID, Category: "immigration_violation", Source: "ICE",
		Created:    time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		Provenance: store.Provenance{SourceAgency: "USA-ICE", LegalBasis: "INA 237", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if err := s.AddFlag(ctx, fl); err != nil {
		t.Fatalf("AddFlag: %v", err)
	}
	want := expected(old)
	want.Flags = append(want.Flags, fl)
	checkRecord(t, s, want)

	if err := s.AddFlag(ctx, fl); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("AddFlag twice = %v, want ErrDuplicate", err)
	}
	for name, edit := range map[string]func(*store.Flag){
		"id":            func(f *store.Flag) { f.ID = "" },
		"identity":      func(f *store.Flag) { f.IdentityID = "" },
		"category":      func(f *store.Flag) { f.Category = "" },
		"source":        func(f *store.Flag) { f.Source = "" },
		"source agency": func(f *store.Flag) { f.SourceAgency = "" },
		"legal basis":   func(f *store.Flag) { f.LegalBasis = "" },
	} {
		bad := fl
		bad.ID = nextID("flag")
		edit(&bad)
		if err := s.AddFlag(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddFlag without %s = %v, want ErrInvalid", name, err)
		}
	}
	checkRecord(t, s, want)
}

func testErase(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(9)
	a := f.enrolment(fingers2, true)
	a.Flags = []store.Flag{{ID: nextID("flag"), Category: "wanted", Source: "NCIC", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	a2 := f.enrolment(fingers2, false)
	a2.Identity = a.Identity
	b := f.enrolment(fingers2, true)
	for _, e := range []store.Enrolment{a, a2, b} {
		mustEnroll(t, s, e)
	}
	checkCounts(t, s, 2, 8)
	if err := s.Erase(ctxT(t), a.Identity.ID); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	checkAbsent(t, s, a.Identity.ID)
	checkCounts(t, s, 1, 3)
	checkRecord(t, s, expected(b))
	for _, m := range []biometric.Modality{biometric.Finger, biometric.Face} {
		for _, g := range gallery(t, s, m) {
			if g.IdentityID != b.Identity.ID {
				t.Fatalf("gallery still holds template %s of erased identity %s", g.TemplateID, g.IdentityID)
			}
		}
	}
	if err := s.Erase(ctxT(t), a.Identity.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Erase = %v, want ErrNotFound", err)
	}
	// Every row went: the same ids enrol again without a duplicate.
	mustEnroll(t, s, a)
	mustEnroll(t, s, a2)
	checkRecord(t, s, expected(a, a2))
	checkCounts(t, s, 2, 8)
}

func testExpireBefore(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(10)
	cut := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(expiry time.Time) store.Enrolment {
		e := f.enrolment(fingers2, false)
		e.Identity.Expiry = expiry
		mustEnroll(t, s, e)
		return e
	}
	past := mk(cut.Add(-time.Microsecond))
	past2 := mk(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	atCut := mk(cut) // not before the cut: kept
	future := mk(cut.Add(time.Hour))
	never := mk(time.Time{})
	lapsed := store.Flag{ID: nextID("flag"), IdentityID: never.Identity.ID, Category: "wanted", Source: "NCIC",
		Created:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Provenance: store.Provenance{SourceAgency: "FBI", LegalBasis: "28 CFR 20", Expiry: cut.Add(-time.Hour)}}
	current := lapsed
	current.ID = nextID("flag")
	current.Provenance.Expiry = cut.Add(time.Hour)
	for _, fl := range []store.Flag{lapsed, current} {
		if err := s.AddFlag(ctxT(t), fl); err != nil {
			t.Fatal(err)
		}
	}

	ids, err := s.ExpireBefore(ctxT(t), cut)
	if err != nil {
		t.Fatalf("ExpireBefore: %v", err)
	}
	want := []string{past.Identity.ID, past2.Identity.ID}
	sort.Strings(want)
	sort.Strings(ids)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("ExpireBefore = %v, want %v", ids, want)
	}
	checkAbsent(t, s, past.Identity.ID)
	checkAbsent(t, s, past2.Identity.ID)
	checkCounts(t, s, 3, 6)
	for _, g := range gallery(t, s, biometric.Finger) {
		if g.IdentityID == past.Identity.ID || g.IdentityID == past2.Identity.ID {
			t.Fatalf("gallery holds template %s of expired identity %s", g.TemplateID, g.IdentityID)
		}
	}
	checkRecord(t, s, expected(atCut))
	checkRecord(t, s, expected(future))
	wantNever := expected(never)
	wantNever.Flags = []store.Flag{current}
	checkRecord(t, s, wantNever)

	if ids, err := s.ExpireBefore(ctxT(t), cut); err != nil || len(ids) != 0 {
		t.Fatalf("second ExpireBefore = %v, %v; want nothing", ids, err)
	}
}

// testExpireRecordsBefore checks the optional store.RecordExpirer: an
// encounter or a sample past its own expiry goes, with its templates,
// which are reported; the identity and its other records stay.
func testExpireRecordsBefore(t *testing.T, open Opener) {
	s := open(t)
	rx, ok := s.(store.RecordExpirer)
	if !ok {
		t.Skip("engine does not implement store.RecordExpirer")
	}
	f := newFixture(16)
	cut := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	keep := f.enrolment(fingers2, true) // nothing expires
	keep.Encounter.Expiry = cut         // at the cut: not before it
	oldEnc := f.enrolment(fingers2, true)
	oldEnc.Encounter.Expiry = cut.Add(-time.Nanosecond) // the whole encounter goes
	newEnc := f.enrolment(fingers2[:1], false)
	newEnc.Identity = oldEnc.Identity
	oneSample := f.enrolment(fingers2, false)
	oneSample.Samples[1].Expiry = cut.Add(-time.Hour) // only this sample goes
	for _, e := range []store.Enrolment{keep, oldEnc, newEnc, oneSample} {
		mustEnroll(t, s, e)
	}
	checkCounts(t, s, 3, 3+3+1+2)

	gone, err := rx.ExpireRecordsBefore(ctxT(t), cut)
	if err != nil {
		t.Fatalf("ExpireRecordsBefore: %v", err)
	}
	want := []store.ExpiredTemplate{
		{IdentityID: oldEnc.Identity.ID, TemplateID: oldEnc.Templates[0].ID, Modality: biometric.Finger},
		{IdentityID: oldEnc.Identity.ID, TemplateID: oldEnc.Templates[1].ID, Modality: biometric.Finger},
		{IdentityID: oldEnc.Identity.ID, TemplateID: oldEnc.Templates[2].ID, Modality: biometric.Face},
		{IdentityID: oneSample.Identity.ID, TemplateID: oneSample.Templates[1].ID, Modality: biometric.Finger},
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].TemplateID < gone[j].TemplateID })
	sort.Slice(want, func(i, j int) bool { return want[i].TemplateID < want[j].TemplateID })
	if fmt.Sprint(gone) != fmt.Sprint(want) {
		t.Fatalf("ExpireRecordsBefore = %v\nwant %v", gone, want)
	}
	checkCounts(t, s, 3, 3+1+1)
	checkRecord(t, s, expected(keep))
	checkRecord(t, s, expected(newEnc)) // the identity keeps its live encounter
	wantOne := expected(oneSample)
	wantOne.Samples = wantOne.Samples[:1]
	checkRecord(t, s, wantOne)
	for _, m := range []biometric.Modality{biometric.Finger, biometric.Face} {
		for id := range gallery(t, s, m) {
			for _, g := range want {
				if id == g.TemplateID {
					t.Fatalf("gallery still streams expired template %s", id)
				}
			}
		}
	}
	if again, err := rx.ExpireRecordsBefore(ctxT(t), cut); err != nil || len(again) != 0 {
		t.Fatalf("second ExpireRecordsBefore = %v, %v; want nothing", again, err)
	}
}

func testGallery(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(11)
	wantFinger := map[string]store.GalleryEntry{}
	wantFace := map[string]store.GalleryEntry{}
	positions := []biometric.FingerPosition{biometric.RightThumb, biometric.LeftLittle, biometric.PlainRightFour}
	for i := 0; i < 20; i++ {
		e := f.enrolment(positions, true)
		// An iris sample without a template, and a second template
		// (another algorithm) of the first finger.
		e.Samples = append(e.Samples, store.Sample{ID: nextID("sample"), Modality: biometric.Iris, Data: f.bytes(32)})
		e.Templates = append(e.Templates, store.Template{ID: nextID("template"), SampleID: e.Samples[0].ID,
			Algorithm: "other", Version: "2", Data: f.bytes(100)})
		mustEnroll(t, s, e)
		sampleOf := map[string]store.Sample{}
		for _, sm := range e.Samples {
			sampleOf[sm.ID] = sm
		}
		for _, tp := range e.Templates {
			sm := sampleOf[tp.SampleID]
			g := store.GalleryEntry{IdentityID: e.Identity.ID, Modality: sm.Modality, Position: sm.Position,
				Algorithm: tp.Algorithm, TemplateID: tp.ID, Data: tp.Data}
			if sm.Modality == biometric.Finger {
				wantFinger[tp.ID] = g
			} else {
				wantFace[tp.ID] = g
			}
		}
	}
	for m, want := range map[biometric.Modality]map[string]store.GalleryEntry{
		biometric.Finger: wantFinger, biometric.Face: wantFace, biometric.Iris: {}, biometric.DNA: {},
	} {
		got := gallery(t, s, m)
		if len(got) != len(want) {
			t.Fatalf("Gallery(%s) streamed %d templates, want %d", m, len(got), len(want))
		}
		for id, w := range want {
			if d := diffValue("gallery entry "+id, got[id], w); d != "" {
				t.Fatalf("Gallery(%s): %s", m, d)
			}
		}
	}

	// fn's error stops the walk and comes back as it was.
	stop := errors.New("enough")
	calls := 0
	err := s.Gallery(ctxT(t), biometric.Finger, func(store.GalleryEntry) error {
		calls++
		if calls == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 5 {
		t.Fatalf("Gallery with fn failing at the 5th entry = %v after %d calls", err, calls)
	}
	// The store still serves after an abandoned walk.
	checkCounts(t, s, 20, 20*5)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Gallery(ctx, biometric.Finger, func(store.GalleryEntry) error { return nil }); err == nil {
		t.Fatal("Gallery with a cancelled context succeeded")
	}

	// Cancelling midway stops the walk with an error.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	calls = 0
	err = s.Gallery(ctx, biometric.Finger, func(store.GalleryEntry) error {
		calls++
		if calls == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Fatalf("Gallery cancelled at the 3rd of %d entries = %v after %d calls, want context.Canceled after 3", len(wantFinger), err, calls)
	}
}

// testGalleryReentrant checks that fn may use the store while the walk is
// open, as the node does when enrolments arrive during its start-up load:
// a store that held a lock for the whole walk would deadlock here.
func testGalleryReentrant(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(12)
	for i := 0; i < 10; i++ {
		mustEnroll(t, s, f.enrolment(fingers2, false))
	}
	var during []store.Enrolment
	n := 0
	err := s.Gallery(ctxT(t), biometric.Finger, func(g store.GalleryEntry) error {
		n++
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := s.Identity(ctx, g.IdentityID); err != nil {
			return fmt.Errorf("in the gallery walk, Identity: %w", err)
		}
		if _, _, err := s.Counts(ctx); err != nil {
			return fmt.Errorf("in the gallery walk, Counts: %w", err)
		}
		if n%5 == 0 {
			e := f.enrolment(fingers2, false)
			if err := s.Enroll(ctx, e); err != nil {
				return fmt.Errorf("in the gallery walk, Enroll: %w", err)
			}
			during = append(during, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("Gallery streamed %d templates, want at least the 20 enrolled before it began", n)
	}
	for _, e := range during {
		checkRecord(t, s, expected(e))
	}
	checkCounts(t, s, 10+len(during), 2*(10+len(during)))
}

func testConcurrentEnrol(t *testing.T, open Opener) {
	s := open(t)
	const workers, each = 8, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each+16)
	enrolled := make([][]store.Enrolment, workers)
	done := make(chan struct{})
	// Readers run beside the writers the whole time.
	var rwg sync.WaitGroup
	for r := 0; r < 2; r++ {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				// A pause between rounds: readers that never yield would
				// only measure the scheduler.
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if _, _, err := s.Counts(context.Background()); err != nil {
					errs <- fmt.Errorf("reader: Counts: %w", err)
					return
				}
				if err := s.Gallery(context.Background(), biometric.Finger, func(store.GalleryEntry) error { return nil }); err != nil {
					errs <- fmt.Errorf("reader: Gallery: %w", err)
					return
				}
			}
		}()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			f := newFixture(uint64(100 + w))
			for i := 0; i < each; i++ {
				e := f.enrolment(fingers2, i%2 == 0)
				if err := s.Enroll(context.Background(), e); err != nil {
					errs <- fmt.Errorf("worker %d: Enroll: %w", w, err)
					return
				}
				enrolled[w] = append(enrolled[w], e)
			}
		}(w)
	}
	wg.Wait()
	close(done)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	checkCounts(t, s, workers*each, workers*each*2+workers*each/2)
	for _, es := range enrolled {
		for _, e := range es {
			checkRecord(t, s, expected(e))
		}
	}
}

// testConcurrentDuplicate races enrolments that share an encounter id:
// exactly one wins, the others get ErrDuplicate and write nothing.
func testConcurrentDuplicate(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(13)
	const n = 8
	encID := nextID("encounter")
	es := make([]store.Enrolment, n)
	for i := range es {
		es[i] = f.enrolment(fingers2, false)
		es[i].Encounter.ID = encID
	}
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := range es {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = s.Enroll(context.Background(), es[i])
		}(i)
	}
	wg.Wait()
	won := -1
	for i, err := range results {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("enrolments %d and %d with the same encounter id both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, store.ErrDuplicate):
			t.Fatalf("enrolment %d: %v, want nil or ErrDuplicate", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no enrolment succeeded")
	}
	checkCounts(t, s, 1, 2)
	checkRecord(t, s, expected(es[won]))
	for i, e := range es {
		if i != won {
			checkAbsent(t, s, e.Identity.ID)
		}
	}
}

// testConcurrentSameIdentity races first enrolments of one new identity
// (say, two border posts at once): all succeed, one identity row results.
func testConcurrentSameIdentity(t *testing.T, open Opener) {
	s := open(t)
	f := newFixture(14)
	const n = 8
	es := make([]store.Enrolment, n)
	for i := range es {
		es[i] = f.enrolment(fingers2, false)
		if i > 0 {
			es[i].Identity = es[0].Identity
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range es {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Enroll(context.Background(), es[i])
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("enrolment %d: %v", i, err)
		}
	}
	checkCounts(t, s, 1, 2*n)
	checkRecord(t, s, expected(es...))
}

func testUseAfterClose(t *testing.T, open Opener) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := ctxT(t)
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}
	if err := s.Enroll(ctx, newFixture(15).enrolment(fingers2, false)); err == nil {
		t.Error("Enroll after Close succeeded")
	}
	if _, _, err := s.Counts(ctx); err == nil {
		t.Error("Counts after Close succeeded")
	}
}
