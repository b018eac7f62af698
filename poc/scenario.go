package poc

import (
	_ "embed"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/country"
	"github.com/ebsp/ebsp/internal/strictjson"
)

// Scenario is one PoC run's input: who is enrolled where, who crosses the
// border, what the partnership agreement allows and where the matcher
// operates. docs/poc.md documents every field; examples/poc-small.json and
// examples/poc-national.json are complete examples.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Seed makes the synthetic population and every random draw of the run
	// repeatable.
	Seed int64 `json:"seed"`
	// Home is the state whose border encounters are searched: the requesting
	// state (the "hub" of the bulk-copy model).
	Home   string  `json:"home"`
	States []State `json:"states"`
	// Overlap says who is enrolled in more than one state.
	Overlap       []Overlap     `json:"overlap,omitempty"`
	Border        Border        `json:"border"`
	Capture       Capture       `json:"capture"`
	Agreement     Agreement     `json:"agreement"`
	Examiner      Examiner      `json:"examiner"`
	Matcher       Matcher       `json:"matcher"`
	Extrapolation Extrapolation `json:"extrapolation"`
	// Models are the sharing models to compare (all when empty).
	Models []Model `json:"models,omitempty"`
}

// State is one state of the partnership and its simulated node.
type State struct {
	Code string `json:"code"` // ISO 3166-1 alpha-3
	Name string `json:"name,omitempty"`
	// Gallery is the number of people enrolled in the simulated node.
	Gallery int `json:"gallery"`
	// NationalGallery is the size of the real gallery the state stands for
	// (e.g. 270,000,000 for IDENT/HART), used only by the national section.
	NationalGallery int64 `json:"national_gallery,omitempty"`
	// Derogatory is the fraction of the state's enrolled people who carry a
	// derogatory flag (wanted, immigration violation, removed).
	Derogatory float64 `json:"derogatory"`
	// EncountersPerPerson is the mean number of encounter records held per
	// enrolled person (at least 1), which is what an automatic or bulk
	// disclosure hands over.
	EncountersPerPerson float64 `json:"encounters_per_person,omitempty"`
}

// Overlap says that a fraction of From's enrolled people are also enrolled
// in To (for instance visa applicants who were once asylum seekers in a
// partner state). They count towards both galleries.
type Overlap struct {
	From     string  `json:"from"`
	To       string  `json:"to"`
	Fraction float64 `json:"fraction"`
}

// Border is the home state's border-encounter stream.
type Border struct {
	// EncountersPerDay is the national volume (IDENT: 300,000-400,000
	// transactions a day), used to scale measured rates to a day.
	EncountersPerDay int `json:"encounters_per_day"`
	// Simulated is how many encounters the run actually searches.
	Simulated int `json:"simulated"`
	// FromHome and FromPartners are the fractions of travellers already
	// enrolled at home, and enrolled in a partner state (drawn from the
	// partners' galleries, so some of them are enrolled at home too through
	// the overlap). The rest are enrolled nowhere.
	FromHome     float64 `json:"from_home"`
	FromPartners float64 `json:"from_partners"`
	// Hourly are 24 relative weights of the day's volume by hour (UTC); flat
	// when empty.
	Hourly []float64 `json:"hourly,omitempty"`
}

// Capture says what is captured at enrolment and at the border.
type Capture struct {
	// Modalities captured; the simulation matches fingerprints.
	Modalities []biometric.Modality `json:"modalities"`
	// Fingers are the ANSI/NIST FGP codes of the fingers captured (1-10).
	Fingers []biometric.FingerPosition `json:"fingers"`
}

// Disclosure categories an agreement may allow in step 2.
const (
	DiscloseBiographic = "biographic" // names, date of birth, nationality
	DiscloseDerogatory = "derogatory" // flags
	DiscloseEncounters = "encounters" // encounter history
)

