package fingerprint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	mathbits "math/bits"
)

// The binary form of a Prepared, for a node to store or cache gallery
// templates next to their minutiae:
//
//	"MCCP"                      magic
//	u8  version (1)
//	u8  Ns, u8 Nd, u16 words    cylinder layout; a form made with another
//	                            layout is refused, not misread
//	u16 n                       minutiae
//	u8  flags                   0 (none defined)
//	n × {f32 x, f32 y, f32 angle, u8 valid, u16 valid cells}, by angle
//	n × (words + cellWords) × u64: content, cell validity
//	n × u32 original index
//
// All integers are big-endian. The pairwise geometry is recomputed on
// reading, being a function of the minutiae.
const (
	mccCodecMagic   = "MCCP"
	mccCodecVersion = 1
)

// PreparedFormatVersion is the version of MarshalBinary's form, for the
// names of stores that keep it (search.PreparedCodec).
const PreparedFormatVersion = mccCodecVersion

// ErrPreparedFormat is returned by UnmarshalBinary for bytes that are not a
// prepared template of this version and cylinder layout.
var ErrPreparedFormat = errors.New("fingerprint: not a prepared template of this format")

// MarshalBinary encodes p (encoding.BinaryMarshaler).
func (p *Prepared) MarshalBinary() ([]byte, error) {
	g := mccGeo
	n := p.n
	size := 4 + 1 + 2 + 2 + 2 + 1 + n*15 + n*8*mccStride + 4*n
	out := make([]byte, 0, size)
	out = append(out, mccCodecMagic...)
	out = append(out, mccCodecVersion, mccNs, mccNd)
	out = binary.BigEndian.AppendUint16(out, uint16(g.words))
	out = binary.BigEndian.AppendUint16(out, uint16(n))
	out = append(out, 0) // flags, none defined
	for i := 0; i < n; i++ {
		out = binary.BigEndian.AppendUint32(out, math.Float32bits(p.x[i]))
		out = binary.BigEndian.AppendUint32(out, math.Float32bits(p.y[i]))
		out = binary.BigEndian.AppendUint32(out, math.Float32bits(p.angle[i]))
		v := byte(0)
		if p.valid[i] {
			v = 1
		}
		out = append(out, v)
		out = binary.BigEndian.AppendUint16(out, p.cellCount[i])
	}
	for _, w := range p.bits {
		out = binary.BigEndian.AppendUint64(out, w)
	}
	for _, o := range p.orig {
		out = binary.BigEndian.AppendUint32(out, uint32(o))
	}
	return out, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote
// (encoding.BinaryUnmarshaler). It checks every length against the input
// before allocating, so memory stays proportional to the input.
func (p *Prepared) UnmarshalBinary(data []byte) error { return p.unmarshal(data, true) }

// UnmarshalCompact is UnmarshalBinary followed by Compact, without
// computing the pair table that Compact drops (most of UnmarshalBinary's
// CPU).
func (p *Prepared) UnmarshalCompact(data []byte) error { return p.unmarshal(data, false) }

// unmarshal is UnmarshalBinary, with the pair table when pairs is set.
func (p *Prepared) unmarshal(data []byte, pairs bool) error {
	g := mccGeo
	const head = 4 + 1 + 2 + 2 + 2 + 1
	if len(data) < head || string(data[:4]) != mccCodecMagic {
		return fmt.Errorf("%w: no %q header", ErrPreparedFormat, mccCodecMagic)
	}
	if data[4] != mccCodecVersion || data[5] != mccNs || data[6] != mccNd || int(binary.BigEndian.Uint16(data[7:])) != g.words {
		return fmt.Errorf("%w: version %d with %dx%d cells, %d words; this build reads version %d with %dx%d, %d",
			ErrPreparedFormat, data[4], data[5], data[6], binary.BigEndian.Uint16(data[7:]), mccCodecVersion, mccNs, mccNd, g.words)
	}
	n := int(binary.BigEndian.Uint16(data[9:]))
	flags := data[11]
	if n > mccMaxMinutiae || flags != 0 {
		return fmt.Errorf("%w: %d minutiae (at most %d), flags %#x", ErrPreparedFormat, n, mccMaxMinutiae, flags)
	}
	want := head + n*15 + n*8*mccStride + 4*n
	if len(data) != want {
		return fmt.Errorf("%w: %d bytes, %d minutiae need %d", ErrPreparedFormat, len(data), n, want)
	}
	q := Prepared{n: n, x: make([]float32, n), y: make([]float32, n), angle: make([]float32, n)}
	valid := make([]bool, n)
	cellCount := make([]uint16, n)
	off := head
	for i := 0; i < n; i++ {
		q.x[i] = math.Float32frombits(binary.BigEndian.Uint32(data[off:]))
		q.y[i] = math.Float32frombits(binary.BigEndian.Uint32(data[off+4:]))
		a := math.Float32frombits(binary.BigEndian.Uint32(data[off+8:]))
		if !(a >= 0 && a < 2*math.Pi) || math.IsNaN(float64(q.x[i])) || math.IsNaN(float64(q.y[i])) ||
			math.Abs(float64(q.x[i])) > 1<<20 || math.Abs(float64(q.y[i])) > 1<<20 {
			return fmt.Errorf("%w: minutia %d at offset %d out of range", ErrPreparedFormat, i, off)
		}
		if i > 0 && a < q.angle[i-1] {
			return fmt.Errorf("%w: minutia %d at offset %d not in direction order", ErrPreparedFormat, i, off)
		}
		q.angle[i] = a
		if data[off+12] > 1 {
			return fmt.Errorf("%w: minutia %d: validity byte %d at offset %d", ErrPreparedFormat, i, data[off+12], off+12)
		}
		valid[i] = data[off+12] == 1
		cellCount[i] = binary.BigEndian.Uint16(data[off+13:])
		if int(cellCount[i]) > g.cells {
			return fmt.Errorf("%w: minutia %d: %d valid cells of %d", ErrPreparedFormat, i, cellCount[i], g.cells)
		}
		off += 15
	}
	read := func(k int) []uint64 {
		ws := make([]uint64, k)
		for i := range ws {
			ws[i] = binary.BigEndian.Uint64(data[off:])
			off += 8
		}
		return ws
	}
	bits := read(n * mccStride)
	// The cell validity words must hold exactly the stated number of
	// valid cells and no bit beyond the last cell: the comparison relies on
	// both (a full cylinder shares all of another's valid cells).
	for i := 0; i < n; i++ {
		count := 0
		for w, word := range bits[i*mccStride+g.words : (i+1)*mccStride] {
			if rest := g.cells - 64*w; rest < 64 && word>>max(rest, 0) != 0 {
				return fmt.Errorf("%w: minutia %d: validity bits beyond cell %d", ErrPreparedFormat, i, g.cells)
			}
			count += mathbits.OnesCount64(word)
		}
		if count != int(cellCount[i]) {
			return fmt.Errorf("%w: minutia %d: %d valid cells stated, %d in the mask", ErrPreparedFormat, i, cellCount[i], count)
		}
	}
	q.orig = make([]int32, n)
	for i := range q.orig {
		q.orig[i] = int32(binary.BigEndian.Uint32(data[off:]))
		if q.orig[i] < 0 {
			return fmt.Errorf("%w: minutia %d: negative original index", ErrPreparedFormat, i)
		}
		off += 4
	}
	// Recompute the directions and the pair table, which are functions of
	// the minutiae.
	if pairs {
		q.buildGeometry()
	} else {
		q.buildDirections()
	}
	q.valid, q.cellCount, q.bits = valid, cellCount, bits
	q.ones = make([]uint16, n)
	for i := range q.ones {
		for _, w := range bits[i*mccStride : i*mccStride+g.words] {
			q.ones[i] += uint16(mathbits.OnesCount64(w))
		}
	}
	q.finish()
	*p = q
	return nil
}
