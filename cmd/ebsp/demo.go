package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/ebsp/ebsp/demo"
)

func init() {
	register("demo", "run the main job on embedded defaults: nodes, synthetic population, searches, summary", runDemo)
}

func runDemo(args []string) int {
	fs := newFlagSet("demo", `usage: ebsp demo [flags]

Runs a partnership on loopback: a US node (the hub) and GB, DE and NL nodes,
each with its own CA, embedded SQLite store and transparency log under
OUT/partnership. Enrols a synthetic population generated on the spot (no data
files), runs US identifications of enrolled and never-enrolled people, then
cross-border searches under the agreements (step 1 hit/no-hit, step 2 after
a scripted examiner confirms), verifies every node's audit log, and ends with
the Proof-of-Concept report of the poc-small scenario (examples/poc-small.json,
on nodes of its own: comparing sharing models needs a population of its own).

Says what it does at each stage on standard output, with progress on
standard error (a bar on a terminal, a line every 5 s otherwise). Writes
OUT/demo-summary.json, OUT/nodes.log (the nodes' JSON logs),
OUT/partnership/ (kept), OUT/report.html and OUT/report.json.

With --serve the nodes keep running after the summary with their web consoles
(docs/console.md): it prints each console's URL and the demo staff's tokens,
and leaves a US disclosure request waiting at each partner for an examiner to
decide in the browser.`)
	out := fs.String("out", "ebsp-demo", "output folder")
	people := fs.Int("people", 1000, "people enrolled at the US node")
	partnerPeople := fs.Int("partner-people", 400, "people enrolled at each partner node")
	probes := fs.Int("probes", 100, "US identifications, half of enrolled people")
	report := fs.Bool("report", true, "end with the Proof-of-Concept report")
	seed := fs.Uint64("seed", 1, "population seed")
	serve := fs.Bool("serve", false, "keep the nodes running after the summary, with their web consoles; print each console's URL and the staff's tokens (Ctrl-C stops)")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *people < 10 || *partnerPeople < 40 || *probes < 2 || *probes > 2**people {
		return fail("demo", fmt.Errorf("want --people >= 10, --partner-people >= 40 and 2 <= --probes <= 2*people"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := demo.Run(ctx, demo.Options{Out: *out, People: *people, PartnerPeople: *partnerPeople,
		Probes: *probes, Seed: *seed, Out2: os.Stdout, Report: *report, Progress: os.Stderr, Serve: *serve}); err != nil {
		return fail("demo", err)
	}
	return 0
}
