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
//	u16 n                       minutiae, at most 48
//	u8  flags                   bit 0 (mccCodecSecond): a second-look form
//	                            follows; the other bits are 0
//	form(n)
//	with flag bit 0:
//	u16 m                       minutiae of the second-look form,
//	                            48 < m <= 72, and then n = 48
//	form(m)
//
// where form(k), the minutiae of one prepared form, is
//
//	k × {f32 x, f32 y, f32 angle, u8 valid, u16 valid cells}, by angle
//	k × (words + cellWords) × u64: content, cell validity
//	k × u32 original index
//
// All integers are big-endian. The pairwise geometry is recomputed on
// reading, being a function of the minutiae.
//
// The second-look form (MatchOptions.SecondLook) was added to version 1
// rather than made a version 2: a reader from before it refuses any flag
// bit (and any length but that of form(n)), so it refuses such a form with
// an error and cannot misread it, while forms without one are the bytes
// they were, which keeps stores named by PreparedFormatVersion (a node's
// gallery snapshot) valid.
//
// The verification's grid (MatchOptions.NoVerify) of either form is not
// stored but made again on reading, as Prepare makes it. A verifying
// Matcher makes the grid of a form that has none (one made by PrepareWith
// with NoVerify) at each comparison that needs it (verifyAt), with the same
// scores as a form that has one (TestPreparedBinarySecondLook) and a
// lower 1:N rate (on FVC2004 DB3, 105,000 comparisons per CPU-second
// instead of 120,000).
const (
	mccCodecMagic   = "MCCP"
	mccCodecVersion = 1
	// mccCodecSecond is the flag bit of a form followed by its second-look
	// form.
	mccCodecSecond = 1 << 0
	// mccCodecHead is the length of the header, up to and including the
	// flags.
	mccCodecHead = 4 + 1 + 2 + 2 + 2 + 1
)

// PreparedFormatVersion is the version of MarshalBinary's form, for the
// names of stores that keep it (search.PreparedCodec).
const PreparedFormatVersion = mccCodecVersion

// ErrPreparedFormat is returned by UnmarshalBinary for bytes that are not a
// prepared template of this version and cylinder layout.
var ErrPreparedFormat = errors.New("fingerprint: not a prepared template of this format")

// mccFormBytes is the length of form(n) in the binary form.
func mccFormBytes(n int) int { return n*15 + n*8*mccStride + 4*n }

// MarshalBinary encodes p (encoding.BinaryMarshaler), with its second-look
// form when it has one.
func (p *Prepared) MarshalBinary() ([]byte, error) {
	g := mccGeo
	n := p.n
	size := mccCodecHead + mccFormBytes(n)
	flags := byte(0)
	if p.second != nil {
		flags |= mccCodecSecond
		size += 2 + mccFormBytes(p.second.n)
	}
	out := make([]byte, 0, size)
	out = append(out, mccCodecMagic...)
	out = append(out, mccCodecVersion, mccNs, mccNd)
	out = binary.BigEndian.AppendUint16(out, uint16(g.words))
	out = binary.BigEndian.AppendUint16(out, uint16(n))
	out = append(out, flags)
	out = p.appendForm(out)
	if p.second != nil {
		out = binary.BigEndian.AppendUint16(out, uint16(p.second.n))
		out = p.second.appendForm(out)
	}
	return out, nil
}

