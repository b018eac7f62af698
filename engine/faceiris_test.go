package engine

import (
	"flag"
	"math"
	"testing"

	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/synth"
)

var faceIrisIDs = flag.Int("tail-identities", 0, "identities for TestFaceIrisTails (0: a small default); with -v it prints the fitted tails")

// measureFaces scores capture 2 of each of n synthetic faces against
// capture 1 of every other (synth.DefaultFaceModel, seed seed).
func measureFaces(seed uint64, n int) []float64 {
	g := synth.NewFaceGenerator(seed, synth.DefaultFaceModel())
	probes, gallery := make([]face.Template, n), make([]face.Template, n)
	for i := range n {
		id := g.Identity(uint64(i))
		for c, dst := range []*face.Template{&gallery[i], &probes[i]} {
			t, err := face.Quantize(g.Capture(id, uint64(i), uint64(c+1), g.Quality(uint64(i), uint64(c+1)), 0))
			if err != nil {
				panic(err)
			}
			*dst = t
		}
	}
	var imp []float64
	for i := range n {
		for j := range n {
			if i != j {
				imp = append(imp, face.Compare(&probes[i], &gallery[j]))
			}
		}
	}
	return imp
}

// measureIrises scores capture 2 of the right eye of each of n synthetic
// people against capture 1 of every other's, with the engine's rotation
// search.
func measureIrises(seed uint64, n int) []float64 {
	g := synth.NewIrisGenerator(seed, synth.DefaultIrisModel())
	probes, gallery := make([]irisProbe, n), make([]any, n)
	for i := range n {
		truth := g.TrueCode(uint64(i), 0)
		gallery[i] = g.Capture(truth, uint64(i), 0, 1, g.Quality(uint64(i), 0, 1))
		probes[i] = irisProbe{g.Capture(truth, uint64(i), 0, 2, g.Quality(uint64(i), 0, 2))}
	}
	var imp []float64
	for i := range n {
		for j := range n {
			if i != j {
				imp = append(imp, probes[i].Compare(gallery[j]))
			}
		}
	}
	return imp
}

// TestFaceIrisTails measures the face and iris engines' impostor tails on
// fresh synthetic data (other seeds than the constants') and checks the
// constants against them: the mean, and each point the fresh sample
// resolves, within its sampling error; the constants are Fit's, so on the
// safe side of the plain measurement. With -v it prints the fitted tails,
// which is how the constants were made (-tail-identities 2000 with seeds
// 2026, as the comments of FaceTail and IrisTail say).
func TestFaceIrisTails(t *testing.T) {
	n := *faceIrisIDs
	seed := uint64(7)
	if n == 0 {
		n = 300
		if raceEnabled {
			n = 120
		}
	} else {
		seed = 2026
	}
	for _, c := range []struct {
		name string
		imp  []float64
		want Tail
	}{
		{"face", measureFaces(seed, n), FaceTail},
		{"iris", measureIrises(seed, n/2), IrisTail},
	} {
		got, err := Fit(c.imp, "synthetic", 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d comparisons, mean %.5f", c.name, got.Comparisons, got.Mean)
		for _, p := range got.Points {
			t.Logf("{Score: %.5f, FMR: %g},", math.Ceil(p.Score*1e5)/1e5, p.FMR)
		}
		if !c.want.Calibrated() || c.want.Source != "synthetic" {
			t.Errorf("%s: the tail is not a measured one: %+v", c.name, c.want)
		}
		if d := math.Abs(got.Mean - c.want.Mean); d > 0.003 {
			t.Errorf("%s: impostor mean %.5f, engine says %.5f", c.name, got.Mean, c.want.Mean)
		}
		plain := TailOf(c.imp)
		for _, p := range plain.Points {
			// The constants are on the safe side of a plain measurement,
			// up to the sampling error of the smaller fresh sample.
			if w := c.want.ScoreAt(p.FMR); w < p.Score-0.01 {
				t.Errorf("%s at FMR %g: measured %.5f, engine says %.5f", c.name, p.FMR, p.Score, w)
			}
		}
	}
}
