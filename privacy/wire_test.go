package privacy

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/ring"
)

// TestWireRoundTrip sends a probe and a reply through their wire formats and
// checks the search still counts, and that the responder re-derives the
// requester's mask from the seed.
func TestWireRoundTrip(t *testing.T) {
	p := testParams(t, 16)
	req, resp := testParties(t, p)
	r := rand.New(rand.NewPCG(5, 6))
	probe := normalised(randomUnit(r, p.Dim))
	g, err := NewGallery(p.Dim, [][]float32{near(r, probe, 0.8), near(r, probe, -0.2), near(r, probe, 0.9)})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := req.EncryptProbe(probe)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.MarshalProbe(pr)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != p.ProbeSize() {
		t.Fatalf("probe is %d bytes, ProbeSize says %d", len(b), p.ProbeSize())
	}
	pr2, err := p.UnmarshalProbe(b)
	if err != nil {
		t.Fatal(err)
	}
	if !pr2.C0.Equal(&pr.C0) || pr2.Seed != pr.Seed {
		t.Fatal("probe changed through the wire format")
	}
	reply, err := resp.Search(g, pr2)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := p.MarshalReply(reply)
	if err != nil {
		t.Fatal(err)
	}
	reply2, err := p.UnmarshalReply(rb)
	if err != nil {
		t.Fatal(err)
	}
	got, err := req.Count(reply2)
	if err != nil {
		t.Fatal(err)
	}
	if math.Round(got) != 2 {
		t.Fatalf("count %.3f through the wire, want 2", got)
	}
	checkLazyResidues(t, p, req, reply)
	// Corruptions the reader must refuse precisely.
	bad := bytes.Clone(b)
	for i := 42; i < 42+8; i++ {
		bad[i] = 0xff // the first residue becomes 2^bits-1 ≥ q_0
	}
	if _, err := p.UnmarshalProbe(bad); err == nil {
		t.Error("probe with an out-of-range residue accepted")
	}
	if _, err := p.UnmarshalProbe(b[:len(b)-1]); err == nil {
		t.Error("truncated probe accepted")
	}
	if _, err := p.UnmarshalReply(append(rb, 0)); err == nil {
		t.Error("reply with a trailing byte accepted")
	}
}

// checkLazyResidues: Lattigo leaves some residues lazily reduced, in
// [0, 2q) (its key-switch share does, and c0 + share then did in about one
// reply in eleven at ring degree 2^15). The reply must leave Search fully
// reduced, and the wire format must carry any representative of a residue:
// packed unreduced, a residue at or above 2^bitlen(q) lost its top bit and
// the reply decrypted to garbage (the count bug of docs/privacy.md). Every
// residue is made lazy here (r + q), which always exposed it.
func checkLazyResidues(t *testing.T, p Params, req *Party, reply *Reply) {
	t.Helper()
	q := p.CKKS.Q()[0]
	lazy := &Reply{Scale: reply.Scale, C0: *reply.C0.CopyNew(), C1: *reply.C1.CopyNew()}
	for _, pol := range []ring.Poly{lazy.C0, lazy.C1} {
		for j, c := range pol.Coeffs[0] {
			if c >= q {
				t.Fatalf("Search left residue %d at %d, not below q0 = %d", j, c, q)
			}
			pol.Coeffs[0][j] = c + q
		}
	}
	b, err := p.MarshalReply(lazy)
	if err != nil {
		t.Fatal(err)
	}
	back, err := p.UnmarshalReply(b)
	if err != nil {
		t.Fatal(err)
	}
	if !back.C0.Equal(&reply.C0) || !back.C1.Equal(&reply.C1) {
		t.Fatal("lazily reduced reply changed through the wire format")
	}
	want, err := req.Count(reply)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := req.Count(back); err != nil || got != want {
		t.Fatalf("count of the lazily reduced reply through the wire %v (%v), want %v", got, err, want)
	}
}

func FuzzUnmarshalProbe(f *testing.F) {
	p := testParams(f, 16)
	f.Add([]byte(probeMagic))
	f.Add(make([]byte, p.ProbeSize()))
	good := append([]byte(probeMagic), byte(p.CKKS.LogN()), byte(p.probeLevel()))
	f.Add(append(good, make([]byte, p.ProbeSize()-len(good))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		pr, err := p.UnmarshalProbe(b)
		if err != nil {
			return
		}
		out, err := p.MarshalProbe(pr)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("accepted probe does not re-encode to its bytes: %v", err)
		}
	})
}

func FuzzUnmarshalReply(f *testing.F) {
	p := testParams(f, 16)
	f.Add([]byte(replyMagic))
	good := append([]byte(replyMagic), byte(p.CKKS.LogN()), 0x42, 0x70, 0, 0, 0, 0, 0, 0)
	f.Add(append(good, make([]byte, p.ReplySize()-len(good))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := p.UnmarshalReply(b)
		if err != nil {
			return
		}
		out, err := p.MarshalReply(r)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("accepted reply does not re-encode to its bytes: %v", err)
		}
	})
}
