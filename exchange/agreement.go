// Package exchange is the partnership exchange between national biometric
// nodes of different states: agreements, test PKI, signed envelopes, the
// step-1 (automated hit/no-hit) and step-2 (human-confirmed disclosure)
// state machine, query-and-purge, and the requester's client.
//
// It follows the shape of the EU Prüm II regulation (Regulation (EU)
// 2024/982: automated hit/no-hit replies, personal data only after a human
// confirms the match, candidate caps, daily quotas, a log of every
// operation) and the Five Country Conference's query-and-purge (a probe that
// does not match is destroyed after checking). Every request, decision,
// examiner action, release and refusal is a leaf of the responder's
// transparency log (package audit), and every reply proves its own leaf.
//
// The package never decides to admit or deny anyone: its outcomes are hit,
// no_hit and the human examiner's confirmed or rejected, nothing else. It
// never looks at nationality.
package exchange

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/country"
	"golang.org/x/mod/sumdb/note"
)

// Purpose is why a state searches a partner's gallery. The list is closed:
// an agreement can only permit these.
type Purpose string

// The permitted purposes.
const (
	BorderScreening    Purpose = "border_screening"
	Visa               Purpose = "visa"
	ImmigrationBenefit Purpose = "immigration_benefit"
	SeriousCrime       Purpose = "serious_crime"
)

var purposes = []Purpose{BorderScreening, Visa, ImmigrationBenefit, SeriousCrime}

// SearchType is the kind of search, which sets the candidate cap and quota.
type SearchType string

// Search types and the modality each searches.
const (
	Tenprint   SearchType = "tenprint" // rolled or plain prints of several fingers
	Latent     SearchType = "latent"   // a mark from a scene
	FaceSearch SearchType = "face"
	IrisSearch SearchType = "iris"
	DNASearch  SearchType = "dna"
)

var searchModality = map[SearchType]biometric.Modality{
	Tenprint: biometric.Finger, Latent: biometric.Finger,
	FaceSearch: biometric.Face, IrisSearch: biometric.Iris, DNASearch: biometric.DNA,
}

// DefaultCandidateCap is the Prüm default: one candidate for a tenprint
// search, ten for a latent, five for others.
func DefaultCandidateCap(t SearchType) int {
	switch t {
	case Tenprint:
		return 1
	case Latent:
		return 10
	}
	return 5
}

// Disclosable fields: the vocabulary of step-2 allow-lists (store.Identity's
// JSON names). Anything else cannot be put on an allow-list.
var disclosable = []string{"names", "date_of_birth", "nationality", "case_reference", "place_of_birth", "document_numbers"}

// DefaultDisclosure is the default step-2 allow-list.
var DefaultDisclosure = []string{"names", "date_of_birth", "nationality", "case_reference"}

// DefaultStep2Deadline is the time the responder has to confirm a match
// after a disclosure request (Prüm II: 48 hours).
const DefaultStep2Deadline = 48 * time.Hour

// DefaultStep1Deadline is the time a responder has for the automated
// search (DHS: near real time, 10 s for border watchlist checks).
const DefaultStep1Deadline = 10 * time.Second

// Duration is a time.Duration written in JSON as Go duration text ("48h").
type Duration time.Duration

// MarshalJSON writes d as "1h30m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads Go duration text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"48h\": %v", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Party is one state of an agreement.
type Party struct {
	State    string `json:"state"`              // ISO 3166-1 alpha-2 code, e.g. "US"
	Node     string `json:"node"`               // the node's name, the CN of its certificates
	CACert   string `json:"ca_cert"`            // PEM of the state's CA certificate
	LogKey   string `json:"log_key"`            // note verifier key of the node's transparency log
	Endpoint string `json:"endpoint,omitempty"` // base URL of the node's partner endpoint

	ca     *x509.Certificate
	logVer note.Verifier
}

// CA returns the parsed CA certificate (after Validate).
func (p *Party) CA() *x509.Certificate { return p.ca }

// LogVerifier returns the verifier of the party's log checkpoints (after Validate).
func (p *Party) LogVerifier() note.Verifier { return p.logVer }

// PurposeRule permits one purpose. MinOffenceYears is the seriousness
// threshold of serious_crime: the maximum custodial sentence, in years, of
// the offence under investigation must be at least this.
type PurposeRule struct {
	Purpose         Purpose `json:"purpose"`
	MinOffenceYears int     `json:"min_offence_years,omitempty"`
}

// SearchRule sets the candidate cap and daily quota of one search type.
type SearchRule struct {
	CandidateCap int `json:"candidate_cap"` // 0 means the Prüm default
	DailyQuota   int `json:"daily_quota"`   // requests per UTC day from each party
}

// Handling are the tags attached to every release.
type Handling struct {
	NoOnwardTransfer bool     `json:"no_onward_transfer"`
	DestroyAfter     Duration `json:"destroy_after"` // the receiver destroys released data this long after release
}

// Deadlines are the reply deadlines.
type Deadlines struct {
	Step1 Duration `json:"step1,omitempty"` // automated search; 0 means 10 s
	Step2 Duration `json:"step2,omitempty"` // examiner decision after a disclosure request; 0 means 48 h
}

