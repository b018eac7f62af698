package search

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint/fvc"
)

// int8Engine reads templates of 64 signed bytes, compares them by cosine,
// and is its own stage-1 vector: a small real engine for the two-stage
// path. With only set, it is a VectorTemplate.
type int8Engine struct{ only bool }

const int8Dim = 64

func (int8Engine) Algorithm() string { return "test-int8/1" }
func (int8Engine) PrepareGallery(b []byte) (any, error) {
	if len(b) != int8Dim {
		return nil, errors.New("bad length")
	}
	v := make([]int8, int8Dim)
	for i, x := range b {
		v[i] = int8(x)
	}
	return v, nil
}
func (e int8Engine) PrepareProbe(b []byte) (Probe, error) {
	v, err := e.PrepareGallery(b)
	if err != nil {
		return nil, err
	}
	return int8Probe(v.([]int8)), nil
}
func (int8Engine) VectorLen() int                         { return int8Dim }
func (int8Engine) GalleryVector(prepared any, dst []int8) { copy(dst, prepared.([]int8)) }
func (e int8Engine) VectorIsTemplate() bool               { return e.only }

type int8Probe []int8

func (p int8Probe) Compare(g any) float64 {
	v := g.([]int8)
	return float64(DotInt8(p, v)) / math.Sqrt(float64(DotInt8(p, p))*float64(DotInt8(v, v)))
}
func (p int8Probe) Vector(dst []int8) { copy(dst, p) }

func int8Sample(r *rand.Rand, base []int8, noise float64) []byte {
	b := make([]byte, int8Dim)
	for i := range b {
		x := r.NormFloat64() * 40
		if base != nil {
			x = float64(base[i]) + noise*r.NormFloat64()
		}
		b[i] = byte(int8(max(-127, min(127, math.Round(x)))))
	}
	return b
}

// TestTwoStageMatchesExhaustive checks that the two-stage search finds the
// mates exhaustive search finds, with the same exact fused scores, on a
// gallery larger than the shortlist; and that removal keeps the vectors in
// step with the entries.
func TestTwoStageMatchesExhaustive(t *testing.T) {
	for _, only := range []bool{false, true} {
		t.Run(fmt.Sprint("vector-only=", only), func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			eng := int8Engine{only: only}
			g := NewGallery(eng, 2)
			g.SetShortlist(Shortlist{Min: 20, Fraction: 0.01})
			const people = 3000
			tmpl := make([][2][]int8, people)
			for i := range people {
				id := fmt.Sprintf("id-%04d", i)
				for f, pos := range []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex} {
					b := int8Sample(r, nil, 0)
					p, _ := eng.PrepareGallery(b)
					tmpl[i][f] = p.([]int8)
					if err := g.Add(id, fmt.Sprintf("%s-%d", id, f), pos, b); err != nil {
						t.Fatal(err)
					}
				}
			}
			if g.Remove("id-0000") != 2 {
				t.Fatal("remove")
			}
			for _, who := range []int{1, 1234, 2999} {
				var probes []ProbeSample
				for f, pos := range []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex} {
					p, _ := eng.PrepareProbe(int8Sample(r, tmpl[who][f], 30))
					probes = append(probes, ProbeSample{pos, p})
				}
				two := g.Search(probes, 5, 0)
				g.SetShortlist(Exhaustive)
				all := g.Search(probes, 5, 0)
				g.SetShortlist(Shortlist{Min: 20, Fraction: 0.01})
				want := fmt.Sprintf("id-%04d", who)
				if len(two) == 0 || two[0].IdentityID != want || all[0].IdentityID != want {
					t.Fatalf("person %d: two-stage %v, exhaustive %v", who, two, all)
				}
				if two[0].Score != all[0].Score {
					t.Errorf("person %d: two-stage score %v, exhaustive %v", who, two[0].Score, all[0].Score)
				}
				st := g.Stage1(probes, 30)
				if len(st) != 30 || st[0].IdentityID != want {
					t.Errorf("person %d: stage 1 ranks %v first of %d", who, st[0], len(st))
				}
			}
			// The removed identity's own probe must not find it.
			p, _ := eng.PrepareProbe(int8Sample(r, tmpl[0][0], 1))
			for _, c := range g.Search([]ProbeSample{{biometric.RightIndex, p}}, 5, 0) {
				if c.IdentityID == "id-0000" {
					t.Fatal("removed identity found")
				}
			}
		})
	}
}

// TestShortlistSize checks the penetration arithmetic.
func TestShortlistSize(t *testing.T) {
	s := Shortlist{Min: 100, Fraction: 0.01}
	for _, c := range []struct{ ids, want int }{{50, 50}, {1000, 100}, {100000, 1000}, {100001, 1001}} {
		if got := s.Size(c.ids); got != c.want {
			t.Errorf("size(%d) = %d, want %d", c.ids, got, c.want)
		}
	}
	if Exhaustive.Size(12345) != 12345 {
		t.Error("Exhaustive is not the whole gallery")
	}
}

