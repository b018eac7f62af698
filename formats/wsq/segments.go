package wsq

import (
	"encoding/binary"
	"fmt"
)

// This file reads and writes the marker segments of the interchange format
// (IAFIS-IC-0110 Annex B.2). Every segment but SOI, EOI and RSTn starts
// with a 16-bit length that counts itself.

// frameHeader is the SOF segment (B.2.2).
type frameHeader struct {
	black, white  int
	height, width int
	shift, scale  float32 // M and R, decoded from (exponent, 16-bit) pairs
	encoder       int
	software      int
}

// transformTable is the DTT segment (B.2.3) turned into synthesis filters:
// the decoder's highpass filter comes from the transmitted analysis lowpass
// and its lowpass filter from the transmitted analysis highpass (the
// quadrature-mirror relation of a biorthogonal filter bank).
type transformTable struct {
	lowTaps, highTaps int       // transmitted analysis lowpass and highpass lengths
	synthLow          []float32 // length highTaps
	synthHigh         []float32 // length lowTaps
}

// quantTable is the DQT segment (B.2.4): bin centre C, and per subband the
// bin width Q and zero-bin width Z. Q == 0 means the subband is not coded.
type quantTable struct {
	defined   bool
	binCenter float32
	q, z      [numSubbands]float32
}

// huffTable is one table of a DHT segment (B.2.5): the number of codes of
// each length 1..16 and the symbols in code order.
type huffTable struct {
	defined bool
	counts  [16]uint8
	values  []uint8
}

// scaledValue decodes the specification's (exponent, integer) pairs: the
// value is integer / 10^exponent. The division is done as the reference
// decoder does it, one step of ten at a time in double precision, rounded to
// single precision after each step, so that the result has the same bits.
func scaledValue(exp uint8, v uint32) float32 {
	f := float32(v)
	for i := uint8(0); i < exp; i++ {
		f = float32(float64(f) / 10)
	}
	return f
}

// segReader reads the fields of one segment's payload with bounds checks.
type segReader struct {
	b    []byte
	off  int // offset of b[0] in the file, for error messages
	name string
	i    int
}

func (s *segReader) need(n int) error {
	if len(s.b)-s.i < n {
		return fmt.Errorf("%w: %s at offset %d: segment too short (%d bytes, field at %d needs %d)",
			ErrFormat, s.name, s.off-4, len(s.b)+2, s.i+2, n)
	}
	return nil
}

func (s *segReader) u8() (uint8, error) {
	if err := s.need(1); err != nil {
		return 0, err
	}
	v := s.b[s.i]
	s.i++
	return v, nil
}

func (s *segReader) u16() (uint16, error) {
	if err := s.need(2); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint16(s.b[s.i:])
	s.i += 2
	return v, nil
}

func (s *segReader) u32() (uint32, error) {
	if err := s.need(4); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint32(s.b[s.i:])
	s.i += 4
	return v, nil
}

// scaled reads an (exponent byte, 16-bit integer) pair.
func (s *segReader) scaled() (float32, error) {
	e, err := s.u8()
	if err != nil {
		return 0, err
	}
	v, err := s.u16()
	if err != nil {
		return 0, err
	}
	return scaledValue(e, uint32(v)), nil
}

func (s *segReader) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d: %s", ErrFormat, s.name, s.off-4, fmt.Sprintf(format, args...))
}

// parseSOF reads a frame header (B.2.2: A, B, Y, X, Em, M, Er, R, Ev, Sf).
func parseSOF(s *segReader) (*frameHeader, error) {
	var f frameHeader
	var b [2]uint8
	var w [2]uint16
	var err error
	if b[0], err = s.u8(); err != nil {
		return nil, err
	}
	if b[1], err = s.u8(); err != nil {
		return nil, err
	}
	if w[0], err = s.u16(); err != nil {
		return nil, err
	}
	if w[1], err = s.u16(); err != nil {
		return nil, err
	}
	f.black, f.white, f.height, f.width = int(b[0]), int(b[1]), int(w[0]), int(w[1])
	if f.shift, err = s.scaled(); err != nil {
		return nil, err
	}
	if f.scale, err = s.scaled(); err != nil {
		return nil, err
	}
	enc, err := s.u8()
	if err != nil {
		return nil, err
	}
	sw, err := s.u16()
	if err != nil {
		return nil, err
	}
	f.encoder, f.software = int(enc), int(sw)
	if f.width == 0 || f.height == 0 {
		return nil, s.errorf("image of %dx%d pixels", f.width, f.height)
	}
	return &f, nil
}

