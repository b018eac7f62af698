package poc

import (
	"math"
	"slices"
	"testing"

	"github.com/ebsp/ebsp/engine"
)

// TestNationalSection checks the national section of the small run: for
// every tail and national gallery of the scenario a row for 1, 2 and 10
// fingers with an FNIR counted on mated comparisons; at the thresholds
// meant to give the target FPIR (the policy's at one finger, the n-finger
// target's) an FPIR whose bounds hold the target; at the policy's own
// thresholds for several fingers an FPIR at most the target.
func TestNationalSection(t *testing.T) {
	rep, _ := runSmall(t)
	nat := rep.National
	if nat == nil {
		t.Fatal("no national section")
	}
	if nat.FPIRTarget != 0.001 {
		t.Errorf("target FPIR %g: want a node's default fpir_hit, 0.001", nat.FPIRTarget)
	}
	s := rep.Scenario
	wantGalleries := []int64{s.Extrapolation.Gallery}
	for _, st := range s.Partners() {
		wantGalleries = append(wantGalleries, st.NationalGallery)
	}
	type key struct {
		tail, state, rule string
		fingers           int
	}
	rows := map[key]NationalRow{}
	for _, r := range nat.Rows {
		rows[key{r.Tail, r.State, r.Rule, r.Fingers}] = r
	}
	for _, tail := range []string{engine.FVCFingerTail.Source, engine.SyntheticFingerTail.Source} {
		if nat.Tails[tail] == "" {
			t.Errorf("tail %s: the report does not say what it rests on", tail)
		}
		for i, g := range nat.Galleries[:len(wantGalleries)] {
			if g.Gallery != wantGalleries[i] {
				t.Errorf("gallery %d: %s %d identities: want %d", i, g.State, g.Gallery, wantGalleries[i])
			}
			for _, n := range []int{1, 2, 10} {
				rules := []string{"policy"}
				if n > 1 {
					rules = append(rules, "target")
				}
				for _, rule := range rules {
					r, ok := rows[key{tail, g.State, rule, n}]
					if !ok {
						t.Errorf("%s, %s, %d fingers, %s: no row", tail, g.State, n, rule)
						continue
					}
					if r.Mated == 0 || r.FNIRLow > r.FNIR || r.FNIR > r.FNIRHigh || r.FNIR != float64(r.Missed)/float64(r.Mated) {
						t.Errorf("%s, %s, %d fingers, %s: FNIR %g [%g, %g] of %d/%d", tail, g.State, n, rule, r.FNIR, r.FNIRLow, r.FNIRHigh, r.Missed, r.Mated)
					}
					if !(r.FPIRLow <= r.FPIR && r.FPIR <= r.FPIRHigh) {
						t.Errorf("%s, %s, %d fingers, %s: FPIR %g outside its own bounds [%g, %g]", tail, g.State, n, rule, r.FPIR, r.FPIRLow, r.FPIRHigh)
					}
					if rule == "target" || n == 1 {
						target := nat.FPIRTarget
						if n == 1 {
							// The node's threshold is at the per-comparison
							// FMR target/G (engine.Identification, the union
							// bound): a search of G then has FPIR
							// 1-(1-target/G)^G, up to target²/2 below the
							// target, which a fine grid's bounds resolve.
							target = fpirOf(nat.FPIRTarget/float64(g.Gallery), g.Gallery)
						}
						if !(r.FPIRLow <= target && target <= r.FPIRHigh) {
							t.Errorf("%s, %s, %d fingers, %s: FPIR %g [%g, %g]: the target %g lies outside its bounds", tail, g.State, n, rule, r.FPIR, r.FPIRLow, r.FPIRHigh, target)
						}
					} else if r.FPIRHigh > nat.FPIRTarget || r.Threshold < rows[key{tail, g.State, "target", n}].Threshold {
						t.Errorf("%s, %s, %d fingers: the policy's threshold %g gives FPIR up to %g, above the target %g", tail, g.State, n, r.Threshold, r.FPIRHigh, nat.FPIRTarget)
					}
				}
			}
		}
	}
}

// TestNationalDistKnownTail checks the distribution a tail stands for and
// its n-fold convolution against a tail whose truth is known: standard
// exponential impostor scores, whose n-finger sum is Gamma(n) (gammaTail).
func TestNationalDistKnownTail(t *testing.T) {
	sc := exponentialScores(100_000, 5)
	tail := engine.Tail{Source: "exponential", Comparisons: 1}
	for e := 1; e <= 12; e++ {
		tail.Points = append(tail.Points, engine.TailPoint{Score: float64(e) * math.Ln10, FMR: math.Pow(10, -float64(e))})
	}
	m, err := newNationalDist(tail, sc.Impostor)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 10} {
		sum := m.nfold(n)
		for _, fmr := range []float64{1e-4, 1e-8, 1e-12} {
			// The threshold where the true n-finger FMR is fmr.
			th := bisect(func(x float64) float64 { return gammaTail(n, x) }, fmr)
			lo, pt, hi := sum.lo.tail(th), sum.point.tail(th), sum.hi.tail(th)
			if !(lo <= pt && pt <= hi) || lo > fmr*1.1 || hi < fmr/1.1 || math.Abs(math.Log(pt/fmr)) > math.Log(1.2) {
				t.Errorf("%d fingers at %.4g (true FMR %g): model %g [%g, %g]", n, th, fmr, pt, lo, hi)
			}
		}
		// thresholdFor inverts it: FPIR at the gallery just under the target.
		g := int64(1_000_000)
		th := sum.thresholdFor(0.001, g)
		if got := fpirOf(gammaTail(n, th), g); got > 0.0012 || got < 0.0008 {
			t.Errorf("%d fingers: threshold %.4g for FPIR 0.001 at %d identities gives a true FPIR %g", n, th, g, got)
		}
	}
}

// bisect returns x with f(x) = y for a decreasing f.
func bisect(f func(float64) float64, y float64) float64 {
	lo, hi := 0.0, 200.0
	for range 200 {
		mid := (lo + hi) / 2
		if f(mid) > y {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func TestRealGenuineScores(t *testing.T) {
	got := RealGenuineScores([][]float64{{1, 2, 3}, {10, 20}, {100, 200, 300}})
	if want := []float64{1, 10, 100, 2, 20, 200}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
