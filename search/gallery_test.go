package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ebsp/ebsp/biometric"
)

// vecEngine compares little-endian float32 vectors by cosine similarity: a
// real, if simple, engine that makes gallery behaviour easy to predict.
type vecEngine struct{}

func (vecEngine) Algorithm() string { return "test-cosine/1" }

func decodeVec(b []byte) ([]float32, error) {
	if len(b) == 0 || len(b)%4 != 0 {
		return nil, errors.New("bad vector length")
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

func (vecEngine) PrepareGallery(b []byte) (any, error) { return decodeVec(b) }
func (vecEngine) PrepareProbe(b []byte) (Probe, error) {
	v, err := decodeVec(b)
	return vecProbe(v), err
}

type vecProbe []float32

func (p vecProbe) Compare(g any) float64 {
	v := g.([]float32)
	var dot, na, nb float64
	for i := range p {
		dot += float64(p[i]) * float64(v[i])
		na += float64(p[i]) * float64(p[i])
		nb += float64(v[i]) * float64(v[i])
	}
	return dot / math.Sqrt(na*nb)
}

func encodeVec(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func randVec(r *rand.Rand) []float32 {
	v := make([]float32, 32)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func noisy(r *rand.Rand, v []float32, s float64) []float32 {
	out := make([]float32, len(v))
	for i := range v {
		out[i] = v[i] + float32(s*r.NormFloat64())
	}
	return out
}

func TestSearchFindsEnrolledAndFuses(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := NewGallery(vecEngine{}, 2)
	people := map[string][2][]float32{}
	for i := range 2000 {
		id := fmt.Sprintf("id-%04d", i)
		a, b := randVec(r), randVec(r)
		people[id] = [2][]float32{a, b}
		if err := g.Add(id, id+"-a", biometric.RightIndex, encodeVec(a)); err != nil {
			t.Fatal(err)
		}
		if err := g.Add(id, id+"-b", biometric.LeftIndex, encodeVec(b)); err != nil {
			t.Fatal(err)
		}
	}
	if tn, in := g.Len(); tn != 4000 || in != 2000 {
		t.Fatalf("Len = %d, %d", tn, in)
	}
	target := people["id-1234"]
	p1, _ := vecEngine{}.PrepareProbe(encodeVec(noisy(r, target[0], 0.5)))
	p2, _ := vecEngine{}.PrepareProbe(encodeVec(noisy(r, target[1], 0.5)))
	probes := []ProbeSample{{biometric.RightIndex, p1}, {biometric.LeftIndex, p2}}
	c := g.Search(probes, 5, 0)
	if len(c) != 5 || c[0].IdentityID != "id-1234" {
		t.Fatalf("top candidate %v, want id-1234", c)
	}
	// Fused score is the sum of the two per-finger scores.
	want := p1.Compare(target[0]) + p2.Compare(target[1])
	if math.Abs(c[0].Score-want) > 1e-9 {
		t.Errorf("fused score %v, want %v", c[0].Score, want)
	}
	// A probe at the wrong position is not compared with the right one.
	wrong := []ProbeSample{{biometric.LeftThumb, p1}}
	if c := g.Search(wrong, 5, 0); len(c) != 0 {
		t.Errorf("incompatible position matched: %v", c)
	}
	if s, ok := g.Verify(probes, "id-1234"); !ok || math.Abs(s-want) > 1e-9 {
		t.Errorf("Verify = %v %v", s, ok)
	}
	if g.Remove("id-1234") != 2 {
		t.Fatal("Remove did not remove two templates")
	}
	if c := g.Search(probes, 5, 0); len(c) > 0 && c[0].IdentityID == "id-1234" {
		t.Error("removed identity still found")
	}
	if _, ok := g.Verify(probes, "id-1234"); ok {
		t.Error("Verify found removed identity")
	}
}

func TestSearchConcurrentWithRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := NewGallery(vecEngine{}, 2)
	for i := range 600 {
		if err := g.Add(fmt.Sprint(i), "", 0, encodeVec(randVec(r))); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := vecEngine{}.PrepareProbe(encodeVec(randVec(r)))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if w == 0 {
					g.Remove(fmt.Sprint(i))
				} else {
					g.Search([]ProbeSample{{0, p}}, 3, -1)
				}
			}
		}()
	}
	wg.Wait()
	if _, n := g.Len(); n != 550 {
		t.Errorf("identities = %d, want 550", n)
	}
}

func TestAddRejectsBadTemplate(t *testing.T) {
	g := NewGallery(vecEngine{}, 1)
	if err := g.Add("x", "t", 0, []byte{1, 2, 3}); err == nil {
		t.Error("bad template accepted")
	}
	if err := g.Add("", "t", 0, encodeVec([]float32{1})); err == nil {
		t.Error("empty identity accepted")
	}
}

func TestPolicyDecide(t *testing.T) {
	p := Policy{Hit: 0.8, Review: 0.5, Cap: 2}
	c := []biometric.Candidate{{IdentityID: "a", Score: 0.9}, {IdentityID: "b", Score: 0.6}, {IdentityID: "c", Score: 0.55}, {IdentityID: "d", Score: 0.1}}
	d, out := p.Decide(c, 1)
	if d != biometric.Hit || len(out) != 2 {
		t.Errorf("got %v %v", d, out)
	}
	d, out = p.Decide(c[1:], 1)
	if d != biometric.Review || len(out) != 2 || out[0].IdentityID != "b" {
		t.Errorf("got %v %v", d, out)
	}
	if d, out = p.Decide(c[3:], 1); d != biometric.NoHit || out != nil {
		t.Errorf("got %v %v", d, out)
	}
	// Four fingers: with a zero impostor mean, thresholds double.
	if d, _ = p.Decide([]biometric.Candidate{{IdentityID: "a", Score: 1.5}}, 4); d != biometric.Review {
		t.Errorf("4 fingers at 1.5: %v, want review", d)
	}
	// With impostor mean 0.1, four fingers: hit at 0.4 + 0.7*2 = 1.8.
	p.Mean = 0.1
	if h, r := p.Thresholds(4); math.Abs(h-1.8) > 1e-12 || math.Abs(r-1.2) > 1e-12 {
		t.Errorf("thresholds(4) = %v, %v; want 1.8, 1.2", h, r)
	}
}

// scratchProbe keeps scratch state like fingerprint.Matcher does: sharing it
// between goroutines would be a data race, which -race reports.
type scratchProbe struct {
	v       vecProbe
	scratch *int
	clones  *int32
}

func (p scratchProbe) Compare(g any) float64 { *p.scratch++; return p.v.Compare(g) }
func (p scratchProbe) Clone() Probe {
	atomic.AddInt32(p.clones, 1)
	return scratchProbe{v: p.v, scratch: new(int), clones: p.clones}
}

func TestSearchClonesProbesPerWorker(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g := NewGallery(vecEngine{}, 4)
	for i := range 4000 {
		if err := g.Add(fmt.Sprint(i), "", 0, encodeVec(randVec(r))); err != nil {
			t.Fatal(err)
		}
	}
	var clones int32
	p := scratchProbe{v: vecProbe(randVec(r)), scratch: new(int), clones: &clones}
	if c := g.Search([]ProbeSample{{Probe: p}}, 3, -1); len(c) != 3 {
		t.Fatalf("%d candidates", len(c))
	}
	if clones != 4 {
		t.Errorf("%d clones for 4 workers", clones)
	}
}
