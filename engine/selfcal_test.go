package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/search"
)

// vecEngine is a cheap synthetic engine for galleries of 100,000 templates
// in a unit test: a template is a random unit vector in 16 dimensions and
// the score of two is -ln(1 - cos θ). Since P(1 - cos θ ≤ ε) falls as
// ε^7.5 for small ε, the impostor tail is exponential far out (e^(-7.5 s)),
// as the fingerprint matcher's is about; identical templates score +Inf.
type vecEngine struct{}

type vec [16]float32

func (vecEngine) Algorithm() string                              { return "test-vec/1" }
func (vecEngine) PrepareGallery(data []byte) (any, error)        { return nil, nil }
func (vecEngine) PrepareProbe(data []byte) (search.Probe, error) { return nil, nil }
func (vecEngine) GalleryProbe(t any) (search.Probe, error)       { return vecProbe{t.(*vec)}, nil }

type vecProbe struct{ v *vec }

func (p vecProbe) Compare(g any) float64 {
	w := g.(*vec)
	var s float32
	for i := range p.v {
		s += p.v[i] * w[i]
	}
	return -math.Log(math.Max(1-float64(s), 1e-300))
}

func randVec(r *rand.Rand) *vec {
	var v vec
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return &v
}

// TestSelfCalibratedFPIR is the self-calibration end to end on a synthetic
// gallery of 100,000 templates: the sampler measures 2 million impostor
// comparisons of the gallery itself, the fit extends the tail from its
// measured 1e-5 to the FMR the gallery's size calls for (1e-2 / 100,000 =
// 1e-7), and 1,000 non-mated searches of the whole gallery at the hit
// threshold that tail gives make false hits at a rate the binomial interval
// shows to be within the 1% target.
func TestSelfCalibratedFPIR(t *testing.T) {
	if raceEnabled {
		t.Skip("10^8 comparisons: test.sh runs package engine again without -race")
	}
	const n, target, searches = 100_000, 1e-2, 1000
	r := rand.New(rand.NewPCG(2026, 12))
	g := search.NewGallery(vecEngine{}, 2)
	for i := range n {
		g.AddPrepared(fmt.Sprintf("I%06d", i), "", biometric.UnknownFinger, randVec(r))
	}
	tail := sampledTail(t, g, vecEngine{}, 20)
	hit := Identification(tail, target, 0.1, 1, n).Hit
	loose := Identification(tail, 10*target, 0.1, 1, n).Hit
	false1, falseLoose := 0, 0
	for range searches {
		p := []search.ProbeSample{{Probe: vecProbe{randVec(r)}}}
		c := g.Search(p, 1, loose)
		if len(c) > 0 && c[0].Score >= loose {
			falseLoose++
		}
		if len(c) > 0 && c[0].Score >= hit {
			false1++
		}
	}
	lo, hi := eval.ClopperPearson(int64(false1), searches, 0.95)
	t.Logf("tail measured to FMR %g on %d comparisons; hit threshold %.4f at FMR %g; %d false hits in %d non-mated searches: FPIR %.4f [%.4f, %.4f], target %g",
		tail.MeasuredFMR, tail.Comparisons, hit, target/n, false1, searches, float64(false1)/searches, lo, hi, target)
	if lo > target {
		t.Errorf("FPIR %.4f [%.4f, %.4f] is above the target %g", float64(false1)/searches, lo, hi, target)
	}
	// Not vacuous: at the threshold for a ten times higher target (10%)
	// false hits do happen, so the safety margin is not more than about
	// a decade of FMR.
	t.Logf("at the threshold %.4f for FPIR %g: %d false hits", loose, 10*target, falseLoose)
	if falseLoose < 10 {
		t.Errorf("only %d false hits in %d searches at the threshold for FPIR %g: the tail is far too conservative", falseLoose, searches, 10*target)
	}
}

// sampledTail runs a sampler over g until it holds 2 million impostor
// comparisons (pairs scoring mateScore or more kept out) and returns the
// tail it fits.
func sampledTail(t *testing.T, g *search.Gallery, p Prober, mateScore float64) Tail {
	t.Helper()
	s := NewSampler(1)
	for s.Comparisons() < 2_000_000 {
		if _, err := s.Step(g, p, 1000, mateScore); err != nil {
			t.Fatal(err)
		}
	}
	tail, err := s.Tail(nil, "gallery")
	if err != nil {
		t.Fatal(err)
	}
	return tail
}

// TestSamplerResumes checks that a sampler saved and loaded continues the
// same sequence of draws as one that never stopped, and that pairs scoring
// like mates (a person enrolled twice) are listed and kept out of the tail.
func TestSamplerResumes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	g := search.NewGallery(vecEngine{}, 1)
	for i := range 300 {
		g.AddPrepared(fmt.Sprintf("I%03d", i), "", biometric.UnknownFinger, randVec(r))
	}
	// I000 enrolled again as D000: the same vector.
	dup, _, _ := g.Entry(0)
	_, v, _ := g.Entry(0)
	g.AddPrepared("D000", "", biometric.UnknownFinger, v)
	path := filepath.Join(t.TempDir(), "selfcal")
	a, b := NewSampler(3), NewSampler(3)
	for range 200 {
		if _, err := a.Step(g, vecEngine{}, 100, 20); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	a, err := LoadSampler(path, 99)
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		a.Step(g, vecEngine{}, 100, 20)
	}
	for range 400 {
		b.Step(g, vecEngine{}, 100, 20)
	}
	if !slices.Equal(a.st.Scores, b.st.Scores) || a.Comparisons() != b.Comparisons() {
		t.Fatalf("resumed sampler: %d comparisons, uninterrupted %d, scores equal %v", a.Comparisons(), b.Comparisons(), slices.Equal(a.st.Scores, b.st.Scores))
	}
	m := a.Mates()
	if len(m) != 1 || m[0].A != "D000" || m[0].B != dup || m[0].Score < 20 {
		t.Fatalf("mates %v: want D000 and %s", m, dup)
	}
	for _, s := range a.st.Scores {
		if s >= 20 {
			t.Fatalf("a mate's score %v is in the tail", s)
		}
	}
	if _, err := LoadSampler(filepath.Join(t.TempDir(), "none"), 1); err != nil {
		t.Errorf("missing state: %v", err)
	}
}
