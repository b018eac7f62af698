package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/internal/progress"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/store"
	"golang.org/x/mod/sumdb/note"
)

// ExchangeSummary is the exchange part of demo-summary.json: what the
// cross-border searches of the run did, counted by the requesters.
type ExchangeSummary struct {
	Requests   int            `json:"requests"`
	Hits       int            `json:"hits"`
	NoHits     int            `json:"no_hits"`
	TrueHits   int            `json:"true_hits"`  // hits on a person the partner really holds
	FalseHits  int            `json:"false_hits"` // hits on someone the partner does not hold
	Missed     int            `json:"missed"`     // no hit although the partner holds the person
	Confirmed  int            `json:"confirmed"`  // examiner confirmed the match
	Rejected   int            `json:"rejected"`   // examiner rejected the candidate
	Released   int            `json:"released"`   // releases received, each with handling tags
	Refused    int            `json:"refused"`    // requests the partner refused (purpose, quota ...)
	P50ms      float64        `json:"p50_ms"`     // step-1 round trip through the requesting node
	P99ms      float64        `json:"p99_ms"`
	AuditLogs  map[string]int `json:"audit_log_leaves"` // per node
	AuditOK    bool           `json:"audit_verified"`
	ByPartner  map[string]int `json:"requests_by_partner"`
	ReleasedOK bool           `json:"releases_only_allow_listed"`
}