// parseDTT reads a transform table (B.2.3). The segment gives the lengths
// L0 (analysis lowpass) and L1 (analysis highpass), then the right half of
// each symmetric (odd length) or antisymmetric (even length) filter, from
// the centre outwards, each coefficient as (sign byte, exponent byte,
// 32-bit integer).
func parseDTT(s *segReader) (*transformTable, error) {
	l0, err := s.u8()
	if err != nil {
		return nil, err
	}
	l1, err := s.u8()
	if err != nil {
		return nil, err
	}
	t := &transformTable{lowTaps: int(l0), highTaps: int(l1)}
	if t.lowTaps < 1 || t.lowTaps > maxFilterLen || t.highTaps < 1 || t.highTaps > maxFilterLen {
		return nil, s.errorf("filter lengths %d and %d out of range 1..%d", l0, l1, maxFilterLen)
	}
	if t.lowTaps%2 != t.highTaps%2 {
		return nil, s.errorf("filter lengths %d and %d differ in parity", l0, l1)
	}
	half := func(n int) ([]float32, error) {
		h := make([]float32, (n+1)/2)
		for i := range h {
			sign, err := s.u8()
			if err != nil {
				return nil, err
			}
			exp, err := s.u8()
			if err != nil {
				return nil, err
			}
			v, err := s.u32()
			if err != nil {
				return nil, err
			}
			h[i] = scaledValue(exp, v)
			if sign != 0 {
				h[i] = -h[i]
			}
		}
		return h, nil
	}
	a, err := half(t.lowTaps)
	if err != nil {
		return nil, err
	}
	b, err := half(t.highTaps)
	if err != nil {
		return nil, err
	}
	t.synthHigh = modulate(a, t.lowTaps, false)
	t.synthLow = modulate(b, t.highTaps, true)
	return t, nil
}

// modulate builds a full synthesis filter of n taps from the half h of an
// analysis filter (centre outwards) by alternating signs, g(k) = (-1)^k h(k)
// counted from the centre. An odd filter is mirrored symmetrically. An even
// highpass synthesis filter is antisymmetric; an even lowpass one (fromHigh)
// is symmetric and, with the sign convention of the reference decoder, starts
// with a negative sign at the centre.
func modulate(h []float32, n int, fromHigh bool) []float32 {
	g := make([]float32, n)
	sign := func(k int) float32 {
		if k%2 == 0 {
			return 1
		}
		return -1
	}
	if n%2 == 1 {
		c := n / 2
		for k, v := range h {
			g[c+k] = sign(k) * v
			g[c-k] = g[c+k]
		}
		return g
	}
	m := n / 2
	for k, v := range h {
		if fromHigh {
			g[m+k] = sign(k+1) * v
			g[m-1-k] = g[m+k]
		} else {
			g[m+k] = sign(k) * v
			g[m-1-k] = -g[m+k]
		}
	}
	return g
}

// parseDQT reads a quantisation table (B.2.4): C, then (Q, Z) for each of
// the 64 subbands, each as (exponent, 16-bit integer).
func parseDQT(s *segReader) (*quantTable, error) {
	t := &quantTable{defined: true}
	var err error
	if t.binCenter, err = s.scaled(); err != nil {
		return nil, err
	}
	for k := 0; k < numSubbands; k++ {
		if t.q[k], err = s.scaled(); err != nil {
			return nil, err
		}
		if t.z[k], err = s.scaled(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// parseDHT reads the one or more Huffman tables of a DHT segment (B.2.5):
// each is a table id, 16 code counts and the symbols.
func parseDHT(s *segReader, tables *[maxHuffTables]huffTable) ([]int, error) {
	var ids []int
	for s.i < len(s.b) {
		id, err := s.u8()
		if err != nil {
			return nil, err
		}
		if int(id) >= maxHuffTables {
			return nil, s.errorf("table id %d out of range 0..%d", id, maxHuffTables-1)
		}
		var t huffTable
		n := 0
		for i := range t.counts {
			if t.counts[i], err = s.u8(); err != nil {
				return nil, err
			}
			n += int(t.counts[i])
		}
		if n == 0 || n > 256 {
			return nil, s.errorf("table %d has %d codes", id, n)
		}
		if err := s.need(n); err != nil {
			return nil, err
		}
		t.values = append([]uint8(nil), s.b[s.i:s.i+n]...)
		s.i += n
		if err := checkCodeSpace(&t.counts); err != nil {
			return nil, s.errorf("table %d: %v", id, err)
		}
		t.defined = true
		tables[id] = t
		ids = append(ids, int(id))
	}
	return ids, nil
}

// putScaled encodes v >= 0 as (exponent, integer) with the integer below
// limit and as many decimal digits as fit, the inverse of scaledValue.
func putScaled(v float64, limit float64) (uint8, uint32) {
	if v <= 0 {
		return 0, 0
	}
	if v >= limit {
		return 0, uint32(limit)
	}
	exp := uint8(0)
	for v*10 < limit && exp < 30 {
		v *= 10
		exp++
	}
	r := uint32(v + 0.5)
	if float64(r) > limit {
		r = uint32(limit)
	}
	return exp, r
}

// segmentWriter accumulates the bytes of one segment.
type segmentWriter struct{ b []byte }

func (w *segmentWriter) u8(v uint8)   { w.b = append(w.b, v) }
func (w *segmentWriter) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *segmentWriter) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

// scaled16 writes v as (exponent, 16-bit integer) and returns the value a
// decoder will read back.
func (w *segmentWriter) scaled16(v float64) float32 {
	e, r := putScaled(v, 65535)
	w.u8(e)
	w.u16(uint16(r))
	return scaledValue(e, r)
}

// appendSegment appends marker, length and payload to out.
func appendSegment(out []byte, marker int, payload []byte) []byte {
	out = binary.BigEndian.AppendUint16(out, uint16(marker))
	out = binary.BigEndian.AppendUint16(out, uint16(len(payload)+2))
	return append(out, payload...)
}
