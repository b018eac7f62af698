package privacy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// Probe is an encrypted probe as it travels: the requester encrypts under
// its own key share with the mask a drawn from Seed, so only c0 = −a·s_A + m
// + e is sent and the responder re-derives a from the seed. The responder
// then subtracts a·s_B itself, which turns the ciphertext into one under the
// joint key s_A + s_B (complete). Neither step reveals m to the responder,
// who never learns s_A.
type Probe struct {
	Seed [32]byte
	C0   ring.Poly // NTT domain, at the probe level
}

// probeLevel is the level a probe is encrypted at: the whole circuit's depth.
func (p Params) probeLevel() int { return circuitDepth(p.Threshold, p.Dim) }

// EncryptProbe encrypts a probe embedding of Params.Dim values. The vector
// is normalised to unit length (similarities are cosines) and repeated
// across all slots, slot i holding v[i mod Dim].
func (pa *Party) EncryptProbe(v []float32) (*Probe, error) {
	p := pa.params
	if len(v) != p.Dim {
		return nil, fmt.Errorf("privacy: probe has %d values, want %d", len(v), p.Dim)
	}
	u, err := unit(v)
	if err != nil {
		return nil, fmt.Errorf("privacy: probe: %w", err)
	}
	vals := make([]float64, p.Slots())
	for i := range vals {
		vals[i] = u[i%p.Dim]
	}
	level := p.probeLevel()
	pt := ckks.NewPlaintext(p.CKKS, level)
	if err := ckks.NewEncoder(p.CKKS).Encode(vals, pt); err != nil {
		return nil, fmt.Errorf("privacy: encode probe: %w", err)
	}
	pr := &Probe{}
	if _, err := rand.Read(pr.Seed[:]); err != nil {
		return nil, fmt.Errorf("privacy: probe seed: %w", err)
	}
	prng, err := sampling.NewKeyedPRNG(pr.Seed[:])
	if err != nil {
		return nil, fmt.Errorf("privacy: probe seed: %w", err)
	}
	ct := ckks.NewCiphertext(p.CKKS, 1, level)
	if err := rlwe.NewEncryptor(p.CKKS, pa.sk).WithPRNG(prng).Encrypt(pt, ct); err != nil {
		return nil, fmt.Errorf("privacy: encrypt probe: %w", err)
	}
	pr.C0 = ct.Value[0]
	return pr, nil
}

// mask re-derives the probe's mask a from its seed, exactly as the
// encryptor drew it.
func (p Params) mask(seed [32]byte, level int) (ring.Poly, error) {
	prng, err := sampling.NewKeyedPRNG(seed[:])
	if err != nil {
		return ring.Poly{}, err
	}
	a := p.CKKS.RingQ().AtLevel(level).NewPoly()
	ringqp.NewUniformSampler(prng, *p.CKKS.RingQP()).AtLevel(level, -1).Read(ringqp.Poly{Q: a})
	return a, nil
}

// complete turns a received probe into a ciphertext under the joint key:
// (c0 − a·s_B, a).
func (pa *Party) complete(pr *Probe) (*rlwe.Ciphertext, error) {
	p := pa.params
	level := p.probeLevel()
	if pr == nil || pr.C0.Level() != level || pr.C0.N() != p.CKKS.N() {
		return nil, errors.New("privacy: probe does not match these parameters")
	}
	a, err := p.mask(pr.Seed, level)
	if err != nil {
		return nil, fmt.Errorf("privacy: probe seed: %w", err)
	}
	ct := ckks.NewCiphertext(p.CKKS, 1, level)
	rq := p.CKKS.RingQ().AtLevel(level)
	rq.MulCoeffsMontgomery(a, pa.sk.Value.Q, ct.Value[0])
	rq.Sub(pr.C0, ct.Value[0], ct.Value[0])
	ct.Value[1].CopyLvl(level, a)
	ct.Scale = p.CKKS.DefaultScale()
	return ct, nil
}

// unit returns v scaled to unit Euclidean length, refusing NaN, infinite and
// zero vectors.
func unit(v []float32) ([]float64, error) {
	var n float64
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("vector holds a NaN or infinite value")
		}
		n += f * f
	}
	if n == 0 {
		return nil, errors.New("vector is zero")
	}
	n = math.Sqrt(n)
	u := make([]float64, len(v))
	for i, x := range v {
		u[i] = float64(x) / n
	}
	return u, nil
}
