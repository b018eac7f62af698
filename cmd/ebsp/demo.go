package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/ebsp/ebsp/demo"
)

func init() {
	register("demo", "run the main job on embedded defaults: nodes, synthetic population, searches, summary", runDemo)
}

func runDemo(args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: ebsp demo [flags]

Starts a node on loopback with an embedded SQLite store under --out, enrols a
synthetic population generated on the spot, runs identifications of enrolled
and never-enrolled people, prints a table and the accuracy, and writes
OUT/demo-summary.json.

`)
		fs.PrintDefaults()
	}
	out := fs.String("out", "ebsp-demo", "output folder")
	people := fs.Int("people", 2000, "people enrolled at the node")
	probes := fs.Int("probes", 200, "searches, half by enrolled people")
	seed := fs.Uint64("seed", 1, "population seed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *people < 1 || *probes < 2 || *probes > 2**people {
		return fail("demo", fmt.Errorf("want --people >= 1 and 2 <= --probes <= 2*people"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := demo.Run(ctx, demo.Options{Out: *out, People: *people, Probes: *probes, Seed: *seed, Out2: os.Stdout}); err != nil {
		return fail("demo", err)
	}
	return 0
}
