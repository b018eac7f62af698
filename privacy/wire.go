package privacy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/ring"
)

// Wire formats. Both are fixed-size for given parameters, so a reader
// knows the exact length before it allocates anything:
//
//	probe: "EBSPHEP1" | logN (1 byte) | level (1 byte) | seed (32 bytes) | c0
//	reply: "EBSPHER1" | logN (1 byte) | scale (float64, big endian) | c0 | c1
//
// A polynomial is its residues modulo q_0..q_level in turn, each
// coefficient packed in bitlen(q_i) bits, most significant bit first, each
// residue padded to a whole byte. Bit packing matters here: the probe is
// the upload, and 38-bit residues would otherwise take 64.
const (
	probeMagic = "EBSPHEP1"
	replyMagic = "EBSPHER1"
)

// polyBytes is the packed size of a polynomial at level.
func (p Params) polyBytes(level int) int {
	n := 0
	for _, q := range p.CKKS.Q()[:level+1] {
		n += (p.CKKS.N()*bits.Len64(q) + 7) / 8
	}
	return n
}

// ProbeSize is the exact length of a marshalled probe.
func (p Params) ProbeSize() int { return len(probeMagic) + 2 + 32 + p.polyBytes(p.probeLevel()) }

// ReplySize is the exact length of a marshalled reply.
func (p Params) ReplySize() int { return len(replyMagic) + 1 + 8 + 2*p.polyBytes(0) }

// MarshalProbe encodes a probe for the wire.
func (p Params) MarshalProbe(pr *Probe) ([]byte, error) {
	level := p.probeLevel()
	if pr == nil || pr.C0.Level() != level || pr.C0.N() != p.CKKS.N() {
		return nil, errors.New("privacy: probe does not match these parameters")
	}
	b := make([]byte, 0, p.ProbeSize())
	b = append(b, probeMagic...)
	b = append(b, byte(p.CKKS.LogN()), byte(level))
	b = append(b, pr.Seed[:]...)
	return p.appendPoly(b, pr.C0, level), nil
}

// UnmarshalProbe decodes a probe, checking its length, header and that
// every residue lies below its modulus.
func (p Params) UnmarshalProbe(b []byte) (*Probe, error) {
	level := p.probeLevel()
	if len(b) != p.ProbeSize() {
		return nil, fmt.Errorf("privacy: probe is %d bytes, want %d", len(b), p.ProbeSize())
	}
	if string(b[:8]) != probeMagic {
		return nil, errors.New("privacy: probe: bad magic")
	}
	if int(b[8]) != p.CKKS.LogN() || int(b[9]) != level {
		return nil, fmt.Errorf("privacy: probe is for ring degree 2^%d at level %d, want 2^%d at level %d", b[8], b[9], p.CKKS.LogN(), level)
	}
	pr := &Probe{}
	copy(pr.Seed[:], b[10:42])
	var err error
	if pr.C0, err = p.readPoly(b[42:], level); err != nil {
		return nil, fmt.Errorf("privacy: probe: %w", err)
	}
	return pr, nil
}

// MarshalReply encodes a reply for the wire.
func (p Params) MarshalReply(r *Reply) ([]byte, error) {
	if r == nil || r.C0.Level() != 0 || r.C1.Level() != 0 || r.C0.N() != p.CKKS.N() || r.C1.N() != p.CKKS.N() {
		return nil, errors.New("privacy: reply does not match these parameters")
	}
	b := make([]byte, 0, p.ReplySize())
	b = append(b, replyMagic...)
	b = append(b, byte(p.CKKS.LogN()))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.Scale))
	b = p.appendPoly(b, r.C0, 0)
	return p.appendPoly(b, r.C1, 0), nil
}

// UnmarshalReply decodes a reply.
func (p Params) UnmarshalReply(b []byte) (*Reply, error) {
	if len(b) != p.ReplySize() {
		return nil, fmt.Errorf("privacy: reply is %d bytes, want %d", len(b), p.ReplySize())
	}
	if string(b[:8]) != replyMagic {
		return nil, errors.New("privacy: reply: bad magic")
	}
	if int(b[8]) != p.CKKS.LogN() {
		return nil, fmt.Errorf("privacy: reply is for ring degree 2^%d, want 2^%d", b[8], p.CKKS.LogN())
	}
	r := &Reply{Scale: math.Float64frombits(binary.BigEndian.Uint64(b[9:17]))}
	if !(r.Scale > 1) || math.IsInf(r.Scale, 0) {
		return nil, errors.New("privacy: reply: invalid scale")
	}
	n := p.polyBytes(0)
	var err error
	if r.C0, err = p.readPoly(b[17:17+n], 0); err != nil {
		return nil, fmt.Errorf("privacy: reply c0: %w", err)
	}
	if r.C1, err = p.readPoly(b[17+n:], 0); err != nil {
		return nil, fmt.Errorf("privacy: reply c1: %w", err)
	}
	return r, nil
}

func (p Params) appendPoly(b []byte, pol ring.Poly, level int) []byte {
	for i, q := range p.CKKS.Q()[:level+1] {
		w := uint(bits.Len64(q))
		var acc uint64 // pending bits, right-aligned
		var n uint
		for _, c := range pol.Coeffs[i] {
			// Lattigo leaves some results lazily reduced (in [0, 2q));
			// packed unreduced, a residue at or above 2^w lost its top bit
			// and the reply decrypted to garbage (the count bug of
			// docs/privacy.md, TestWireLazyResidues).
			c %= q
			// acc holds fewer than 8 pending bits here, so w ≤ 61 fits.
			acc = acc<<w | c
			n += w
			for n >= 8 {
				n -= 8
				b = append(b, byte(acc>>n))
			}
			acc &= 1<<n - 1
		}
		if n > 0 {
			b = append(b, byte(acc<<(8-n)))
		}
	}
	return b
}

func (p Params) readPoly(b []byte, level int) (ring.Poly, error) {
	pol := p.CKKS.RingQ().AtLevel(level).NewPoly()
	off := 0
	for i, q := range p.CKKS.Q()[:level+1] {
		w := uint(bits.Len64(q))
		size := (p.CKKS.N()*int(w) + 7) / 8
		if off+size > len(b) {
			return pol, errors.New("truncated polynomial")
		}
		src := b[off : off+size]
		var acc uint64
		var n uint
		k := 0
		for j := range pol.Coeffs[i] {
			for n < w {
				acc = acc<<8 | uint64(src[k])
				k++
				n += 8
			}
			n -= w
			c := acc >> n
			acc &= 1<<n - 1
			if c >= q {
				return pol, fmt.Errorf("residue %d of modulus %d is not below it", j, i)
			}
			pol.Coeffs[i][j] = c
		}
		off += size
	}
	if off != len(b) {
		return pol, errors.New("trailing bytes after polynomial")
	}
	return pol, nil
}
