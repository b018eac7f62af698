package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/internal/progress"
	"github.com/ebsp/ebsp/synth"
)

// setMeasures are what synth compare pools over a group of FVC-style sets:
// the scores of the FVC protocol (genuine pairs and "ext" impostors) and
// what each template holds.
type setMeasures struct {
	genuine, impostor            []float64
	minutiae, minutiaQ, templQ   []float64
	sets, templates, comparisons int
}

// add runs the FVC protocol on dir through our extractor (images) or the
// records' minutiae (ISO/ANSI) and pools what it measures.
func (m *setMeasures) add(dir string, dpi int, progress func(done, total int)) error {
	load := func(path string) (fingerprint.Template, error) {
		t, err := loadFingerprint(path, dpi)
		if err == nil {
			m.minutiae = append(m.minutiae, float64(len(t.Minutiae)))
			m.templQ = append(m.templQ, float64(t.Quality))
			for _, mn := range t.Minutiae {
				m.minutiaQ = append(m.minutiaQ, float64(mn.Quality))
			}
		}
		return t, err
	}
	rep, err := fvc.Run(dir, load, fvc.Options{Progress: progress})
	if err != nil {
		return err
	}
	m.sets++
	m.templates += rep.Samples
	for _, c := range rep.Comparisons {
		if c.Genuine {
			m.genuine = append(m.genuine, c.Score)
		} else { // every "ext" impostor pair; the "std" ones are among them
			m.impostor = append(m.impostor, c.Score)
		}
	}
	m.comparisons += len(rep.Comparisons)
	return nil
}

// comparedQuantity is one line of synth compare's report.
type comparedQuantity struct {
	Quantity      string  `json:"quantity"`
	KS            float64 `json:"ks"`
	Synthetic     int     `json:"n_synthetic"`
	Real          int     `json:"n_real"`
	MeanSynthetic float64 `json:"mean_synthetic"`
	MeanReal      float64 `json:"mean_real"`
	Figure        string  `json:"figure,omitempty"`
}

