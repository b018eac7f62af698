package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ebsp/ebsp/synth"
)

func init() {
	register("synth", "make synthetic people and biometrics (fingerprint images, templates, populations)", runSynth)
}

func synthUsage() {
	fmt.Fprint(os.Stderr, `usage: ebsp synth <what> [flags]

what:
  people        a population across partner states: per state the records with
                biometric templates, and the ground truth (from a scenario file)

'ebsp synth <what> -h' explains the flags.
`)
}

func runSynth(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		synthUsage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "people":
		return synthPeople(args[1:])
	}
	fmt.Fprintf(os.Stderr, "ebsp synth: unknown kind %q\n", args[0])
	synthUsage()
	return 2
}

// newProgress returns a progress bar on stderr when stderr is a terminal,
// and a silent one otherwise (so logs and pipes stay clean).
func newProgress(n int, what string) *progressbar.ProgressBar {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return progressbar.DefaultSilent(int64(n), what)
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100_000_000))
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// stateManifest is the per-state ground truth written beside its records.
type stateManifest struct {
	State   string           `json:"state"`
	Records []stateTruthLine `json:"records"`
}

type stateTruthLine struct {
	RecordID string `json:"record_id"`
	PersonID string `json:"person_id"`
}

func synthPeople(args []string) int {
	fs := flag.NewFlagSet("synth people", flag.ContinueOnError)
	scenario := fs.String("scenario", "", "scenario JSON file (fields: docs/synthetic-data.md; example: examples/scenario.json); empty for the built-in default")
	out := fs.String("out", "", "output folder (created); gets truth.json and one folder per state with records.jsonl and manifest.json")
	seed := fs.Int64("seed", -1, "override the scenario's seed (-1 keeps it)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ebsp synth people --scenario FILE --out DIR [--seed S] [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *out == "" {
		fs.Usage()
		return 2
	}
	sc := synth.DefaultScenario()
	if *scenario != "" {
		f, err := os.Open(*scenario)
		if err != nil {
			return fail("synth people", err)
		}
		sc, err = synth.ReadScenario(f)
		f.Close()
		if err != nil {
			return fail("synth people", fmt.Errorf("%s: %w", *scenario, err))
		}
	}
	if *seed >= 0 {
		sc.Seed = uint64(*seed)
	}
	pop, err := synth.NewPopulation(sc)
	if err != nil {
		return fail("synth people", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail("synth people", err)
	}
	man := pop.Manifest()
	total := 0
	for _, s := range man.States {
		total += s.Records
	}
	bar := newProgress(total, "records")
	for _, s := range sc.States {
		dir := filepath.Join(*out, s.Code)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail("synth people", err)
		}
		sm := stateManifest{State: s.Code, Records: []stateTruthLine{}}
		owner := map[string]string{}
		for _, pt := range man.Truth {
			for _, r := range pt.Records {
				if r.State == s.Code {
					owner[r.RecordID] = pt.ID
				}
			}
		}
		if err := writeRecords(filepath.Join(dir, "records.jsonl"), pop, s.Code, func(id string) {
			sm.Records = append(sm.Records, stateTruthLine{RecordID: id, PersonID: owner[id]})
			bar.Add(1)
		}); err != nil {
			return fail("synth people", err)
		}
		if err := writeJSONFile(filepath.Join(dir, "manifest.json"), sm); err != nil {
			return fail("synth people", err)
		}
	}
	bar.Finish()
	if err := writeJSONFile(filepath.Join(*out, "truth.json"), man); err != nil {
		return fail("synth people", err)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Out    string             `json:"out"`
			People int                `json:"people"`
			Cross  int                `json:"cross_state"`
			States []synth.StateTruth `json:"states"`
		}{*out, man.People, man.CrossState, man.States}, "", "  ")
		fmt.Println(string(b))
		return 0
	}
	fmt.Printf("%d people (seed %d), %d enrolled in more than one state, written to %s\n", man.People, sc.Seed, man.CrossState, *out)
	for _, s := range man.States {
		fmt.Printf("  %s  %6d records  %6d encounters  wanted %d, immigration_violation %d, removed %d\n",
			s.Code, s.Records, s.Encounters, s.Flags[synth.FlagWanted], s.Flags[synth.FlagImmigrationViolation], s.Flags[synth.FlagRemoved])
	}
	return 0
}

// writeRecords writes a state's records as JSON lines.
func writeRecords(path string, pop *synth.Population, state string, each func(recordID string)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	for _, r := range pop.StateRecords(state) {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
		each(r.RecordID)
	}
	return errors.Join(w.Flush(), f.Close())
}
