package poc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/synth"
)

// population is the scenario's synthetic people: who is enrolled in which
// state with what records, and who crosses the home state's border. It is
// the ground truth every model is scored against.
type population struct {
	seed    uint64
	fingers []biometric.FingerPosition
	people  []person
	// enrolled lists, per state code, the indices of the people it holds.
	enrolled map[string][]int
	// travellers are the simulated border encounters, in time order.
	travellers []traveller
}

// person is one synthetic person. Index is also the key of their fingers in
// synth (index·16 + FGP), so their biometrics are made on demand.
type person struct {
	index int
	// records per state: the state holds an identity with Encounters
	// encounter records and, when Derogatory, a flag.
	records map[string]record
}

type record struct {
	encounters int
	derogatory bool
}

// travellerKind says where a traveller is enrolled before the encounter.
type travellerKind string

const (
	fromHome    travellerKind = "home"    // drawn from the home gallery
	fromPartner travellerKind = "partner" // drawn from the partners' galleries
	fromNowhere travellerKind = "unknown" // enrolled nowhere
)

type traveller struct {
	person int // index into people
	kind   travellerKind
	hour   int // hour of the simulated day (UTC)
}

// Impression numbers of synthetic captures: each state's enrolment is its
// own capture of the finger, and every border encounter another.
const (
	impressionEnrolBase  = 1
	impressionBorderBase = 1000
)

// newPopulation draws the people of a scenario. Every draw comes from a PCG
// source seeded by the scenario, so the same file gives the same people.
func newPopulation(s *Scenario) (*population, error) {
	r := rand.New(rand.NewPCG(uint64(s.Seed), 0x9e3779b97f4a7c15))
	p := &population{seed: uint64(s.Seed), fingers: s.Capture.Fingers, enrolled: map[string][]int{}}
	incoming := map[string]int{}
	for _, o := range s.Overlap {
		incoming[o.To] += int(math.Round(o.Fraction * float64(s.state(o.From).Gallery)))
	}
	newPerson := func() int {
		p.people = append(p.people, person{index: len(p.people), records: map[string]record{}})
		return len(p.people) - 1
	}
	enrol := func(st *State, idx int) {
		p.people[idx].records[st.Code] = record{
			encounters: 1 + poisson(r, st.EncountersPerPerson-1),
			derogatory: r.Float64() < st.Derogatory,
		}
		p.enrolled[st.Code] = append(p.enrolled[st.Code], idx)
	}
	// Each state's own people first, leaving room for those the overlap
	// brings in.
	for i := range s.States {
		st := &s.States[i]
		for range max(st.Gallery-incoming[st.Code], 0) {
			enrol(st, newPerson())
		}
	}
	for i, o := range s.Overlap {
		from, to := s.state(o.From), s.state(o.To)
		want := int(math.Round(o.Fraction * float64(from.Gallery)))
		cands := slices.Clone(p.enrolled[o.From])
		r.Shuffle(len(cands), func(a, b int) { cands[a], cands[b] = cands[b], cands[a] })
		got := 0
		for _, idx := range cands {
			if got == want {
				break
			}
			if _, ok := p.people[idx].records[o.To]; ok {
				continue
			}
			enrol(to, idx)
			got++
		}
		if got < want {
			return nil, fmt.Errorf("poc: overlap[%d]: only %d of %s's people can also be enrolled in %s, not %d", i, got, o.From, o.To, want)
		}
	}
	for code := range p.enrolled {
		slices.Sort(p.enrolled[code])
	}

	// Travellers: drawn by kind, each at an hour drawn from the day's
	// profile.
	var partnerPeople []int
	seen := map[int]bool{}
	for _, st := range s.Partners() {
		for _, idx := range p.enrolled[st.Code] {
			if !seen[idx] {
				seen[idx] = true
				partnerPeople = append(partnerPeople, idx)
			}
		}
	}
	slices.Sort(partnerPeople)
	home := p.enrolled[s.Home]
	hourly := s.Border.Hourly
	if len(hourly) == 0 {
		hourly = slices.Repeat([]float64{1}, 24)
	}
	for range s.Border.Simulated {
		t := traveller{hour: drawIndex(r, hourly)}
		switch u := r.Float64(); {
		case u < s.Border.FromHome:
			t.kind, t.person = fromHome, home[r.IntN(len(home))]
		case u < s.Border.FromHome+s.Border.FromPartners:
			t.kind, t.person = fromPartner, partnerPeople[r.IntN(len(partnerPeople))]
		default:
			t.kind, t.person = fromNowhere, newPerson()
		}
		p.travellers = append(p.travellers, t)
	}
	slices.SortStableFunc(p.travellers, func(a, b traveller) int { return a.hour - b.hour })
	return p, nil
}

// poisson draws from a Poisson distribution with mean lambda (Knuth's
// multiplication method; lambda here is small).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l, k, prod := math.Exp(-lambda), 0, r.Float64()
	for prod > l {
		k++
		prod *= r.Float64()
	}
	return k
}

// drawIndex draws an index with probability proportional to its weight.
func drawIndex(r *rand.Rand, w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	u := r.Float64() * total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// fingerTemplate returns the minutiae of one capture of one finger of a
// synthetic person, made on demand from the synth master model.
func fingerTemplate(seed uint64, personIndex int, pos biometric.FingerPosition, impression uint64) fingerprint.Template {
	m := synth.NewFingerMaster(seed, uint64(personIndex)*16+uint64(pos))
	mt := synth.TemplateMaster(m)
	return synth.TemplateImpression(m, &mt, impression)
}

// stateImpression is the impression number of a state's enrolment capture.
func stateImpression(stateIndex int) uint64 { return impressionEnrolBase + uint64(stateIndex) }