func synthCompare(args []string) int {
	fs := newFlagSet("synth compare", `usage: ebsp synth compare --dataset DIR [--dataset DIR ...] [--dpi N ...] [--seed S] [--fingers N] [--first F] [--svg DIR] [--json]

Compares template-level synthetic fingerprints with real sets through our
own extractor and matcher: makes --fingers synthetic fingers of 8
impressions as ISO/IEC 19794-2 records (as 'ebsp synth fingerprints
--templates' does), runs the FVC protocol on them and on every --dataset
(as 'ebsp eval fingerprint' does), pools the real sets, and prints for the
genuine scores, the impostor scores ("ext" pairs), the minutiae per
template, the minutia quality and the template quality the two-sample
Kolmogorov-Smirnov distance between synthetic and real, the sizes and the
means. --svg writes a figure of each (the distribution functions; for
impostors also the upper tail on a log scale), as in
docs/synthetic-data.md.`)
	var dirs, dpis stringList
	fs.Var(&dirs, "dataset", "`folder` of a real set, <finger>_<impression> images or minutiae records; repeat for several sets")
	fs.Var(&dpis, "dpi", "resolution of the images of each --dataset in order (one value: all; default 500)")
	seed := fs.Uint64("seed", 1, "seed of the synthetic fingers")
	fingers := fs.Int("fingers", 100, "synthetic fingers (8 impressions each)")
	first := fs.Int("first", 101, "number of the first synthetic finger")
	svgDir := fs.String("svg", "", "write the figures as SVG into this `folder` (created)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if len(dirs) == 0 || fs.NArg() != 0 || (len(dpis) > 1 && len(dpis) != len(dirs)) || *fingers < 2 || *fingers > 10000 || *first < 0 {
		fs.Usage()
		return 2
	}
	tmp, err := os.MkdirTemp("", "ebsp-synth-compare-")
	if err != nil {
		return fail("synth compare", err)
	}
	defer os.RemoveAll(tmp)
	for f := range *fingers {
		id := *first + f
		if err := writeTemplates(tmp, synth.NewFingerMaster(*seed, uint64(id)), id, 8); err != nil {
			return fail("synth compare", err)
		}
	}
	pb := progress.NewPhases(os.Stderr, "synth compare")
	defer pb.Done()
	var realM, synM setMeasures
	for i, dir := range dirs {
		dpi := 500
		if len(dpis) > 0 {
			v := dpis[min(i, len(dpis)-1)]
			if dpi, err = strconv.Atoi(v); err != nil || dpi < 100 || dpi > 5000 {
				return fail("synth compare", fmt.Errorf("--dpi %q out of range 100-5000", v))
			}
		}
		phase := fmt.Sprintf("real set %d of %d", i+1, len(dirs))
		if err := realM.add(dir, dpi, func(d, t int) { pb.Update(phase, d, t) }); err != nil {
			return fail("synth compare", err)
		}
	}
	if err := synM.add(tmp, 500, func(d, t int) { pb.Update("synthetic", d, t) }); err != nil {
		return fail("synth compare", err)
	}
	pb.Done()
	synName := fmt.Sprintf("synthetic templates (seed %d, %d fingers)", *seed, *fingers)
	realName := fmt.Sprintf("real (%d sets pooled)", realM.sets)
	quantities := []struct {
		name, file, xlabel string
		syn, real          []float64
		survival           bool
	}{
		{"genuine score", "genuine", "score of a mated pair", synM.genuine, realM.genuine, false},
		{"impostor score", "impostor", "score of a non-mated pair", synM.impostor, realM.impostor, false},
		{"impostor score, upper tail", "impostor-tail", "score of a non-mated pair", synM.impostor, realM.impostor, true},
		{"minutiae per template", "minutiae", "minutiae", synM.minutiae, realM.minutiae, false},
		{"minutia quality", "minutia-quality", "quality (0-100)", synM.minutiaQ, realM.minutiaQ, false},
		{"template quality", "template-quality", "quality (0-100)", synM.templQ, realM.templQ, false},
	}
	if *svgDir != "" {
		if err := os.MkdirAll(*svgDir, 0o755); err != nil {
			return fail("synth compare", err)
		}
	}
	var out []comparedQuantity
	for _, q := range quantities {
		c := comparedQuantity{Quantity: q.name, KS: eval.KS(q.syn, q.real), Synthetic: len(q.syn), Real: len(q.real),
			MeanSynthetic: mean(q.syn), MeanReal: mean(q.real)}
		if *svgDir != "" {
			c.Figure = filepath.Join(*svgDir, q.file+".svg")
			title := fmt.Sprintf("%s: synthetic against real, KS %.3f", q.name, c.KS)
			if err := writeDistributionSVG(c.Figure, title, q.xlabel, q.survival,
				eval.Sample{Name: realName, Values: q.real}, eval.Sample{Name: synName, Values: q.syn}); err != nil {
				return fail("synth compare", err)
			}
		}
		if !q.survival { // the same KS as the whole impostor distribution
			out = append(out, c)
		}
	}
	if *asJSON {
		return emitJSON("synth compare", out)
	}
	fmt.Printf("%-22s  %-6s  %-9s  %-9s  %-14s  %s\n", "quantity", "KS", "n synth", "n real", "mean synth", "mean real")
	for _, c := range out {
		fmt.Printf("%-22s  %.4f  %-9d  %-9d  %-14.4f  %.4f\n", c.Quantity, c.KS, c.Synthetic, c.Real, c.MeanSynthetic, c.MeanReal)
	}
	if *svgDir != "" {
		fmt.Printf("figures written to %s\n", *svgDir)
	}
	return 0
}

// writeDistributionSVG writes one figure of synth compare.
func writeDistributionSVG(path, title, xlabel string, survival bool, samples ...eval.Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = eval.DistributionSVG(f, title, xlabel, samples, eval.PlotOptions{Survival: survival})
	return errors.Join(err, f.Close())
}
