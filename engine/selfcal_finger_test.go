package engine

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/synth"
)

// TestSelfCalibratedFPIRFingers is the self-calibration end to end on
// fingerprints: a gallery of 100,000 synthetic template-level fingers (one
// impression each, one identity per finger, compact as a node keeps them),
// whose own impostor tail the sampler measures on 2 million comparisons of
// the gallery's templates with each other; the fit extends it from the 1e-5
// measured to the 1e-7 a 1% FPIR calls for at this size. Then 1,000
// non-mated searches (impression 2 of fingers not enrolled) of the whole
// gallery, through the default two-stage search a node makes, at the hit
// threshold that tail gives: the false hits must be within the target by
// the binomial interval, and at the threshold for a ten times higher
// target false hits must happen (the margin is not vacuous). 200 mated
// searches give the FNIR that threshold costs. On 2026-12-08, with the
// global verification the matcher's default and the fit capped at 2,000
// exceedances (engine.fitMaxExceed): hit threshold 0.3664, 5 false hits
// (FPIR 0.005 [0.0016, 0.0116]), 12 at the threshold for 10%, FNIR 0.195
// [0.142, 0.257] (227 s, load about 2); the same matcher with the top-1%
// fit put the threshold near 0.58, with no false hit even at 10%, and
// missed 49 mates. On 2026-12-07, without the verification and with small
// templates' scores capped (fingerprint's mccSmallN): hit threshold
// 0.2599, 1 false hit in 1,000 (FPIR 0.001 [0.0000, 0.0056]), 13 at the
// threshold for 10%, FNIR 0.20 [0.15, 0.26]; before the cap (fe40d9d,
// run again on 2026-12-07: 318 CPU-s, load 2.1) 0.3101, 14 (FPIR 0.014
// [0.0077, 0.0234]), 17, FNIR 0.215 [0.160, 0.278] (this comment had 9,
// 12 and 0.18 from the test's first version, e257fc3, whose own tree
// misses 59 of these mates at 0.3101 by TestStage1RecallFingers).
// The FNIR is mostly stage 1's: of the 40 mates missed at 0.2599, 34 are
// not on the 5% shortlist, and the exhaustive search misses 12
// (TestStage1RecallFingers, docs/search.md). 5-10 CPU-minutes (process
// CPU time; 10 at load 26-29), so not under -race.
func TestSelfCalibratedFPIRFingers(t *testing.T) {
	if raceEnabled {
		t.Skip("about 10^7 comparisons and 100,000 fingers: test.sh runs package engine again without -race")
	}
	if testing.Short() {
		t.Skip("-short: 100,000 fingers")
	}
	const n, target, searches, mated, seed = 100_000, 1e-2, 1000, 200, 2027
	g, _ := syntheticFingerGallery(n, seed)
	tail := sampledTail(t, g, Finger{}, 0.5)
	hit := Identification(tail, target, 0.1, 1, n).Hit
	loose := Identification(tail, 10*target, 0.1, 1, n).Hit
	probe := func(finger uint64, impression uint64) []search.ProbeSample {
		tpl := synth.NewTemplateFinger(synth.NewFingerMaster(seed, finger)).Impression(impression)
		return []search.ProbeSample{{Probe: FingerProbe(tpl), Position: biometric.UnknownFinger}}
	}
	falseHits, falseLoose := 0, 0
	for k := range searches {
		c := g.Search(probe(uint64(n+k), 2), 1, loose)
		if len(c) > 0 && c[0].Score >= loose {
			falseLoose++
		}
		if len(c) > 0 && c[0].Score >= hit {
			falseHits++
		}
	}
	missed := 0
	for k := range mated {
		finger := uint64(k * (n / mated))
		c := g.Search(probe(finger, 2), 1, hit)
		if len(c) == 0 || c[0].IdentityID != fmt.Sprintf("F%06d", finger) || c[0].Score < hit {
			missed++
		}
	}
	lo, hi := eval.ClopperPearson(int64(falseHits), searches, 0.95)
	flo, fhi := eval.ClopperPearson(int64(missed), mated, 0.95)
	t.Logf("self-calibrated tail: %d comparisons of the gallery, measured to FMR %g, mean %.4f; hit threshold %.4f at FMR %g (%.4f at %g)",
		tail.Comparisons, tail.MeasuredFMR, tail.Mean, hit, target/n, loose, 10*target/n)
	t.Logf("%d false hits in %d non-mated searches of %d fingers: FPIR %.4f [%.4f, %.4f], target %g; at the threshold for FPIR %g: %d",
		falseHits, searches, n, float64(falseHits)/searches, lo, hi, target, 10*target, falseLoose)
	t.Logf("%d of %d mated searches missed at the hit threshold: FNIR %.3f [%.3f, %.3f]", missed, mated, float64(missed)/mated, flo, fhi)
	if lo > target {
		t.Errorf("FPIR %.4f [%.4f, %.4f] is above the target %g", float64(falseHits)/searches, lo, hi, target)
	}
	if falseLoose < 5 {
		t.Errorf("only %d false hits in %d searches at the threshold for FPIR %g: the tail is far too conservative", falseLoose, searches, 10*target)
	}
	if missed > mated/2 {
		t.Errorf("%d of %d mated searches missed: the threshold is useless", missed, mated)
	}
}

// syntheticFingerGallery is the compact gallery of n synthetic
// template-level fingers (impression 1 of seed's fingers 0 to n-1, one
// identity "F%06d" each) that TestSelfCalibratedFPIRFingers and
// TestStage1RecallFingers search, with the full prepared forms it was made
// of (the gallery keeps them compact).
func syntheticFingerGallery(n int, seed uint64) (*search.Gallery, []*fingerprint.Prepared) {
	workers := runtime.GOMAXPROCS(0)
	prepared := make([]*fingerprint.Prepared, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				prepared[i] = fingerprint.Prepare(synth.NewTemplateFinger(synth.NewFingerMaster(seed, uint64(i))).Impression(1))
			}
		})
	}
	wg.Wait()
	g := search.NewGallery(Finger{}, workers)
	g.SetCompact(true)
	g.Reserve(n, n)
	for i, p := range prepared {
		g.AddPrepared(fmt.Sprintf("F%06d", i), "", biometric.UnknownFinger, p)
	}
	return g, prepared
}
