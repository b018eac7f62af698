// Package bench measures ebsp's throughput and latency on synthetic
// populations: a national node under load through its HTTP API (enrolment and
// identification, SQLite or PostgreSQL), the in-memory 1:N search alone, and
// the step-1 exchange between two nodes of a partnership over mutual TLS.
//
// Every figure it reports is measured in the run that reports it. Because a
// shared machine's wall-clock figures depend on what else runs on it, each
// result also carries the process CPU time it used and the load average at the
// start, so that runs on different machines and days can be compared.
//
// The population is synth's template-level fingerprints: person p has the two
// index fingers 2p and 2p+1 of the seed; impression 1 is enrolled, impression
// 2 is the probe of a later encounter, and people at indices beyond the
// enrolled population are the never-enrolled travellers.
package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/synth"
)

// Progress is told how a phase of a benchmark advances: done of total units
// (enrolments, searches, templates). It may be called from several
// goroutines at once.
type Progress func(phase string, done, total int)

// indexFingers are the fingers each synthetic person gives: the two index
// fingers, as border systems capture.
var indexFingers = [2]biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex}

// fingerTemplate is impression k of finger f (0 or 1) of person p.
func fingerTemplate(seed uint64, p, f int, k uint64) fingerprint.Template {
	m := synth.NewFingerMaster(seed, uint64(2*p+f))
	master := synth.TemplateMaster(m)
	return synth.TemplateImpression(m, &master, k)
}

// personSamples returns the ISO/IEC 19794-2:2005 records of impression k of
// person p's two index fingers, as API samples.
func personSamples(seed uint64, p int, k uint64) ([]node.SampleInput, error) {
	var ks [len(indexFingers)]uint64
	for f := range ks {
		ks[f] = k
	}
	return fingerSamples(seed, p, ks[:])
}

// fingerSamples returns the records of impression ks[f] of person p's
// index finger f, leaving out a finger whose impression is 0.
func fingerSamples(seed uint64, p int, ks []uint64) ([]node.SampleInput, error) {
	out := make([]node.SampleInput, 0, len(indexFingers))
	for f, pos := range indexFingers {
		if ks[f] == 0 {
			continue
		}
		rec, err := iso19794.MinutiaeRecordFromTemplate(fingerTemplate(seed, p, f, ks[f]), iso19794.ISO19794_2_2005, pos)
		if err != nil {
			return nil, fmt.Errorf("bench: person %d finger %d: %w", p, f, err)
		}
		b, err := rec.Marshal()
		if err != nil {
			return nil, fmt.Errorf("bench: person %d finger %d: %w", p, f, err)
		}
		out = append(out, node.SampleInput{Modality: biometric.Finger, Position: pos, Format: "iso19794-2", Data: b})
	}
	return out, nil
}

// enrolmentSamples are person p's enrolment capture: impression 1, or the
// first retake (partnership.RetakeImpression) whose fingers all pass the
// node's default minutiae gate, as the capture station would check before
// sending, so that every timed enrolment is accepted. A finger that passes
// in no retake (about 2 in 10,000 synthetic fingers: persons 1420 and
// 10394 of seed 1) is left out, as partnership.EnrolRetaking leaves it.
func enrolmentSamples(seed uint64, p int) ([]node.SampleInput, error) {
	var first [len(indexFingers)]uint64 // each finger's first passing impression
	for r := 0; r <= partnership.MaxRetakes; r++ {
		k := partnership.RetakeImpression(1, r)
		ok := true
		for f := range indexFingers {
			pass := len(fingerTemplate(seed, p, f, k).Minutiae) >= node.DefaultMinMinutiae
			ok = ok && pass
			if pass && first[f] == 0 {
				first[f] = k
			}
		}
		if ok {
			return personSamples(seed, p, k)
		}
	}
	if first == [len(indexFingers)]uint64{} {
		return nil, fmt.Errorf("bench: person %d: no finger has %d minutiae in %d captures", p, node.DefaultMinMinutiae, partnership.MaxRetakes+1)
	}
	return fingerSamples(seed, p, first[:])
}