// Agreement is a partnership agreement as both parties hold it. It applies
// in both directions: either party may search the other under it.
type Agreement struct {
	ID         string                    `json:"id"`
	Parties    [2]Party                  `json:"parties"`
	Purposes   []PurposeRule             `json:"purposes"`
	Modalities []biometric.Modality      `json:"modalities"`
	Searches   map[SearchType]SearchRule `json:"searches"`
	Disclosure []string                  `json:"disclosure,omitempty"` // step-2 allow-list; empty means the default
	Handling   Handling                  `json:"handling"`
	Deadlines  Deadlines                 `json:"deadlines"`
	// FourEyes, when set, makes a match need the confirmation of two
	// distinct examiners of the responding state before anything is
	// released (the first confirmation is logged and releases nothing).
	FourEyes  bool      `json:"four_eyes,omitempty"`
	Retention Duration  `json:"retention"` // how long the responder keeps case records
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	Suspended bool      `json:"suspended,omitempty"`
	// EncryptedSearch, when set, makes step 1 of its modalities run on
	// encrypted probes (encrypted.go, docs/privacy.md).
	EncryptedSearch *EncryptedSearch `json:"encrypted_search,omitempty"`
}

// LoadAgreement reads and validates an agreement file.
func LoadAgreement(path string) (*Agreement, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("exchange: %v", err)
	}
	a, err := ParseAgreement(b)
	if err != nil {
		return nil, fmt.Errorf("%v (in %s)", err, path)
	}
	return a, nil
}

// ParseAgreement decodes an agreement strictly, fills defaults and validates it.
func ParseAgreement(b []byte) (*Agreement, error) {
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("exchange: agreement is %d bytes, limit 1 MiB", len(b))
	}
	var a Agreement
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return nil, fmt.Errorf("exchange: agreement: %v", err)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return &a, nil
}

// Marshal returns the agreement as indented JSON.
func (a *Agreement) Marshal() ([]byte, error) { return json.MarshalIndent(a, "", "  ") }

// Validate fills defaults (candidate caps, allow-list, deadlines), parses
// the parties' certificates and keys, and checks every field, returning the
// first problem with the field it is in.
func (a *Agreement) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("exchange: agreement %q: "+format, append([]any{a.ID}, args...)...)
	}
	if a.ID == "" || len(a.ID) > 64 || strings.ContainsAny(a.ID, " \t\r\n/") {
		return bad("id must be 1-64 characters without spaces or slashes")
	}
	for i := range a.Parties {
		p := &a.Parties[i]
		if _, err := country.ParseAlpha2(p.State); err != nil {
			return bad("parties[%d].state: %v", i, err)
		}
		if p.Node == "" || len(p.Node) > 64 || strings.ContainsAny(p.Node, " \t\r\n/+") {
			return bad("parties[%d].node %q must be 1-64 characters without spaces, slashes or plus", i, p.Node)
		}
		block, _ := pem.Decode([]byte(p.CACert))
		if block == nil || block.Type != "CERTIFICATE" {
			return bad("parties[%d].ca_cert is not a PEM certificate", i)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return bad("parties[%d].ca_cert: %v", i, err)
		}
		if !c.IsCA || !c.BasicConstraintsValid {
			return bad("parties[%d].ca_cert (%s) is not a CA certificate", i, c.Subject)
		}
		p.ca = c
		v, err := note.NewVerifier(p.LogKey)
		if err != nil {
			return bad("parties[%d].log_key: %v", i, err)
		}
		p.logVer = v
	}
	if a.Parties[0].State == a.Parties[1].State {
		return bad("both parties are %s; an agreement is between two states", a.Parties[0].State)
	}
	if len(a.Purposes) == 0 {
		return bad("no purposes permitted")
	}
	seen := map[Purpose]bool{}
	for i, r := range a.Purposes {
		if !slices.Contains(purposes, r.Purpose) {
			return bad("purposes[%d] %q is not one of %v", i, r.Purpose, purposes)
		}
		if seen[r.Purpose] {
			return bad("purposes[%d] %q listed twice", i, r.Purpose)
		}
		seen[r.Purpose] = true
		if r.Purpose == SeriousCrime && r.MinOffenceYears <= 0 {
			return bad("purposes[%d] serious_crime needs min_offence_years > 0 (the offence-seriousness threshold)", i)
		}
		if r.Purpose != SeriousCrime && r.MinOffenceYears != 0 {
			return bad("purposes[%d] %s takes no min_offence_years", i, r.Purpose)
		}
	}
	if len(a.Modalities) == 0 {
		return bad("no modalities permitted")
	}
	for i, m := range a.Modalities {
		if !m.Valid() {
			return bad("modalities[%d] %q unknown", i, m)
		}
	}
	if len(a.Searches) == 0 {
		return bad("no search types permitted")
	}
	for t, r := range a.Searches {
		m, ok := searchModality[t]
		if !ok {
			return bad("searches: search type %q unknown", t)
		}
		if !slices.Contains(a.Modalities, m) {
			return bad("searches: %s searches %s, which is not a permitted modality", t, m)
		}
		if r.CandidateCap == 0 {
			r.CandidateCap = DefaultCandidateCap(t)
		}
		if r.CandidateCap < 1 || r.CandidateCap > 100 {
			return bad("searches.%s.candidate_cap %d out of range 1-100", t, r.CandidateCap)
		}
		if r.DailyQuota < 1 {
			return bad("searches.%s.daily_quota must be at least 1", t)
		}
		a.Searches[t] = r
	}
	if len(a.Disclosure) == 0 {
		a.Disclosure = slices.Clone(DefaultDisclosure)
	}
	for i, f := range a.Disclosure {
		if !slices.Contains(disclosable, f) {
			return bad("disclosure[%d] %q is not a disclosable field (%v)", i, f, disclosable)
		}
	}
	if a.Handling.DestroyAfter <= 0 {
		return bad("handling.destroy_after must be set: every release carries a destroy-by date")
	}
	if a.Deadlines.Step1 == 0 {
		a.Deadlines.Step1 = Duration(DefaultStep1Deadline)
	}
	if a.Deadlines.Step2 == 0 {
		a.Deadlines.Step2 = Duration(DefaultStep2Deadline)
	}
	if a.Deadlines.Step1 < 0 || a.Deadlines.Step2 < 0 {
		return bad("deadlines must be positive")
	}
	if a.Retention <= 0 {
		return bad("retention must be set")
	}
	if time.Duration(a.Retention) < time.Duration(a.Deadlines.Step2) {
		return bad("retention %v is shorter than the step-2 deadline %v", time.Duration(a.Retention), time.Duration(a.Deadlines.Step2))
	}
	if !a.NotAfter.IsZero() && !a.NotAfter.After(a.NotBefore) {
		return bad("not_after is not after not_before")
	}
	if a.EncryptedSearch != nil {
		if err := a.EncryptedSearch.validate(a); err != nil {
			return bad("encrypted_search: %v", err)
		}
	}
	return nil
}

