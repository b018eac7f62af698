package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"text/tabwriter"

	"github.com/ebsp/ebsp/poc"
)

func init() {
	register("poc", "Proof-of-Concept evaluation of a partnership: sharing models compared, extrapolated, reported", runPoc)
}

func runPoc(args []string) int {
	if code, ran := runSub(args, map[string]func([]string) int{"check-extrapolation": runPocCheck}); ran {
		return code
	}
	fs := newFlagSet("poc", `usage: ebsp poc --scenario FILE --out DIR [--json] [--real-scores FILE ...]
       ebsp poc check-extrapolation [flags]   (ebsp poc check-extrapolation -h)

Runs a partnership scenario (see docs/poc.md and examples/poc-*.json) on real
nodes on this machine, compares the sharing models and writes DIR/report.html
(self-contained, opens offline) and DIR/report.json. With --real-scores
(files of 'ebsp eval fingerprint --scores' on real images, e.g. the shared
FVC sets) the national section also counts the FNIR on their genuine scores.

`)
	scenario := fs.String("scenario", "", "scenario file (JSON, see docs/poc.md)")
	out := fs.String("out", "poc-out", "output directory for report.html and report.json")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of a summary")
	workers := fs.Int("workers", 0, "goroutines for scoring and enrolment (0: all cores)")
	keep := fs.Bool("keep-nodes", false, "keep the nodes' data directories under DIR/nodes")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	var realScores stringList
	fs.Var(&realScores, "real-scores", "score `file` (repeat, or separate by commas) of 'ebsp eval fingerprint --scores' on real images whose genuine scores the national section's FNIR is also counted on (repeatable)")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *scenario == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	s, err := poc.LoadScenario(*scenario)
	if err != nil {
		return fail("poc", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := poc.Options{Workers: *workers, KeepNodes: *keep}
	if len(realScores) > 0 {
		byFinger, err := readGenuineByFinger(realScores)
		if err != nil {
			return fail("poc", err)
		}
		o.RealGenuine = poc.RealGenuineScores(byFinger)
		o.RealSource = fmt.Sprintf("genuine comparisons of %d real fingers in %d score files", len(byFinger), len(realScores))
	}
	if !*quiet {
		o.Progress = os.Stderr
	}
	rep, err := poc.RunWith(ctx, s, *out, o)
	if err != nil {
		return fail("poc", err)
	}
	if *asJSON {
		return emitJSON("poc", rep)
	}
	printPocSummary(rep, *out)
	return 0
}

func printPocSummary(rep *poc.Report, out string) {
	fmt.Printf("scenario %s: %d border encounters at %s, single-finger threshold %.5g: %s\n",
		rep.Scenario.Name, rep.Scenario.Border.Simulated, rep.Scenario.Home, rep.Threshold, rep.ThresholdFrom)
	for _, n := range rep.Nodes {
		how := fmt.Sprintf("FPIR %g", n.Policy.FPIRTarget)
		if n.Policy.Fixed {
			how = "fixed thresholds"
		}
		hub := ""
		if n.Hub {
			hub = " hub"
		}
		fmt.Printf("  %s%s: %d identities, tail %s (%d comparisons), %s: hit threshold %.4g a finger, %.4g for %d fingers; %d enrolment captures retaken\n",
			n.State, hub, n.Policy.GalleryIdentities, n.Policy.Tail, n.Policy.TailComparisons, how, n.Policy.HitThreshold, n.Policy.FusedHitThreshold, len(rep.Scenario.Capture.Fingers), n.Retakes)
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tidentified\tgained\tmissed\tfalse matches\tinnocent disclosed\trecords disclosed\tprobes kept\tprobes seen\tmessages\tMB\tmedian ms\tp99 ms\texaminer cases\t")
	for _, m := range rep.Models {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%d\t\n", m.Model, m.TrueIdentifications, m.GainedBySharing, m.Missed,
			m.FalseMatches, m.InnocentDisclosed, m.RecordsDisclosed, m.ProbesRetained, m.ProbesSeen, m.Messages, float64(m.Bytes)/1e6, m.LatencyMedianMs, m.LatencyP99Ms, m.ExaminerCases)
	}
	tw.Flush()
	if e := rep.Encrypted; e != nil {
		fmt.Printf("\nencrypted search, measured at ring degree 2^%d (load %.1f): key setup %d bytes each way (%.1f s CPU); per query %d bytes up, %d down, %.2f s CPU + %.2f s per block of %d entries; wall %.1f s (1 block), %.1f s (2 blocks)\n",
			e.LogN, e.Load, e.SetupBytes, e.SetupCPUSeconds, e.ProbeBytes, e.ReplyBytes, e.CPUSecondsFixed, e.CPUSecondsPerBlock, e.BlockSize, e.WallSeconds1Block, e.WallSeconds2Blocks)
		for _, n := range e.National {
			fmt.Printf("  at %s's national gallery (%d entries, %d blocks): %.1f s CPU a query, %.0f CPU hours a day\n", n.State, n.Gallery, n.Blocks, n.CPUSeconds, n.CPUHoursDaily)
		}
	}
	if nat := rep.National; nat != nil {
		fmt.Printf("\nnational galleries at the node policy's thresholds for FPIR %g (FPIR by the tail; FNIR counted on %d synthetic", nat.FPIRTarget, nat.Genuine)
		if nat.RealGenuine > 0 {
			fmt.Printf(" and %d real", nat.RealGenuine)
		}
		fmt.Printf(" genuine scores; %d searches a day)\n", rep.Scenario.Border.EncountersPerDay)
		tw = tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "tail\tgallery\tidentities\tfingers\trule\tthreshold\tFPIR\tbounds\tfalse matches/day\tFNIR synthetic\t95% interval\tFNIR real\t95% interval\t")
		for _, r := range nat.Rows {
			real := "-\t-"
			if r.RealMated > 0 {
				real = fmt.Sprintf("%.4f\t%.4f..%.4f", r.RealFNIR, r.RealFNIRLow, r.RealFNIRHigh)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%.4f\t%.3g\t%.3g..%.3g\t%.3g\t%.4f\t%.4f..%.4f\t%s\t\n", r.Tail, r.State, r.Gallery, r.Fingers, r.Rule, r.Threshold,
				r.FPIR, r.FPIRLow, r.FPIRHigh, r.FalseMatchesPerDay, r.FNIR, r.FNIRLow, r.FNIRHigh, real)
		}
		tw.Flush()
	}
	fmt.Printf("\nhow long it took (%.0f s in all):\n", rep.Seconds)
	tw = tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\twall s\tCPU s\tpeak resident GB\t")
	for _, ph := range rep.Phases {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.2f\t\n", ph.Name, ph.Seconds, ph.CPUSeconds, float64(ph.PeakRSS)/1e9)
	}
	tw.Flush()
	fmt.Printf("\nreport: %s\n        %s\n", filepath.Join(out, "report.html"), filepath.Join(out, "report.json"))
}

func runPocCheck(args []string) int {
	fs := newFlagSet("poc check-extrapolation", `usage: ebsp poc check-extrapolation [flags]

Checks the national extrapolation against a direct run: predicts from a
calibration sample of impostor scores how many false matches a 1:N search of
--probes people against a gallery of --gallery others will show (1 and 2
fingers), runs that search with the node's search engine, and says whether
the observed counts fall within the predicted intervals. Exit status 1 if
any does not.

`)
	calib := fs.Int("calibration", 1_000_000, "single-finger impostor scores the prediction is made from")
	gallery := fs.Int("gallery", 20_000, "people in the direct run's gallery (two fingers each)")
	probes := fs.Int("probes", 170, "probe people (not in the gallery); impostor comparisons = 3 x gallery x probes")
	expected := fs.Float64("expected", 200, "false matches the thresholds are set to produce, so the counts are observable")
	seed := fs.Uint64("seed", 1, "seed of the synthetic fingers")
	conf := fs.Float64("confidence", 0.95, "confidence of the prediction intervals")
	workers := fs.Int("workers", 0, "goroutines (0: all cores)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 || *calib < 1000 || *gallery < 1 || *probes < 1 || *expected <= 0 || *conf <= 0.5 || *conf >= 1 {
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := poc.CheckOptions{Seed: *seed, Calibration: *calib, GalleryPeople: *gallery, Probes: *probes, Expected: *expected,
		Confidence: *conf, Workers: *workers}
	if !*asJSON {
		o.Progress = func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	}
	res, err := poc.CheckExtrapolation(ctx, o)
	if err != nil {
		return fail("poc check-extrapolation", err)
	}
	ok := true
	for _, r := range res.Rows {
		ok = ok && r.Agree
	}
	if *asJSON {
		if err := printJSON(res); err != nil {
			return fail("poc check-extrapolation", err)
		}
	} else {
		fmt.Printf("calibration %d impostor scores (mean %.4g); direct run %d probes x %d identities, %d impostor comparisons in %.0f s (%.0f/s)\n",
			res.Calibration, res.ImpostorMean, res.Probes, res.GalleryPeople, res.TotalComparisons, res.Seconds, res.CompPerSecond)
		tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "fingers\tthreshold\tpairs\tFMR (extrapolated)\tpredicted\tinterval\tobserved\tagree\t")
		for _, r := range res.Rows {
			fmt.Fprintf(tw, "%d\t%.5f\t%d\t%.3g (%.3g..%.3g)\t%.1f\t%d..%d\t%d\t%v\t\n", r.Fingers, r.Threshold, r.Pairs, r.FMR, r.FMRLow, r.FMRHigh,
				r.Predicted, r.PredictedLow, r.PredictedHigh, r.Observed, r.Agree)
		}
		tw.Flush()
	}
	if !ok {
		return 1
	}
	return 0
}
