package node

import (
	"slices"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/synth"
)

// TestFingerCalibration scores synthetic genuine and impostor pairs with
// the fingerprint matcher and checks the engine's default thresholds
// against them; -v prints the percentiles the constants came from.
func TestFingerCalibration(t *testing.T) {
	n := 150
	if testing.Short() || raceEnabled {
		n = 40 // the thresholds are still checked, on fewer pairs
	}
	probes := make([]fingerprint.Template, n)
	gallery := make([]*fingerprint.Prepared, n)
	for i := range n {
		m := synth.NewFingerMaster(2024, uint64(i))
		mt := synth.TemplateMaster(m)
		probes[i] = synth.TemplateImpression(m, &mt, 2)
		gallery[i] = fingerprint.Prepare(synth.TemplateImpression(m, &mt, 1))
	}
	var gen, imp []float64
	for i := range n {
		m := fingerprint.NewMatcher(probes[i])
		for j := range n {
			if s := m.Compare(gallery[j]); i == j {
				gen = append(gen, s)
			} else {
				imp = append(imp, s)
			}
		}
	}
	slices.Sort(gen)
	slices.Sort(imp)
	q := func(v []float64, p float64) float64 { return v[int(p*float64(len(v)-1))] }
	mean := 0.0
	for _, s := range imp {
		mean += s
	}
	mean /= float64(len(imp))
	t.Logf("impostors (%d): mean %.4f, median %.4f, 99%% %.4f, 99.9%% %.4f, max %.4f", len(imp), mean, q(imp, .5), q(imp, .99), q(imp, .999), imp[len(imp)-1])
	t.Logf("genuine (%d): 1%% %.4f, 5%% %.4f, median %.4f", len(gen), q(gen, .01), q(gen, .05), q(gen, .5))
	th := FingerEngine{}.Thresholds()
	over := func(v []float64, x float64) float64 {
		k := 0
		for _, s := range v {
			if s >= x {
				k++
			}
		}
		return float64(k) / float64(len(v))
	}
	if f := over(imp, th.Review); f > 2e-3 {
		t.Errorf("%.4f of impostor scores reach the review threshold %.4f", f, th.Review)
	}
	if f := over(imp, th.Hit); f > 0 {
		t.Errorf("%.4f of impostor scores reach the hit threshold %.4f", f, th.Hit)
	}
	if f := over(gen, th.Review); f < 0.9 {
		t.Errorf("only %.3f of genuine scores reach the review threshold", f)
	}
	if d := mean - th.ImpostorMean; d > 0.005 || d < -0.005 {
		t.Errorf("impostor mean %.4f, engine says %.4f", mean, th.ImpostorMean)
	}
}