// appendForm appends form(p.n) of the binary form.
func (p *Prepared) appendForm(out []byte) []byte {
	for i := 0; i < p.n; i++ {
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
	return out
}

// UnmarshalBinary decodes what MarshalBinary wrote
// (encoding.BinaryUnmarshaler). It checks every length against the input
// before allocating, so memory stays proportional to the input.
func (p *Prepared) UnmarshalBinary(data []byte) error { return p.unmarshal(data, true) }

// UnmarshalCompact is UnmarshalBinary followed by Compact, without
// computing the pair table that Compact drops (most of UnmarshalBinary's
// CPU); a second-look form is read compact too.
func (p *Prepared) UnmarshalCompact(data []byte) error { return p.unmarshal(data, false) }

// unmarshal is UnmarshalBinary, with the pair table when pairs is set.
func (p *Prepared) unmarshal(data []byte, pairs bool) error {
	g := mccGeo
	const head = mccCodecHead
	if len(data) < head || string(data[:4]) != mccCodecMagic {
		return fmt.Errorf("%w: no %q header", ErrPreparedFormat, mccCodecMagic)
	}
	if data[4] != mccCodecVersion || data[5] != mccNs || data[6] != mccNd || int(binary.BigEndian.Uint16(data[7:])) != g.words {
		return fmt.Errorf("%w: version %d with %dx%d cells, %d words; this build reads version %d with %dx%d, %d",
			ErrPreparedFormat, data[4], data[5], data[6], binary.BigEndian.Uint16(data[7:]), mccCodecVersion, mccNs, mccNd, g.words)
	}
	n := int(binary.BigEndian.Uint16(data[9:]))
	flags := data[11]
	if n > mccMaxMinutiae || flags&^mccCodecSecond != 0 {
		return fmt.Errorf("%w: %d minutiae (at most %d), flags %#x (defined %#x)", ErrPreparedFormat, n, mccMaxMinutiae, flags, mccCodecSecond)
	}
	want := head + mccFormBytes(n)
	m := 0 // minutiae of the second-look form, if one follows
	if flags&mccCodecSecond == 0 {
		if len(data) != want {
			return fmt.Errorf("%w: %d bytes, %d minutiae need %d", ErrPreparedFormat, len(data), n, want)
		}
	} else {
		// A second-look form follows the first, which then holds the
		// first look's whole budget (PrepareWith makes one only for a
		// template of more minutiae).
		if n != mccMaxMinutiae {
			return fmt.Errorf("%w: flags %#x state a second-look form after %d minutiae; it follows only %d", ErrPreparedFormat, flags, n, mccMaxMinutiae)
		}
		if len(data) < want+2 {
			return fmt.Errorf("%w: %d bytes, %d minutiae and a second-look form need at least %d", ErrPreparedFormat, len(data), n, want+2)
		}
		m = int(binary.BigEndian.Uint16(data[want:]))
		if m <= mccMaxMinutiae || m > mccSecondCap {
			return fmt.Errorf("%w: second-look form of %d minutiae at offset %d; it holds %d-%d", ErrPreparedFormat, m, want, mccMaxMinutiae+1, mccSecondCap)
		}
		if total := want + 2 + mccFormBytes(m); len(data) != total {
			return fmt.Errorf("%w: %d bytes, %d minutiae and a second-look form of %d need %d", ErrPreparedFormat, len(data), n, m, total)
		}
	}
	q, err := mccDecodeForm(data, head, n, pairs, "")
	if err != nil {
		return err
	}
	if m > 0 {
		// A compact read makes the second-look form compact too, as Compact.
		if q.second, err = mccDecodeForm(data, want+2, m, pairs, "second-look form: "); err != nil {
			return err
		}
		q.second.buildGrid()
	}
	// The verification's grid, as Prepare makes it (a function of the
	// minutiae, so not stored).
	q.buildGrid()
	*p = *q
	return nil
}

// mccDecodeForm decodes form(n) of data at off, whose length the caller
// has checked; what prefixes its errors (which form).
func mccDecodeForm(data []byte, off, n int, pairs bool, what string) (*Prepared, error) {
	g := mccGeo
	q := &Prepared{n: n, x: make([]float32, n), y: make([]float32, n), angle: make([]float32, n)}
	valid := make([]bool, n)
	cellCount := make([]uint16, n)
	for i := 0; i < n; i++ {
		q.x[i] = math.Float32frombits(binary.BigEndian.Uint32(data[off:]))
		q.y[i] = math.Float32frombits(binary.BigEndian.Uint32(data[off+4:]))
		a := math.Float32frombits(binary.BigEndian.Uint32(data[off+8:]))
		if !(a >= 0 && a < 2*math.Pi) || math.IsNaN(float64(q.x[i])) || math.IsNaN(float64(q.y[i])) ||
			math.Abs(float64(q.x[i])) > 1<<20 || math.Abs(float64(q.y[i])) > 1<<20 {
			return nil, fmt.Errorf("%w: %sminutia %d at offset %d out of range", ErrPreparedFormat, what, i, off)
		}
		if i > 0 && a < q.angle[i-1] {
			return nil, fmt.Errorf("%w: %sminutia %d at offset %d not in direction order", ErrPreparedFormat, what, i, off)
		}
		q.angle[i] = a
		if data[off+12] > 1 {
			return nil, fmt.Errorf("%w: %sminutia %d: validity byte %d at offset %d", ErrPreparedFormat, what, i, data[off+12], off+12)
		}
		valid[i] = data[off+12] == 1
		cellCount[i] = binary.BigEndian.Uint16(data[off+13:])
		if int(cellCount[i]) > g.cells {
			return nil, fmt.Errorf("%w: %sminutia %d: %d valid cells of %d at offset %d", ErrPreparedFormat, what, i, cellCount[i], g.cells, off+13)
		}
		off += 15
	}
	bitsAt := off
	bits := make([]uint64, n*mccStride)
	for i := range bits {
		bits[i] = binary.BigEndian.Uint64(data[off:])
		off += 8
	}
	// The cell validity words must hold exactly the stated number of
	// valid cells and no bit beyond the last cell: the comparison relies on
	// both (a full cylinder shares all of another's valid cells).
	for i := 0; i < n; i++ {
		count := 0
		for w, word := range bits[i*mccStride+g.words : (i+1)*mccStride] {
			if rest := g.cells - 64*w; rest < 64 && word>>max(rest, 0) != 0 {
				return nil, fmt.Errorf("%w: %sminutia %d: validity bits beyond cell %d at offset %d",
					ErrPreparedFormat, what, i, g.cells, bitsAt+8*(i*mccStride+g.words+w))
			}
			count += mathbits.OnesCount64(word)
		}
		if count != int(cellCount[i]) {
			return nil, fmt.Errorf("%w: %sminutia %d: %d valid cells stated, %d in the mask at offset %d",
				ErrPreparedFormat, what, i, cellCount[i], count, bitsAt+8*(i*mccStride+g.words))
		}
	}
	q.orig = make([]int32, n)
	for i := range q.orig {
		q.orig[i] = int32(binary.BigEndian.Uint32(data[off:]))
		if q.orig[i] < 0 {
			return nil, fmt.Errorf("%w: %sminutia %d: negative original index at offset %d", ErrPreparedFormat, what, i, off)
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
	return q, nil
}
