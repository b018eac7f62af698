package exchange

import (
	"math/rand/v2"
	"testing"
	"time"
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
		p, err := decodeProbe([]WireFinger{{Position: 2, Format: wireFormat, Record: rec}})
		if err == nil && (len(p.Fingers) != 1 || len(p.Fingers[0].Template.Minutiae) > maxProbeMinutiae) {
			t.Fatalf("accepted probe outside limits")
		}
	})
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
