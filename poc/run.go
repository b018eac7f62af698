package poc

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/internal/progress"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/search"
)

// Options tune a run. Zero values take defaults.
type Options struct {
	// Workers bounds the goroutines used for scoring and enrolment
	// (GOMAXPROCS when 0).
	Workers int
	// Progress, when set, receives one-line progress messages.
	Progress io.Writer
	// KeepNodes leaves the nodes' data directories under outDir/nodes
	// (removed otherwise).
	KeepNodes bool
	// RealGenuine are genuine scores of real images (the shared FVC sets:
	// RealGenuineScores orders them), on which the national section
	// counts the FNIR too; RealSource says what they are, for the report.
	RealGenuine []float64
	RealSource  string
}

// Run runs a scenario end to end and writes outDir/report.html and
// outDir/report.json: score samples measured with the real matcher, the
// threshold, the national extrapolation, the partnership on real nodes and
// every model evaluated on it.
func Run(ctx context.Context, s *Scenario, outDir string) (*Report, error) {
	return RunWith(ctx, s, outDir, Options{})
}

// RunWith is Run with options.
func RunWith(ctx context.Context, s *Scenario, outDir string, o Options) (*Report, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	say := func(format string, a ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%6.1fs  "+format+"\n", append([]any{time.Since(start).Seconds()}, a...)...)
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("poc: output directory: %w", err)
	}
	rep := &Report{Scenario: s, Started: time.Now().UTC(), Travellers: map[string]int{}}
	t0 := time.Now()
	phaseWall, phaseCPU := t0, fvc.ProcessCPU()
	phase := func(name string) {
		now, cpu := time.Now(), fvc.ProcessCPU()
		rep.Phases = append(rep.Phases, Phase{Name: name, Seconds: now.Sub(phaseWall).Seconds(),
			CPUSeconds: (cpu - phaseCPU).Seconds(), PeakRSS: fvc.PeakRSS()})
		phaseWall, phaseCPU = now, cpu
	}

	// 1. Score samples and the operating point.
	say("measuring %d impostor and %d genuine comparisons with the fingerprint matcher", s.Extrapolation.ImpostorComparisons, s.Extrapolation.GenuineComparisons)
	sc, err := measureScores(ctx, uint64(s.Seed)+seedScores, s.Extrapolation.ImpostorComparisons, s.Extrapolation.GenuineComparisons, o.Workers, o.Progress)
	if err != nil {
		return nil, err
	}
	rep.ImpostorScores, rep.GenuineScores = len(sc.Impostor), len(sc.Genuine)
	for _, x := range sc.Impostor {
		rep.ImpostorMean += x
	}
	rep.ImpostorMean /= float64(len(sc.Impostor))
	var th *node.Thresholds // fixed thresholds for every node; nil: each node's own policy
	switch {
	case s.Matcher.NodePolicy():
		home := homeGalleryPolicy(s)
		rep.Threshold, rep.FusionMean = home.Hit, home.Mean
		rep.ThresholdFrom = fmt.Sprintf("the node's own decision policy at its gallery's size (default configuration): at the home state's %d identities, FPIR %g on the engine's impostor tail %s; every node sets its own threshold from its own gallery's size (the nodes' table)",
			s.home().Gallery, nodePolicyFPIR, tailName(engine.Finger{}.Tail()))
	case s.Matcher.Threshold > 0:
		rep.Threshold, rep.ThresholdFrom = s.Matcher.Threshold, "matcher.threshold in the scenario"
	default:
		rep.Threshold, err = ThresholdForFMR(sc.Impostor, s.Matcher.TargetFMR)
		if err != nil {
			return nil, err
		}
		rep.ThresholdFrom = fmt.Sprintf("measured impostor scores at target FMR %g per single-finger comparison", s.Matcher.TargetFMR)
	}
	if !s.Matcher.NodePolicy() {
		rep.FusionMean = rep.ImpostorMean
		th = &node.Thresholds{Hit: rep.Threshold, Review: rep.Threshold, ImpostorMean: rep.ImpostorMean}
	}
	say("single-finger threshold %.5g (%s), mean impostor score %.4g", rep.Threshold, rep.ThresholdFrom, rep.ImpostorMean)
	phase("score samples")

	// 2. The DET curves and the national section.
	fingerCounts := slices.Clone(s.Extrapolation.Fingers)
	if nf := len(s.Capture.Fingers); !slices.Contains(fingerCounts, nf) {
		fingerCounts = append(fingerCounts, nf)
	}
	slices.Sort(fingerCounts)
	for _, n := range fingerCounts {
		rep.DET = append(rep.DET, detCurve(sc, n))
	}
	say("national section: thresholds of the node policy at %d national galleries, FPIR by the tails, FNIR on measured genuine scores", len(nationalGalleries(s)))
	if rep.National, err = nationalSection(s, sc, fingerCounts, o); err != nil {
		return nil, err
	}
	rep.ModelsNational = modelsNational(s, rep.National.Rows, len(s.Capture.Fingers))
	phase("DET curves and national section")

	// 3. The partnership on real nodes.
	pop, err := newPopulation(s)
	if err != nil {
		return nil, err
	}
	for _, t := range pop.travellers {
		rep.HourlyEncounters[t.hour]++
		rep.Travellers[string(t.kind)]++
	}
	nodesDir := filepath.Join(outDir, "nodes")
	if err := os.RemoveAll(nodesDir); err != nil {
		return nil, err
	}
	say("starting %d nodes and enrolling the population", len(s.States)+b2i(hasModel(s, ModelBulkCopy)))
	p, err := startPartnership(ctx, s, pop, nodesDir, th, o.Workers, o.Progress)
	if err != nil {
		return nil, err
	}
	defer func() {
		p.close()
		if !o.KeepNodes {
			os.RemoveAll(nodesDir)
		}
	}()
	phase("population, nodes and enrolment")
	say("searching %d border encounters", len(pop.travellers))
	searching := progress.Start(o.Progress, "  border encounters searched", len(pop.travellers))
	outcomes, err := p.runEncounters(ctx, func(done, _ int) { searching.Set(done) })
	searching.Done()
	if err != nil {
		return nil, err
	}
	phase("border encounters")
	if hasModel(s, ModelEncrypted) {
		say("measuring the encrypted search protocol (key setup, a one- and a two-block query at ring degree 2^%d)", encryptedLogN)
		if p.enc, err = measureEncrypted(s); err != nil {
			return nil, err
		}
		rep.Encrypted = p.enc
		phase("encrypted search protocol")
	}
	rep.Models = p.evaluateModels(outcomes)
	for _, st := range s.States {
		ns, err := p.nodes[st.Code].stats(ctx, len(s.Capture.Fingers), rep.FusionMean)
		if err != nil {
			return nil, err
		}
		rep.Nodes = append(rep.Nodes, ns)
	}
	if p.hub != nil {
		ns, err := p.hub.stats(ctx, len(s.Capture.Fingers), rep.FusionMean)
		if err != nil {
			return nil, err
		}
		ns.Hub = true
		rep.Nodes = append(rep.Nodes, ns)
	}
	for _, side := range p.ex {
		ac, err := side.auditCounts()
		if err != nil {
			return nil, err
		}
		rep.Audit = append(rep.Audit, ac)
	}
	rep.Limits = limits(s, rep)
	phase("models, node counters and audit logs")
	rep.Seconds = time.Since(t0).Seconds()

	if err := rep.write(outDir); err != nil {
		return nil, err
	}
	say("wrote %s and %s", filepath.Join(outDir, "report.html"), filepath.Join(outDir, "report.json"))
	return rep, nil
}

// nodePolicyFPIR is the FPIR target of a node with the default
// configuration (node.Config.FPIRHit), which the PoC's nodes keep when
// they decide by their own policy.
var nodePolicyFPIR = func() float64 { var c node.Config; c.Defaults(); return c.FPIRHit }()

// homeGalleryPolicy is the decision policy of a node with the default
// configuration and the home state's gallery: what the home node decides
// with when the scenario leaves the thresholds to the nodes.
func homeGalleryPolicy(s *Scenario) search.Policy {
	var c node.Config
	c.Defaults()
	return node.GalleryPolicy(biometric.Finger, engine.Finger{}, &c, s.home().Gallery)
}

// tailName says what an impostor tail was measured on, and how much.
func tailName(t engine.Tail) string {
	return fmt.Sprintf("%q (%d comparisons)", t.Source, t.Comparisons)
}
