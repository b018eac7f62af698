package synth

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

func smallScenario() Scenario {
	sc := DefaultScenario()
	sc.People = 3000
	sc.Biometrics.Irises = true
	return sc
}

func TestPopulationDeterministic(t *testing.T) {
	sc := smallScenario()
	sc.People = 60
	enc := func() []byte {
		p, err := NewPopulation(sc)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		if err := e.Encode(p.Manifest()); err != nil {
			t.Fatal(err)
		}
		for _, s := range sc.States {
			if err := e.Encode(p.StateRecords(s.Code)); err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	}
	a, b := enc(), enc()
	if !bytes.Equal(a, b) {
		t.Fatal("same scenario gave different bytes")
	}
	sc.Seed++
	if bytes.Equal(a, enc()) {
		t.Fatal("different seeds gave the same bytes")
	}
}

func TestPopulationRates(t *testing.T) {
	sc := smallScenario()
	p, err := NewPopulation(sc)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Manifest()
	var dual, enrolments, nonNational, violations, removed, wanted int
	names := map[string]int{}
	for _, per := range p.People {
		if len(per.Nationalities) > 1 {
			dual++
		}
		names[per.GivenName+" "+per.FamilyName]++
		for _, e := range per.Enrolments {
			enrolments++
			national := false
			for _, n := range per.Nationalities {
				national = national || n == e.State
			}
			if !national {
				nonNational++
			}
			for _, f := range e.Flags {
				switch f.Category {
				case FlagWanted:
					wanted++
				case FlagImmigrationViolation:
					violations++
					if national {
						t.Fatalf("%s flagged for immigration violation in own state %s", per.ID, e.State)
					}
				case FlagRemoved:
					removed++
				}
			}
			if len(e.Encounters) == 0 {
				t.Fatalf("%s has an enrolment without encounters", per.ID)
			}
		}
	}
	check := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s %.4f, want %.4f ± %.4f", what, got, want, tol)
		}
	}
	n := float64(len(p.People))
	check("multi-state share", float64(m.CrossState)/n, sc.MultiStateRate, 0.02)
	check("dual-national share", float64(dual)/n, sc.DualNationalRate, 0.015)
	check("violation share of non-national enrolments", float64(violations)/float64(nonNational), sc.Flags.ImmigrationViolation, 0.008)
	check("removed share of non-national enrolments", float64(removed)/float64(nonNational), sc.Flags.Removed, 0.006)
	check("wanted share of enrolments", float64(wanted)/float64(enrolments), sc.Flags.Wanted, 0.004)
	if len(names) < len(p.People)*9/10 {
		t.Errorf("only %d distinct names for %d people", len(names), len(p.People))
	}
}

func TestCapturesMatchAcrossStates(t *testing.T) {
	sc := smallScenario()
	sc.People = 200
	sc.MultiStateRate = 1
	p, _ := NewPopulation(sc)
	per := &p.People[0]
	a := p.Captures(per, &per.Enrolments[0].Encounters[0])
	b := p.Captures(per, &per.Enrolments[1].Encounters[0])
	if len(a.Fingers) != 2 || a.Face == nil || len(a.Irises) != 2 {
		t.Fatalf("captures incomplete: %d fingers, face %v, %d irises", len(a.Fingers), a.Face != nil, len(a.Irises))
	}
	if a.Fingers[0].Template.Minutiae[0] == b.Fingers[0].Template.Minutiae[0] &&
		len(a.Fingers[0].Template.Minutiae) == len(b.Fingers[0].Template.Minutiae) {
		t.Error("two encounters gave identical finger templates")
	}
}

func TestScenarioErrors(t *testing.T) {
	for _, bad := range []string{
		`{"people": 0}`,
		`{"peeple": 5}`,
		`{"start": "2020-13-01"}`,
		`{"states": [{"code": "US", "weight": 1}]}`,
		`{"flags": {"removed": 0.5, "immigration_violation": 0.1}}`,
		`{"biometrics": {"fingers": [11]}}`,
	} {
		if _, err := ReadScenario(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestExampleScenario(t *testing.T) {
	f, err := os.Open("../examples/scenario.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := ReadScenario(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.States) < 2 {
		t.Fatalf("example has %d states", len(sc.States))
	}
}

func FuzzReadScenario(f *testing.F) {
	b, err := os.ReadFile("../examples/scenario.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"people": 3, "states": [{"code": "AAA", "weight": 1}], "foreign_share": 0}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		sc, err := ReadScenario(bytes.NewReader(in))
		if err != nil {
			return
		}
		// A valid scenario must generate; keep the population small so
		// that the fuzzer explores the fields, not the allocator.
		sc.People = min(sc.People, 20)
		p, err := NewPopulation(sc)
		if err != nil {
			t.Fatalf("valid scenario rejected by NewPopulation: %v", err)
		}
		for i := range p.People {
			if len(p.People[i].Enrolments) == 0 {
				t.Fatalf("person %d has no enrolment", i)
			}
		}
		p.Manifest()
	})
}
