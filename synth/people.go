package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ebsp/ebsp/biometric"
)

// Encounter kinds.
const (
	EncounterVisa           = "visa"
	EncounterBorderCrossing = "border_crossing"
	EncounterArrest         = "arrest"
)

// Flag categories (the words of the data model in ARCHITECTURE.md).
const (
	FlagWanted               = "wanted"
	FlagImmigrationViolation = "immigration_violation"
	FlagRemoved              = "removed"
)

// Person is one synthetic identity and everything states hold about it.
type Person struct {
	ID            string      `json:"id"` // ground-truth identity, e.g. "P0000042"
	Index         int         `json:"index"`
	GivenName     string      `json:"given_name"`
	FamilyName    string      `json:"family_name"`
	Sex           string      `json:"sex"` // "M" or "F"
	BirthDate     string      `json:"birth_date"`
	Nationalities []string    `json:"nationalities"`
	Enrolments    []Enrolment `json:"enrolments"`
}

// Enrolment is the record one state holds on a person.
type Enrolment struct {
	State      string      `json:"state"`
	RecordID   string      `json:"record_id"` // the state's own, opaque reference
	Encounters []Encounter `json:"encounters"`
	Flags      []Flag      `json:"flags,omitempty"`
}

// Encounter is one event at which the state met the person and took
// biometrics.
type Encounter struct {
	Kind string `json:"kind"`
	Date string `json:"date"`
	// Capture numbers this encounter's samples among all of the person's
	// captures (impression number for fingers, capture number for face and
	// iris, sample number for DNA).
	Capture uint64 `json:"capture"`
	// DNA reports whether a DNA sample was taken.
	DNA bool `json:"dna,omitempty"`
}

// Flag is a derogatory flag on an enrolment.
type Flag struct {
	Category string `json:"category"`
	Date     string `json:"date"`
}

// Population is a generated scenario.
type Population struct {
	Scenario Scenario `json:"scenario"`
	People   []Person `json:"people"`
	pools    map[string]namePool
	g        *generators
}

// NewPopulation generates the people of a scenario (biographic data,
// enrolments, encounters, flags). Biometrics are made on demand by
// Population.Captures, so that large populations fit in memory.
func NewPopulation(sc Scenario) (*Population, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	p := &Population{Scenario: sc, People: make([]Person, sc.People), pools: map[string]namePool{},
		g: newGenerators(sc.Seed)}
	for _, s := range sc.States {
		p.pools[s.Code] = newNamePool(sc.Seed, s.Code)
	}
	for _, n := range sc.OtherNationalities {
		if _, ok := p.pools[n]; !ok {
			p.pools[n] = newNamePool(sc.Seed, n)
		}
	}
	start, _ := time.Parse(time.DateOnly, sc.Start)
	end, _ := time.Parse(time.DateOnly, sc.End)
	for i := range p.People {
		p.People[i] = p.person(i, start, end)
	}
	return p, nil
}

// stateByWeight draws a state index by weight, skipping those in exclude.
func stateByWeight(r *rand.Rand, states []StateSpec, exclude []string) int {
	var total float64
	for _, s := range states {
		if !slices.Contains(exclude, s.Code) {
			total += s.Weight
		}
	}
	if total <= 0 {
		return -1
	}
	u := r.Float64() * total
	last := -1
	for i, s := range states {
		if slices.Contains(exclude, s.Code) || s.Weight == 0 {
			continue
		}
		last = i
		if u < s.Weight {
			return i
		}
		u -= s.Weight
	}
	return last
}

func (p *Population) person(i int, start, end time.Time) Person {
	sc := &p.Scenario
	r := newRand(sc.Seed, "person", uint64(i))
	per := Person{ID: fmt.Sprintf("P%07d", i), Index: i, Sex: "F"}
	if r.IntN(2) == 1 {
		per.Sex = "M"
	}
	// Nationalities.
	drawNationality := func(exclude []string) string {
		if r.Float64() < sc.ForeignShare {
			for range 8 {
				if n := sc.OtherNationalities[r.IntN(len(sc.OtherNationalities))]; !slices.Contains(exclude, n) {
					return n
				}
			}
		}
		if k := stateByWeight(r, sc.States, exclude); k >= 0 {
			return sc.States[k].Code
		}
		return ""
	}
	per.Nationalities = []string{drawNationality(nil)}
	if r.Float64() < sc.DualNationalRate {
		if n := drawNationality(per.Nationalities); n != "" {
			per.Nationalities = append(per.Nationalities, n)
		}
	}
	pool := p.pools[per.Nationalities[0]]
	per.GivenName = pool.word(r, 1, 3)
	per.FamilyName = pool.word(r, 2, 3)
	// Born 18 to 80 years before the start.
	age := 18 + r.Float64()*62
	per.BirthDate = start.AddDate(0, 0, -int(age*365.25)).Format(time.DateOnly)

	// Enrolments: a first state, and for travellers one or two more.
	states := []string{sc.States[stateByWeight(r, sc.States, nil)].Code}
	if r.Float64() < sc.MultiStateRate {
		for range 1 + r.IntN(2) {
			if k := stateByWeight(r, sc.States, states); k >= 0 {
				states = append(states, sc.States[k].Code)
			}
		}
	}
	days := int(end.Sub(start).Hours() / 24)
	var capture uint64
	for _, st := range states {
		e := Enrolment{State: st, RecordID: fmt.Sprintf("%s-%012x", st, deriveSeed(sc.Seed, "record-"+st, uint64(i))>>16)}
		national := slices.Contains(per.Nationalities, st)
		visas := poisson(r, sc.Encounters.Visa)
		crossings := poisson(r, sc.Encounters.BorderCrossing)
		arrests := poisson(r, sc.Encounters.Arrest)
		if national { // nationals need no visa for their own state
			crossings += visas
			visas = 0
		}
		if visas+crossings+arrests == 0 {
			crossings = 1
		}
		for _, k := range []struct {
			kind string
			n    int
		}{{EncounterVisa, visas}, {EncounterBorderCrossing, crossings}, {EncounterArrest, arrests}} {
			for range k.n {
				enc := Encounter{Kind: k.kind, Date: start.AddDate(0, 0, r.IntN(days+1)).Format(time.DateOnly)}
				if k.kind == EncounterArrest && r.Float64() < sc.Biometrics.DNAArrestRate {
					enc.DNA = true
				}
				e.Encounters = append(e.Encounters, enc)
			}
		}
		slices.SortStableFunc(e.Encounters, func(a, b Encounter) int {
			if a.Date < b.Date {
				return -1
			}
			if a.Date > b.Date {
				return 1
			}
			return 0
		})
		for j := range e.Encounters {
			e.Encounters[j].Capture = capture
			capture++
		}
		last := e.Encounters[len(e.Encounters)-1].Date
		if r.Float64() < sc.Flags.Wanted {
			e.Flags = append(e.Flags, Flag{FlagWanted, last})
		}
		u := r.Float64()
		if !national {
			switch {
			case u < sc.Flags.Removed:
				e.Flags = append(e.Flags, Flag{FlagImmigrationViolation, last}, Flag{FlagRemoved, last})
			case u < sc.Flags.ImmigrationViolation:
				e.Flags = append(e.Flags, Flag{FlagImmigrationViolation, last})
			}
		}
		per.Enrolments = append(per.Enrolments, e)
	}
	return per
}

// fingerKey identifies a finger of a person for the fingerprint model.
func fingerKey(person int, pos biometric.FingerPosition) uint64 {
	return uint64(person)*16 + uint64(pos)
}
