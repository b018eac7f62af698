// Package identification evaluates open-set 1:N identification end to end
// on real images: it builds a fresh node (SQLite store, the default engines
// and, unless told otherwise, the default configuration), enrols impression
// 1 of every other finger of each data set as an identity, and searches
// with every other impression of every finger, through the node's own
// Enroll and Identify. Mated searches (the finger is enrolled) give the
// false-negative identification rate, non-mated ones (it is not) the
// false-positive identification rate, as ISO/IEC 19795-1:2021 defines them
// for open-set identification (§3.6): FPIR is the share of non-mated
// searches that end in a hit; FNIR the share of mated searches that do not
// end in a hit on the right identity.
package identification

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/store"
)

// Set is one data set: a folder of <finger>_<impression>.<ext> images
// (fvc.Scan) at one resolution.
type Set struct {
	Dir string
	DPI int
}

// Options adjust a run. The zero value is the node's default configuration.
type Options struct {
	// Tail, when not nil, is configured as the node's fingerprint impostor
	// tail (impostor_tails.finger), e.g. one measured without the set under
	// evaluation.
	Tail *engine.Tail
	// DataDir holds the node's store; a temporary folder when empty.
	DataDir string
	// Workers searches at once (1 when 0).
	Workers int
	// Progress, when not nil, gets a line per data set.
	Progress io.Writer
}

// Rates are the counts and rates of one group of searches.
type Rates struct {
	GalleryIdentities int     `json:"gallery_identities"`
	MatedSearches     int     `json:"mated_searches"`
	NonmatedSearches  int     `json:"nonmated_searches"`
	FPIR              float64 `json:"fpir"`      // non-mated searches ending in a hit
	FPIRLow           float64 `json:"fpir_low"`  // 95% Clopper-Pearson interval
	FPIRHigh          float64 `json:"fpir_high"` //
	FNIR              float64 `json:"fnir"`      // mated searches not ending in a hit on the right identity
	FNIRLow           float64 `json:"fnir_low"`
	FNIRHigh          float64 `json:"fnir_high"`
	// FNIRReview counts a review with the right identity first as found:
	// what an examiner working the review queue would still catch.
	FNIRReview float64 `json:"fnir_with_review"`
	// Reviews are the searches (mated or not) that ended in review;
	// FalseHits the non-mated hits; WrongHits mated searches whose hit
	// named another identity.
	Reviews         int `json:"reviews"`
	NonmatedReviews int `json:"nonmated_reviews"`
	FalseHits       int `json:"false_hits"`
	WrongHits       int `json:"mated_wrong_hits"`
	// FailedSamples could not be enrolled or searched (unreadable, below
	// the quality gate); they count as misses when mated, and are left out
	// when non-mated.
	FailedSamples int `json:"failed_samples"`

	misses, missesReview int // mated searches not found (by hit; by hit or review)
}

// SetResult is one data set's share of a run.
type SetResult struct {
	Dataset string `json:"dataset"`
	DPI     int    `json:"dpi"`
	Rates
}

// Result is a whole run.
type Result struct {
	Rates
	// Tail says which fingerprint tail the node's thresholds followed, and
	// HitThreshold and ReviewThreshold the single-finger thresholds at the
	// gallery's size.
	Tail            string      `json:"tail"`
	TailComparisons int         `json:"tail_comparisons"`
	FPIRTarget      float64     `json:"fpir_target"`
	HitThreshold    float64     `json:"hit_threshold"`
	ReviewThreshold float64     `json:"review_threshold"`
	Sets            []SetResult `json:"sets"`
}

type search struct {
	set      int
	identity string // the enrolled identity of the finger; "" when non-mated
	sample   engine.Sample
}

// outcome of one search.
type outcome struct {
	decision biometric.Decision
	top      string
	failed   bool
}