// Agreement is the partnership agreement every partner holds with the home
// state.
type Agreement struct {
	// Purposes the agreement allows; Purpose is the purpose of the simulated
	// border searches and must be one of them.
	Purposes []string `json:"purposes"`
	Purpose  string   `json:"purpose"`
	// CandidateCap bounds the step-1 candidate list.
	CandidateCap int `json:"candidate_cap"`
	// DailyQuota bounds step-1 requests per partner per day (0: no quota).
	// It applies to the simulated day: the run's encounters are one day.
	DailyQuota int `json:"daily_quota,omitempty"`
	// Disclosure is the step-2 allow-list (biographic, derogatory,
	// encounters).
	Disclosure []string `json:"disclosure"`
	// RetentionDays is how long a responder may keep a probe it received (0:
	// not at all, which is query-and-purge).
	RetentionDays int `json:"retention_days"`
}

// Examiner models the human step: an examiner confirms true matches and
// rejects false ones, wrong at the stated rates.
type Examiner struct {
	// FalseConfirm is the probability that an examiner confirms a false
	// match; FalseReject that one rejects a true match.
	FalseConfirm float64 `json:"false_confirm"`
	FalseReject  float64 `json:"false_reject"`
	// MinutesPerCase is the examiner time one candidate review takes.
	MinutesPerCase float64 `json:"minutes_per_case"`
}

// Matcher is the operating point of every node's fingerprint matcher. With
// neither TargetFMR nor Threshold (the default) every node decides as a
// node with the default configuration does: its hit threshold follows its
// own gallery's size on the engine's impostor tail, for the default FPIR
// target (node.GalleryPolicy).
type Matcher struct {
	// TargetFMR is the single-finger false-match rate per comparison the hit
	// threshold is set for, from the measured impostor scores. Mutually
	// exclusive with Threshold.
	TargetFMR float64 `json:"target_fmr,omitempty"`
	// Threshold is an explicit single-finger hit threshold on the matcher's
	// score scale (for n fingers the node's search.Policy turns it into a
	// fused threshold).
	Threshold float64 `json:"threshold,omitempty"`
	// CompactFingerprints has every node keep its fingerprint gallery
	// compact (node.Config.CompactFingerprints): 5.6 instead of 13.5 KB a
	// finger, for scenarios of millions of enrolled fingers on one machine.
	CompactFingerprints bool `json:"compact_fingerprints,omitempty"`
}

// NodePolicy says that the nodes decide by their own policy, at their
// galleries' sizes, rather than at one fixed threshold.
func (m Matcher) NodePolicy() bool { return m.TargetFMR == 0 && m.Threshold == 0 }

// Extrapolation is how the run measures score distributions and scales them
// to national galleries.
type Extrapolation struct {
	// Gallery is the national gallery size to extrapolate to (default the
	// home state's national_gallery).
	Gallery int64 `json:"gallery,omitempty"`
	// Fingers are the finger counts to extrapolate for (default 1, 2, 10).
	Fingers []int `json:"fingers,omitempty"`
	// ImpostorComparisons and GenuineComparisons are the sizes of the score
	// samples, each comparison a real matcher call on template-level
	// synthetic fingerprints.
	ImpostorComparisons int `json:"impostor_comparisons"`
	GenuineComparisons  int `json:"genuine_comparisons"`
	// Confidence of the stated bounds (default 0.95).
	Confidence float64 `json:"confidence,omitempty"`
}

// Model is a sharing model.
type Model string

// The sharing models compared (see docs/poc.md).
const (
	ModelNational   Model = "national"         // no sharing: the home gallery only
	ModelPrum       Model = "prum"             // step 1 hit/no-hit, examiner-gated step 2, probes kept per agreement
	ModelQueryPurge Model = "query_purge"      // as prum, and a probe that did not match leaves no trace
	ModelDHSAsk     Model = "dhs_ask"          // automatic return of biographic, derogatory and encounter data on a match
	ModelBulkCopy   Model = "bulk_copy"        // partners' holdings copied into the hub, searched locally
	ModelEncrypted  Model = "encrypted_search" // step 1 on encrypted probes, examiner-gated step 2 (encrypted.go)
)

// AllModels lists the models in report order.
var AllModels = []Model{ModelNational, ModelPrum, ModelQueryPurge, ModelEncrypted, ModelDHSAsk, ModelBulkCopy}

