package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/internal/progress"
)

func init() {
	register("eval", "accuracy and speed of a modality engine on a data set (EER, FNMR@FMR, DET)", runEval)
}

func runEval(args []string) int {
	return dispatch("eval", `usage: ebsp eval fingerprint --dataset DIR [--dpi N] [--any-rotation] [--json] [--scores FILE]
       ebsp eval face --dataset DIR [--models DIR] [--json] [--scores FILE]
       ebsp eval tail --scores FILE [--scores FILE ...] [--fit] [--json] [--out FILE]
       ebsp eval identification --dataset DIR [--dataset DIR ...] [--dpi N ...] [--json]
       ebsp eval compare --scores FILE [...] --against FILE [...] [--json]

fingerprint measures the fingerprint engine's accuracy and speed on a data set
(FVC protocol); face the face pipeline's on a labelled folder of photos; tail
measures the impostor tail of score files and the thresholds it implies;
identification runs open-set 1:N searches of real images through a fresh
node with the default configuration (FPIR, FNIR); compare gives the
Kolmogorov-Smirnov distances between two groups of score files.

'ebsp eval fingerprint -h', 'ebsp eval face -h', 'ebsp eval tail -h' and
'ebsp eval identification -h' explain the flags.`, args,
		map[string]func([]string) int{"fingerprint": evalFingerprint, "face": runEvalFace, "tail": runEvalTail, "identification": runEvalIdentification, "compare": runEvalCompare})
}