// BenchmarkStage1Fingers is stage 1 of a two-finger search over a gallery
// of 200,000 fingers (two positions, 256-byte vectors): the scan, the
// per-identity fusion and the shortlist of 1,000. ns/op divided by the
// gallery size is the stage-1 cost per finger.
func BenchmarkStage1Fingers(b *testing.B) {
	const people, dim = 100000, 256
	r := rand.New(rand.NewPCG(1, 2))
	g := NewGallery(vecIndexer{dim}, 1)
	for p := range people {
		for _, pos := range []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex} {
			g.AddPrepared(fmt.Sprint(p), "", pos, randInt8(r, dim))
		}
	}
	probes := []ProbeSample{{biometric.RightIndex, int8Probe(randInt8(r, dim))}, {biometric.LeftIndex, int8Probe(randInt8(r, dim))}}
	pv := g.probeVectors(probes)
	cpu0 := fvc.ProcessCPU()
	b.ResetTimer()
	for range b.N {
		g.stage1(probes, pv, 1000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(2*people), "ns/finger")
	// CPU time, for a shared machine: what one unshared core would take.
	b.ReportMetric(float64((fvc.ProcessCPU()-cpu0).Nanoseconds())/float64(b.N)/(2*people), "cpu-ns/finger")
}

// vecIndexer is an Indexer of dim-long []int8 prepared forms.
type vecIndexer struct{ dim int }

func (vecIndexer) Algorithm() string                      { return "test-vec/1" }
func (vecIndexer) PrepareGallery(b []byte) (any, error)   { return nil, errors.New("unused") }
func (vecIndexer) PrepareProbe(b []byte) (Probe, error)   { return nil, errors.New("unused") }
func (v vecIndexer) VectorLen() int                       { return v.dim }
func (vecIndexer) GalleryVector(prepared any, dst []int8) { copy(dst, prepared.([]int8)) }

// TestStage1OneTemplateEach checks stage 1's path for a single probe
// sample on a gallery of one template per identity (faces), which selects
// in the scan's workers, against the ranking by the dot products
// themselves (negative ones counting 0, ties to the earlier identity, as
// the fused scores of several samples), before and after a removal
// renumbers the identities; and Stage1Rank against the ranking's order.
func TestStage1OneTemplateEach(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	eng := int8Engine{only: true}
	g := NewGallery(eng, 2)
	const people = 20000 // several blocks per worker
	vecs := map[string][]int8{}
	for i := range people {
		id := fmt.Sprintf("id-%05d", i)
		b := int8Sample(r, nil, 0)
		if i%7 == 0 {
			b = int8Sample(r, vecs[fmt.Sprintf("id-%05d", i-7+max(0, 7-i))], 0) // exact duplicates: ties
		}
		v, _ := eng.PrepareGallery(b)
		vecs[id] = v.([]int8)
		g.AddPrepared(id, id+"-t", biometric.UnknownFinger, v)
	}
	check := func(step string, order []string) {
		for q := range 5 {
			probe := int8Probe(vecs[order[q*97%len(order)]])
			ps := []ProbeSample{{Position: biometric.RightIndex, Probe: probe}}
			type rs struct {
				id string
				s  int32
				o  int
			}
			want := make([]rs, len(order))
			for o, id := range order {
				want[o] = rs{id, max(0, DotInt8(probe, vecs[id])), o} // negative ones count 0
			}
			slices.SortStableFunc(want, func(a, b rs) int { return int(b.s) - int(a.s) })
			const k = 300
			got := g.Stage1(ps, k)
			if len(got) != k {
				t.Fatalf("%s: %d candidates, want %d", step, len(got), k)
			}
			for i, c := range got {
				if c.IdentityID != want[i].id || int32(c.Score) != want[i].s {
					t.Fatalf("%s, probe %d, rank %d: %s %v, want %s %d", step, q, i, c.IdentityID, c.Score, want[i].id, want[i].s)
				}
			}
			for _, i := range []int{0, 1, 150, 5000, len(want) - 1} {
				if rank, ok := g.Stage1Rank(ps, want[i].id); !ok || rank != i {
					t.Errorf("%s: Stage1Rank of %s = %d, %v; want %d", step, want[i].id, rank, ok, i)
				}
			}
		}
	}
	order := make([]string, people)
	for i := range order {
		order[i] = fmt.Sprintf("id-%05d", i)
	}
	check("filled", order)
	drop := map[string]bool{}
	for i := 0; i < people; i += 3 {
		drop[order[i]+"-t"] = true
	}
	g.RemoveTemplates(drop)
	var kept []string
	for i, id := range order {
		if i%3 != 0 {
			kept = append(kept, id)
		}
	}
	check("after removals", kept)
	if _, ok := g.Stage1Rank([]ProbeSample{{Probe: int8Probe(vecs[kept[0]])}}, order[0]); ok {
		t.Error("Stage1Rank of a removed identity: ok")
	}
}

