package engine

import (
	"flag"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/face"
	"math"
	"testing"

	"github.com/ebsp/ebsp/synth"
)

var faceIrisIDs = flag.Int("tail-identities", 0, "identities for TestFaceIrisTails (0: a small default); with -v it prints the fitted tails")

// measureFaces scores capture 2 of each of n synthetic faces against
// capture 1 of every other (synth.DefaultFaceModel, seed seed) with the
// face engine's comparison.
func measureFaces(seed uint64, n int) []float64 {
	g := synth.NewFaceGenerator(seed, synth.DefaultFaceModel())
	probes, gallery := make([]embeddingProbe, n), make([]any, n)
	for i := range n {
		id := g.Identity(uint64(i))
		q1, q2 := g.Quality(uint64(i), 1), g.Quality(uint64(i), 2)
		e1, e2 := g.Embedding(id, uint64(i), 1, q1, 0), g.Embedding(id, uint64(i), 2, q2, 0)
		gallery[i], probes[i] = &e1, embeddingProbe{&e2}
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
		ids  int
		want Tail
	}{
		{"face", measureFaces(seed, n), n, FaceTail},
		{"iris", measureIrises(seed, n/2), n / 2, IrisTail},
	} {
		// The mean's sampling error comes mostly from the identities (a
		// synthetic face's distance to everyone varies with its quality and
		// place), so it is 3 standard errors of the probe and gallery
		// effects, at least 0.003.
		tol := max(0.003, 3*identityMeanSE(c.imp, c.ids))
		got, err := Fit(c.imp, "synthetic", 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d comparisons, mean %.5f (tolerance %.4f)", c.name, got.Comparisons, got.Mean, tol)
		for _, p := range got.Points {
			t.Logf("{Score: %.5f, FMR: %g},", math.Ceil(p.Score*1e5)/1e5, p.FMR)
		}
		if !c.want.Calibrated() || c.want.Source != "synthetic" {
			t.Errorf("%s: the tail is not a measured one: %+v", c.name, c.want)
		}
		if d := math.Abs(got.Mean - c.want.Mean); d > tol {
			t.Errorf("%s: impostor mean %.5f, engine says %.5f (tolerance %.4f)", c.name, got.Mean, c.want.Mean, tol)
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

// TestFaceEmbeddingsOnePath checks that synthetic embeddings go through the
// same template and comparison with and without the face models: Face and
// FacePhotos make the same template of a "face-embedding" sample and score
// a genuine pair far above an impostor one, as 1 − the distance.
func TestFaceEmbeddingsOnePath(t *testing.T) {
	g := synth.NewFaceGenerator(3, synth.DefaultFaceModel())
	sample := func(id, capture uint64) *Sample {
		e := g.Embedding(g.Identity(id), id, capture, 0.8, 0)
		return &Sample{Modality: biometric.Face, Format: "face-embedding", Data: e.Bytes()}
	}
	score := func(eng Engine, a, b *Sample) float64 {
		ta, _, err := eng.Template(a, 0)
		if err != nil {
			t.Fatal(err)
		}
		tb, _, err := eng.Template(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := eng.PrepareProbe(ta)
		if err != nil {
			t.Fatal(err)
		}
		gal, err := eng.PrepareGallery(tb)
		if err != nil {
			t.Fatal(err)
		}
		return p.Compare(gal)
	}
	a, b, c := sample(1, 1), sample(1, 2), sample(2, 1)
	for _, eng := range []Engine{Face{}, FacePhotos{}} {
		if eng.Algorithm() != face.EmbeddingAlgorithm {
			t.Errorf("%T: algorithm %s", eng, eng.Algorithm())
		}
		gen, imp := score(eng, a, b), score(eng, a, c)
		if gen < 0.6 || imp > 0.5 {
			t.Errorf("%T: genuine %.3f, impostor %.3f; want about 0.8 and 0.16", eng, gen, imp)
		}
		if gen != score(Face{}, a, b) || imp != score(Face{}, a, c) {
			t.Errorf("%T scores differently from Face", eng)
		}
	}
}

// identityMeanSE is the standard error of the mean of the impostor scores
// of n probes against n gallery entries (row i: probe i against every
// j ≠ i, in order) that the probes' and the entries' own effects give:
// √((var of the row means + var of the column means)/n).
func identityMeanSE(imp []float64, n int) float64 {
	rows, cols := make([]float64, n), make([]float64, n)
	for i := range n {
		for k, s := range imp[i*(n-1) : (i+1)*(n-1)] {
			j := k
			if k >= i {
				j++
			}
			rows[i] += s / float64(n-1)
			cols[j] += s / float64(n-1)
		}
	}
	v := func(xs []float64) float64 {
		var m, s2 float64
		for _, x := range xs {
			m += x / float64(len(xs))
		}
		for _, x := range xs {
			s2 += (x - m) * (x - m)
		}
		return s2 / float64(len(xs)-1)
	}
	return math.Sqrt((v(rows) + v(cols)) / float64(n))
}