// Limits on scenario values: what one machine can simulate, and what keeps
// a hostile file from asking for absurd work.
const (
	maxScenarioBytes    = 1 << 20
	maxStates           = 32
	maxGallery          = 1_000_000
	maxSimulated        = 1_000_000
	maxComparisons      = 2_000_000_000
	maxNationalGallery  = 10_000_000_000
	maxEncountersPerDay = 100_000_000
)

// ParseScenario reads a scenario from JSON, refusing unknown fields and
// trailing data, fills defaults and validates it.
func ParseScenario(data []byte) (*Scenario, error) { return parseScenario("scenario", data) }

// parseScenario is ParseScenario with the name errors give the input (a
// file's path): "poc-small.json:3:5: unknown field ...".
func parseScenario(name string, data []byte) (*Scenario, error) {
	if len(data) > maxScenarioBytes {
		return nil, fmt.Errorf("scenario: %d bytes: larger than the %d-byte limit", len(data), maxScenarioBytes)
	}
	var s Scenario
	if err := strictjson.Decode(name, data, &s); err != nil {
		return nil, err
	}
	s.Defaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScenarioBytes+1))
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return parseScenario(path, data)
}

// smallJSON is examples/poc-small.json, embedded so that programs (ebsp
// demo) run it without the repository at hand; a test keeps the two equal.
//
//go:embed small.json
var smallJSON []byte

// SmallScenario returns the small example scenario (examples/poc-small.json):
// four states with a few hundred people each, what ebsp demo runs.
func SmallScenario() (*Scenario, error) { return ParseScenario(smallJSON) }

// Defaults fills zero fields with their defaults.
func (s *Scenario) Defaults() {
	for i := range s.States {
		if s.States[i].EncountersPerPerson == 0 {
			s.States[i].EncountersPerPerson = 1
		}
	}
	if len(s.Capture.Modalities) == 0 {
		s.Capture.Modalities = []biometric.Modality{biometric.Finger}
	}
	if len(s.Capture.Fingers) == 0 {
		s.Capture.Fingers = []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex}
	}
	if s.Agreement.CandidateCap == 0 {
		s.Agreement.CandidateCap = 1
	}
	if s.Extrapolation.Gallery == 0 {
		if h := s.state(s.Home); h != nil {
			s.Extrapolation.Gallery = h.NationalGallery
		}
	}
	if len(s.Extrapolation.Fingers) == 0 {
		s.Extrapolation.Fingers = []int{1, 2, 10}
	}
	if s.Extrapolation.Confidence == 0 {
		s.Extrapolation.Confidence = 0.95
	}
	if len(s.Models) == 0 {
		s.Models = slices.Clone(AllModels)
	}
}

func (s *Scenario) state(code string) *State {
	for i := range s.States {
		if s.States[i].Code == code {
			return &s.States[i]
		}
	}
	return nil
}

// home returns the Home state.
func (s *Scenario) home() State {
	for _, st := range s.States {
		if st.Code == s.Home {
			return st
		}
	}
	return State{}
}

// Partners returns the states other than Home, in file order.
func (s *Scenario) Partners() []State {
	var out []State
	for _, st := range s.States {
		if st.Code != s.Home {
			out = append(out, st)
		}
	}
	return out
}

func isAlpha3(c string) bool {
	_, err := country.ParseAlpha3(c)
	return err == nil
}

func fraction(v float64) bool { return v >= 0 && v <= 1 && !math.IsNaN(v) }

