package wsq

import (
	"bytes"
	"fmt"
)

// This file is the entropy-coded data of a block (IAFIS-IC-0110 Annex
// B.2.6 and Part 3 Table 3): a bit stream, most significant bit first, in
// which a 0xFF byte is followed by a stuffed 0x00, cut into restart
// intervals by RSTn markers. Each Huffman symbol is a category:
//
//	1-100    a run of that many zero coefficients
//	101, 102 a positive / negative coefficient whose magnitude follows in 8 bits
//	103, 104 the same with 16 bits
//	105, 106 a zero run whose length follows in 8 / 16 bits
//	107-254  the coefficient symbol-180 (-73..74)

const (
	catEscPos8   = 101
	catEscNeg8   = 102
	catEscPos16  = 103
	catEscNeg16  = 104
	catZeroRun8  = 105
	catZeroRun16 = 106
	maxZeroRun   = 100 // longest run with its own category
	symbolOffset = 180 // direct coefficient c has category c+180
	maxDirect    = 74  // direct coefficients are -73..74
)

// destuff copies the entropy-coded bytes that start at data[pos] into buf,
// dropping the 0x00 after each 0xFF, up to the next marker. It returns the
// bytes and the offset of the marker.
func destuff(buf, data []byte, pos int) ([]byte, int, error) {
	buf = buf[:0]
	for {
		i := bytes.IndexByte(data[pos:], 0xFF)
		if i < 0 {
			return nil, 0, fmt.Errorf("%w: entropy-coded data from offset %d runs to the end of the file without a marker", ErrFormat, pos)
		}
		buf = append(buf, data[pos:pos+i]...)
		pos += i
		if pos+1 >= len(data) {
			return nil, 0, fmt.Errorf("%w: entropy-coded data ends with 0xFF at offset %d", ErrFormat, pos)
		}
		if data[pos+1] != 0 {
			return buf, pos, nil
		}
		buf = append(buf, 0xFF)
		pos += 2
	}
}

// bitReader reads a destuffed restart interval, most significant bit first.
type bitReader struct {
	b   []byte
	pos int // in bits
	n   int // total bits
}

// peek16 returns the next 16 bits, padded with one bits past the end.
func (r *bitReader) peek16() uint32 {
	i := r.pos >> 3
	var w uint32
	for k := 0; k < 3; k++ {
		w <<= 8
		if i+k < len(r.b) {
			w |= uint32(r.b[i+k])
		} else {
			w |= 0xFF
		}
	}
	return (w >> (8 - uint(r.pos&7))) & 0xFFFF
}

// coefficientSink receives decoded coefficients and enforces the bound.
// Coefficients are kept as float32 (exact: they are at most 16 bits), so
// that the buffer serves again as the synthesis's scratch plane.
type coefficientSink struct {
	coef []float32
	max  int
}

func (s *coefficientSink) zeros(n, off int) error {
	if len(s.coef)+n > s.max {
		return fmt.Errorf("%w: entropy-coded data near offset %d holds more than %d coefficients", ErrFormat, off, s.max)
	}
	if len(s.coef)+n > cap(s.coef) {
		s.coef = append(s.coef, make([]float32, n)...)
		return nil
	}
	run := s.coef[len(s.coef) : len(s.coef)+n]
	clear(run)
	s.coef = s.coef[:len(s.coef)+n]
	return nil
}

func (s *coefficientSink) value(v int32, off int) error {
	if len(s.coef) >= s.max {
		return fmt.Errorf("%w: entropy-coded data near offset %d holds more than %d coefficients", ErrFormat, off, s.max)
	}
	s.coef = append(s.coef, float32(v))
	return nil
}

