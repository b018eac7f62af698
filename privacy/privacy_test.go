package privacy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// testParams are small and NOT secure (ring degree 2^12 with a 700-bit
// modulus); they exercise the same circuit quickly.
func testParams(t testing.TB, dim int) Params {
	t.Helper()
	p, err := NewParams(12, dim, 0.35)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testParties(t testing.TB, p Params) (req, resp *Party) {
	t.Helper()
	seed := []byte("ebsp privacy test agreement seed")
	req, err := NewParty(p, seed)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = NewParty(p, seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := Setup(req, resp); err != nil {
		t.Fatal(err)
	}
	return req, resp
}

// traceDecisions searches g for pr as responder resp, keeping the trace,
// and returns what the requester req decrypts of it (Trace.Decisions).
func traceDecisions(t *testing.T, resp, req *Party, g *Gallery, pr *Probe) []float64 {
	t.Helper()
	_, tr, err := resp.SearchTrace(g, pr)
	if err != nil {
		t.Fatal(err)
	}
	d, err := tr.Decisions(req)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// randomUnit draws a random direction in dim dimensions.
func randomUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// near returns a unit vector at cosine c from unit vector u.
func near(r *rand.Rand, u []float32, c float64) []float32 {
	n := randomUnit(r, len(u))
	var dot, nn float64
	for i := range u {
		dot += float64(n[i] * u[i])
	}
	for i := range n {
		n[i] -= float32(dot) * u[i]
		nn += float64(n[i] * n[i])
	}
	s := math.Sqrt(1-c*c) / math.Sqrt(nn)
	out := make([]float32, len(u))
	for i := range u {
		out[i] = float32(c)*u[i] + float32(s)*n[i]
	}
	return out
}

// search encrypts probe at req and searches g at resp.
func search(t *testing.T, req, resp *Party, g *Gallery, probe []float32) (*Reply, *Probe) {
	t.Helper()
	pr, err := req.EncryptProbe(probe)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := resp.Search(g, pr)
	if err != nil {
		t.Fatal(err)
	}
	return reply, pr
}

func normalised(v []float32) []float32 {
	u, _ := unit(v)
	out := make([]float32, len(u))
	for i := range u {
		out[i] = float32(u[i])
	}
	return out
}

// plainCount returns the plaintext count of entries above the threshold
// and the number of entries within the margin of it.
func plainCount(g *Gallery, p Params, probe []float32) (above, inMargin int) {
	sims, _ := g.Similarities(probe)
	for _, s := range sims {
		if s > p.Threshold {
			above++
		}
		if math.Abs(s-p.Threshold) < p.Margin() {
			inMargin++
		}
	}
	return above, inMargin
}

func TestSearchCounts(t *testing.T) {
	p := testParams(t, 32)
	req, resp := testParties(t, p)
	r := rand.New(rand.NewPCG(1, 2))
	probe := normalised(randomUnit(r, p.Dim))
	// Two blocks: some entries clearly above the threshold, the rest random
	// (cosines around 0 ± 0.18 in 32 dimensions).
	n := p.Slots() + 100
	vecs := make([][]float32, n)
	above := map[int]bool{5: true, 77: true, p.Slots() + 3: true}
	for i := range vecs {
		if above[i] {
			vecs[i] = near(r, probe, 0.7)
		} else {
			vecs[i] = randomUnit(r, p.Dim)
		}
	}
	g, err := NewGallery(p.Dim, vecs)
	if err != nil {
		t.Fatal(err)
	}
	want, inMargin := plainCount(g, p, probe)
	reply, _ := search(t, req, resp, g, probe)
	got, err := req.Count(reply)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("count %.4f, plaintext %d, entries within the margin %d", got, want, inMargin)
	if inMargin == 0 && math.Round(got) != float64(want) {
		t.Fatalf("count %.4f, want %d", got, want)
	}
	if math.Abs(got-float64(want)) > 0.5+float64(inMargin) {
		t.Fatalf("count %.4f too far from %d (%d entries in the margin)", got, want, inMargin)
	}
	// The responder alone cannot read the count.
	if alone, err := resp.Count(reply); err == nil && math.Abs(alone-got) < 1 {
		t.Fatalf("responder's own share decrypts the reply to %.3f", alone)
	}
}

func TestDecisionsWithinMargin(t *testing.T) {
	if underRace {
		t.Skip("slow under -race; the search's concurrency is covered by TestSearchCounts")
	}
	// One block: 16 baby steps (7 giant-step rotations per block). Nine
	// blocks: 64 baby steps in four chains of 16 that run concurrently,
	// one giant step per block.
	for _, c := range []struct{ blocks, baby int }{{1, 16}, {9, 64}} {
		t.Run(fmt.Sprintf("baby%d", c.baby), func(t *testing.T) {
			p := testParams(t, 128)
			if b := p.baby(c.blocks); b != c.baby {
				t.Fatalf("%d blocks take %d baby steps, want %d", c.blocks, b, c.baby)
			}
			testDecisions(t, p, c.blocks)
		})
	}
	// A threshold with a lopsided composite (depth 9, two levels fewer).
	t.Run("lopsided", func(t *testing.T) {
		p, err := NewParams(12, 64, 0.87)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := lopsided(p.Threshold, p.Dim); !ok || p.probeLevel() != 10 {
			t.Fatalf("threshold 0.87: lopsided %v, probe level %d", ok, p.probeLevel())
		}
		testDecisions(t, p, 1)
	})
}

func testDecisions(t *testing.T, p Params, blocks int) {
	req, resp := testParties(t, p)
	r := rand.New(rand.NewPCG(3, 4))
	probe := normalised(randomUnit(r, p.Dim))
	vecs := make([][]float32, blocks*p.Slots())
	th := p.Threshold
	for i := range vecs {
		switch {
		case i%500 == 7:
			vecs[i] = near(r, probe, th-0.05+0.1*r.Float64()) // around the threshold
		case i%300 == 11:
			vecs[i] = near(r, probe, th+(1-th)*r.Float64()) // above it, up to 1
		case i%1000 == 13:
			vecs[i] = probe // similarity 1 and, stored as int8, a little more
		default:
			vecs[i] = randomUnit(r, p.Dim)
		}
	}
	g, err := NewGallery(p.Dim, vecs)
	if err != nil {
		t.Fatal(err)
	}
	sims, _ := g.Similarities(probe)
	pr, err := req.EncryptProbe(probe)
	if err != nil {
		t.Fatal(err)
	}
	dec := traceDecisions(t, resp, req, g, pr)
	var agree, outside int
	var maxErr float64
	for i, s := range sims {
		if (dec[i] > 0.5) == (s > p.Threshold) {
			agree++
		} else if math.Abs(s-p.Threshold) >= p.Margin() {
			outside++
			t.Errorf("entry %d: similarity %.4f, encrypted step %.4f, outside the margin %.4f", i, s, dec[i], p.Margin())
		}
		if math.Abs(s-p.Threshold) >= p.Margin() {
			want := 0.0
			if s > p.Threshold {
				want = 1
			}
			maxErr = max(maxErr, math.Abs(dec[i]-want))
		}
	}
	t.Logf("%d/%d decisions agree; largest step error outside the margin %.2g", agree, len(sims), maxErr)
	if maxErr > 1e-3 {
		t.Errorf("step error %.2g outside the margin", maxErr)
	}
}

// TestEncodeMatchesLattigo checks the search's own gallery encoder against
// Lattigo's.
func TestEncodeMatchesLattigo(t *testing.T) {
	p := testParams(t, 16)
	_, resp := testParties(t, p)
	w := resp.newWorker()
	r := rand.New(rand.NewPCG(9, 9))
	for i := range w.vals {
		w.vals[i] = r.Float64() - 0.5
	}
	if err := w.encode(); err != nil {
		t.Fatal(err)
	}
	want := w.pt.CopyNew()
	if err := w.ecd.Encode(w.vals, want); err != nil {
		t.Fatal(err)
	}
	if !w.pt.Value.Equal(&want.Value) {
		t.Fatal("gallery encoding differs from Lattigo's")
	}
}

// TestPrecompute: a search over pre-encoded diagonals gives exactly the
// ciphertexts of a search that encodes them per query, in the memory
// PrecomputeBytes states; other parameters fall back to encoding.
func TestPrecompute(t *testing.T) {
	p := testParams(t, 32)
	req, resp := testParties(t, p)
	r := rand.New(rand.NewPCG(7, 8))
	probe := normalised(randomUnit(r, p.Dim))
	vecs := make([][]float32, p.Slots()+300)
	for i := range vecs {
		if i%700 == 3 {
			vecs[i] = near(r, probe, 0.8)
		} else {
			vecs[i] = randomUnit(r, p.Dim)
		}
	}
	g, err := NewGallery(p.Dim, vecs)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := req.EncryptProbe(probe)
	if err != nil {
		t.Fatal(err)
	}
	_, plain, err := resp.SearchTrace(g, pr)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Precompute(p); err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, b := range g.pre.blocks {
		size += len(b)
	}
	if size != p.PrecomputeBytes(g.Len()) {
		t.Fatalf("precomputation holds %d bytes, PrecomputeBytes says %d", size, p.PrecomputeBytes(g.Len()))
	}
	if g.precomputed(p, p.baby(2)) == nil {
		t.Fatal("precomputation not used for its own parameters")
	}
	other, err := NewParams(12, p.Dim, p.Threshold+0.1)
	if err != nil {
		t.Fatal(err)
	}
	if g.precomputed(other, other.baby(2)) != nil {
		t.Fatal("precomputation used for another threshold")
	}
	reply, pre, err := resp.SearchTrace(g, pr)
	if err != nil {
		t.Fatal(err)
	}
	for b := range plain.blocks {
		if !plain.blocks[b].Equal(pre.blocks[b]) {
			t.Fatalf("block %d differs with precomputed diagonals", b)
		}
	}
	got, err := req.Count(reply)
	if err != nil {
		t.Fatal(err)
	}
	if want, inMargin := plainCount(g, p, probe); math.Abs(got-float64(want)) > 0.5+float64(inMargin) {
		t.Fatalf("count %.3f with precomputed diagonals, want %d (%d entries in the margin)", got, want, inMargin)
	}
}