// Validate reports the first thing wrong with s, naming the field as it is
// spelt in the file.
func (s *Scenario) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("scenario: "+format, a...)
	}
	if s.Name == "" {
		return bad("name: missing")
	}
	if len(s.States) < 2 || len(s.States) > maxStates {
		return bad("states: %d given: want 2 to %d (the home state and at least one partner)", len(s.States), maxStates)
	}
	seen := map[string]bool{}
	for i, st := range s.States {
		switch {
		case !isAlpha3(st.Code):
			return bad("states[%d].code %q: want an officially assigned ISO 3166-1 alpha-3 code, such as USA", i, st.Code)
		case seen[st.Code]:
			return bad("states[%d].code %q: listed twice", i, st.Code)
		case st.Gallery < 1 || st.Gallery > maxGallery:
			return bad("states[%d] (%s).gallery %d: want 1 to %d people", i, st.Code, st.Gallery, maxGallery)
		case st.NationalGallery < 0 || st.NationalGallery > maxNationalGallery:
			return bad("states[%d] (%s).national_gallery %d: want 0 to %d", i, st.Code, st.NationalGallery, int64(maxNationalGallery))
		case !fraction(st.Derogatory):
			return bad("states[%d] (%s).derogatory %v: want a fraction from 0 to 1", i, st.Code, st.Derogatory)
		case !(st.EncountersPerPerson >= 1 && st.EncountersPerPerson <= 100):
			return bad("states[%d] (%s).encounters_per_person %v: want 1 to 100", i, st.Code, st.EncountersPerPerson)
		}
		seen[st.Code] = true
	}
	if !seen[s.Home] {
		return bad("home %q: not one of the states", s.Home)
	}
	incoming := map[string]float64{}
	pairs := map[[2]string]bool{}
	for i, o := range s.Overlap {
		switch {
		case !seen[o.From]:
			return bad("overlap[%d].from %q: not one of the states", i, o.From)
		case !seen[o.To]:
			return bad("overlap[%d].to %q: not one of the states", i, o.To)
		case o.From == o.To:
			return bad("overlap[%d]: from and to are both %s", i, o.From)
		case !(o.Fraction > 0 && o.Fraction <= 1):
			return bad("overlap[%d].fraction %v: want a fraction above 0 and at most 1", i, o.Fraction)
		case pairs[[2]string{o.From, o.To}]:
			return bad("overlap[%d]: %s to %s listed twice", i, o.From, o.To)
		}
		pairs[[2]string{o.From, o.To}] = true
		incoming[o.To] += o.Fraction * float64(s.state(o.From).Gallery)
	}
	for _, st := range s.States {
		if in := incoming[st.Code]; in > float64(st.Gallery) {
			return bad("overlap: %.0f people of other states are also enrolled in %s, more than its gallery of %d", in, st.Code, st.Gallery)
		}
	}

	b := s.Border
	switch {
	case b.EncountersPerDay < 1 || b.EncountersPerDay > maxEncountersPerDay:
		return bad("border.encounters_per_day %d: want 1 to %d", b.EncountersPerDay, maxEncountersPerDay)
	case b.Simulated < 1 || b.Simulated > maxSimulated:
		return bad("border.simulated %d: want 1 to %d", b.Simulated, maxSimulated)
	case !fraction(b.FromHome) || !fraction(b.FromPartners) || b.FromHome+b.FromPartners > 1:
		return bad("border.from_home %v and from_partners %v: want fractions that sum to at most 1", b.FromHome, b.FromPartners)
	case len(b.Hourly) != 0 && len(b.Hourly) != 24:
		return bad("border.hourly: %d weights: want 24 (one per hour) or none", len(b.Hourly))
	}
	sum := 0.0
	for i, w := range b.Hourly {
		if !(w >= 0) || math.IsInf(w, 0) {
			return bad("border.hourly[%d] %v: want a weight of 0 or more", i, w)
		}
		sum += w
	}
	if len(b.Hourly) == 24 && sum == 0 {
		return bad("border.hourly: all weights are 0")
	}

	if len(s.Capture.Modalities) == 0 {
		return bad("capture.modalities: none")
	}
	for i, m := range s.Capture.Modalities {
		if !m.Valid() {
			return bad("capture.modalities[%d] %q: want finger, face, iris or dna", i, m)
		}
	}
	if !slices.Contains(s.Capture.Modalities, biometric.Finger) {
		return bad("capture.modalities: the simulation matches fingerprints, so finger must be captured")
	}
	if len(s.Capture.Fingers) > 10 {
		return bad("capture.fingers: %d given: at most 10", len(s.Capture.Fingers))
	}
	fseen := map[biometric.FingerPosition]bool{}
	for i, f := range s.Capture.Fingers {
		if f < biometric.RightThumb || f > biometric.LeftLittle {
			return bad("capture.fingers[%d] %d: want an FGP code from 1 (right thumb) to 10 (left little)", i, f)
		}
		if fseen[f] {
			return bad("capture.fingers[%d]: %s listed twice", i, f)
		}
		fseen[f] = true
	}

	a := s.Agreement
	if len(a.Purposes) == 0 {
		return bad("agreement.purposes: none; an agreement must name what searches are for")
	}
	if !slices.Contains(a.Purposes, a.Purpose) {
		return bad("agreement.purpose %q: not one of agreement.purposes %q", a.Purpose, a.Purposes)
	}
	switch {
	case a.CandidateCap < 1 || a.CandidateCap > 100:
		return bad("agreement.candidate_cap %d: want 1 to 100", a.CandidateCap)
	case a.DailyQuota < 0:
		return bad("agreement.daily_quota %d: want 0 (none) or more", a.DailyQuota)
	case a.RetentionDays < 0 || a.RetentionDays > 36500:
		return bad("agreement.retention_days %d: want 0 to 36500", a.RetentionDays)
	}
	for i, d := range a.Disclosure {
		switch d {
		case DiscloseBiographic, DiscloseDerogatory, DiscloseEncounters:
		default:
			return bad("agreement.disclosure[%d] %q: want biographic, derogatory or encounters", i, d)
		}
	}

	e := s.Examiner
	switch {
	case !fraction(e.FalseConfirm):
		return bad("examiner.false_confirm %v: want a probability from 0 to 1", e.FalseConfirm)
	case !fraction(e.FalseReject):
		return bad("examiner.false_reject %v: want a probability from 0 to 1", e.FalseReject)
	case !(e.MinutesPerCase >= 0 && e.MinutesPerCase <= 24*60):
		return bad("examiner.minutes_per_case %v: want 0 to 1440", e.MinutesPerCase)
	}

	m := s.Matcher
	switch {
	case m.TargetFMR != 0 && m.Threshold != 0:
		return bad("matcher: give target_fmr or threshold, not both")
	case m.TargetFMR != 0 && !(m.TargetFMR > 0 && m.TargetFMR < 1):
		return bad("matcher.target_fmr %v: want a probability between 0 and 1", m.TargetFMR)
	case m.Threshold < 0 || math.IsInf(m.Threshold, 0) || math.IsNaN(m.Threshold):
		return bad("matcher.threshold %v: want a positive score", m.Threshold)
	}

	x := s.Extrapolation
	switch {
	case x.Gallery < 1 || x.Gallery > maxNationalGallery:
		return bad("extrapolation.gallery %d: want 1 to %d (or set the home state's national_gallery)", x.Gallery, int64(maxNationalGallery))
	case x.ImpostorComparisons < 1000 || x.ImpostorComparisons > maxComparisons:
		return bad("extrapolation.impostor_comparisons %d: want 1,000 to %d", x.ImpostorComparisons, maxComparisons)
	case x.GenuineComparisons < 100 || x.GenuineComparisons > maxComparisons:
		return bad("extrapolation.genuine_comparisons %d: want 100 to %d", x.GenuineComparisons, maxComparisons)
	case !(x.Confidence >= 0.5 && x.Confidence < 1):
		return bad("extrapolation.confidence %v: want 0.5 to below 1", x.Confidence)
	}
	for i, n := range x.Fingers {
		if n < 1 || n > 10 {
			return bad("extrapolation.fingers[%d] %d: want 1 to 10", i, n)
		}
	}
	if m.TargetFMR != 0 && m.TargetFMR*float64(x.ImpostorComparisons) < 10 {
		return bad("matcher.target_fmr %v: below the resolution of %d impostor comparisons (fewer than 10 expected above the threshold); raise extrapolation.impostor_comparisons to at least %.0f or set matcher.threshold",
			m.TargetFMR, x.ImpostorComparisons, math.Ceil(10/m.TargetFMR))
	}

	mseen := map[Model]bool{}
	for i, md := range s.Models {
		if !slices.Contains(AllModels, md) {
			return bad("models[%d] %q: want one of %q", i, md, AllModels)
		}
		if mseen[md] {
			return bad("models[%d] %q: listed twice", i, md)
		}
		mseen[md] = true
	}
	return nil
}