// decodeInterval decodes the symbols of one restart interval. A code left
// incomplete at the end of the interval is the encoder's padding and is
// dropped, as the reference decoder drops it when it meets the marker.
// off is the file offset of the interval, for error messages.
func decodeInterval(seg []byte, t *decodeTable, sink *coefficientSink, off int) error {
	r := bitReader{b: seg, n: 8 * len(seg)}
	for r.pos < r.n {
		rem := r.n - r.pos
		p := r.peek16()
		var length int
		var sym uint8
		if e := t.fast[p>>(16-fastBits)]; e != 0 {
			length, sym = int(e>>8), uint8(e)
		} else {
			for l := fastBits + 1; l <= maxCodeLen; l++ {
				code := int32(p >> (16 - l))
				if code <= t.maxCode[l] {
					k := t.valPtr[l] + code - t.minCode[l]
					if k < 0 || int(k) >= len(t.values) {
						return fmt.Errorf("%w: entropy-coded data near offset %d: code outside its table", ErrFormat, off+r.pos/8)
					}
					length, sym = l, t.values[k]
					break
				}
			}
		}
		if length == 0 || length > rem {
			if rem < maxCodeLen {
				return nil // padding before the marker
			}
			return fmt.Errorf("%w: entropy-coded data near offset %d: no Huffman code matches", ErrFormat, off+r.pos/8)
		}
		r.pos += length
		extra := func(bits int) (int32, error) {
			if r.n-r.pos < bits {
				return 0, fmt.Errorf("%w: entropy-coded data near offset %d: category %d cut short by a marker", ErrFormat, off+r.pos/8, sym)
			}
			v := int32(r.peek16() >> (16 - bits))
			r.pos += bits
			return v, nil
		}
		var err error
		switch {
		case sym >= 1 && sym <= maxZeroRun:
			err = sink.zeros(int(sym), off+r.pos/8)
		case sym > catZeroRun16 && sym < 0xFF:
			err = sink.value(int32(sym)-symbolOffset, off+r.pos/8)
		case sym == catEscPos8 || sym == catEscNeg8 || sym == catEscPos16 || sym == catEscNeg16:
			bits := 8
			if sym >= catEscPos16 {
				bits = 16
			}
			var v int32
			if v, err = extra(bits); err == nil {
				if sym == catEscNeg8 || sym == catEscNeg16 {
					v = -v
				}
				err = sink.value(v, off+r.pos/8)
			}
		case sym == catZeroRun8 || sym == catZeroRun16:
			bits := 8
			if sym == catZeroRun16 {
				bits = 16
			}
			var v int32
			if v, err = extra(bits); err == nil {
				err = sink.zeros(int(v), off+r.pos/8)
			}
		default:
			err = fmt.Errorf("%w: entropy-coded data near offset %d: invalid category %d", ErrFormat, off+r.pos/8, sym)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// bitWriter writes the entropy-coded data of a block, stuffing a 0x00
// after every 0xFF byte.
type bitWriter struct {
	out   []byte
	acc   uint32
	nbits uint
}

func (w *bitWriter) put(v uint32, n uint) {
	w.acc = w.acc<<n | v&(1<<n-1)
	w.nbits += n
	for w.nbits >= 8 {
		b := byte(w.acc >> (w.nbits - 8))
		w.out = append(w.out, b)
		if b == 0xFF {
			w.out = append(w.out, 0)
		}
		w.nbits -= 8
	}
	w.acc &= 1<<w.nbits - 1
}

// flush pads the last byte with one bits.
func (w *bitWriter) flush() {
	if w.nbits > 0 {
		w.put(1<<(8-w.nbits)-1, 8-w.nbits)
	}
}

// symbol is one coded category and its extra bits.
type symbol struct {
	cat       uint8
	extra     uint16
	extraBits uint8
}

// symbolize turns quantised coefficients into categories (Part 3
// Table 3): zero runs, direct values for -73..74, escapes otherwise.
func symbolize(coef []int32, out []symbol) []symbol {
	run := 0
	flush := func() {
		for run > 0 {
			n := min(run, 0xFFFF)
			switch {
			case n <= maxZeroRun:
				out = append(out, symbol{cat: uint8(n)})
			case n <= 0xFF:
				out = append(out, symbol{cat: catZeroRun8, extra: uint16(n), extraBits: 8})
			default:
				out = append(out, symbol{cat: catZeroRun16, extra: uint16(n), extraBits: 16})
			}
			run -= n
		}
	}
	for _, c := range coef {
		if c == 0 {
			run++
			continue
		}
		flush()
		switch {
		case c > 0xFFFF || c < -0xFFFF:
			panic("wsq: coefficient out of 16-bit range") // quantize clamps
		case c >= 1-maxDirect && c <= maxDirect:
			out = append(out, symbol{cat: uint8(c + symbolOffset)})
		case c > 0 && c <= 0xFF:
			out = append(out, symbol{cat: catEscPos8, extra: uint16(c), extraBits: 8})
		case c < 0 && c >= -0xFF:
			out = append(out, symbol{cat: catEscNeg8, extra: uint16(-c), extraBits: 8})
		case c > 0:
			out = append(out, symbol{cat: catEscPos16, extra: uint16(c), extraBits: 16})
		default:
			out = append(out, symbol{cat: catEscNeg16, extra: uint16(-c), extraBits: 16})
		}
	}
	flush()
	return out
}
