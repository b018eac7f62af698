package fingerprint_test

import (
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/synth"
)

var updateVectorMean = flag.Bool("update-vector-mean", false, "rewrite vector_mean.go from synthetic fingers")

// TestVectorMean checks the centring table of Vector against a fresh
// computation on the synthetic population it was made from.
func TestVectorMean(t *testing.T) {
	n := 4000
	if !*updateVectorMean {
		n = 500 // a sample: the mean of 4,000 is within noise of it
	}
	var mean [fingerprint.VectorLen]float64
	k := 0
	for i := range n {
		f := synth.NewTemplateFinger(synth.NewFingerMaster(2026, uint64(i)))
		h, ok := fingerprint.VectorHistogram(fingerprint.Prepare(f.Impression(1)))
		if !ok {
			continue
		}
		k++
		for j := range h {
			mean[j] += h[j]
		}
	}
	for j := range mean {
		mean[j] /= float64(k)
	}
	if *updateVectorMean {
		var b strings.Builder
		b.WriteString("package fingerprint\n\n// vectorMean is the mean of the unit pair histograms (pairHistogram) of\n// 4,000 synthetic fingers (synth seed 2026, impression 1), which Vector\n// subtracts. TestVectorMean recomputes it; run it with -update-vector-mean\n// to rewrite this file after changing the histogram.\nvar vectorMean = [VectorLen]float32{")
		for j, x := range mean {
			if j%8 == 0 {
				b.WriteString("\n\t")
			} else {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%.5f,", x)
		}
		b.WriteString("\n}\n")
		if err := os.WriteFile("vector_mean.go", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	table := fingerprint.VectorMeanTable()
	worst := 0.0
	for j := range mean {
		worst = max(worst, math.Abs(mean[j]-float64(table[j])))
	}
	if worst > 0.01 {
		t.Errorf("vectorMean is off by up to %.4f from the mean of %d synthetic fingers: regenerate it with -update-vector-mean", worst, k)
	}
}

// TestVectorRanksMates checks that the first-stage vector ranks a mate
// high among synthetic fingers it was not tuned on (seed 11, not the
// centring table's 2026): single fingers and two-finger identities.
func TestVectorRanksMates(t *testing.T) {
	const fingers, probes = 2000, 200
	gallery := make([]fingerprint.Vector, fingers)
	probe := make([]fingerprint.Vector, probes)
	for i := range fingers {
		f := synth.NewTemplateFinger(synth.NewFingerMaster(11, uint64(i)))
		gallery[i] = fingerprint.Prepare(f.Impression(1)).Vector()
		if i < probes {
			probe[i] = fingerprint.Prepare(f.Impression(2)).Vector()
		}
	}
	rank := func(score func(p, g int) int32, p, n int) int {
		m, r := score(p, p), 0
		for g := range n {
			if g != p && score(p, g) >= m {
				r++
			}
		}
		return r
	}
	single := func(p, g int) int32 { return fingerprint.Dot(&probe[p], &gallery[g]) }
	fused := func(p, g int) int32 { return single(2*p, 2*g) + single(2*p+1, 2*g+1) }
	var rs, rf []int
	for p := range probes {
		rs = append(rs, rank(single, p, fingers))
	}
	for p := range probes / 2 {
		rf = append(rf, rank(fused, p, fingers/2))
	}
	within := func(ranks []int, k int) float64 {
		sort.Ints(ranks)
		n := sort.SearchInts(ranks, k)
		return float64(n) / float64(len(ranks))
	}
	s1, f1 := within(rs, fingers/100), within(rf, fingers/2/100)
	t.Logf("mate within the best 1%%: %.1f%% of single fingers, %.1f%% of two-finger identities", 100*s1, 100*f1)
	s2, f2 := within(rs, fingers/50), within(rf, fingers/2/50)
	t.Logf("mate within the best 2%%: %.1f%% of single fingers, %.1f%% of two-finger identities", 100*s2, 100*f2)
	// The limits were 85% and 95% on the synthetic prints before issue 14
	// made every master site a ridge break (two minutiae facing each other):
	// on those, 66.5% and 86.0%. Real prints have such pairs at a part of
	// their minutiae only, so the nearest-neighbour histogram tells
	// synthetic fingers apart less well than real ones (TestVectorIndexFVC).
	if s1 < 0.6 || f1 < 0.8 {
		t.Errorf("mates rank too low: %.1f%% of fingers and %.1f%% of identities within the best 1%%", 100*s1, 100*f1)
	}
}

// TestCompactComparesTheSame checks that a compact gallery template
// (Prepared.Compact) scores exactly as the full one, and gives the same
// vector.
func TestCompactComparesTheSame(t *testing.T) {
	var gallery []*fingerprint.Prepared
	var probes []fingerprint.Template
	for i := range 40 {
		f := synth.NewTemplateFinger(synth.NewFingerMaster(21, uint64(i)))
		gallery = append(gallery, fingerprint.Prepare(f.Impression(1)))
		probes = append(probes, f.Impression(2))
	}
	for i, pt := range probes {
		m := fingerprint.NewMatcher(pt)
		for j, g := range gallery {
			c := g.Compact()
			if a, b := m.Compare(g), m.Compare(c); a != b {
				t.Fatalf("probe %d, gallery %d: full %v, compact %v", i, j, a, b)
			}
		}
	}
	// A compact template made full again (Prepared.Full) serves as a probe
	// exactly as the original: a compact one alone would not (it has no
	// pair geometry).
	for i, g := range gallery[:10] {
		a, b := fingerprint.NewMatcherPrepared(g), fingerprint.NewMatcherPrepared(g.Compact().Full())
		for j, h := range gallery {
			if x, y := a.Compare(h), b.Compare(h); x != y {
				t.Fatalf("probe %d made full again, gallery %d: %v, original %v", i, j, y, x)
			}
		}
	}
	if gallery[3].Vector() != gallery[3].Compact().Vector() {
		t.Error("compact form gives another vector")
	}
}

// BenchmarkCompareCompact is one comparison against a compact gallery
// template (Prepared.Compact), against the full form as a sub-benchmark:
// what a shortlisted candidate costs in a compact gallery.
func BenchmarkCompareCompact(b *testing.B) {
	var gallery []*fingerprint.Prepared
	var probes []*fingerprint.Matcher
	for i := range 64 {
		f := synth.NewTemplateFinger(synth.NewFingerMaster(21, uint64(i)))
		gallery = append(gallery, fingerprint.Prepare(f.Impression(1)))
		probes = append(probes, fingerprint.NewMatcher(f.Impression(2)))
	}
	compact := make([]*fingerprint.Prepared, len(gallery))
	for i, g := range gallery {
		compact[i] = g.Compact()
	}
	for _, c := range []struct {
		name string
		g    []*fingerprint.Prepared
	}{{"full", gallery}, {"compact", compact}} {
		b.Run(c.name, func(b *testing.B) {
			sink := 0.0
			for i := 0; i < b.N; i++ {
				sink += probes[(i/64)%64].Compare(c.g[i%64])
			}
			_ = sink
		})
	}
}

// BenchmarkVector is the cost of a template's stage-1 vector from its
// prepared form.
func BenchmarkVector(b *testing.B) {
	f := synth.NewTemplateFinger(synth.NewFingerMaster(21, 1))
	p := fingerprint.Prepare(f.Impression(1))
	for b.Loop() {
		_ = p.Vector()
	}
}