var syllables = []string{"ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "an", "is", "ur", "bel", "ko", "ta", "ne", "ri"}

// name makes a synthetic person's name from their number: no real person's.
func name(p int) string {
	s := func(k int) string {
		out := ""
		for i := range 3 {
			out += syllables[(k>>(4*i))%len(syllables)]
		}
		return out
	}
	given, family := s(p*7+3), s(p*13+5)
	return string(given[0]-32) + given[1:] + " " + string(family[0]-32) + family[1:]
}

// partnerBase numbers partner k's residents from (k+1)·100000, the never
// enrolled from 900000, so ground truth is the number itself.
func partnerBase(k int) int { return (k + 1) * 100000 }

const strangerBase = 900000

// enrolResidents enrols people base..base+n-1 with impression 1 of their
// fingers, retaking a capture the node refuses for too few minutiae
// (partnership.EnrolRetaking), and adds the retakes to *retakes.
func enrolResidents(ctx context.Context, m *partnership.Member, seed uint64, base, n, workers int, state string, job *progress.Job, retakes *atomic.Int64) error {
	return parallel(n, workers, func(i int) error {
		defer job.Add(1)
		p := base + i
		s, err := samples(seed, p, 1)
		if err != nil {
			return err
		}
		req := &node.EnrolRequest{
			Identity:   node.IdentityInput{ID: fmt.Sprintf("%s-%06d", state, p), Names: []string{name(p)}, DateOfBirth: fmt.Sprintf("%d-%02d-%02d", 1950+p%50, 1+p%12, 1+p%28), Nationality: []string{state}, CaseRef: fmt.Sprintf("%s-CASE-%d", state, p)},
			Encounter:  node.EncounterInput{Purpose: "visa", Place: state + " consulate"},
			Provenance: store.Provenance{LegalBasis: "demo: synthetic population"},
			Samples:    s}
		if p%10 == 0 {
			req.Flags = []node.FlagInput{{Category: "immigration_violation"}}
		}
		_, r, err := partnership.EnrolRetaking(ctx, m.Operator, req, func(r int) ([]node.SampleInput, error) {
			return samples(seed, p, partnership.RetakeImpression(1, r))
		})
		retakes.Add(int64(r))
		return err
	})
}

// exchangeRound runs border searches from the hub against every partner and
// from every partner against the hub; hits go to step 2, where the
// responder's scripted examiner confirms a candidate that is the person and
// rejects one that is not (the script knows the ground truth; a real
// examiner compares the prints).
func exchangeRound(ctx context.Context, p *partnership.Partnership, o Options, partners []string, w io.Writer) (*ExchangeSummary, error) {
	sum := &ExchangeSummary{AuditLogs: map[string]int{}, ByPartner: map[string]int{}, ReleasedOK: true}
	var lat []float64
	type probe struct {
		from, to string
		person   int
		holder   string // the state that holds the person, "" for nobody
	}
	var probes []probe
	perPartner := max(o.Probes/10, 4)
	for k, s := range partners {
		for i := range perPartner {
			probes = append(probes, probe{person: partnerBase(k) + i*3, holder: s})
		}
	}
	for i := range perPartner {
		probes = append(probes, probe{person: strangerBase + i})
	}
	var tasks []probe
	for _, pr := range probes { // every US border encounter is searched at every partner
		for _, s := range partners {
			tasks = append(tasks, probe{from: "US", to: s, person: pr.person, holder: pr.holder})
		}
	}
	for _, s := range partners { // and the partners search the US
		for i := range perPartner / 2 {
			tasks = append(tasks, probe{from: s, to: "US", person: i * 5, holder: "US"})
			tasks = append(tasks, probe{from: s, to: "US", person: strangerBase + 500 + i})
		}
	}
	fields := []string{"names", "date_of_birth", "nationality", "case_reference"}
	job := progress.Start(o.Progress, "cross-border searches", len(tasks))
	defer job.Done()
	for _, t := range tasks {
		job.Add(1)
		req, resp := p.Members[t.from], p.Members[t.to]
		s, err := samples(o.Seed, t.person, 2)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		res, err := req.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: t.to, Purpose: "border_screening",
			LegalBasis: "demo: border encounter", Officer: t.from + "-officer-1", Samples: s})
		sum.Requests++
		sum.ByPartner[t.to]++
		var ae *node.APIError
		if errors.As(err, &ae) && (ae.Status == 403 || ae.Status == 429) {
			sum.Refused++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("demo: step 1 %s->%s: %w", t.from, t.to, err)
		}
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
		holds := t.holder == t.to
		if res.Outcome != "hit" {
			sum.NoHits++
			if holds {
				sum.Missed++
			}
			continue
		}
		sum.Hits++
		if holds {
			sum.TrueHits++
		} else {
			sum.FalseHits++
		}
		dc, err := req.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: t.to, Reference: res.Reference, Fields: fields, Officer: t.from + "-officer-1"})
		if err != nil {
			return nil, fmt.Errorf("demo: step 2 request: %w", err)
		}
		cases, err := resp.Examiner.Cases(ctx)
		if err != nil {
			return nil, err
		}
		want := fmt.Sprintf("%s-%06d", t.to, t.person)
		for _, c := range cases {
			if c.Case != dc.Case {
				continue
			}
			confirm := holds && len(c.Candidates) > 0 && c.Candidates[0] == want
			cand := ""
			if confirm {
				cand = want
				sum.Confirmed++
			} else {
				sum.Rejected++
			}
			if err := resp.Examiner.Decide(ctx, c.Case, confirm, cand); err != nil {
				return nil, fmt.Errorf("demo: examiner: %w", err)
			}
		}
		st, err := req.Operator.Disclosure(ctx, t.to, dc.Case)
		if err != nil {
			return nil, err
		}
		if st.Release != nil {
			sum.Released++
			for f := range st.Release.Fields {
				if !slices.Contains(fields, f) {
					sum.ReleasedOK = false
				}
			}
		}
	}
	// A search for a purpose outside the agreements: refused and logged.
	s, _ := samples(o.Seed, 1, 2)
	_, err := p.Members["US"].Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: partners[0], Purpose: "serious_crime",
		LegalBasis: "demo: below the seriousness threshold", Officer: "US-officer-2", OffenceMaxYears: 1, Samples: s})
	sum.Requests++
	sum.ByPartner[partners[0]]++
	if err != nil {
		sum.Refused++
	}
	sum.P50ms, sum.P99ms = percentile(lat, 0.5), percentile(lat, 0.99)

	// Every node's log, verified as a third party would: the leaves, the
	// log's public key, and the checkpoints its partners were shown.
	sum.AuditOK = true
	states := make([]string, 0, len(p.Members))
	for s := range p.Members {
		states = append(states, s)
	}
	sort.Strings(states)
	for _, s := range states {
		m := p.Members[s]
		v, err := note.NewVerifier(m.LogPubKey)
		if err != nil {
			return nil, err
		}
		var kept []audit.SignedCheckpoint
		for _, other := range states {
			for i, c := range p.Members[other].Node.PartnerCheckpoints(s) {
				kept = append(kept, audit.SignedCheckpoint{Source: fmt.Sprintf("%s#%d", other, i), Signed: c})
			}
		}
		rep := audit.Verify(m.Log.Leaves(), v, kept)
		sum.AuditLogs[s] = int(rep.Leaves)
		verdict := "verified"
		if !rep.OK() {
			verdict = fmt.Sprintf("FAILED: %v", rep.Problems)
			sum.AuditOK = false
		}
		fmt.Fprintf(w, "  audit log of %s: %d leaves, %d checkpoints kept by partners: %s\n", s, rep.Leaves, len(kept), verdict)
	}
	return sum, nil
}
