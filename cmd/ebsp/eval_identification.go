package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/eval/identification"
)

// runEvalIdentification is `ebsp eval identification`: open-set 1:N on
// real images through a fresh node (package eval/identification).
func runEvalIdentification(args []string) int {
	fs := newFlagSet("eval identification", `usage: ebsp eval identification --dataset DIR [--dataset DIR ...] [--dpi N ...] [--tail FILE] [--workers N] [--json]

Builds a fresh node with the default configuration (SQLite in a temporary
folder, the default engines and thresholds), enrols impression 1 of every
other finger of each data set as an identity, and searches with every other
impression of every finger: mated searches (the finger is enrolled) and
non-mated ones (it is not). Prints the FPIR (non-mated searches ending in a
hit) and FNIR (mated searches not ending in a hit on the right identity)
with 95% Clopper-Pearson intervals, reviews, and the same per data set.
--tail configures the node's fingerprint impostor tail instead (a file of
'ebsp eval tail --out', e.g. measured without the sets evaluated here).`)
	var dirs, dpis stringList
	fs.Var(&dirs, "dataset", "`folder` of <finger>_<impression>.<ext> images (repeat for several sets)")
	fs.Var(&dpis, "dpi", "resolution of each data set's images, in the order of --dataset (one value: all sets; default 500)")
	tailFile := fs.String("tail", "", "impostor tail `file` to configure as impostor_tails.finger")
	workers := fs.Int("workers", 2, "searches at once")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if len(dirs) == 0 || fs.NArg() != 0 || (len(dpis) > 1 && len(dpis) != len(dirs)) {
		fs.Usage()
		return 2
	}
	sets := make([]identification.Set, len(dirs))
	for i, d := range dirs {
		sets[i] = identification.Set{Dir: d, DPI: 500}
		if len(dpis) > 0 {
			v := dpis[min(i, len(dpis)-1)]
			dpi, err := strconv.Atoi(v)
			if err != nil || dpi < 250 || dpi > 2000 {
				return fail("eval identification", fmt.Errorf("--dpi %q: want 250 to 2000", v))
			}
			sets[i].DPI = dpi
		}
	}
	opt := identification.Options{Workers: *workers}
	if *tailFile != "" {
		b, err := os.ReadFile(*tailFile)
		if err != nil {
			return fail("eval identification", err)
		}
		var t engine.Tail
		if err := json.Unmarshal(b, &t); err != nil {
			return fail("eval identification", fmt.Errorf("%s: %w", *tailFile, err))
		}
		if err := t.Validate(); err != nil {
			return fail("eval identification", fmt.Errorf("%s: %w", *tailFile, err))
		}
		opt.Tail = &t
	}
	if !*asJSON {
		opt.Progress = os.Stderr
	}
	res, err := identification.Run(context.Background(), sets, opt)
	if err != nil {
		return fail("eval identification", err)
	}
	if *asJSON {
		return emitJSON("eval identification", res)
	}
	fmt.Printf("tail %s (%d comparisons); single-finger hit threshold %.4f, review %.4f for %d identities (FPIR target %g)\n",
		res.Tail, res.TailComparisons, res.HitThreshold, res.ReviewThreshold, res.GalleryIdentities, res.FPIRTarget)
	fmt.Printf("%-16s %5s %6s %6s  %-24s %-24s %7s %7s\n", "set", "ids", "mated", "non", "FPIR [95%]", "FNIR [95%]", "reviews", "FNIR+rv")
	row := func(name string, r identification.Rates) {
		fmt.Printf("%-16s %5d %6d %6d  %-24s %-24s %7d %7.3f\n", name, r.GalleryIdentities, r.MatedSearches, r.NonmatedSearches,
			fmt.Sprintf("%.4f [%.4f, %.4f]", r.FPIR, r.FPIRLow, r.FPIRHigh), fmt.Sprintf("%.4f [%.4f, %.4f]", r.FNIR, r.FNIRLow, r.FNIRHigh),
			r.Reviews, r.FNIRReview)
	}
	for _, s := range res.Sets {
		row(s.Dataset, s.Rates)
	}
	row("all", res.Rates)
	return 0
}
