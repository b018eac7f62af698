package privacy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
	"github.com/tuneinsight/lattigo/v6/ring"
)

// Wire formats of the key-setup messages and the stored key material, for
// running the setup between two nodes (package exchange) and keeping its
// result across restarts.
//
//	round 1: "EBSPHK11" | logN (1 byte) | relinearisation share | rotation-key shares in galoisKeys order
//	round 2: "EBSPHK21" | logN (1 byte) | relinearisation share
//
// A share is its polynomials in Lattigo's order (gadget rows, columns,
// then the Q and P parts), each residue as a little-endian uint64. The
// shape comes from this side's own parameters, never from the message:
// the reader allocates the share it expects, checks the exact length
// first and every residue against its modulus, so a peer's message cannot
// make it allocate more than the parameters say.
const (
	round1Magic = "EBSPHK12"
	round2Magic = "EBSPHK21"
	partyMagic  = "EBSPHKP1"
)

// gadgetPolys calls f with every polynomial of g and the moduli of its
// residues.
func (p Params) gadgetPolys(g *rlwe.GadgetCiphertext, f func(pol ring.Poly, moduli []uint64) error) error {
	for _, row := range g.Value {
		for _, vec := range row {
			for _, qp := range vec {
				if err := f(qp.Q, p.CKKS.Q()[:qp.Q.Level()+1]); err != nil {
					return err
				}
				if qp.P.Level() >= 0 {
					if err := f(qp.P, p.CKKS.P()[:qp.P.Level()+1]); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func (p Params) gadgetSize(g *rlwe.GadgetCiphertext) int {
	n := 0
	p.gadgetPolys(g, func(pol ring.Poly, moduli []uint64) error {
		n += 8 * len(moduli) * pol.N()
		return nil
	})
	return n
}

func (p Params) appendGadget(b []byte, g *rlwe.GadgetCiphertext) []byte {
	p.gadgetPolys(g, func(pol ring.Poly, moduli []uint64) error {
		for i, q := range moduli {
			for _, c := range pol.Coeffs[i] {
				// Lattigo's round-two share is reduced lazily (values
				// below 2q); the wire holds canonical residues.
				b = binary.LittleEndian.AppendUint64(b, c%q)
			}
		}
		return nil
	})
	return b
}

// readGadget fills g from b and returns the rest of b.
func (p Params) readGadget(b []byte, g *rlwe.GadgetCiphertext) ([]byte, error) {
	err := p.gadgetPolys(g, func(pol ring.Poly, moduli []uint64) error {
		for i, q := range moduli {
			cs := pol.Coeffs[i]
			if len(b) < 8*len(cs) {
				return errors.New("truncated share")
			}
			for j := range cs {
				c := binary.LittleEndian.Uint64(b[8*j:])
				if c >= q {
					return fmt.Errorf("residue %d of modulus %d is not below it", j, i)
				}
				cs[j] = c
			}
			b = b[8*len(cs):]
		}
		return nil
	})
	return b, err
}

// emptyRound1 allocates a round-one message of this side's shape.
func (p Params) emptyRound1() *Round1 {
	rkg := multiparty.NewRelinearizationKeyGenProtocol(p.CKKS)
	_, r1, _ := rkg.AllocateShare()
	m := &Round1{Relin: r1}
	gkg := multiparty.NewGaloisKeyGenProtocol(p.CKKS)
	els, full := p.galoisKeys()
	for i, el := range els {
		sh := gkg.AllocateShare(p.evkParams(full[i]))
		sh.GaloisElement = el
		m.Galois = append(m.Galois, sh)
	}
	return m
}

func (p Params) emptyRound2() *Round2 {
	rkg := multiparty.NewRelinearizationKeyGenProtocol(p.CKKS)
	_, _, r2 := rkg.AllocateShare()
	return &Round2{Relin: r2}
}

// Round1Size is the exact length of a marshalled round-one message.
func (p Params) Round1Size() int {
	m := p.emptyRound1()
	n := len(round1Magic) + 1 + p.gadgetSize(&m.Relin.GadgetCiphertext)
	for i := range m.Galois {
		n += p.gadgetSize(&m.Galois[i].GadgetCiphertext)
	}
	return n
}

// Round2Size is the exact length of a marshalled round-two message.
func (p Params) Round2Size() int {
	m := p.emptyRound2()
	return len(round2Magic) + 1 + p.gadgetSize(&m.Relin.GadgetCiphertext)
}

// MarshalRound1 encodes a round-one message for the wire.
func (p Params) MarshalRound1(m *Round1) ([]byte, error) {
	want := p.emptyRound1()
	if m == nil || len(m.Galois) != len(want.Galois) {
		return nil, errors.New("privacy: round-one message does not match these parameters")
	}
	b := make([]byte, 0, p.Round1Size())
	b = append(b, round1Magic...)
	b = append(b, byte(p.CKKS.LogN()))
	b = p.appendGadget(b, &m.Relin.GadgetCiphertext)
	for i := range m.Galois {
		b = p.appendGadget(b, &m.Galois[i].GadgetCiphertext)
	}
	if len(b) != p.Round1Size() {
		return nil, errors.New("privacy: round-one message does not match these parameters")
	}
	return b, nil
}

// UnmarshalRound1 decodes a peer's round-one message.
func (p Params) UnmarshalRound1(b []byte) (*Round1, error) {
	if len(b) != p.Round1Size() {
		return nil, fmt.Errorf("privacy: round-one message is %d bytes, want %d", len(b), p.Round1Size())
	}
	rest, err := p.readHeader(b, round1Magic)
	if err != nil {
		return nil, err
	}
	m := p.emptyRound1()
	if rest, err = p.readGadget(rest, &m.Relin.GadgetCiphertext); err != nil {
		return nil, fmt.Errorf("privacy: round-one relinearisation share: %w", err)
	}
	for i := range m.Galois {
		if rest, err = p.readGadget(rest, &m.Galois[i].GadgetCiphertext); err != nil {
			return nil, fmt.Errorf("privacy: round-one rotation share %d: %w", i, err)
		}
	}
	return m, nil
}

// MarshalRound2 encodes a round-two message for the wire.
func (p Params) MarshalRound2(m *Round2) ([]byte, error) {
	if m == nil {
		return nil, errors.New("privacy: missing round-two message")
	}
	b := make([]byte, 0, p.Round2Size())
	b = append(b, round2Magic...)
	b = append(b, byte(p.CKKS.LogN()))
	b = p.appendGadget(b, &m.Relin.GadgetCiphertext)
	if len(b) != p.Round2Size() {
		return nil, errors.New("privacy: round-two message does not match these parameters")
	}
	return b, nil
}

// UnmarshalRound2 decodes a peer's round-two message.
func (p Params) UnmarshalRound2(b []byte) (*Round2, error) {
	if len(b) != p.Round2Size() {
		return nil, fmt.Errorf("privacy: round-two message is %d bytes, want %d", len(b), p.Round2Size())
	}
	rest, err := p.readHeader(b, round2Magic)
	if err != nil {
		return nil, err
	}
	m := p.emptyRound2()
	if _, err = p.readGadget(rest, &m.Relin.GadgetCiphertext); err != nil {
		return nil, fmt.Errorf("privacy: round-two relinearisation share: %w", err)
	}
	return m, nil
}

func (p Params) readHeader(b []byte, magic string) ([]byte, error) {
	if string(b[:len(magic)]) != magic {
		return nil, errors.New("privacy: key-setup message: bad magic")
	}
	if int(b[len(magic)]) != p.CKKS.LogN() {
		return nil, fmt.Errorf("privacy: key-setup message is for ring degree 2^%d, want 2^%d", b[len(magic)], p.CKKS.LogN())
	}
	return b[len(magic)+1:], nil
}

// Finished says whether the key setup is complete (Finish or
// UnmarshalParty).
func (pa *Party) Finished() bool { return pa.finished }

// MarshalBinary encodes a finished party for its owner's own storage: the
// parameters it was made for, its secret-key share and the joint
// evaluation keys. The secret share is the agreement's half of the
// decryption key: store it as a private key (docs/privacy.md).
//
//	"EBSPHKP1" | logN | dim (uint16) | threshold | flood σ (float64s) | len(sk) (uint64) | sk | evaluation keys
func (pa *Party) MarshalBinary() ([]byte, error) {
	if !pa.finished {
		return nil, errors.New("privacy: key setup not finished")
	}
	sk, err := pa.sk.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("privacy: secret share: %w", err)
	}
	evk, err := pa.evk.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("privacy: evaluation keys: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(partyMagic)
	b.WriteByte(byte(pa.params.CKKS.LogN()))
	b.Write(binary.BigEndian.AppendUint16(nil, uint16(pa.params.Dim)))
	b.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(pa.params.Threshold)))
	b.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(pa.params.FloodSigma)))
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(sk))))
	b.Write(sk)
	b.Write(evk)
	return b.Bytes(), nil
}

