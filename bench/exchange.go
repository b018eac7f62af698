package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/store"
)

// ExchangeOptions configure a step-1 exchange benchmark.
type ExchangeOptions struct {
	// DataDir, when set, is where the partnership's nodes keep their data
	// (kept); otherwise a temporary directory is used and removed.
	DataDir string
	// PartnerFingers is the responding partner's gallery size (two index
	// fingers per person).
	PartnerFingers int
	// Requests is the number of step-1 searches in each of the two phases:
	// one at a time (latency) and Concurrency at once (throughput).
	Requests    int
	Concurrency int
	Seed        uint64
	Progress    Progress
	Log         io.Writer // the nodes' JSON logs (nil: discarded)
}

// ExchangeResult is what an exchange benchmark measured.
type ExchangeResult struct {
	Machine         Machine    `json:"machine"`
	Hub             string     `json:"hub"`
	Partner         string     `json:"partner"`
	PartnerPeople   int        `json:"partner_people"`
	PartnerFingers  int        `json:"partner_fingers"`
	GenerateSeconds float64    `json:"generate_seconds"`
	Enrol           EnrolPhase `json:"partner_enrol"`
	// Sequential is one request at a time: the round trip of a lone
	// request (requester node, mutual TLS, signed envelopes, responder's
	// checks, 1:N search, transparency log, reply).
	Sequential ExchangePhase `json:"sequential"`
	// Concurrent is Concurrency requests at once: what one responder
	// sustains.
	Concurrent ExchangePhase `json:"concurrent"`
}

// ExchangePhase is a run of step-1 searches.
type ExchangePhase struct {
	Concurrency    int     `json:"concurrency"`
	Requests       int     `json:"requests"`
	Hits           int     `json:"hits"`
	NoHits         int     `json:"no_hits"`
	ExpectedHits   int     `json:"expected_hits"` // probes by people the partner enrolled
	MissedHits     int     `json:"missed_hits"`   // of those, answered no_hit
	FalseHits      int     `json:"false_hits"`    // probes by strangers answered hit
	Seconds        float64 `json:"seconds"`
	CPUSeconds     float64 `json:"cpu_seconds"` // both nodes: they share the process
	RequestsPerSec float64 `json:"requests_per_second"`
	Latency        Latency `json:"latency"`
}

