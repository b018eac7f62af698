package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/internal/progress"
)

func init() {
	register("eval", "accuracy and speed of a modality engine on a data set (EER, FNMR@FMR, DET)", runEval)
}

func runEval(args []string) int {
	return dispatch("eval", `usage: ebsp eval fingerprint --dataset DIR [--dpi N] [--any-rotation] [--second-look] [--verify=false] [--json] [--scores FILE]
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
	fs := newFlagSet("eval fingerprint", `usage: ebsp eval fingerprint --dataset DIR [--dataset DIR ...] [--dpi N ...] [--any-rotation] [--second-look] [--verify=false] [--leave-one-out] [--json] [--scores FILE [--same-finger SET/F,SET/F,...]]

Runs the FVC protocol on DIR: genuine = every pair of impressions of one finger;
impostor "std" = first impression of each finger against the first of every
other; "ext" = every pair of different fingers. A sample that fails extraction
scores 0 in all its comparisons. Prints EER (std and ext), FNMR at FMR 1% and
0.1% (ext), failures to extract, the median time to read, decode and extract
a sample and the 1:N comparisons per second (a prepared probe against the
prepared gallery), both in CPU time of the one thread doing the work so that
other load on the machine does not inflate them, the error-versus-reject
curve of the sample quality (FNMR at FMR 0.1% after rejecting the lowest-
quality 0, 1, 2, 5 and 10% of the samples, the threshold fixed before
rejecting, ISO/IEC 29794-1) and (with --json) the DET points; rates are
fractions.

With several --dataset folders each set is reported, then the error-versus-
reject curve of the sets pooled; --leave-one-out adds, for each set held out,
its FNMR and FMR at the threshold that gives FMR 1% and 0.1% on the other
sets pooled. The engine has one global parameter set: nothing else is chosen
per fold.

--scores writes every comparison to a CSV file that 'ebsp eval tail' reads.
With several --dataset folders it holds each set's comparisons and, as
impostors, every pair of impressions of two different sets (names are
SET/FILE, SET the folder's base name): a larger impostor sample for the
score tail. A finger that is in two sets under different names (one
volunteer in two collections) is declared with --same-finger, its names
joined by commas, so that its pairs are left out.`)
	var dirs, dpis stringList
	fs.Var(&dirs, "dataset", "`folder` of <finger>_<impression>.<ext> samples: images (tif, png, bmp, jpg) or ISO/ANSI minutiae records (iso, fmr); repeat for several sets")
	fs.Var(&dpis, "dpi", "resolution of the images in pixels per inch, in the order of --dataset (one value: all sets; default 500; FVC2002 DB2 is 569, FVC2004 DB3 512); minutiae records carry their own")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	scores := fs.String("scores", "", "write every comparison (probe, gallery, genuine or impostor, score) to this CSV `file`; with several --dataset folders, also every pair across sets, as impostors")
	var same fingerGroups
	fs.Var(&same, "same-finger", "with --scores and several --dataset folders: `SET/FINGER,SET/FINGER,...` are one finger in several sets; their pairs are left out (repeat for several fingers)")
	anyRotation := fs.Bool("any-rotation", false, "pair minutiae whatever their directions (fingerprint.MatchOptions.AnyRotation): finds any rotation between impressions, costs about three times as much")
	verify := fs.Bool("verify", true, "the global verification stage, on by default as in the node; --verify=false measures the matcher without it (fingerprint.MatchOptions.NoVerify), with thresholds of its own")
	secondLook := fs.Bool("second-look", false, "compare again with up to 72 minutiae when a comparison scores where dry prints are missed (fingerprint.MatchOptions.SecondLook): better on dry prints, up to about 18% fewer comparisons a CPU-second 1:N and twice the gallery memory, thresholds of its own")
	loo := fs.Bool("leave-one-out", false, "with two or more --dataset folders: each set's figures at the thresholds chosen on the others")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if len(dirs) == 0 || fs.NArg() != 0 || (len(dpis) > 1 && len(dpis) != len(dirs)) {
		fs.Usage()
		return 2
	}
	if len(same) > 0 && (*scores == "" || len(dirs) < 2) {
		return fail("eval", fmt.Errorf("--same-finger needs --scores and two or more --dataset folders"))
	}
	if len(same) > 0 {
		if err := fvc.CheckSame(dirs, same); err != nil {
			return fail("eval", err)
		}
	}
	if *loo && len(dirs) < 2 {
		return fail("eval", fmt.Errorf("--leave-one-out needs two or more --dataset folders, have %d", len(dirs)))
	}
	dpiOf := make([]int, len(dirs))
	for i := range dirs {
		dpiOf[i] = 500
		if len(dpis) > 0 {
			v := dpis[min(i, len(dpis)-1)]
			d, err := strconv.Atoi(v)
			if err != nil || d < 100 || d > 5000 {
				return fail("eval", fmt.Errorf("--dpi %q out of range 100-5000", v))
			}
			dpiOf[i] = d
		}
	}
	opt := fvc.Options{Match: fingerprint.MatchOptions{AnyRotation: *anyRotation, SecondLook: *secondLook, NoVerify: !*verify},
		Keep: *scores != "" && len(dirs) > 1}
	// Progress on stderr: a bar on a terminal, a line every 5 s otherwise
	// (internal/progress).
	pb := progress.NewPhases(os.Stderr, "eval")
	defer pb.Done()
	var reps []*fvc.Report
	for i, dir := range dirs {
		phase := "templates and comparisons"
		if len(dirs) > 1 {
			phase = fmt.Sprintf("set %d of %d", i+1, len(dirs))
		}
		opt.Progress = func(done, total int) { pb.Update(phase, done, total) }
		// fvc.Run times each load (reading, decoding, extracting) in CPU
		// time of the thread doing it.
		dpi := dpiOf[i]
		load := func(path string) (fingerprint.Template, error) { return loadFingerprint(path, dpi) }
		rep, err := fvc.Run(dir, load, opt)
		if err != nil {
			return fail("eval", err)
		}
		reps = append(reps, rep)
	}
	if *scores != "" {
		cs := reps[0].Comparisons
		if len(reps) > 1 {
			var err error
			if cs, err = pooledComparisons(reps, same); err != nil {
				return fail("eval", err)
			}
		}
		if err := writeScores(*scores, cs); err != nil {
			return fail("eval", err)
		}
	}
	sets := make([]fingerprintEval, len(reps))
	for i, rep := range reps {
		erc, err := fvc.ERC(reps[i:i+1], 1e-3, fvc.ERCFractions)
		if err != nil {
			return fail("eval", err)
		}
		sets[i] = newFingerprintEval(rep, opt.Match, erc)
	}
	if len(reps) == 1 {
		if *asJSON {
			return emitJSON("eval", sets[0])
		}
		sets[0].print()
		return 0
	}
	pooled, err := fvc.ERC(reps, 1e-3, fvc.ERCFractions)
	if err != nil {
		return fail("eval", err)
	}
	var folds []fvc.Fold
	if *loo {
		if folds, err = fvc.LeaveOneOut(reps, []float64{1e-2, 1e-3}); err != nil {
			return fail("eval", err)
		}
	}
	if *asJSON {
		return emitJSON("eval", struct {
			Sets        []fingerprintEval `json:"sets"`
			PooledERC   []eval.ERCPoint   `json:"erc_pooled"`
			LeaveOneOut []fvc.Fold        `json:"leave_one_out,omitempty"`
		}{sets, pooled, folds})
	}
	for i := range sets {
		sets[i].print()
		fmt.Println()
	}
	fmt.Printf("error-versus-reject, %d sets pooled (FNMR @ FMR 0.1%%, threshold fixed; set again)\n", len(sets))
	printERC(pooled)
	if *loo {
		fmt.Println()
		fmt.Println("leave one set out: the held-out set at the threshold giving the target FMR on the other sets pooled")
		fmt.Println("(one global parameter set: nothing else is chosen per fold; own = threshold set on the held-out set itself)")
		fmt.Printf("%-28s %7s %9s %9s %9s %9s %8s\n", "held out", "FMR", "threshold", "FMR held", "FNMR held", "FNMR own", "EER ext")
		for _, f := range folds {
			fmt.Printf("%-28s %6.1f%% %9.5f %8.3f%% %8.2f%% %8.2f%% %7.2f%%\n", filepath.Base(f.HeldOut), 100*f.FMR, f.Threshold,
				100*f.HeldOutFMR, 100*f.HeldOutFNMR, 100*f.OwnFNMR, 100*f.EERExt)
		}
	}
	return 0
}

// fingerprintEval is one set's figures as `eval fingerprint` prints them.
type fingerprintEval struct {
	Dataset           string          `json:"dataset"`
	AnyRotation       bool            `json:"any_rotation,omitempty"`
	SecondLook        bool            `json:"second_look,omitempty"`
	Verify            bool            `json:"verify"`
	Samples           int             `json:"samples"`
	Fingers           int             `json:"fingers"`
	Genuine           int             `json:"genuine_comparisons"`
	ImpostorStd       int             `json:"-"`
	Impostor          int             `json:"impostor_comparisons_ext"`
	EERStd            float64         `json:"eer_std"`
	EERExt            float64         `json:"eer_ext"`
	FNMR1e2           float64         `json:"fnmr_at_fmr_1e-2"`
	FNMR1e3           float64         `json:"fnmr_at_fmr_1e-3"`
	FailuresToExtract int             `json:"failures_to_extract"`
	Failures          []string        `json:"failures,omitempty"`
	ExtractMs         float64         `json:"extract_ms_median"`
	CPS               float64         `json:"comparisons_per_second"`
	Clock             string          `json:"clock"` // of the two figures above: thread-cpu or wall
	ERC               []eval.ERCPoint `json:"erc"`   // FNMR at FMR 0.1% after rejecting the lowest-quality samples
	DET               []detPoint      `json:"det"`
}

type detPoint struct {
	Threshold *float64 `json:"threshold"` // null: accept nothing
	FMR       float64  `json:"fmr"`
	FNMR      float64  `json:"fnmr"`
}

func newFingerprintEval(rep *fvc.Report, mo fingerprint.MatchOptions, erc []eval.ERCPoint) fingerprintEval {
	out := fingerprintEval{
		Dataset: rep.Dataset, AnyRotation: mo.AnyRotation, SecondLook: mo.SecondLook, Verify: !mo.NoVerify, Samples: rep.Samples, Fingers: rep.Fingers,
		EERStd: rep.EERStd, EERExt: rep.EERExt, FNMR1e2: rep.FNMRAtFMR1e2, FNMR1e3: rep.FNMRAtFMR1e3,
		FailuresToExtract: rep.FailuresToExtract, Failures: rep.Failures,
		ExtractMs: round3(rep.ExtractMsMedian), CPS: math.Round(rep.ComparisonsPerSecond),
		Clock: clock(rep), ERC: erc,
	}
	for _, c := range rep.Comparisons {
		switch {
		case c.Genuine:
			out.Genuine++
		case c.Std:
			out.ImpostorStd++
			out.Impostor++
		default:
			out.Impostor++
		}
	}
	for _, p := range rep.DET {
		d := detPoint{FMR: p.FMR, FNMR: p.FNMR}
		if !math.IsInf(p.Threshold, 0) {
			t := p.Threshold
			d.Threshold = &t
		}
		out.DET = append(out.DET, d)
	}
	return out
}

func (e fingerprintEval) print() {
	fmt.Printf("dataset                 %s (%d samples, %d fingers)\n", e.Dataset, e.Samples, e.Fingers)
	fmt.Printf("comparisons             %d genuine, %d impostor std, %d impostor ext\n", e.Genuine, e.ImpostorStd, e.Impostor)
	fmt.Printf("EER std                 %.2f%%\n", 100*e.EERStd)
	fmt.Printf("EER ext                 %.2f%%\n", 100*e.EERExt)
	fmt.Printf("FNMR @ FMR 1%% (ext)     %.2f%%\n", 100*e.FNMR1e2)
	fmt.Printf("FNMR @ FMR 0.1%% (ext)   %.2f%%\n", 100*e.FNMR1e3)
	fmt.Printf("failures to extract     %d\n", e.FailuresToExtract)
	for _, f := range e.Failures {
		fmt.Printf("  %s\n", f)
	}
	unit := "CPU ms (thread CPU time: read, decode, extract)"
	per := "CPU-second of one thread"
	if e.Clock != "thread-cpu" {
		unit, per = "ms (wall clock: read, decode, extract)", "second of wall time, one thread"
	}
	fmt.Printf("extraction, median      %.1f %s\n", e.ExtractMs, unit)
	fmt.Printf("comparisons/s (1:N)     %.0f per %s\n", e.CPS, per)
	fmt.Println("error-versus-reject     FNMR @ FMR 0.1% after rejecting the lowest-quality samples (threshold fixed; set again)")
	printERC(e.ERC)
}

// printERC prints an error-versus-reject curve, one line a point.
func printERC(pts []eval.ERCPoint) {
	for _, p := range pts {
		fmt.Printf("  reject %4.1f%% (%3d)    %.2f%%; %.2f%% (%d genuine left)\n", 100*p.Fraction, p.Rejected, 100*p.FNMR, 100*p.FNMRRethresholded, p.Genuine)
	}
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

// fingerGroups is a repeated flag whose every value is one group of
// comma-separated names.
type fingerGroups [][]string

func (g *fingerGroups) String() string {
	var s []string
	for _, names := range *g {
		s = append(s, strings.Join(names, ","))
	}
	return strings.Join(s, " ")
}

func (g *fingerGroups) Set(s string) error {
	names := strings.Split(s, ",")
	if len(names) < 2 {
		return fmt.Errorf("want two or more SET/FINGER names joined by commas, have %q", s)
	}
	*g = append(*g, names)
	return nil
}

// pooledComparisons is every comparison of reps, each named SET/FILE,
// then the pairs across sets (fvc.Across).
func pooledComparisons(reps []*fvc.Report, same [][]string) ([]fvc.Comparison, error) {
	across, err := fvc.Across(reps, same)
	if err != nil {
		return nil, err
	}
	var cs []fvc.Comparison
	for _, r := range reps {
		for _, c := range r.Comparisons {
			c.Probe, c.Gallery = r.SetName()+"/"+c.Probe, r.SetName()+"/"+c.Gallery
			cs = append(cs, c)
		}
	}
	return append(cs, across...), nil
}

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