// UnmarshalParty restores a party MarshalBinary wrote, for parameters p
// (which must be those it was made for).
func UnmarshalParty(p Params, b []byte) (*Party, error) {
	const head = len(partyMagic) + 1 + 2 + 8 + 8 + 8
	if len(b) < head || string(b[:len(partyMagic)]) != partyMagic {
		return nil, errors.New("privacy: not a stored party")
	}
	h := b[len(partyMagic):]
	logN, dim := int(h[0]), int(binary.BigEndian.Uint16(h[1:]))
	t := math.Float64frombits(binary.BigEndian.Uint64(h[3:]))
	sigma := math.Float64frombits(binary.BigEndian.Uint64(h[11:]))
	if logN != p.CKKS.LogN() || dim != p.Dim || t != p.Threshold || sigma != p.FloodSigma {
		return nil, fmt.Errorf("privacy: stored party is for ring 2^%d, %d dimensions, threshold %v, flooding %v; want 2^%d, %d, %v, %v",
			logN, dim, t, sigma, p.CKKS.LogN(), p.Dim, p.Threshold, p.FloodSigma)
	}
	n := binary.BigEndian.Uint64(h[19:])
	if n > uint64(len(b)-head) {
		return nil, errors.New("privacy: stored party is truncated")
	}
	pa := &Party{params: p, sk: rlwe.NewSecretKey(p.CKKS), evk: &rlwe.MemEvaluationKeySet{}, finished: true}
	if err := pa.sk.UnmarshalBinary(b[head : head+int(n)]); err != nil {
		return nil, fmt.Errorf("privacy: stored secret share: %w", err)
	}
	if err := pa.evk.UnmarshalBinary(b[head+int(n):]); err != nil {
		return nil, fmt.Errorf("privacy: stored evaluation keys: %w", err)
	}
	if pa.evk.RelinearizationKey == nil {
		return nil, errors.New("privacy: stored evaluation keys lack the relinearisation key")
	}
	els, _ := p.galoisKeys()
	for _, el := range els {
		if _, err := pa.evk.GetGaloisKey(el); err != nil && !p.optionalKey(el) {
			return nil, fmt.Errorf("privacy: stored evaluation keys lack rotation key %d", el)
		}
	}
	if _, err := newFusedRings(p); err != nil {
		return nil, err
	}
	return pa, nil
}

