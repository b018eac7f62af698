package synth

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/country"
	"github.com/ebsp/ebsp/internal/strictjson"
)

// Scenario is the input of a population run: who exists, where they are
// enrolled, what happened to them and which biometrics were taken. It is read
// from JSON (see examples/scenario.json and docs/synthetic-data.md); every
// field has a default, so {} is a valid scenario.
type Scenario struct {
	// Seed makes the run reproducible: the same scenario and seed give the
	// same population, byte for byte.
	Seed uint64 `json:"seed"`
	// People is the number of synthetic persons.
	People int `json:"people"`
	// Start and End bound the dates of encounters (YYYY-MM-DD).
	Start string `json:"start"`
	End   string `json:"end"`
	// States are the partner states holding records.
	States []StateSpec `json:"states"`
	// OtherNationalities are nationalities (ISO 3166-1 alpha-3) of people
	// who are not nationals of any partner state.
	OtherNationalities []string `json:"other_nationalities"`
	// ForeignShare is the share of people whose (first) nationality is one
	// of OtherNationalities rather than a partner state's.
	ForeignShare float64 `json:"foreign_share"`
	// DualNationalRate is the share of people with a second nationality.
	DualNationalRate float64 `json:"dual_national_rate"`
	// MultiStateRate is the share of people enrolled in more than one state
	// (each gets one or two further states): the travellers cross-border
	// searches should find.
	MultiStateRate float64 `json:"multi_state_rate"`
	// Encounters are the mean numbers of encounters of each kind per
	// enrolment (Poisson); every enrolment has at least one.
	Encounters EncounterRates `json:"encounters"`
	// Flags are the shares of enrolments carrying each derogatory flag.
	Flags FlagRates `json:"flags"`
	// Biometrics says what is captured at each encounter.
	Biometrics BiometricSpec `json:"biometrics"`
}

// StateSpec is one partner state.
type StateSpec struct {
	Code string `json:"code"` // ISO 3166-1 alpha-3, e.g. "USA"
	Name string `json:"name"`
	// Weight is the state's relative share of first enrolments and of
	// nationals among people who are not foreign.
	Weight float64 `json:"weight"`
}

// EncounterRates are mean counts per enrolment.
type EncounterRates struct {
	Visa           float64 `json:"visa"` // visa applications (for nationals of the state: none)
	BorderCrossing float64 `json:"border_crossing"`
	Arrest         float64 `json:"arrest"`
}

// FlagRates are shares of enrolments.
type FlagRates struct {
	Wanted float64 `json:"wanted"`
	// ImmigrationViolation and Removed apply to non-nationals of the
	// enrolling state only; a removed person is also flagged for the
	// violation, so ImmigrationViolation should be at least Removed.
	ImmigrationViolation float64 `json:"immigration_violation"`
	Removed              float64 `json:"removed"`
}

// BiometricSpec says what each encounter captures.
type BiometricSpec struct {
	// Fingers are the positions captured (ANSI/NIST-ITL FGP codes 1-10).
	Fingers []biometric.FingerPosition `json:"fingers"`
	Face    bool                       `json:"face"`
	Irises  bool                       `json:"irises"`
	// DNAArrestRate is the share of arrests at which a reference DNA
	// sample is taken.
	DNAArrestRate float64 `json:"dna_arrest_rate"`
	// FingerImages makes the ANSI/NIST export image level: each
	// encounter's fingers as WSQ images in Type-14 records rather than
	// minutiae in Type-9 records. Rendering costs about a second per finger
	// and person, so it suits populations of hundreds, not millions.
	FingerImages bool `json:"finger_images,omitempty"`
}