func evalFingerprint(args []string) int {
	fs := newFlagSet("eval fingerprint", `usage: ebsp eval fingerprint --dataset DIR [--dpi N] [--any-rotation] [--json] [--scores FILE]

Runs the FVC protocol on DIR: genuine = every pair of impressions of one finger;
impostor "std" = first impression of each finger against the first of every
other; "ext" = every pair of different fingers. A sample that fails extraction
scores 0 in all its comparisons. Prints EER (std and ext), FNMR at FMR 1% and
0.1% (ext), failures to extract, the median time to read, decode and extract
a sample and the 1:N comparisons per second (a prepared probe against the
prepared gallery), both in CPU time of the one thread doing the work so that
other load on the machine does not inflate them, and (with --json) the DET
points; rates are fractions.`)
	dataset := fs.String("dataset", "", "`folder` of <finger>_<impression>.<ext> samples: images (tif, png, bmp, jpg) or ISO/ANSI minutiae records (iso, fmr)")
	dpi := fs.Int("dpi", 500, "resolution of the images in pixels per inch (FVC2002 DB2 is 569, FVC2004 DB3 512); minutiae records carry their own")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	scores := fs.String("scores", "", "write every comparison (probe, gallery, genuine or impostor, score) to this CSV `file`")
	anyRotation := fs.Bool("any-rotation", false, "pair minutiae whatever their directions (fingerprint.MatchOptions.AnyRotation): finds any rotation between impressions, costs about three times as much")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *dataset == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	if *dpi < 100 || *dpi > 5000 {
		return fail("eval", fmt.Errorf("--dpi %d out of range 100-5000", *dpi))
	}
	opt := fvc.Options{Match: fingerprint.MatchOptions{AnyRotation: *anyRotation}}
	// Progress on stderr: a bar on a terminal, a line every 5 s otherwise
	// (internal/progress).
	pb := progress.NewPhases(os.Stderr, "eval")
	opt.Progress = func(done, total int) { pb.Update("templates and comparisons", done, total) }
	defer pb.Done()
	// fvc.Run times each load (reading, decoding, extracting) in CPU time
	// of the thread doing it.
	load := func(path string) (fingerprint.Template, error) { return loadFingerprint(path, *dpi) }
	rep, err := fvc.Run(*dataset, load, opt)
	if err != nil {
		return fail("eval", err)
	}
	if *scores != "" {
		if err := writeScores(*scores, rep.Comparisons); err != nil {
			return fail("eval", err)
		}
	}
	if *asJSON {
		type det struct {
			Threshold *float64 `json:"threshold"` // null: accept nothing
			FMR       float64  `json:"fmr"`
			FNMR      float64  `json:"fnmr"`
		}
		out := struct {
			Dataset           string   `json:"dataset"`
			AnyRotation       bool     `json:"any_rotation,omitempty"`
			Samples           int      `json:"samples"`
			Fingers           int      `json:"fingers"`
			Genuine           int      `json:"genuine_comparisons"`
			Impostor          int      `json:"impostor_comparisons_ext"`
			EERStd            float64  `json:"eer_std"`
			EERExt            float64  `json:"eer_ext"`
			FNMR1e2           float64  `json:"fnmr_at_fmr_1e-2"`
			FNMR1e3           float64  `json:"fnmr_at_fmr_1e-3"`
			FailuresToExtract int      `json:"failures_to_extract"`
			Failures          []string `json:"failures,omitempty"`
			ExtractMs         float64  `json:"extract_ms_median"`
			CPS               float64  `json:"comparisons_per_second"`
			Clock             string   `json:"clock"` // of the two figures above: thread-cpu or wall
			DET               []det    `json:"det"`
		}{
			Dataset: rep.Dataset, AnyRotation: *anyRotation, Samples: rep.Samples, Fingers: rep.Fingers,
			EERStd: rep.EERStd, EERExt: rep.EERExt, FNMR1e2: rep.FNMRAtFMR1e2, FNMR1e3: rep.FNMRAtFMR1e3,
			FailuresToExtract: rep.FailuresToExtract, Failures: rep.Failures,
			ExtractMs: round3(rep.ExtractMsMedian), CPS: math.Round(rep.ComparisonsPerSecond),
			Clock: clock(rep),
		}
		for _, c := range rep.Comparisons {
			if c.Genuine {
				out.Genuine++
			} else {
				out.Impostor++
			}
		}
		for _, p := range rep.DET {
			d := det{FMR: p.FMR, FNMR: p.FNMR}
			if !math.IsInf(p.Threshold, 0) {
				t := p.Threshold
				d.Threshold = &t
			}
			out.DET = append(out.DET, d)
		}
		return emitJSON("eval", out)
	}
	gen, std, ext := 0, 0, 0
	for _, c := range rep.Comparisons {
		switch {
		case c.Genuine:
			gen++
		case c.Std:
			std++
			ext++
		default:
			ext++
		}
	}
	fmt.Printf("dataset                 %s (%d samples, %d fingers)\n", rep.Dataset, rep.Samples, rep.Fingers)
	fmt.Printf("comparisons             %d genuine, %d impostor std, %d impostor ext\n", gen, std, ext)
	fmt.Printf("EER std                 %.2f%%\n", 100*rep.EERStd)
	fmt.Printf("EER ext                 %.2f%%\n", 100*rep.EERExt)
	fmt.Printf("FNMR @ FMR 1%% (ext)     %.2f%%\n", 100*rep.FNMRAtFMR1e2)
	fmt.Printf("FNMR @ FMR 0.1%% (ext)   %.2f%%\n", 100*rep.FNMRAtFMR1e3)
	fmt.Printf("failures to extract     %d\n", rep.FailuresToExtract)
	for _, f := range rep.Failures {
		fmt.Printf("  %s\n", f)
	}
	unit := "CPU ms (thread CPU time: read, decode, extract)"
	per := "CPU-second of one thread"
	if !rep.CPUTime {
		unit, per = "ms (wall clock: read, decode, extract)", "second of wall time, one thread"
	}
	fmt.Printf("extraction, median      %.1f %s\n", rep.ExtractMsMedian, unit)
	fmt.Printf("comparisons/s (1:N)     %.0f per %s\n", rep.ComparisonsPerSecond, per)
	return 0
}

// clock names the clock of the report's timings for the JSON output.
func clock(rep *fvc.Report) string {
	if rep.CPUTime {
		return "thread-cpu"
	}
	return "wall"
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// scoresHeader is the header row of a score file (--scores), which `eval
// tail` reads back.
var scoresHeader = []string{"probe", "gallery", "kind", "std", "score"}

// writeScores writes every comparison as CSV so that the figures can be
// recomputed elsewhere.
func writeScores(path string, cs []fvc.Comparison) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write(scoresHeader)
	for _, c := range cs {
		kind := "impostor"
		if c.Genuine {
			kind = "genuine"
		}
		_ = w.Write([]string{c.Probe, c.Gallery, kind, strconv.FormatBool(c.Std), strconv.FormatFloat(c.Score, 'g', 8, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
