package exchange

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ebsp/ebsp/face"
)

// FuzzOpenEnvelope feeds arbitrary bytes to the envelope verifier: it must
// never panic, and nothing but a correctly signed envelope may pass.
func FuzzOpenEnvelope(f *testing.F) {
	us, gb := testCreds(f)
	a := DefaultAgreement("US-GB-F", us.Party(""), gb.Party("https://127.0.0.1:1"))
	if err := a.Validate(); err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	sealer := NewSealer(us, func() time.Time { return now })
	rng := rand.New(rand.NewPCG(1, 1))
	fingers, _ := encodeProbe(freshProbe(rng))
	good, _, _ := sealer.Seal(MsgStep1Request, a.ID, Address{"GB", "gb-node"}, Step1Request{Purpose: Visa, Fingers: fingers})
	f.Add(good)
	f.Add([]byte(`{"v":1,"type":"step1_request"}`))
	f.Add([]byte(`{}`))
	find := func(id string) *Agreement {
		if id == a.ID {
			return a
		}
		return nil
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		o := &Opener{Self: Address{"GB", "gb-node"}, Now: func() time.Time { return now }}
		env, _, rf := o.Open(raw, find, MsgStep1Request)
		if rf == nil && string(raw) != string(good) {
			// Only re-encodings of the signed envelope (JSON whitespace,
			// key order, escapes) may pass, and they carry the same signed content.
			if env.HeaderHash() == "" || env.From != sealer.From {
				t.Fatalf("forged envelope accepted")
			}
		}
	})
}

// FuzzDecodeProbe feeds arbitrary ISO records as probe fingers.
func FuzzDecodeProbe(f *testing.F) {
	rng := rand.New(rand.NewPCG(2, 2))
	w, _ := encodeProbe(freshProbe(rng))
	f.Add(w[0].Record)
	f.Add([]byte("FMR\x00 20\x00"))
	f.Fuzz(func(t *testing.T, rec []byte) {
		p, err := decodeProbe([]WireFinger{{Position: 2, Format: wireFormat, Record: rec}}, nil)
		if err == nil && (len(p.Fingers) != 1 || len(p.Fingers[0].Template.Minutiae) > maxProbeMinutiae) {
			t.Fatalf("accepted probe outside limits")
		}
	})
}

// FuzzDecodeProbeFaces feeds arbitrary bytes as a probe's face embedding.
func FuzzDecodeProbeFaces(f *testing.F) {
	good := make([]byte, face.EmbeddingSize)
	good[0], good[face.RecogniserDim+3] = 5, 0x3c // scale 2^-7-ish, a positive float
	f.Add(good)
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, emb []byte) {
		p, err := decodeProbe(nil, []WireFace{{Format: FaceFormat, Embedding: emb}})
		if err == nil && (len(p.Faces) != 1 || len(p.Faces[0]) != face.EmbeddingSize) {
			t.Fatalf("accepted face outside limits")
		}
	})
	if _, err := decodeProbe([]WireFinger{{}}, []WireFace{{Format: FaceFormat, Embedding: good}}); err == nil {
		f.Error("a probe of fingers and faces was accepted")
	}
	if _, err := decodeProbe(nil, []WireFace{{Format: "other", Embedding: good}}); err == nil {
		f.Error("a face of another format was accepted")
	}
}

// FuzzParseAgreement feeds arbitrary agreement files.
func FuzzParseAgreement(f *testing.F) {
	us, gb := testCreds(f)
	a := DefaultAgreement("US-GB-F", us.Party(""), gb.Party(""))
	raw, _ := a.Marshal()
	f.Add(raw)
	f.Add([]byte(`{"id":"x","parties":[{},{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAgreement(b)
		if err == nil {
			if a.Parties[0].CA() == nil || len(a.Disclosure) == 0 || a.Handling.DestroyAfter <= 0 {
				t.Fatalf("invalid agreement accepted")
			}
		}
	})
}
