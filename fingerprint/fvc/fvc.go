// Package fvc runs the evaluation protocol of the Fingerprint Verification
// Competitions (D. Maio et al., "FVC2002: Second Fingerprint Verification
// Competition", ICPR 2002, §3) on a folder of fingerprint samples named
// <finger>_<impression>.<ext>:
//
//   - genuine: every pair of impressions of the same finger (symmetric
//     comparisons left out: 28 per finger for 8 impressions);
//   - impostor, FVC standard ("std"): the first impression of each finger
//     against the first impression of every other finger (45 for 10
//     fingers);
//   - impostor, extended ("ext"): every pair of impressions of different
//     fingers (2,880 for 10 fingers of 8 impressions).
//
// A sample whose template cannot be made (failure to extract) enters every
// comparison as a ghost that scores 0, as in FVC. Unlike the fingerprint
// package, this package does I/O: it reads the folder.
package fvc

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/fingerprint"
)

// Sample is one impression in a data set.
type Sample struct {
	Finger     string // the <finger> part of the name
	Impression int
	Path       string
}

var sampleName = regexp.MustCompile(`^([^_]+)_(\d+)\.([A-Za-z0-9]+)$`)

// Scan lists the samples of dir: files named <finger>_<impression>.<ext>,
// sorted by finger and impression. Other files are ignored. It fails when
// there are none or when two files give the same finger and impression.
func Scan(dir string) ([]Sample, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fvc: %v", err)
	}
	var out []Sample
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := sampleName.FindStringSubmatch(e.Name())
		if m == nil || !knownExt(m[3]) {
			continue
		}
		imp, err := strconv.Atoi(m[2])
		if err != nil {
			continue
		}
		key := m[1] + "_" + strconv.Itoa(imp)
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("fvc: %s and %s are both finger %s impression %d", prev, e.Name(), m[1], imp)
		}
		seen[key] = e.Name()
		out = append(out, Sample{Finger: m[1], Impression: imp, Path: filepath.Join(dir, e.Name())})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fvc: no <finger>_<impression>.<ext> samples in %s", dir)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Finger != out[j].Finger {
			return fingerLess(out[i].Finger, out[j].Finger)
		}
		return out[i].Impression < out[j].Impression
	})
	return out, nil
}

// knownExt lists the sample files Scan picks up: images and minutiae
// records.
func knownExt(ext string) bool {
	switch strings.ToLower(ext) {
	case "tif", "tiff", "png", "bmp", "jpg", "jpeg", "iso", "fmr", "ansi":
		return true
	}
	return false
}

