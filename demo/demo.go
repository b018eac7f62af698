// Package demo runs ebsp's main job on embedded defaults: it starts a node on
// loopback with its SQLite store under the output folder, enrols a synthetic
// population made on the spot (no data files are shipped or read), searches
// it with enrolled and unenrolled people, and writes what happened.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/console"
	"github.com/ebsp/ebsp/internal/progress"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/poc"
)

// Options control a demo run.
type Options struct {
	Out           string    // output folder; node data under Out/partnership
	People        int       // enrolled population of the US node
	PartnerPeople int       // enrolled population of each partner node
	Probes        int       // US searches: half enrolled people, half never enrolled
	Seed          uint64    // population seed
	Out2          io.Writer // where the table and summary are printed
	Workers       int       // concurrent clients for enrolment
	Report        bool      // end with the Proof-of-Concept report
	// Serve keeps the nodes running after the summary, with their web
	// consoles, until ctx ends: Run prints each console's URL and the
	// staff's tokens, and leaves a step-2 case waiting at each partner for
	// an examiner to decide in the browser.
	Serve bool
	// Progress, when set, receives progress lines for the long stages
	// (internal/progress); the cmd gives standard error.
	Progress io.Writer
}

// Summary is written to Out/demo-summary.json.
type Summary struct {
	Seed          uint64  `json:"seed"`
	People        int     `json:"people_enrolled"`
	Fingers       int     `json:"fingers_enrolled"`
	Probes        int     `json:"probes"`
	TrueHits      int     `json:"true_hits"`
	MissedHits    int     `json:"missed_hits"`
	FalseHits     int     `json:"false_hits"`
	CorrectNoHits int     `json:"correct_no_hits"`
	Reviews       int     `json:"reviews"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	EnrolPerSec   float64 `json:"enrolments_per_second"`
	// Retakes are the enrolment captures (of all four nodes) that the node
	// refused for too few minutiae and the demo took again.
	Retakes int     `json:"enrolment_retakes"`
	Seconds float64 `json:"seconds"`
	// Exchange is the cross-border part: the US node and three partner
	// nodes searching each other under their agreements.
	Exchange *ExchangeSummary `json:"exchange"`
	// Report is the Proof-of-Concept report's HTML file, when made, and
	// PoC its sharing models' outcomes.
	Report string     `json:"report,omitempty"`
	PoC    []PoCModel `json:"poc,omitempty"`
}

// PoCModel is one sharing model's outcome in the Proof-of-Concept run.
type PoCModel struct {
	Model        string `json:"model"`
	Identified   int    `json:"identified"`
	Missed       int    `json:"missed"`
	FalseMatches int    `json:"false_matches"`
}

// samples are the demo's border captures of a person: the two index
// fingers (partnership.SyntheticSamples).
func samples(seed uint64, person int, impression uint64) ([]node.SampleInput, error) {
	return partnership.SyntheticSamples(seed, person, impression)
}

// Run runs the demo and returns its summary.
func Run(ctx context.Context, o Options) (*Summary, error) {
	start := time.Now()
	if o.Out2 == nil {
		o.Out2 = io.Discard
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	// Not Out/nodes: that is where the PoC run keeps (and removes) nodes of
	// its own.
	nodesDir := filepath.Join(o.Out, "partnership")
	// A demo starts from nothing: an earlier run's node data would be
	// enrolled twice.
	if err := os.RemoveAll(nodesDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(nodesDir, 0o700); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(o.Out, "nodes.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	partners := []string{"GB", "DE", "NL"}
	stages := 3
	if o.Report {
		stages = 4
	}
	stage := 0
	say := func(format string, a ...any) {
		stage++
		fmt.Fprintf(o.Out2, "\n[%d/%d] "+format+"\n", append([]any{stage, stages}, a...)...)
	}
	fmt.Fprintf(o.Out2, "ebsp demo: a partnership of four national biometric nodes on this machine (loopback):\n"+
		"US (the hub) and %s. Each has its own CA and keys (in memory), and its SQLite\n"+
		"store and transparency log under %s/<state>; the nodes' own logs (JSON lines)\n"+
		"go to %s.\n",
		strings.Join(partners, ", "), nodesDir, filepath.Join(o.Out, "nodes.log"))
	p, err := partnership.Start(ctx, partnership.Options{Dir: nodesDir, Hub: "US", Partners: partners, Log: logf})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if o.Serve {
		for _, m := range p.Members {
			c, err := console.New(console.Options{Node: m.Node})
			if err != nil {
				return nil, err
			}
			m.Node.Mount(console.Prefix, c)
		}
	}
	cl := p.Members["US"].Operator
	usKey := p.Members["US"].LogPubKey

	say("enrolling a synthetic population made on the spot: %d people at US and %d at each of %s\n"+
		"      (two index fingers each, as ISO/IEC 19794-2 minutiae templates; 1 in 10 carries a flag)",
		o.People, o.PartnerPeople, strings.Join(partners, ", "))
	es := time.Now()
	job := progress.Start(o.Progress, "enrolling at US", o.People)
	var retakes atomic.Int64
	err = enrolResidents(ctx, p.Members["US"], o.Seed, 0, o.People, o.Workers, "US", job, &retakes)
	job.Done()
	if err != nil {
		return nil, fmt.Errorf("demo: enrol: %w", err)
	}
	enrolRate := float64(o.People) / time.Since(es).Seconds()
	job = progress.Start(o.Progress, "enrolling at "+strings.Join(partners, ", "), len(partners)*o.PartnerPeople)
	for k, s := range partners {
		if err := enrolResidents(ctx, p.Members[s], o.Seed, partnerBase(k), o.PartnerPeople, o.Workers, s, job, &retakes); err != nil {
			return nil, fmt.Errorf("demo: enrol at %s: %w", s, err)
		}
	}
	job.Done()
	fmt.Fprintf(o.Out2, "      enrolled; US at %.0f enrolments/s; %d captures retaken (the node's gate refused too few minutiae)\n", enrolRate, retakes.Load())

	say("%d identifications at the US border: %d of enrolled people (a second capture of their fingers),\n"+
		"      %d of people never enrolled; each is a 1:N search of the US gallery", o.Probes, (o.Probes+1)/2, o.Probes/2)
	job = progress.Start(o.Progress, "identifications at US", o.Probes)

	sum := &Summary{Seed: o.Seed, People: o.People, Fingers: 2 * o.People, Probes: o.Probes, EnrolPerSec: enrolRate, Retakes: int(retakes.Load())}
	type row struct {
		probe, expected string
		decision        biometric.Decision
		top             string
		score           float64
		ms              float64
	}
	var rows []row
	var lat []float64
	for i := range o.Probes {
		person, enrolled := i/2, i%2 == 0
		if !enrolled {
			person = strangerBase + 50000 + i/2 // never enrolled
		}
		s, err := samples(o.Seed, person, 2)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		resp, err := cl.Identify(ctx, &node.IdentifyRequest{Samples: s, Purpose: "border_screening"})
		if err != nil {
			return nil, fmt.Errorf("demo: identify: %w", err)
		}
		ms := float64(time.Since(t0).Microseconds()) / 1000
		lat = append(lat, ms)
		want := fmt.Sprintf("US-%06d", person)
		r := row{probe: fmt.Sprintf("traveller-%06d", person), expected: "no_hit", decision: resp.Decision, ms: ms}
		if enrolled {
			r.expected = want
		}
		if len(resp.Candidates) > 0 {
			r.top, r.score = resp.Candidates[0].IdentityID, resp.Candidates[0].Score
		}
		found := resp.Decision != biometric.NoHit
		if resp.Decision == biometric.Review {
			sum.Reviews++
		}
		switch {
		case enrolled && found && r.top == want:
			sum.TrueHits++
		case enrolled && found:
			sum.FalseHits++ // the wrong person ranked first
			sum.MissedHits++
		case enrolled:
			sum.MissedHits++
		case found:
			sum.FalseHits++
		default:
			sum.CorrectNoHits++
		}
		rows = append(rows, r)
		job.Add(1)
	}
	job.Done()
	sum.P50ms, sum.P99ms = percentile(lat, 0.50), percentile(lat, 0.99)

	fmt.Fprintf(o.Out2, "\n%-18s %-12s %-8s %-12s %8s %8s\n", "probe", "expected", "decision", "top", "score", "ms")
	for i, r := range rows {
		if i >= 20 && i < len(rows)-4 {
			if i == 20 {
				fmt.Fprintf(o.Out2, "... (%d more rows)\n", len(rows)-24)
			}
			continue
		}
		fmt.Fprintf(o.Out2, "%-18s %-12s %-8s %-12s %8.3f %8.1f\n", r.probe, r.expected, r.decision, r.top, r.score, r.ms)
	}
	fmt.Fprintf(o.Out2, "\nUS node: enrolled people: %d (%.0f enrolments/s)   searches: %d\n", o.People, enrolRate, o.Probes)
	fmt.Fprintf(o.Out2, "true hits %d, missed hits %d, false hits %d, correct no-hits %d, reviews %d\n",
		sum.TrueHits, sum.MissedHits, sum.FalseHits, sum.CorrectNoHits, sum.Reviews)
	fmt.Fprintf(o.Out2, "search latency p50 %.2f ms, p99 %.2f ms\n", sum.P50ms, sum.P99ms)

	say("cross-border searches under the agreements: US border encounters searched at each partner, and\n" +
		"      partners searching the US; step 1 answers hit or no-hit only, step 2 releases the agreed fields\n" +
		"      only after the partner's examiner confirms; then every node's audit log is verified")
	ex, err := exchangeRound(ctx, p, o, partners, o.Out2)
	if err != nil {
		return nil, err
	}
	sum.Exchange = ex
	fmt.Fprintf(o.Out2, "requests %d: hits %d (true %d, false %d), no-hits %d (missed %d), refused %d\n",
		ex.Requests, ex.Hits, ex.TrueHits, ex.FalseHits, ex.NoHits, ex.Missed, ex.Refused)
	fmt.Fprintf(o.Out2, "examiners confirmed %d, rejected %d; releases %d (only allow-listed fields: %v)\n", ex.Confirmed, ex.Rejected, ex.Released, ex.ReleasedOK)
	fmt.Fprintf(o.Out2, "step-1 round trip p50 %.2f ms, p99 %.2f ms; audit logs verified: %v\n", ex.P50ms, ex.P99ms, ex.AuditOK)
	if !o.Serve {
		p.Close()
	}

	if o.Report {
		sc, err := poc.SmallScenario()
		if err != nil {
			return nil, err
		}
		say("the Proof-of-Concept report. It is not about the four nodes above: it runs the %q scenario\n"+
			"      (examples/poc-small.json: %s, on nodes of its own, with a population whose overlaps between\n"+
			"      states are known), because comparing sharing models (national only, bulk copy, hub, step 1/step 2)\n"+
			"      needs each model run on the same people, which one live partnership cannot give.\n"+
			"      It measures matcher scores, extrapolates to national scale and writes %s",
			sc.Name, scenarioStates(sc), filepath.Join(o.Out, "report.html"))
		rep, err := poc.RunWith(ctx, sc, o.Out, poc.Options{Progress: o.Out2})
		if err != nil {
			return nil, fmt.Errorf("demo: report: %w", err)
		}
		fmt.Fprintf(o.Out2, "      single-finger hit threshold %.4g at the home node: %s\n", rep.Threshold, rep.ThresholdFrom)
		for _, m := range rep.Models {
			sum.PoC = append(sum.PoC, PoCModel{Model: string(m.Model), Identified: m.TrueIdentifications, Missed: m.Missed, FalseMatches: m.FalseMatches})
			fmt.Fprintf(o.Out2, "      %-17s identified %3d, missed %2d, false matches %d\n", m.Model, m.TrueIdentifications, m.Missed, m.FalseMatches)
		}
		sum.Report = filepath.Join(o.Out, "report.html")
		fmt.Fprintf(o.Out2, "      report written to %s (and report.json)\n", sum.Report)
	}
	sum.Seconds = time.Since(start).Seconds()
	b, _ := json.MarshalIndent(sum, "", "  ")
	if err := os.WriteFile(filepath.Join(o.Out, "demo-summary.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out2, "\ndone in %.0f s. Written:\n  %s  the counts above\n  %s  the nodes' logs\n"+
		"  %s/  the four nodes' stores and audit logs, kept after the run\n",
		sum.Seconds, filepath.Join(o.Out, "demo-summary.json"), filepath.Join(o.Out, "nodes.log"), nodesDir)
	if o.Report {
		fmt.Fprintf(o.Out2, "  %s, report.json  the Proof-of-Concept report\n", filepath.Join(o.Out, "report.html"))
	}
	fmt.Fprintf(o.Out2, "Check the US node's audit log as a partner would:\n  ebsp audit verify --log %s --key '%s'\n",
		filepath.Join(nodesDir, "US", "audit"), usKey)
	// The demo's faces are synthetic embeddings, so that it needs no model
	// download; docs/face.md is the way to real photos.
	fmt.Fprintf(o.Out2, "Faces here are synthetic embeddings. To enrol and search face photos (JPEG, PNG,\n"+
		"ISO/IEC 19794-5, ANSI/NIST Type-10): ebsp models fetch, then ebsp node --face-models DIR;\n"+
		"ebsp eval face --dataset DIR measures the recogniser (docs/face.md).\n")
	if o.Serve {
		if err := serve(ctx, p, o, partners); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

func percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[i]
}

// parallel runs f(0..n-1) on w goroutines and returns the first error.
func parallel(n, w int, f func(int) error) error {
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// scenarioStates lists a PoC scenario's states: "USA, DEU, NLD and POL".
func scenarioStates(sc *poc.Scenario) string {
	codes := make([]string, len(sc.States))
	for i, st := range sc.States {
		codes[i] = st.Code
	}
	if len(codes) < 2 {
		return strings.Join(codes, "")
	}
	return strings.Join(codes[:len(codes)-1], ", ") + " and " + codes[len(codes)-1]
}