// Party returns the party of state, or nil.
func (a *Agreement) Party(state string) *Party {
	for i := range a.Parties {
		if a.Parties[i].State == state {
			return &a.Parties[i]
		}
	}
	return nil
}

// Partner returns the other party than state, or nil if state is not a party.
func (a *Agreement) Partner(state string) *Party {
	switch state {
	case a.Parties[0].State:
		return &a.Parties[1]
	case a.Parties[1].State:
		return &a.Parties[0]
	}
	return nil
}

// ErrNotInForce is returned by InForce.
var ErrNotInForce = errors.New("agreement not in force")

// InForce says whether the agreement permits exchanges at t: it is not
// suspended and t is within its validity.
func (a *Agreement) InForce(t time.Time) error {
	switch {
	case a.Suspended:
		return fmt.Errorf("%w: agreement %s is suspended", ErrNotInForce, a.ID)
	case !a.NotBefore.IsZero() && t.Before(a.NotBefore):
		return fmt.Errorf("%w: agreement %s starts %s", ErrNotInForce, a.ID, a.NotBefore.Format(time.RFC3339))
	case !a.NotAfter.IsZero() && !t.Before(a.NotAfter):
		return fmt.Errorf("%w: agreement %s ended %s", ErrNotInForce, a.ID, a.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// purposeRule returns the rule permitting p, or nil.
func (a *Agreement) purposeRule(p Purpose) *PurposeRule {
	for i := range a.Purposes {
		if a.Purposes[i].Purpose == p {
			return &a.Purposes[i]
		}
	}
	return nil
}

// DefaultAgreement returns an agreement between two parties with the
// defaults of this implementation: every purpose (serious crime at a
// 3-year maximum sentence, Prüm's threshold for DNA and fingerprint
// exchange is 1 year; 3 is a stricter example), fingerprints, tenprint and
// latent searches with Prüm's candidate caps and quotas of 1000 and 100 a
// day, the default allow-list, no onward transfer and destruction 30 days
// after release, the 10 s / 48 h deadlines, 90 days' retention.
func DefaultAgreement(id string, a, b Party) *Agreement {
	return &Agreement{
		ID:      id,
		Parties: [2]Party{a, b},
		Purposes: []PurposeRule{{Purpose: BorderScreening}, {Purpose: Visa}, {Purpose: ImmigrationBenefit},
			{Purpose: SeriousCrime, MinOffenceYears: 3}},
		Modalities: []biometric.Modality{biometric.Finger},
		Searches: map[SearchType]SearchRule{
			Tenprint: {CandidateCap: DefaultCandidateCap(Tenprint), DailyQuota: 1000},
			Latent:   {CandidateCap: DefaultCandidateCap(Latent), DailyQuota: 100},
		},
		Disclosure: slices.Clone(DefaultDisclosure),
		Handling:   Handling{NoOnwardTransfer: true, DestroyAfter: Duration(30 * 24 * time.Hour)},
		Deadlines:  Deadlines{Step1: Duration(DefaultStep1Deadline), Step2: Duration(DefaultStep2Deadline)},
		Retention:  Duration(90 * 24 * time.Hour),
	}
}
