package privacy

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
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