// fingerLess orders numeric finger ids numerically, others as strings.
func fingerLess(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

// Comparison is one scored pair of the protocol.
type Comparison struct {
	Probe, Gallery string // file names
	// ProbeIndex and GalleryIndex are the two samples' places in
	// Report.Quality (Scan's order).
	ProbeIndex, GalleryIndex int
	Genuine                  bool
	Std                      bool // an impostor pair of the FVC standard protocol
	Score                    float64
}

// Loader makes the template of a sample file. Run times each call with
// ThreadCPU.
type Loader func(path string) (fingerprint.Template, error)

// Options tune a run.
type Options struct {
	// Progress, when not nil, is called after each template and each
	// comparison with the work done and the total.
	Progress func(done, total int)
	// Match is how each probe is compared (fingerprint.NewMatcherWith).
	Match fingerprint.MatchOptions
	// Keep keeps every sample's template and prepared template in the
	// report, for Across (about 15 KB a sample).
	Keep bool
}

// Report holds the figures of a run and every comparison behind them.
type Report struct {
	Dataset           string
	Samples           int
	Fingers           int
	FailuresToExtract int
	Failures          []string // files that failed, with the reason
	// ExtractMsMedian is the median time of a Loader call (reading,
	// decoding and extracting one sample) in milliseconds of CPU time of
	// the thread that made it, or of wall time when CPUTime is false.
	ExtractMsMedian float64
	// CPUTime says that ExtractMsMedian and ComparisonsPerSecond were
	// timed by thread CPU time (see ThreadCPU); false: by the wall clock.
	CPUTime     bool
	Comparisons []Comparison
	// Quality is each sample's quality 0-100 (fingerprint.Template.Quality)
	// in Scan's order; 0 for a failure to extract.
	Quality        []int
	EERStd, EERExt float64
	FNMRAtFMR1e2   float64 // from ext
	FNMRAtFMR1e3   float64 // from ext
	DET            []eval.DETPoint
	// ComparisonsPerSecond is the 1:N rate of one core: one prepared
	// probe (Matcher) against every prepared gallery template, repeated,
	// per second of CPU time of the thread doing it (see Speed).
	ComparisonsPerSecond float64

	// With Options.Keep: the samples, each one's template and prepared
	// template (nil for a failure to extract), in Scan's order, and the
	// options they were compared with.
	samples   []Sample
	templates []fingerprint.Template
	prepared  []*fingerprint.Prepared
	match     fingerprint.MatchOptions
}

// Run evaluates the data set in dir: it makes every template with load,
// runs the protocol and measures the 1:N speed. It uses one goroutine, so
// its timings are per core.
func Run(dir string, load Loader, opt Options) (*Report, error) {
	samples, err := Scan(dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Dataset: dir, Samples: len(samples)}
	fingers := map[string]bool{}
	for _, s := range samples {
		fingers[s.Finger] = true
	}
	rep.Fingers = len(fingers)
	genuine, std, ext := Pairs(samples)
	total := len(samples) + len(genuine) + len(ext)
	done := 0
	step := func() {
		done++
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
	}

	prepared := make([]*fingerprint.Prepared, len(samples))
	matchers := make([]*fingerprint.Matcher, len(samples))
	var templates []fingerprint.Template
	if opt.Keep {
		templates = make([]fingerprint.Template, len(samples))
	}
	var times []float64
	rep.CPUTime = true
	rep.Quality = make([]int, len(samples))
	for i, s := range samples {
		var t fingerprint.Template
		var err error
		d, cpu := ThreadCPU(func() { t, err = load(s.Path) })
		rep.CPUTime = rep.CPUTime && cpu
		step()
		if err != nil {
			rep.FailuresToExtract++
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %v", filepath.Base(s.Path), err))
			continue
		}
		times = append(times, float64(d)/float64(time.Millisecond))
		rep.Quality[i] = t.Quality
		prepared[i] = fingerprint.PrepareWith(t, opt.Match)
		matchers[i] = fingerprint.NewMatcherWith(t, opt.Match)
		if opt.Keep {
			templates[i] = t
		}
	}
	if len(times) > 0 {
		slices.Sort(times)
		if n := len(times); n%2 == 1 {
			rep.ExtractMsMedian = times[n/2]
		} else {
			rep.ExtractMsMedian = (times[n/2-1] + times[n/2]) / 2
		}
	}
	score := func(p [2]int) float64 {
		if matchers[p[0]] == nil || prepared[p[1]] == nil {
			return 0 // a ghost template scores 0
		}
		return matchers[p[0]].Compare(prepared[p[1]])
	}
	isStd := map[[2]int]bool{}
	for _, p := range std {
		isStd[p] = true
	}
	var gen, impStd, impExt []float64
	for _, p := range genuine {
		s := score(p)
		gen = append(gen, s)
		rep.Comparisons = append(rep.Comparisons, comparison(samples, p, true, false, s))
		step()
	}
	for _, p := range ext {
		s := score(p)
		impExt = append(impExt, s)
		if isStd[p] {
			impStd = append(impStd, s)
		}
		rep.Comparisons = append(rep.Comparisons, comparison(samples, p, false, isStd[p], s))
		step()
	}
	if len(gen) == 0 || len(impExt) == 0 {
		return nil, fmt.Errorf("fvc: %s has %d genuine and %d impostor pairs; need fingers with two or more impressions", dir, len(gen), len(impExt))
	}
	if rep.EERExt, err = eval.EER(gen, impExt); err != nil {
		return nil, err
	}
	if len(impStd) > 0 {
		if rep.EERStd, err = eval.EER(gen, impStd); err != nil {
			return nil, err
		}
	}
	rep.FNMRAtFMR1e2, _, _ = eval.FNMRAtFMR(gen, impExt, 1e-2)
	rep.FNMRAtFMR1e3, _, _ = eval.FNMRAtFMR(gen, impExt, 1e-3)
	rep.DET, _ = eval.DET(gen, impExt)
	var cpu bool
	rep.ComparisonsPerSecond, cpu = Speed(matchers, prepared, 500*time.Millisecond)
	rep.CPUTime = rep.CPUTime && cpu
	if opt.Keep {
		rep.samples, rep.templates, rep.prepared, rep.match = samples, templates, prepared, opt.Match
	}
	return rep, nil
}

func comparison(samples []Sample, p [2]int, genuine, std bool, score float64) Comparison {
	return Comparison{Probe: filepath.Base(samples[p[0]].Path), Gallery: filepath.Base(samples[p[1]].Path),
		ProbeIndex: p[0], GalleryIndex: p[1], Genuine: genuine, Std: std, Score: score}
}

// ERCFractions are the shares of samples ERC rejects by default.
var ERCFractions = []float64{0, 0.01, 0.02, 0.05, 0.10}

// ERC is the error-versus-reject curve of the sample quality over the
// reports' ext comparisons pooled (one report: that set's curve): FNMR at
// FMR fmr after rejecting each fraction of the lowest-quality samples of
// all the reports together (eval.ERC).
func ERC(reps []*Report, fmr float64, fractions []float64) ([]eval.ERCPoint, error) {
	var q []float64
	var pairs []eval.QualityPair
	for _, r := range reps {
		off := len(q)
		for _, v := range r.Quality {
			q = append(q, float64(v))
		}
		for _, c := range r.Comparisons {
			pairs = append(pairs, eval.QualityPair{A: off + c.ProbeIndex, B: off + c.GalleryIndex, Genuine: c.Genuine, Score: c.Score})
		}
	}
	return eval.ERC(q, pairs, fmr, fractions)
}

// Pairs returns the protocol's pairs as indices into samples (sorted as
// Scan sorts them): genuine pairs, the standard impostor pairs and the
// extended impostor pairs (a superset of the standard ones). Every pair is
// (i, j) with i < j.
func Pairs(samples []Sample) (genuine, std, ext [][2]int) {
	first := map[string]int{}
	for i, s := range samples {
		if f, ok := first[s.Finger]; !ok || s.Impression < samples[f].Impression {
			first[s.Finger] = i
		}
	}
	for i := range samples {
		for j := i + 1; j < len(samples); j++ {
			if samples[i].Finger == samples[j].Finger {
				genuine = append(genuine, [2]int{i, j})
				continue
			}
			ext = append(ext, [2]int{i, j})
			if first[samples[i].Finger] == i && first[samples[j].Finger] == j {
				std = append(std, [2]int{i, j})
			}
		}
	}
	return genuine, std, ext
}

// Speed measures 1:N comparisons per second of one core: each probe's
// Matcher (the prepared probe) against every prepared gallery template,
// round after round, for at least minTime of wall time, on one OS thread,
// per second of that thread's CPU time, and true; where the system cannot
// tell thread CPU time, per second of wall time, and false. Missing
// templates are skipped.
func Speed(matchers []*fingerprint.Matcher, gallery []*fingerprint.Prepared, minTime time.Duration) (float64, bool) {
	var g []*fingerprint.Prepared
	for _, p := range gallery {
		if p != nil {
			g = append(g, p)
		}
	}
	var ms []*fingerprint.Matcher
	for _, m := range matchers {
		if m != nil {
			ms = append(ms, m)
		}
	}
	if len(g) == 0 || len(ms) == 0 {
		return 0, false
	}
	n := 0
	sink := 0.0
	el, cpu := ThreadCPU(func() {
		for start := time.Now(); time.Since(start) < minTime; {
			for _, m := range ms {
				for _, p := range g {
					sink += m.Compare(p)
				}
				n += len(g)
			}
		}
	})
	_ = sink
	if el <= 0 {
		return 0, false
	}
	return float64(n) / el.Seconds(), cpu
}
