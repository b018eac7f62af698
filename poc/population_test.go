package poc

import (
	"math"
	"testing"
)

func TestPopulationMatchesScenario(t *testing.T) {
	s := exampleScenario(t, "poc-small.json")
	p, err := newPopulation(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range s.States {
		if got := len(p.enrolled[st.Code]); got != st.Gallery {
			t.Errorf("%s holds %d people: want the gallery size %d", st.Code, got, st.Gallery)
		}
	}
	for _, o := range s.Overlap {
		both := 0
		for _, idx := range p.enrolled[o.From] {
			if _, ok := p.people[idx].records[o.To]; ok {
				both++
			}
		}
		if want := int(math.Round(o.Fraction * float64(s.state(o.From).Gallery))); both < want {
			t.Errorf("%d of %s's people also in %s: want at least %d", both, o.From, o.To, want)
		}
	}
	kinds := map[travellerKind]int{}
	for i, tr := range p.travellers {
		kinds[tr.kind]++
		if i > 0 && tr.hour < p.travellers[i-1].hour {
			t.Fatal("travellers not in time order")
		}
		_, home := p.people[tr.person].records[s.Home]
		if tr.kind == fromHome && !home || tr.kind == fromNowhere && len(p.people[tr.person].records) != 0 {
			t.Errorf("traveller %d of kind %s has records in %d states", i, tr.kind, len(p.people[tr.person].records))
		}
	}
	if len(p.travellers) != s.Border.Simulated || kinds[fromHome] == 0 || kinds[fromPartner] == 0 || kinds[fromNowhere] == 0 {
		t.Errorf("travellers by kind %v: want %d with every kind", kinds, s.Border.Simulated)
	}
	q, _ := newPopulation(s)
	if len(q.people) != len(p.people) || q.travellers[17] != p.travellers[17] {
		t.Error("the same scenario gave a different population")
	}
}
