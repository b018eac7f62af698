package privacy

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
)

// TestSetupOverWire runs the key setup through the wire formats, as two
// nodes do, stores and restores both parties, and checks that the restored
// pair searches and counts like parties set up in one process.
func TestSetupOverWire(t *testing.T) {
	p := testParams(t, 64)
	seed := []byte("ebsp privacy wire agreement seed")
	a, err := NewParty(p, seed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewParty(p, seed)
	if err != nil {
		t.Fatal(err)
	}
	wire := func(m1 *Round1) *Round1 {
		raw, err := p.MarshalRound1(m1)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != p.Round1Size() {
			t.Fatalf("round 1 is %d bytes, Round1Size %d", len(raw), p.Round1Size())
		}
		back, err := p.UnmarshalRound1(raw)
		if err != nil {
			t.Fatal(err)
		}
		// A residue at or above its modulus is refused.
		bad := bytes.Clone(raw)
		for i := len(round1Magic) + 1; i < len(round1Magic)+9; i++ {
			bad[i] = 0xff
		}
		if _, err := p.UnmarshalRound1(bad); err == nil {
			t.Error("round 1 with an out-of-range residue accepted")
		}
		if _, err := p.UnmarshalRound1(raw[:len(raw)-1]); err == nil {
			t.Error("truncated round 1 accepted")
		}
		return back
	}
	wire2 := func(m2 *Round2) *Round2 {
		raw, err := p.MarshalRound2(m2)
		if err != nil {
			t.Fatal(err)
		}
		back, err := p.UnmarshalRound2(raw)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}
	a1, _ := a.Round1()
	b1, _ := b.Round1()
	a2, err := a.Round2(wire(b1))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := b.Round2(wire(a1))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(wire2(b2)); err != nil {
		t.Fatal(err)
	}
	if err := b.Finish(wire2(a2)); err != nil {
		t.Fatal(err)
	}
	restore := func(pa *Party) *Party {
		back, raw := storedParty(t, p, pa)
		other, _ := NewParams(12, 64, 0.4)
		if _, err := UnmarshalParty(other, raw); err == nil {
			t.Error("party restored under another threshold")
		}
		return back
	}
	a, b = restore(a), restore(b)

	r := rand.New(rand.NewPCG(18, 1))
	vecs := make([][]float32, 300)
	for i := range vecs {
		vecs[i] = randomUnit(r, 64)
	}
	g, err := NewGallery(64, vecs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		probe []float32
		want  int
	}{{near(r, normalised(vecs[7]), 0.8), 1}, {randomUnit(r, 64), 0}} {
		reply, _ := search(t, a, b, g, c.probe)
		n, err := a.Count(reply)
		if err != nil {
			t.Fatal(err)
		}
		if int(math.Round(n)) != c.want {
			t.Errorf("count %v, want %d", n, c.want)
		}
	}
}

func TestProjectionWire(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2))
	train := make([][]float32, 100)
	for i := range train {
		train[i] = randomUnit(r, 32)
	}
	pr, err := LearnProjection(train, 16)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := pr.MarshalBinary()
	back, err := UnmarshalProjection(raw)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := pr.Apply(train[3])
	y, _ := back.Apply(train[3])
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("coordinate %d: %v after the round trip, %v before", i, y[i], x[i])
		}
	}
	if _, err := UnmarshalProjection(raw[:len(raw)-8]); err == nil {
		t.Error("truncated projection accepted")
	}
}

// FuzzUnmarshalKeyMaterial feeds arbitrary bytes to the parsers of the
// key-setup messages, stored parties and projections: none may panic, and
// whatever they accept must marshal back to the same bytes.
func FuzzUnmarshalKeyMaterial(f *testing.F) {
	p, err := NewParams(12, 64, 0.35)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(round2Magic + "\x0c"))
	f.Add([]byte(projectionMagic + "\x00\x02\x00\x01"))
	f.Add([]byte(partyMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := p.UnmarshalRound2(b); err == nil {
			back, _ := p.MarshalRound2(m)
			if !bytes.Equal(back, b) {
				t.Error("round 2 does not marshal back to its bytes")
			}
		}
		if m, err := p.UnmarshalRound1(b); err == nil {
			back, _ := p.MarshalRound1(m)
			if !bytes.Equal(back, b) {
				t.Error("round 1 does not marshal back to its bytes")
			}
		}
		if pr, err := UnmarshalProjection(b); err == nil {
			back, _ := pr.MarshalBinary()
			if !bytes.Equal(back, b) {
				t.Error("projection does not marshal back to its bytes")
			}
		}
		UnmarshalParty(p, b)
	})
}

// TestStoredPartyWithoutHoistKeys: a party stored before the hoisted
// baby steps lacks the rotation keys by 3..hoist and holds the one by 2 at
// level 0 only (a slot-sum key); it still loads, and its searches (rotating
// by 1) give the same decisions as with the keys.
func TestStoredPartyWithoutHoistKeys(t *testing.T) {
	p := testParams(t, 64)
	req, resp := testParties(t, p)
	joint := rlwe.NewSecretKey(p.CKKS)
	p.CKKS.RingQP().Add(req.sk.Value, resp.sk.Value, joint.Value)
	two := p.CKKS.GaloisElementForRotation(2)
	var keep []*rlwe.GaloisKey
	for el, k := range resp.evk.GaloisKeys {
		switch {
		case el == two:
			keep = append(keep, rlwe.NewKeyGenerator(p.CKKS).GenGaloisKeyNew(el, joint, p.evkParams(false)))
		case !p.optionalKey(el):
			keep = append(keep, k)
		}
	}
	if len(keep) != len(resp.evk.GaloisKeys)-(hoist-2) {
		t.Fatalf("%d of %d rotation keys kept, want %d fewer", len(keep), len(resp.evk.GaloisKeys), hoist-2)
	}
	old := &Party{params: p, sk: resp.sk, finished: true, evk: rlwe.NewMemEvaluationKeySet(resp.evk.RelinearizationKey, keep...)}
	back, _ := storedParty(t, p, old)
	if h := back.hoisting(p.probeLevel()); h != 1 {
		t.Fatalf("stored party without the keys hoists %d rotations", h)
	}
	if h := resp.hoisting(p.probeLevel()); h != hoist {
		t.Fatalf("party hoists %d rotations, want %d", h, hoist)
	}
	r := rand.New(rand.NewPCG(9, 10))
	vecs := make([][]float32, 17*p.Slots()) // 17 blocks: 64 baby steps in four chains
	if p.baby(17) != 64 {
		t.Fatalf("17 blocks take %d baby steps", p.baby(17))
	}
	for i := range vecs {
		vecs[i] = randomUnit(r, p.Dim)
	}
	g, err := NewGallery(p.Dim, vecs)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := req.EncryptProbe(randomUnit(r, p.Dim))
	if err != nil {
		t.Fatal(err)
	}
	a, b := traceDecisions(t, resp, req, g, pr), traceDecisions(t, back, req, g, pr)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-4 {
			t.Fatalf("entry %d: step %.6f with the hoisting keys, %.6f without", i, a[i], b[i])
		}
	}
}

// storedParty stores pa (MarshalBinary) and reads it back under p
// (UnmarshalParty), as a node restarting does; it returns the party read
// back and the stored bytes.
func storedParty(t *testing.T, p Params, pa *Party) (*Party, []byte) {
	t.Helper()
	raw, err := pa.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalParty(p, raw)
	if err != nil {
		t.Fatal(err)
	}
	return back, raw
}