// RunExchange runs a partnership of a hub (US) and one partner (GB) on
// loopback, enrols the partner's population, and times step-1 searches
// from the hub's node API to the partner, half by people the partner
// enrolled (hits) and half by people it never saw (no-hits).
func RunExchange(ctx context.Context, o ExchangeOptions) (*ExchangeResult, error) {
	switch {
	case o.PartnerFingers < 2 || o.PartnerFingers%2 != 0:
		return nil, fmt.Errorf("bench: partner fingers %d: want an even number >= 2 (two index fingers per person)", o.PartnerFingers)
	case o.Requests < 2 || o.Requests/2 > o.PartnerFingers/2:
		return nil, fmt.Errorf("bench: requests %d: want 2 or more, at most 2 per partner person", o.Requests)
	}
	o.Concurrency = max(1, o.Concurrency)
	dir, cleanup, err := dataDir(o.DataDir, "ebsp-bench-exchange-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res := &ExchangeResult{Machine: machine(), Hub: "US", Partner: "GB", PartnerPeople: o.PartnerFingers / 2, PartnerFingers: o.PartnerFingers}

	// A benchmark sends more requests than a day's default quota allows;
	// everything else in the agreement stays as deployed.
	quota := 2*o.Requests + 1000
	p, err := partnership.Start(ctx, partnership.Options{Dir: dir, Hub: res.Hub, Partners: []string{res.Partner}, Log: o.Log,
		Agreement: func(a *exchange.Agreement) {
			for t, r := range a.Searches {
				r.DailyQuota = max(r.DailyQuota, quota)
				a.Searches[t] = r
			}
		}})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	hub, partner := p.Members[res.Hub], p.Members[res.Partner]

	sw := start()
	people := make([][]node.SampleInput, res.PartnerPeople)
	if err := parallel(ctx, res.PartnerPeople, o.Concurrency, func(i int) error {
		s, err := enrolmentSamples(o.Seed, i)
		people[i] = s
		return err
	}, "generate gallery", o.Progress); err != nil {
		return nil, err
	}
	probes, err := makeProbes(ctx, o.Seed, res.PartnerPeople, o.Requests, o.Concurrency, o.Progress)
	if err != nil {
		return nil, err
	}
	res.GenerateSeconds, _ = sw.elapsed()

	res.Enrol, err = enrolPartner(ctx, partner.Operator, res.Partner, people, o.Concurrency, o.Progress)
	if err != nil {
		return nil, err
	}
	if res.Sequential, err = step1All(ctx, hub.Operator, res.Partner, probes, 1, "step 1 sequential", o.Progress); err != nil {
		return nil, err
	}
	if res.Concurrent, err = step1All(ctx, hub.Operator, res.Partner, probes, o.Concurrency, "step 1 concurrent", o.Progress); err != nil {
		return nil, err
	}
	return res, nil
}

func enrolPartner(ctx context.Context, cl *node.Client, state string, people [][]node.SampleInput, concurrency int, progress Progress) (EnrolPhase, error) {
	ph := EnrolPhase{Concurrency: concurrency, Enrolments: len(people)}
	lat := make([]time.Duration, len(people))
	sw := start()
	err := parallel(ctx, len(people), concurrency, func(i int) error {
		t0 := time.Now()
		_, err := cl.Enroll(ctx, &node.EnrolRequest{
			Identity:   node.IdentityInput{ID: state + "-" + personID(i), Nationality: []string{"GBR"}, CaseRef: fmt.Sprintf("%s-CASE-%d", state, i)},
			Encounter:  node.EncounterInput{Purpose: "immigration", Place: "port of entry"},
			Provenance: store.Provenance{LegalBasis: "benchmark: synthetic population"},
			Samples:    people[i]})
		lat[i] = time.Since(t0)
		if err != nil {
			return fmt.Errorf("bench: %s enrol person %d: %w", state, i, err)
		}
		return nil
	}, "partner enrol", progress)
	if err != nil {
		return ph, err
	}
	ph.Seconds, ph.CPUSeconds = sw.elapsed()
	ph.EnrolmentsPerSec = perSec(len(people), ph.Seconds)
	ph.FingersPerSec = perSec(2*len(people), ph.Seconds)
	ph.Latency = summarise(lat)
	return ph, nil
}

// step1All sends the probes as step-1 searches from the hub's node to the
// partner, concurrency at once.
func step1All(ctx context.Context, cl *node.Client, partner string, probes []probe, concurrency int, phase string, progress Progress) (ExchangePhase, error) {
	ph := ExchangePhase{Concurrency: concurrency, Requests: len(probes)}
	lat := make([]time.Duration, len(probes))
	out := make([]string, len(probes))
	sw := start()
	err := parallel(ctx, len(probes), concurrency, func(i int) error {
		t0 := time.Now()
		r, err := cl.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: partner, Purpose: "border_screening",
			LegalBasis: "benchmark", Officer: "bench-officer", Samples: probes[i].samples})
		lat[i] = time.Since(t0)
		if err != nil {
			return fmt.Errorf("bench: step-1 search %d: %w", i, err)
		}
		out[i] = r.Outcome
		return nil
	}, phase, progress)
	if err != nil {
		return ph, err
	}
	ph.Seconds, ph.CPUSeconds = sw.elapsed()
	ph.RequestsPerSec = perSec(len(probes), ph.Seconds)
	ph.Latency = summarise(lat)
	for i, o := range out {
		if probes[i].enrolled {
			ph.ExpectedHits++
		}
		switch o {
		case "hit":
			ph.Hits++
		case "no_hit":
			ph.NoHits++
		}
		switch {
		case probes[i].enrolled && o != "hit":
			ph.MissedHits++
		case !probes[i].enrolled && o == "hit":
			ph.FalseHits++
		}
	}
	return ph, nil
}

// Table is the human-readable report of an exchange benchmark.
func (r *ExchangeResult) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ebsp bench exchange: step-1 searches %s -> %s over mutual TLS on loopback, %s gallery %d fingers (%d people)\n",
		r.Hub, r.Partner, r.Partner, r.PartnerFingers, r.PartnerPeople)
	fmt.Fprintf(&b, "machine: %d CPUs, GOMAXPROCS %d, %s, load average %.2f at start\n",
		r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.Load1)
	e := r.Enrol
	fmt.Fprintf(&b, "\n%s enrolment: %d enrolments in %.2f s (%.1f/s, %.1f fingers/s, %d clients)\n",
		r.Partner, e.Enrolments, e.Seconds, e.EnrolmentsPerSec, e.FingersPerSec, e.Concurrency)
	fmt.Fprintf(&b, "\n%-11s %7s %8s %5s %7s %6s %6s %8s %7s %7s %7s %7s %7s\n",
		"phase", "clients", "requests", "hits", "no-hits", "missed", "false", "seconds", "CPU s", "req/s", "p50 ms", "p95 ms", "p99 ms")
	for _, x := range []struct {
		name string
		p    ExchangePhase
	}{{"sequential", r.Sequential}, {"concurrent", r.Concurrent}} {
		p := x.p
		fmt.Fprintf(&b, "%-11s %7d %8d %5d %7d %6d %6d %8.2f %7.2f %7.2f %7.1f %7.1f %7.1f\n",
			x.name, p.Concurrency, p.Requests, p.Hits, p.NoHits, p.MissedHits, p.FalseHits, p.Seconds, p.CPUSeconds, p.RequestsPerSec,
			p.Latency.P50, p.Latency.P95, p.Latency.P99)
	}
	fmt.Fprintf(&b, "\nexpected hits per phase: %d (probes by people %s enrolled); missed: of those, no_hit; false: strangers answered hit.\n",
		r.Sequential.ExpectedHits, r.Partner)
	b.WriteString("Latency is the round trip seen by the hub's API client: hub node, signed envelope, mutual TLS, partner checks, 1:N search, log, reply.\n")
	return b.String()
}
