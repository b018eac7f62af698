package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/node"
)

// tailGallerySizes are the gallery sizes (identities) at which `eval tail`
// compares the built-in and the measured calibration.
var tailGallerySizes = []int{1_000, 100_000, 10_000_000, 270_000_000}

// runEvalTail measures the impostor tail of the fingerprint engine from the
// score files of `ebsp eval fingerprint --scores`, for a node's
// impostor_tails setting, and shows what the built-in tail's thresholds
// would do on that data.
func runEvalTail(args []string) int {
	fs := newFlagSet("eval tail", `usage: ebsp eval tail --scores FILE [--scores FILE ...] [--fit] [--source NAME] [--score-scale S] [--json] [--out FILE]

Pools the impostor comparisons of the score files (every row of kind
"impostor": the ext protocol), measures their upper tail (the score at FMR
1e-1, 1e-2, ... down to what the number of comparisons resolves) and prints,
for several gallery sizes, the hit threshold (FPIR 0.1%) the node sets with
its built-in fingerprint tail and with the measured one, and the FPIR the
built-in threshold would really give if the data's impostors are like these.
With --fit the tail is the one engine.Fit makes (docs/node.md, "Calibrating
the thresholds"): points on the safe side of their sampling error, extended
to FMR 1e-12. A node takes the tail with "impostor_tails": {"finger": ...} in
its configuration.`)
	var files stringList
	fs.Var(&files, "scores", "score `file` written by 'ebsp eval fingerprint --scores' (repeat, or separate by commas, to pool several data sets)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	out := fs.String("out", "", "also write the measured tail to this `file`, in the form of the node configuration's impostor_tails.finger")
	fit := fs.Bool("fit", false, "measure on the safe side and extend the tail to FMR 1e-12 by a generalised Pareto fit bounded by its 95% confidence interval (engine.Fit) instead of the plain measured points")
	bounded := fs.Bool("bounded", false, "with --fit: the scores are bounded and their tail ends short of the bound (face scores, 1 − a distance): fit the Pareto shape freely (engine.FitBounded) instead of holding it at 0 or above")
	source := fs.String("source", "measured", "what the scores were measured on, recorded in the tail (e.g. fvc-real)")
	scale := fs.String("score-scale", engine.FingerScoreScale, "the score scale the files were measured on, recorded in the tail so that a node refuses it on another scale: this build's fingerprint matcher's by default (score files of an earlier build may be on another: 'ebsp eval fingerprint --scores' them again); none with --bounded unless given")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *bounded {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "score-scale" })
		if !given {
			*scale = ""
		}
	}
	if len(files) == 0 || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	var imp []float64
	for _, f := range files {
		s, err := readScores(f, "impostor")
		if err != nil {
			return fail("eval tail", err)
		}
		imp = append(imp, s...)
	}
	n := len(imp)
	measured := engine.TailOf(imp)
	measured.Source = *source
	if *fit {
		fitter := engine.Fit
		if *bounded {
			fitter = engine.FitBounded
		}
		t, err := fitter(imp, *source, 1)
		if err != nil {
			return fail("eval tail", err)
		}
		measured = t
	}
	measured.ScoreScale = *scale
	if err := measured.Validate(); err != nil {
		return fail("eval tail", fmt.Errorf("%d impostor comparisons do not resolve a tail (want at least 100): %w", n, err))
	}
	if *out != "" {
		b, _ := json.MarshalIndent(measured, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return fail("eval tail", err)
		}
	}
	var cfg node.Config
	cfg.Defaults()
	builtin := engine.Finger{}.Tail()
	type size struct {
		Identities    int     `json:"identities"`
		HitBuiltin    float64 `json:"hit_threshold_builtin"`
		HitMeasured   float64 `json:"hit_threshold_measured"`
		FPIRofBuiltin float64 `json:"fpir_of_builtin_threshold"`
	}
	res := struct {
		Impostors int         `json:"impostor_comparisons"`
		Files     []string    `json:"files"`
		Measured  engine.Tail `json:"measured"`
		Builtin   engine.Tail `json:"builtin"`
		TargetHit float64     `json:"fpir_hit_target"`
		Sizes     []size      `json:"sizes"`
	}{Impostors: n, Files: files, Measured: measured, Builtin: builtin, TargetHit: cfg.FPIRHit}
	measuredCfg := cfg
	measuredCfg.ImpostorTails = map[biometric.Modality]engine.Tail{biometric.Finger: measured}
	for _, ids := range tailGallerySizes {
		b := node.GalleryPolicy(biometric.Finger, engine.Finger{}, &cfg, ids).Hit
		m := node.GalleryPolicy(biometric.Finger, engine.Finger{}, &measuredCfg, ids).Hit
		res.Sizes = append(res.Sizes, size{Identities: ids, HitBuiltin: b, HitMeasured: m,
			FPIRofBuiltin: math.Min(1, float64(ids)*measured.FMRAt(b))})
	}
	if *asJSON {
		return emitJSON("eval tail", res)
	}
	fmt.Printf("impostor comparisons  %d from %d file(s)\n", n, len(files))
	fmt.Printf("mean impostor score   measured %.5f, built-in %.5f\n\n", measured.Mean, builtin.Mean)
	fmt.Println("FMR        measured score  built-in score")
	for _, p := range measured.Points {
		fmt.Printf("%-9.0e  %-14.5f  %.5f\n", p.FMR, p.Score, builtin.ScoreAt(p.FMR))
	}
	fmt.Printf("\nhit threshold at FPIR %g (beyond the last measured FMR both tails are extrapolated)\n", cfg.FPIRHit)
	fmt.Println("identities    built-in  measured  FPIR of the built-in threshold on this data")
	for _, s := range res.Sizes {
		fmt.Printf("%-12d  %-8.4f  %-8.4f  %.3g\n", s.Identities, s.HitBuiltin, s.HitMeasured, s.FPIRofBuiltin)
	}
	return 0
}

