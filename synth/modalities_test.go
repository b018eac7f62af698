package synth

import (
	"math"
	"testing"

	"github.com/ebsp/ebsp/dna"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/iris"
)

func meanSD(xs []float64) (float64, float64) {
	var s, s2 float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	for _, x := range xs {
		s2 += (x - m) * (x - m)
	}
	return m, math.Sqrt(s2 / float64(len(xs)-1))
}

// TestFaceDistributions checks the synthetic faces against the
// recogniser's distances on the London set (FaceModel): genuine 0.199 ±
// 0.056, impostor 0.842 ± 0.095, compared as the node compares embeddings
// (face.Distance of quantised face.Embeddings), and that the embeddings
// have the recogniser's length (1.31-1.59 on London).
func TestFaceDistributions(t *testing.T) {
	g := NewFaceGenerator(11, DefaultFaceModel())
	const n = 150
	e := make([][2]face.Embedding, n)
	for i := range uint64(n) {
		id := g.Identity(i)
		for c := range uint64(2) {
			v := g.Capture(id, i, c, g.Quality(i, c), 0)
			if len(v) != face.RecogniserDim {
				t.Fatalf("capture of %d values, want %d", len(v), face.RecogniserDim)
			}
			var l float64
			for _, x := range v {
				l += float64(x) * float64(x)
			}
			if l = math.Sqrt(l); l < 1.2 || l > 1.7 {
				t.Errorf("identity %d capture %d: length %.3f, want about 1.3-1.6", i, c, l)
			}
			e[i][c] = g.Embedding(id, i, c, g.Quality(i, c), 0)
		}
	}
	var gen, imp []float64
	for i := range n {
		gen = append(gen, face.Distance(&e[i][0], &e[i][1]))
		for j := i + 1; j < n; j++ {
			imp = append(imp, face.Distance(&e[i][0], &e[j][1]))
		}
	}
	gm, gs := meanSD(gen)
	im, is := meanSD(imp)
	t.Logf("face distances: genuine %.3f ± %.3f, impostor %.3f ± %.3f", gm, gs, im, is)
	if math.Abs(gm-0.199) > 0.02 || math.Abs(gs-0.056) > 0.02 {
		t.Errorf("genuine %.3f ± %.3f, want about 0.199 ± 0.056", gm, gs)
	}
	if math.Abs(im-0.842) > 0.02 || math.Abs(is-0.095) > 0.015 {
		t.Errorf("impostor %.3f ± %.3f, want about 0.842 ± 0.095", im, is)
	}
}

func TestFaceAgeing(t *testing.T) {
	g := NewFaceGenerator(12, DefaultFaceModel())
	var now, later []float64
	for i := range uint64(40) {
		id := g.Identity(i)
		a := g.Embedding(id, i, 0, 0.8, 0)
		b := g.Embedding(id, i, 1, 0.8, 0)
		c := g.Embedding(id, i, 2, 0.8, 15)
		now = append(now, face.Distance(&a, &b))
		later = append(later, face.Distance(&a, &c))
	}
	m0, _ := meanSD(now)
	m15, _ := meanSD(later)
	t.Logf("genuine distance at 0 years %.3f, at 15 years %.3f", m0, m15)
	if m15 < m0+0.1 {
		t.Errorf("15 years of ageing raised the genuine distance only from %.3f to %.3f", m0, m15)
	}
}

func TestIrisImpostorDistribution(t *testing.T) {
	g := NewIrisGenerator(13, DefaultIrisModel())
	const n = 80
	codes := make([]*iris.Code, n)
	for i := range n {
		codes[i] = g.TrueCode(uint64(i), 0)
	}
	var hd []float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			hd = append(hd, iris.Compare(codes[i], codes[j], 0).HD)
		}
	}
	m, sd := meanSD(hd)
	dof := m * (1 - m) / (sd * sd)
	t.Logf("iris impostor HD %.4f ± %.4f (%.0f degrees of freedom)", m, sd, dof)
	if math.Abs(m-0.5) > 0.01 || math.Abs(sd-0.032) > 0.004 {
		t.Errorf("impostor HD %.4f ± %.4f, want 0.5 ± 0.032", m, sd)
	}
}

func TestIrisGenuine(t *testing.T) {
	g := NewIrisGenerator(14, DefaultIrisModel())
	var good, poor, imp []float64
	for i := range uint64(40) {
		truth := g.TrueCode(i, 1)
		a := g.Capture(truth, i, 1, 0, 0.9)
		b := g.Capture(truth, i, 1, 1, 0.9)
		c := g.Capture(truth, i, 1, 2, 0.2)
		good = append(good, iris.Compare(a, b, 8).HD)
		poor = append(poor, iris.Compare(a, c, 8).HD)
		other := g.Capture(g.TrueCode(i+1000, 1), i+1000, 1, 0, 0.9)
		imp = append(imp, iris.Compare(a, other, 8).HD)
	}
	gm, _ := meanSD(good)
	pm, _ := meanSD(poor)
	im, _ := meanSD(imp)
	t.Logf("iris genuine HD good %.3f, poor %.3f; impostor with ±8 shifts %.3f", gm, pm, im)
	if gm > 0.2 || pm <= gm || pm > 0.35 || im < 0.4 {
		t.Errorf("genuine good %.3f poor %.3f impostor %.3f", gm, pm, im)
	}
}

func TestDNA(t *testing.T) {
	m := DefaultDNAModel()
	var matched, excluded int
	for i := range uint64(50) {
		p := DNAProfile(15, i, "M", m)
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		s := DNASample(15, i, 1, &p, m)
		if r := dna.Compare(&p, &s, dna.DutchESS); r.Excluding == 0 && r.Log10LR > 10 {
			matched++
		}
		q := DNAProfile(15, i+100, "F", m)
		if r := dna.Compare(&p, &q, dna.DutchESS); r.Excluding > 0 {
			excluded++
		}
	}
	if matched != 50 || excluded != 50 {
		t.Errorf("%d/50 samples matched their profile with LR > 1e10, %d/50 unrelated pairs excluded", matched, excluded)
	}
	mother, father := DNAProfile(16, 1, "F", m), DNAProfile(16, 2, "M", m)
	child := DNAChild(16, 3, "M", &mother, &father)
	for _, g := range child.Loci {
		gm, gf := mother.Genotype(g.Locus), father.Genotype(g.Locus)
		shares := func(x *dna.Genotype) bool {
			for _, a := range g.Alleles {
				for _, b := range x.Alleles {
					if a == b {
						return true
					}
				}
			}
			return false
		}
		if !shares(gm) || !shares(gf) {
			t.Fatalf("child %v does not share an allele with both parents %v %v", g, gm, gf)
		}
	}
}
