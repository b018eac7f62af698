package storetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"sync/atomic"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// seq makes ids unique within a test binary, so a test never collides with
// another one by accident.
var seq atomic.Int64

// Algorithm is the algorithm name the suite's templates carry.
const Algorithm = "storetest-minutiae"

// fixture builds synthetic enrolments: random bytes stand in for images and
// templates (the store does not look inside them), ids carry a prefix and a
// sequence number.
type fixture struct {
	rng *rand.Rand
}

func newFixture(seed uint64) *fixture {
	return &fixture{rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

func (f *fixture) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(f.rng.Uint32())
	}
	return b
}

func nextID(kind string) string {
	return fmt.Sprintf("%s-%06d", kind, seq.Add(1))
}

// SampleEnrolment returns a valid enrolment of a new identity (ids unique
// within the test binary): one encounter, two index fingers and a face, a
// template each, synthetic bytes. Engines' own tests use it.
func SampleEnrolment() store.Enrolment {
	return newFixture(uint64(seq.Load())).enrolment(fingers2, true)
}

// enrolment returns an enrolment of a new identity with one encounter, one
// finger sample and template per position in fingers (FGP codes), and one
// face sample with its template when face is set. Sizes are those of
// small images and templates.
func (f *fixture) enrolment(fingers []biometric.FingerPosition, face bool) store.Enrolment {
	return f.enrolmentSized(fingers, face, 256, 64)
}

func (f *fixture) enrolmentSized(fingers []biometric.FingerPosition, face bool, sampleBytes, templateBytes int) store.Enrolment {
	id := nextID("identity")
	e := store.Enrolment{
		Identity: store.Identity{
			ID:         id,
			Names:      []string{"TEST PERSON " + id},
			Created:    time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC),
			Provenance: store.Provenance{SourceAgency: "USA-CBP", LegalBasis: "8 USC 1365b"},
		},
		Encounter: store.Encounter{
			ID:      nextID("encounter"),
			Time:    time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			Place:   "JFK",
			Agency:  "CBP",
			Purpose: "border crossing",
		},
	}
	add := func(m biometric.Modality, p biometric.FingerPosition) {
		s := store.Sample{
			ID:       nextID("sample"),
			Modality: m,
			Position: p,
			Format:   "png",
			Data:     f.bytes(sampleBytes),
			Quality:  40 + int(p),
		}
		e.Samples = append(e.Samples, s)
		e.Templates = append(e.Templates, store.Template{
			ID:        nextID("template"),
			SampleID:  s.ID,
			Algorithm: Algorithm,
			Version:   "1",
			Data:      f.bytes(templateBytes),
		})
	}
	for _, p := range fingers {
		add(biometric.Finger, p)
	}
	if face {
		add(biometric.Face, 0)
	}
	return e
}

// expected is what Identity should return for a store holding exactly the
// given enrolments of one identity (the first one's identity row is kept).
func expected(es ...store.Enrolment) store.IdentityRecord {
	var rec store.IdentityRecord
	for i, e := range es {
		p, err := store.PrepareEnrolment(e, time.Now())
		if err != nil {
			panic(err)
		}
		if i == 0 {
			rec.Identity = p.Identity
		}
		rec.Encounters = append(rec.Encounters, p.Encounter)
		rec.Samples = append(rec.Samples, p.Samples...)
		rec.Flags = append(rec.Flags, p.Flags...)
	}
	sortRecord(&rec)
	return rec
}

// sortRecord puts a record in the order the contract's engines return it:
// encounters by time then id, samples by their encounter's (time, id) then
// id, flags by creation time then id.
func sortRecord(r *store.IdentityRecord) {
	encIdx := map[string]int{}
	sort.SliceStable(r.Encounters, func(i, j int) bool {
		a, b := r.Encounters[i], r.Encounters[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.ID < b.ID
	})
	for i, e := range r.Encounters {
		encIdx[e.ID] = i
	}
	sort.SliceStable(r.Samples, func(i, j int) bool {
		a, b := r.Samples[i], r.Samples[j]
		if encIdx[a.EncounterID] != encIdx[b.EncounterID] {
			return encIdx[a.EncounterID] < encIdx[b.EncounterID]
		}
		return a.ID < b.ID
	})
	sort.SliceStable(r.Flags, func(i, j int) bool {
		a, b := r.Flags[i], r.Flags[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.ID < b.ID
	})
}

// diffRecord describes the first difference between two records, or "" if
// they hold the same data. Times compare with Equal and byte slices with
// bytes.Equal (an engine may return nil for an empty blob).
func diffRecord(got, want store.IdentityRecord) string {
	if d := diffValue("identity", got.Identity, want.Identity); d != "" {
		return d
	}
	if len(got.Encounters) != len(want.Encounters) {
		return fmt.Sprintf("%d encounters, want %d", len(got.Encounters), len(want.Encounters))
	}
	for i := range got.Encounters {
		if d := diffValue(fmt.Sprintf("encounter %d", i), got.Encounters[i], want.Encounters[i]); d != "" {
			return d
		}
	}
	if len(got.Samples) != len(want.Samples) {
		return fmt.Sprintf("%d samples, want %d", len(got.Samples), len(want.Samples))
	}
	for i := range got.Samples {
		g, w := got.Samples[i], want.Samples[i]
		if !bytes.Equal(g.Data, w.Data) {
			return fmt.Sprintf("sample %d (%s): data of %d bytes differs from the %d enrolled", i, w.ID, len(g.Data), len(w.Data))
		}
		g.Data, w.Data = nil, nil
		if d := diffValue(fmt.Sprintf("sample %d", i), g, w); d != "" {
			return d
		}
	}
	if len(got.Flags) != len(want.Flags) {
		return fmt.Sprintf("%d flags, want %d", len(got.Flags), len(want.Flags))
	}
	for i := range got.Flags {
		if d := diffValue(fmt.Sprintf("flag %d", i), got.Flags[i], want.Flags[i]); d != "" {
			return d
		}
	}
	return ""
}

// diffValue compares two structs field by field, times with Equal.
func diffValue(what string, got, want any) string {
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	return diffFields(what, gv, wv)
}

func diffFields(what string, g, w reflect.Value) string {
	if t, ok := g.Interface().(time.Time); ok {
		if !t.Equal(w.Interface().(time.Time)) {
			return fmt.Sprintf("%s: %v, want %v", what, t, w.Interface())
		}
		return ""
	}
	if g.Kind() == reflect.Struct {
		for i := 0; i < g.NumField(); i++ {
			name := g.Type().Field(i).Name
			if d := diffFields(what+"."+name, g.Field(i), w.Field(i)); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(g.Interface(), w.Interface()) {
		return fmt.Sprintf("%s: %#v, want %#v", what, g.Interface(), w.Interface())
	}
	return ""
}