const projectionMagic = "EBSPPRJ1"

// MarshalBinary encodes the projection, so that two states can fix it in
// their agreement: "EBSPPRJ1" | In (uint16) | Out (uint16) | mean (In
// float64s) | rows (Out × In float64s), big endian.
func (pr *Projection) MarshalBinary() ([]byte, error) {
	b := append([]byte(projectionMagic), 0, 0, 0, 0)
	binary.BigEndian.PutUint16(b[8:], uint16(pr.In))
	binary.BigEndian.PutUint16(b[10:], uint16(pr.Out))
	for _, x := range append(append([]float64(nil), pr.mean...), pr.rows...) {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b, nil
}

// UnmarshalProjection decodes what Projection.MarshalBinary wrote.
func UnmarshalProjection(b []byte) (*Projection, error) {
	if len(b) < 12 || string(b[:8]) != projectionMagic {
		return nil, errors.New("privacy: not a projection")
	}
	in, out := int(binary.BigEndian.Uint16(b[8:])), int(binary.BigEndian.Uint16(b[10:]))
	if in == 0 || out == 0 || out > in || len(b) != 12+8*(in+out*in) {
		return nil, fmt.Errorf("privacy: projection of %d to %d dimensions has %d bytes", in, out, len(b))
	}
	vals := make([]float64, in+out*in)
	for i := range vals {
		vals[i] = math.Float64frombits(binary.BigEndian.Uint64(b[12+8*i:]))
		if math.IsNaN(vals[i]) || math.IsInf(vals[i], 0) {
			return nil, errors.New("privacy: projection holds a value that is not a finite number")
		}
	}
	return &Projection{In: in, Out: out, mean: vals[:in], rows: vals[in:]}, nil
}

// CentringProjection is the projection that only centres: it subtracts
// mean and keeps every dimension (a rotation-free Projection, for when too
// few training embeddings exist to learn principal axes; cosines of
// centred vectors are what the search compares).
func CentringProjection(mean []float32) *Projection {
	n := len(mean)
	p := &Projection{In: n, Out: n, mean: make([]float64, n), rows: make([]float64, n*n)}
	for i, x := range mean {
		p.mean[i] = float64(x)
		p.rows[i*n+i] = 1
	}
	return p
}