// probe is one search of a benchmark: an enrolled person's later impression
// (a mate is in the gallery) or a never-enrolled person's.
type probe struct {
	person   int
	enrolled bool
	samples  []node.SampleInput
}

// makeProbes returns n probes alternating enrolled and never-enrolled people:
// the enrolled ones spread over the whole population, the others numbered
// from people up.
func makeProbes(ctx context.Context, seed uint64, people, n, workers int, progress Progress) ([]probe, error) {
	out := make([]probe, n)
	err := parallel(ctx, n, workers, func(i int) error {
		pr := probe{enrolled: i%2 == 0}
		if pr.enrolled {
			pr.person = int(int64(i/2) * int64(people) / int64(max(1, (n+1)/2)))
		} else {
			pr.person = people + i/2
		}
		s, err := personSamples(seed, pr.person, 2)
		pr.samples = s
		out[i] = pr
		return err
	}, "generate probes", progress)
	return out, err
}

// parallel runs f(0..n-1) on workers goroutines, stopping at the first
// error or when ctx ends, and reports progress under phase.
func parallel(ctx context.Context, n, workers int, f func(i int) error, phase string, progress Progress) error {
	workers = max(1, min(workers, n))
	var next, done atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // stop the others
					return
				}
				d := done.Add(1)
				if progress != nil {
					progress(phase, int(d), n)
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// Latency summarises the durations of one kind of request, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// summarise returns the latency summary of durations d. Percentiles are by
// nearest rank: the smallest value with at least q of the values at or
// below it, so p99 of 100 values is the 99th, never an interpolation.
func summarise(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	rank := func(q float64) float64 {
		i := int(q*float64(len(s))+0.999999) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return Latency{Count: len(s), Mean: ms(sum / time.Duration(len(s))), P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: ms(s[len(s)-1])}
}

// Machine describes where a benchmark ran.
type Machine struct {
	CPUs       int     `json:"cpus"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	GoVersion  string  `json:"go_version"`
	Load1      float64 `json:"load_average_1m"` // at the start; -1 when unknown
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), Load1: -1}
	// /proc/loadavg is Linux's; elsewhere the load stays unknown.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscanf(string(b), "%f", &m.Load1)
	}
	return m
}

// stopwatch measures wall-clock and process CPU time of a phase.
type stopwatch struct {
	wall time.Time
	cpu  time.Duration
}

func start() stopwatch { return stopwatch{time.Now(), fvc.ProcessCPU()} }

// elapsed returns the wall-clock and CPU seconds since start.
func (s stopwatch) elapsed() (wall, cpu float64) {
	return time.Since(s.wall).Seconds(), (fvc.ProcessCPU() - s.cpu).Seconds()
}

// Accuracy counts the outcomes of searches with known ground truth.
type Accuracy struct {
	TrueHits      int `json:"true_hits"`       // an enrolled person, hit, ranked first
	MissedHits    int `json:"missed_hits"`     // an enrolled person, no hit (or a hit with another ranked first)
	FalseHits     int `json:"false_hits"`      // a hit with the wrong identity first, or on a never-enrolled person
	CorrectNoHits int `json:"correct_no_hits"` // a never-enrolled person, no hit
	// Reviews are decisions "review" (a score between the review and hit
	// thresholds: an examiner must look), counted here only.
	Reviews int `json:"reviews"`
}

func (a Accuracy) String() string {
	return fmt.Sprintf("true hits %d, missed hits %d, false hits %d, correct no-hits %d, reviews %d",
		a.TrueHits, a.MissedHits, a.FalseHits, a.CorrectNoHits, a.Reviews)
}

// table writes rows of two columns, the first padded.
func table(rows [][2]string) string {
	w := 0
	for _, r := range rows {
		w = max(w, len(r[0]))
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %s\n", w, r[0], r[1])
	}
	return b.String()
}

func perSec(n int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}