// biasedEngine is int8Engine with a stage-1 constant per template: minus
// half its squared length, so that stage 1 ranks by Euclidean distance as
// the face engine's does.
type biasedEngine struct{ int8Engine }

func (biasedEngine) GalleryBias(prepared any) int32 {
	v := prepared.([]int8)
	return -DotInt8(v, v) / 2
}

// TestStage1Bias checks a BiasedIndexer's constants: stage 1 ranks by dot
// product plus constant, for a single sample on one template per identity
// and for two samples at known positions, and the constants follow their
// entries through a removal.
func TestStage1Bias(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	eng := biasedEngine{}
	for _, two := range []bool{false, true} {
		g := NewGallery(eng, 2)
		vecs := map[string][][]int8{}
		var order []string
		for i := range 9000 {
			id := fmt.Sprintf("id-%05d", i)
			order = append(order, id)
			for _, pos := range []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex}[:1+b2i(two)] {
				v, _ := eng.PrepareGallery(int8Sample(r, nil, 0))
				vecs[id] = append(vecs[id], v.([]int8))
				g.AddPrepared(id, fmt.Sprint(id, pos), pos, v)
			}
		}
		check := func(step string) {
			q := vecs[order[len(order)/2]]
			ps := []ProbeSample{{Position: biometric.RightIndex, Probe: int8Probe(q[0])}}
			if two {
				ps = append(ps, ProbeSample{Position: biometric.LeftIndex, Probe: int8Probe(q[1])})
			}
			type rs struct {
				id string
				s  int32
			}
			var want []rs
			for _, id := range order {
				var f int32
				for s := range ps {
					f += max(0, DotInt8(ps[s].Probe.(int8Probe), vecs[id][s])+eng.GalleryBias(vecs[id][s]))
				}
				want = append(want, rs{id, f})
			}
			slices.SortStableFunc(want, func(a, b rs) int { return int(b.s) - int(a.s) })
			got := g.Stage1(ps, 50)
			for i, c := range got {
				if c.IdentityID != want[i].id || int32(c.Score) != want[i].s {
					t.Fatalf("two samples %v, %s, rank %d: %s %v, want %s %d", two, step, i, c.IdentityID, c.Score, want[i].id, want[i].s)
				}
			}
		}
		check("filled")
		drop := map[string]bool{}
		var kept []string
		for i, id := range order {
			if i%4 == 1 {
				drop[fmt.Sprint(id, biometric.RightIndex)] = true
				drop[fmt.Sprint(id, biometric.LeftIndex)] = true
			} else {
				kept = append(kept, id)
			}
		}
		g.RemoveTemplates(drop)
		order = kept
		check("after removals")
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

var stage1Faces = flag.Int("stage1-faces", 1_000_000, "BenchmarkStage1Faces: gallery size")

// seededIndexer is a BiasedIndexer whose prepared form is a template's
// number and whose vector (128 values) and constant are drawn from it, so
// that a gallery of ten million holds no per-template vector but the
// gallery's own: the memory of a face gallery's stage 1 without its
// embeddings.
type seededIndexer struct{}

func (seededIndexer) Algorithm() string                    { return "test-seeded/1" }
func (seededIndexer) PrepareGallery(b []byte) (any, error) { return nil, errors.New("unused") }
func (seededIndexer) PrepareProbe(b []byte) (Probe, error) { return nil, errors.New("unused") }
func (seededIndexer) VectorLen() int                       { return 128 }
func (seededIndexer) GalleryVector(prepared any, dst []int8) {
	r := rand.New(rand.NewPCG(uint64(prepared.(int32)), 9))
	for i := range dst {
		dst[i] = int8(r.IntN(256) - 128)
	}
}
func (s seededIndexer) GalleryBias(prepared any) int32 {
	var v [128]int8
	s.GalleryVector(prepared, v[:])
	return -DotInt8(v[:], v[:]) / 2
}

// BenchmarkStage1Faces is stage 1 of single-face searches (one probe
// sample, one template an identity, 128-byte vectors with a constant, a
// shortlist of 1,000) over -stage1-faces templates on GOMAXPROCS workers,
// the face gallery's stage 1 at a size whose vectors do not fit in the
// processor's caches: ms of CPU (process) and wall a search.
func BenchmarkStage1Faces(b *testing.B) {
	n := *stage1Faces
	g := NewGallery(seededIndexer{}, 0)
	g.Reserve(n, n)
	for p := range n {
		g.AddPrepared(strconv.Itoa(p), "", biometric.UnknownFinger, int32(p))
	}
	r := rand.New(rand.NewPCG(1, 2))
	probes := []ProbeSample{{biometric.UnknownFinger, int8Probe(randInt8(r, 128))}}
	pv := g.probeVectors(probes)
	cpu0 := fvc.ProcessCPU()
	b.ResetTimer()
	for range b.N {
		g.stage1(probes, pv, 1000)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/search")
	b.ReportMetric(float64((fvc.ProcessCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/search")
}