// readScores reads the rows of one kind ("impostor" or "genuine") of a
// score file written by `ebsp eval fingerprint --scores` (header
// scoresHeader).
func readScores(path, kind string) ([]float64, error) {
	var out []float64
	err := readScoreRows(path, func(_, _, k string, score float64) {
		if k == kind {
			out = append(out, score)
		}
	})
	return out, err
}

// readGenuineByFinger reads the genuine rows of score files written by
// `ebsp eval fingerprint --scores` on FVC-named images (FINGER_IMPRESSION.tif)
// and groups them by finger: one group per finger of each file, in the
// order the fingers first appear.
func readGenuineByFinger(paths []string) ([][]float64, error) {
	var groups [][]float64
	for _, path := range paths {
		index := map[string]int{}
		err := readScoreRows(path, func(probe, _, kind string, score float64) {
			if kind != "genuine" {
				return
			}
			finger, _, _ := strings.Cut(probe, "_")
			i, ok := index[finger]
			if !ok {
				i = len(groups)
				index[finger] = i
				groups = append(groups, nil)
			}
			groups[i] = append(groups[i], score)
		})
		if err != nil {
			return nil, err
		}
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("%s: no genuine scores", strings.Join(paths, ", "))
	}
	return groups, nil
}

// readScoreRows calls row for every comparison of a score file written by
// `ebsp eval fingerprint --scores` (header scoresHeader).
func readScoreRows(path string, row func(probe, gallery, kind string, score float64)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 5
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !slices.Equal(head, scoresHeader) {
		return fmt.Errorf("%s: header %q: want %q (a file of 'ebsp eval fingerprint --scores')", path, strings.Join(head, ","), strings.Join(scoresHeader, ","))
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		s, err := strconv.ParseFloat(rec[4], 64)
		if err != nil || math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("%s line %d: score %q is not a number", path, line, rec[4])
		}
		row(rec[0], rec[1], rec[2], s)
	}
}