// Run evaluates the sets in one node.
func Run(ctx context.Context, sets []Set, opt Options) (*Result, error) {
	dir := opt.DataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "ebsp-eval-identification-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	cfg := &node.Config{State: node.NoState, DataDir: dir}
	if opt.Tail != nil {
		cfg.ImpostorTails = map[biometric.Modality]engine.Tail{biometric.Finger: *opt.Tail}
	}
	a, err := partnership.Assemble(ctx, cfg, partnership.AssembleOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	n := a.Node
	if err := n.LoadGallery(ctx, nil); err != nil {
		return nil, err
	}
	res := &Result{Sets: make([]SetResult, len(sets))}
	var searches []search
	for si, s := range sets {
		samples, err := fvc.Scan(s.Dir)
		if err != nil {
			return nil, err
		}
		res.Sets[si] = SetResult{Dataset: filepath.Base(filepath.Clean(s.Dir)), DPI: s.DPI}
		var fingers []string
		for _, x := range samples {
			if len(fingers) == 0 || fingers[len(fingers)-1] != x.Finger {
				fingers = append(fingers, x.Finger)
			}
		}
		enrolled := map[string]string{}
		for i, f := range fingers {
			if i%2 == 0 {
				enrolled[f] = res.Sets[si].Dataset + "-" + f
			}
		}
		for _, x := range samples {
			smp, err := readSample(x.Path, s.DPI)
			if err != nil {
				return nil, err
			}
			id, mated := enrolled[x.Finger]
			switch {
			case x.Impression == 1 && mated:
				_, err := n.Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: id},
					Provenance: store.Provenance{LegalBasis: "evaluation"}, Samples: []engine.Sample{smp}})
				if err != nil {
					// The finger's searches count as misses.
					res.Sets[si].FailedSamples++
					fmt.Fprintf(progress(opt), "%s: enrolment failed: %v\n", x.Path, err)
				}
				res.Sets[si].GalleryIdentities++
			case x.Impression != 1:
				searches = append(searches, search{set: si, identity: id, sample: smp})
			}
		}
	}
	outs := make([]outcome, len(searches))
	workers := max(opt.Workers, 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(searches); i += workers {
				r, err := n.Identify(ctx, &node.IdentifyRequest{Samples: []engine.Sample{searches[i].sample}})
				if err != nil {
					outs[i].failed = true
					continue
				}
				outs[i].decision = r.Decision
				if len(r.Candidates) > 0 {
					outs[i].top = r.Candidates[0].IdentityID
				}
			}
		})
	}
	wg.Wait()
	total := &res.Rates
	for i, s := range searches {
		count(&res.Sets[s.set].Rates, s, outs[i])
	}
	for i := range res.Sets {
		total.add(&res.Sets[i].Rates)
		res.Sets[i].finish()
		fmt.Fprintf(progress(opt), "%s: %d identities, %d mated and %d non-mated searches, FPIR %.4f, FNIR %.4f\n",
			res.Sets[i].Dataset, res.Sets[i].GalleryIdentities, res.Sets[i].MatedSearches, res.Sets[i].NonmatedSearches, res.Sets[i].FPIR, res.Sets[i].FNIR)
	}
	total.finish()
	for _, c := range n.Calibration().Modalities {
		if c.Modality == biometric.Finger {
			res.Tail, res.TailComparisons, res.FPIRTarget = c.Tail, c.Comparisons, c.FPIRTarget
			res.HitThreshold, res.ReviewThreshold = c.HitThreshold, c.ReviewThreshold
		}
	}
	return res, nil
}

// count adds one search's outcome.
func count(r *Rates, s search, o outcome) {
	if s.identity == "" {
		if o.failed {
			r.FailedSamples++
			return
		}
		r.NonmatedSearches++
		switch o.decision {
		case biometric.Hit:
			r.FalseHits++
		case biometric.Review:
			r.Reviews++
			r.NonmatedReviews++
		}
		return
	}
	r.MatedSearches++
	if o.failed {
		r.FailedSamples++
		r.misses++
		r.missesReview++
		return
	}
	right := o.top == s.identity
	switch {
	case o.decision == biometric.Hit && right:
	case o.decision == biometric.Hit:
		r.WrongHits++
		r.misses++
		r.missesReview++
	case o.decision == biometric.Review:
		r.Reviews++
		r.misses++
		if !right {
			r.missesReview++
		}
	default:
		r.misses++
		r.missesReview++
	}
}

// finish computes the rates and their intervals from the counts.
func (r *Rates) finish() {
	const conf = 0.95
	if r.MatedSearches > 0 {
		r.FNIR = float64(r.misses) / float64(r.MatedSearches)
		r.FNIRReview = float64(r.missesReview) / float64(r.MatedSearches)
		r.FNIRLow, r.FNIRHigh = eval.ClopperPearson(int64(r.misses), int64(r.MatedSearches), conf)
	}
	if r.NonmatedSearches > 0 {
		r.FPIR = float64(r.FalseHits) / float64(r.NonmatedSearches)
		r.FPIRLow, r.FPIRHigh = eval.ClopperPearson(int64(r.FalseHits), int64(r.NonmatedSearches), conf)
	}
}

// add adds another group's counts.
func (r *Rates) add(o *Rates) {
	r.GalleryIdentities += o.GalleryIdentities
	r.MatedSearches += o.MatedSearches
	r.NonmatedSearches += o.NonmatedSearches
	r.Reviews += o.Reviews
	r.NonmatedReviews += o.NonmatedReviews
	r.FalseHits += o.FalseHits
	r.WrongHits += o.WrongHits
	r.FailedSamples += o.FailedSamples
	r.misses += o.misses
	r.missesReview += o.missesReview
}

func progress(opt Options) io.Writer {
	if opt.Progress == nil {
		return io.Discard
	}
	return opt.Progress
}

// readSample reads an image or minutiae record as a node sample.
func readSample(path string, dpi int) (engine.Sample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return engine.Sample{}, err
	}
	format := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	switch format {
	case "tif":
		format = "tiff"
	case "jpg":
		format = "jpeg"
	case "iso", "fmr":
		format, dpi = "iso19794-2", 0
	case "ansi":
		format, dpi = "ansi378", 0
	}
	return engine.Sample{Modality: biometric.Finger, Format: format, DPI: dpi, Data: data}, nil
}