// DefaultScenario is a small partnership: the United States and three
// European partners, 1,000 people, a tenth of them enrolled in more than one
// state.
func DefaultScenario() Scenario {
	return Scenario{
		Seed: 1, People: 1000, Start: "2016-01-01", End: "2026-06-30",
		States: []StateSpec{
			{Code: "USA", Name: "United States", Weight: 4},
			{Code: "DEU", Name: "Germany", Weight: 2},
			{Code: "NLD", Name: "Netherlands", Weight: 1},
			{Code: "POL", Name: "Poland", Weight: 1},
		},
		OtherNationalities: []string{"BRA", "CHN", "IND", "MAR", "MEX", "NGA", "PHL", "TUR", "UKR", "VNM"},
		ForeignShare:       0.5, DualNationalRate: 0.04, MultiStateRate: 0.1,
		Encounters: EncounterRates{Visa: 0.5, BorderCrossing: 1.5, Arrest: 0.05},
		Flags:      FlagRates{Wanted: 0.005, ImmigrationViolation: 0.02, Removed: 0.008},
		Biometrics: BiometricSpec{Fingers: []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex},
			Face: true, Irises: false, DNAArrestRate: 0.5},
	}
}

// ReadScenario reads a scenario from JSON; fields left out keep
// DefaultScenario's values. Unknown fields are an error, so a typo does not
// silently fall back to a default.
func ReadScenario(r io.Reader) (Scenario, error) {
	sc := DefaultScenario()
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return sc, fmt.Errorf("synth: scenario: %w", err)
	}
	if len(data) > 1<<20 {
		return sc, fmt.Errorf("synth: scenario: larger than 1 MiB")
	}
	if err := strictjson.Decode("scenario", data, &sc); err != nil {
		return sc, err
	}
	return sc, sc.Validate()
}

// maxPeople bounds one run (people are held in memory).
const maxPeople = 10_000_000

// Validate checks a scenario and says what is wrong.
func (sc *Scenario) Validate() error {
	if sc.People < 1 || sc.People > maxPeople {
		return fmt.Errorf("synth: scenario: people %d, want 1-%d", sc.People, maxPeople)
	}
	start, err1 := time.Parse(time.DateOnly, sc.Start)
	end, err2 := time.Parse(time.DateOnly, sc.End)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("synth: scenario: start/end: %w", err)
	}
	if !end.After(start) {
		return fmt.Errorf("synth: scenario: end %s is not after start %s", sc.End, sc.Start)
	}
	if len(sc.States) == 0 {
		return errors.New("synth: scenario: no states")
	}
	var codes []string
	var total float64
	for i, s := range sc.States {
		if _, err := country.ParseAlpha3(s.Code); err != nil {
			return fmt.Errorf("synth: scenario: state %d: %v", i, err)
		}
		if slices.Contains(codes, s.Code) {
			return fmt.Errorf("synth: scenario: state %s listed twice", s.Code)
		}
		if s.Weight < 0 {
			return fmt.Errorf("synth: scenario: state %s: negative weight", s.Code)
		}
		codes = append(codes, s.Code)
		total += s.Weight
	}
	if total <= 0 {
		return errors.New("synth: scenario: state weights sum to zero")
	}
	if sc.ForeignShare > 0 && len(sc.OtherNationalities) == 0 {
		return errors.New("synth: scenario: foreign_share > 0 but no other_nationalities")
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"foreign_share", sc.ForeignShare}, {"dual_national_rate", sc.DualNationalRate},
		{"multi_state_rate", sc.MultiStateRate}, {"flags.wanted", sc.Flags.Wanted},
		{"flags.immigration_violation", sc.Flags.ImmigrationViolation}, {"flags.removed", sc.Flags.Removed},
		{"biometrics.dna_arrest_rate", sc.Biometrics.DNAArrestRate}} {
		if p.v < 0 || p.v > 1 {
			return fmt.Errorf("synth: scenario: %s %v, want 0-1", p.name, p.v)
		}
	}
	if sc.Flags.Removed > sc.Flags.ImmigrationViolation {
		return fmt.Errorf("synth: scenario: flags.removed %v exceeds flags.immigration_violation %v (the removed are violators)",
			sc.Flags.Removed, sc.Flags.ImmigrationViolation)
	}
	for _, r := range []float64{sc.Encounters.Visa, sc.Encounters.BorderCrossing, sc.Encounters.Arrest} {
		if r < 0 || r > 50 {
			return fmt.Errorf("synth: scenario: encounter rate %v, want 0-50", r)
		}
	}
	for _, f := range sc.Biometrics.Fingers {
		if f < 1 || f > 10 {
			return fmt.Errorf("synth: scenario: finger position %d, want 1-10", f)
		}
	}
	return nil
}
