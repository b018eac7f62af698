package synth

import (
	"encoding/base64"
	"slices"

	"github.com/ebsp/ebsp/dna"
	"github.com/ebsp/ebsp/fingerprint"
)

// StateRecord is what one state holds on one person: biographic data as
// declared, flags, and encounters with their biometric templates. It carries
// no ground truth (no person ID), as a real state's record would not.
type StateRecord struct {
	RecordID      string            `json:"record_id"`
	State         string            `json:"state"`
	GivenName     string            `json:"given_name"`
	FamilyName    string            `json:"family_name"`
	Sex           string            `json:"sex"`
	BirthDate     string            `json:"birth_date"`
	Nationalities []string          `json:"nationalities"`
	Flags         []Flag            `json:"flags,omitempty"`
	Encounters    []EncounterRecord `json:"encounters"`
}

// EncounterRecord is an encounter with its samples. Face templates are
// face.Embedding.Bytes (the node's "face-embedding" format), iris codes iris.Code's binary
// form, both base64 (standard alphabet).
type EncounterRecord struct {
	Kind        string        `json:"kind"`
	Date        string        `json:"date"`
	Fingers     []FingerEntry `json:"fingers,omitempty"`
	Face        string        `json:"face,omitempty"`
	FaceQuality float64       `json:"face_quality,omitempty"`
	Irises      []IrisEntry   `json:"irises,omitempty"`
	DNA         *dna.Profile  `json:"dna,omitempty"`
}

// FingerEntry is one finger's template in a record.
type FingerEntry struct {
	Position int                  `json:"position"`
	Template fingerprint.Template `json:"template"`
}

// IrisEntry is one eye's code in a record.
type IrisEntry struct {
	Eye     int     `json:"eye"`
	Code    string  `json:"code"`
	Quality float64 `json:"quality"`
}

// StateRecords returns the records a state holds, in person order.
func (p *Population) StateRecords(state string) []StateRecord {
	var out []StateRecord
	for i := range p.People {
		per := &p.People[i]
		for _, e := range per.Enrolments {
			if e.State != state {
				continue
			}
			rec := StateRecord{RecordID: e.RecordID, State: state, GivenName: per.GivenName, FamilyName: per.FamilyName,
				Sex: per.Sex, BirthDate: per.BirthDate, Nationalities: per.Nationalities, Flags: e.Flags}
			for _, enc := range e.Encounters {
				c := p.Captures(per, &enc)
				er := EncounterRecord{Kind: enc.Kind, Date: enc.Date, DNA: c.DNA}
				for _, f := range c.Fingers {
					er.Fingers = append(er.Fingers, FingerEntry{Position: int(f.Position), Template: f.Template})
				}
				if c.Face != nil {
					er.Face = base64.StdEncoding.EncodeToString(c.Face.Bytes())
					er.FaceQuality = c.FaceQuality
				}
				for _, ic := range c.Irises {
					b, _ := ic.Code.MarshalBinary()
					er.Irises = append(er.Irises, IrisEntry{Eye: ic.Eye, Code: base64.StdEncoding.EncodeToString(b), Quality: ic.Quality})
				}
				rec.Encounters = append(rec.Encounters, er)
			}
			out = append(out, rec)
		}
	}
	return out
}

// Manifest is the ground truth of a population: which records in which
// states belong to the same person, and the flags. Evaluations of
// cross-border search score their results against it.
type Manifest struct {
	Seed   uint64        `json:"seed"`
	People int           `json:"people"`
	States []StateTruth  `json:"states"`
	Truth  []PersonTruth `json:"truth"`
	// CrossState counts people enrolled in more than one state: the mated
	// searches of a cross-border evaluation.
	CrossState int `json:"cross_state"`
}

// StateTruth summarises one state's share.
type StateTruth struct {
	Code       string         `json:"code"`
	Records    int            `json:"records"`
	Encounters int            `json:"encounters"`
	Flags      map[string]int `json:"flags"` // encoding/json writes map keys sorted
}

// PersonTruth links one person to their records.
type PersonTruth struct {
	ID            string      `json:"id"`
	Nationalities []string    `json:"nationalities"`
	Records       []RecordRef `json:"records"`
}

// RecordRef names one state's record.
type RecordRef struct {
	State    string   `json:"state"`
	RecordID string   `json:"record_id"`
	Flags    []string `json:"flags,omitempty"`
}

// Manifest returns the population's ground truth.
func (p *Population) Manifest() Manifest {
	m := Manifest{Seed: p.Scenario.Seed, People: len(p.People)}
	idx := map[string]int{}
	for _, s := range p.Scenario.States {
		idx[s.Code] = len(m.States)
		m.States = append(m.States, StateTruth{Code: s.Code, Flags: map[string]int{}})
	}
	for _, per := range p.People {
		pt := PersonTruth{ID: per.ID, Nationalities: per.Nationalities}
		for _, e := range per.Enrolments {
			st := &m.States[idx[e.State]]
			st.Records++
			st.Encounters += len(e.Encounters)
			ref := RecordRef{State: e.State, RecordID: e.RecordID}
			for _, f := range e.Flags {
				st.Flags[f.Category]++
				if !slices.Contains(ref.Flags, f.Category) {
					ref.Flags = append(ref.Flags, f.Category)
				}
			}
			pt.Records = append(pt.Records, ref)
		}
		if len(per.Enrolments) > 1 {
			m.CrossState++
		}
		m.Truth = append(m.Truth, pt)
	}
	return m
}
