// Package faceeval measures the face pipeline on a labelled folder of
// photos: every photo is enrolled, every pair of photos is compared, and the
// report gives the error rates (package eval's definitions, ISO/IEC
// 19795-1), the failures to enrol and the time per photo in CPU time of the
// one thread doing the work.
//
// The folder holds images and a labels.csv whose header names at least the
// columns "file" (a path relative to the folder) and "identity". Genuine
// pairs are all pairs of photos of one identity, impostor pairs all pairs of
// photos of different identities. A comparison's score is 1 − the Euclidean
// distance of the embeddings (dlib's metric, turned so that higher is more
// alike; dlib's own decision threshold, a distance of 0.6, is a score of
// 0.4), the score the node's face engine gives.
package faceeval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/face/pipeline"
	"github.com/ebsp/ebsp/fingerprint/fvc"
)

// Sample is one labelled photo.
type Sample struct {
	File, Identity string
}

// MaxSamples bounds a labels file.
const MaxSamples = 100000

// ReadLabels reads labels.csv in dir.
func ReadLabels(dir string) ([]Sample, error) {
	f, err := os.Open(filepath.Join(dir, "labels.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("labels.csv: header: %w", err)
	}
	fi, ii := slices.Index(head, "file"), slices.Index(head, "identity")
	if fi < 0 || ii < 0 {
		return nil, fmt.Errorf("labels.csv: header %v has no file and identity columns", head)
	}
	var out []Sample
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("labels.csv: %w", err)
		}
		if len(out) == MaxSamples {
			return nil, fmt.Errorf("labels.csv: more than %d samples", MaxSamples)
		}
		s := Sample{File: rec[fi], Identity: rec[ii]}
		if s.File == "" || s.Identity == "" || !filepath.IsLocal(s.File) {
			return nil, fmt.Errorf("labels.csv line %d: file %q, identity %q", line, s.File, s.Identity)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("labels.csv lists no samples")
	}
	return out, nil
}

// Report is the outcome of Run; rates are fractions.
type Report struct {
	Dataset         string   `json:"dataset"`
	Samples         int      `json:"samples"`
	Identities      int      `json:"identities"`
	GenuinePairs    int      `json:"genuine_pairs"`
	ImpostorPairs   int      `json:"impostor_pairs"`
	EER             float64  `json:"eer"`
	TARAtFAR1e3     float64  `json:"tar_at_far_1e-3"`
	ThresholdFAR1e3 float64  `json:"distance_threshold_at_far_1e-3"`
	FailuresToEnrol int      `json:"failures_to_enrol"`
	Failures        []string `json:"failures,omitempty"`
	// GenuineDistanceMax and ImpostorDistanceMin are the worst genuine and
	// the closest impostor distance.
	GenuineDistanceMax  float64 `json:"genuine_distance_max"`
	ImpostorDistanceMin float64 `json:"impostor_distance_min"`
	// MsPerImageMedian is reading the file, decoding and the pipeline;
	// MsDecodeMedian and MsPipelineMedian split it.
	MsPerImageMedian float64 `json:"ms_per_image_median"`
	MsDecodeMedian   float64 `json:"ms_decode_median"`
	MsPipelineMedian float64 `json:"ms_pipeline_median"`
	// CPUTime says whether times are thread CPU time (false: wall time, on
	// systems without a per-thread clock).
	CPUTime bool `json:"cpu_time"`
	// Comparisons are every pair's score (Std false: there is no
	// standard/extended split), for score files.
	Comparisons []fvc.Comparison `json:"-"`
}

// Run evaluates the pipeline on dir, in one goroutine. Embeddings are
// compared as the node stores them (face.Embedding, int8 with a scale).
func Run(p *pipeline.Pipeline, dir string) (*Report, error) {
	samples, err := ReadLabels(dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Dataset: dir, Samples: len(samples), CPUTime: true}
	ids := map[string]bool{}
	embs := make([]*face.Embedding, len(samples))
	var all, dec, pipe []float64
	for i, s := range samples {
		ids[s.Identity] = true
		var img *pipeline.RGB
		var res *pipeline.Result
		var err error
		d1, ok1 := fvc.ThreadCPU(func() {
			var b []byte
			if b, err = os.ReadFile(filepath.Join(dir, s.File)); err == nil {
				img, err = pipeline.Decode(b)
			}
		})
		var d2 time.Duration
		ok2 := true
		if err == nil {
			d2, ok2 = fvc.ThreadCPU(func() { res, err = p.ProcessImage(img) })
		}
		rep.CPUTime = rep.CPUTime && ok1 && ok2
		if err != nil {
			rep.FailuresToEnrol++
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %v", s.File, err))
			continue
		}
		e, err := face.QuantizeEmbedding(res.Embedding)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.File, err)
		}
		embs[i] = &e
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		dec, pipe, all = append(dec, ms(d1)), append(pipe, ms(d2)), append(all, ms(d1+d2))
	}
	rep.Identities = len(ids)
	rep.MsPerImageMedian, rep.MsDecodeMedian, rep.MsPipelineMedian = median(all), median(dec), median(pipe)
	var genuine, impostor []float64
	rep.ImpostorDistanceMin = math.Inf(1)
	for i := range samples {
		for j := i + 1; j < len(samples); j++ {
			d := math.NaN() // a failure to enrol scores lowest
			if embs[i] != nil && embs[j] != nil {
				d = face.Distance(embs[i], embs[j])
			}
			gen := samples[i].Identity == samples[j].Identity
			if gen {
				genuine = append(genuine, 1-d)
				rep.GenuineDistanceMax = max(rep.GenuineDistanceMax, d)
			} else {
				impostor = append(impostor, 1-d)
				rep.ImpostorDistanceMin = min(rep.ImpostorDistanceMin, d)
			}
			rep.Comparisons = append(rep.Comparisons, fvc.Comparison{Probe: samples[i].File, Gallery: samples[j].File, Genuine: gen, Score: 1 - d})
		}
	}
	rep.GenuinePairs, rep.ImpostorPairs = len(genuine), len(impostor)
	if rep.EER, err = eval.EER(genuine, impostor); err != nil {
		return nil, err
	}
	fnmr, thr, err := eval.FNMRAtFMR(genuine, impostor, 1e-3)
	if err != nil {
		return nil, err
	}
	rep.TARAtFAR1e3, rep.ThresholdFAR1e3 = 1-fnmr, 1-thr
	return rep, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
