// Package iris is ebsp's iris comparator, after Daugman ("How iris
// recognition works", IEEE TCSVT 14(1), 2004): an iris code is 2048 phase bits
// (1024 points of the normalised iris, 2 bits of Gabor phase quadrant each)
// with a mask of the bits that are valid (not eyelid, eyelash or reflection),
// and two codes compare by the fractional Hamming distance over the bits valid
// in both, minimised over small rotations of the eye.
package iris

import (
	"fmt"
	"math"
	"math/bits"
)

// Code layout: Rings rows of Angles points, each point 2 bits (real and
// imaginary phase sign), so a row is 256 bits and a rotation of the eye by one
// angular step shifts every row by 2 bits.
const (
	Rings       = 8
	Angles      = 128
	BitsPerRow  = 2 * Angles
	Bits        = Rings * BitsPerRow // 2048
	Bytes       = Bits / 8           // 256
	wordsPerRow = BitsPerRow / 64
	words       = Bits / 64
)

// Code is one iris code and its mask. Bit i of the code is bit i%64 of
// Bits[i/64]; bit (r*Angles+a)*2+c is component c of angle a on ring r. A mask
// bit of 1 means the code bit is valid.
type Code struct {
	Bits [words]uint64
	Mask [words]uint64
}

// Bit reports code bit i and whether it is valid.
func (c *Code) Bit(i int) (bit, valid bool) {
	return c.Bits[i/64]>>(i%64)&1 == 1, c.Mask[i/64]>>(i%64)&1 == 1
}

// Set sets code bit i and its mask bit.
func (c *Code) Set(i int, bit, valid bool) {
	w, m := i/64, uint64(1)<<(i%64)
	c.Bits[w] &^= m
	c.Mask[w] &^= m
	if bit {
		c.Bits[w] |= m
	}
	if valid {
		c.Mask[w] |= m
	}
}

// Result is the outcome of a comparison.
type Result struct {
	HD    float64 // fractional Hamming distance at the best shift, in [0, 1]; 1 when no bits compared
	Valid int     // number of bits valid in both codes at that shift
	Shift int     // rotation of b, in angular steps, that gave HD
}

// minValid is the fewest jointly valid bits a comparison needs; below it the
// distance is reported as 1 (no evidence). Daugman's normalisation (below)
// takes care of the range between this and a full code.
const minValid = 64

// Compare returns the smallest fractional Hamming distance between a and b
// rotated by -maxShift..maxShift angular steps.
func Compare(a, b *Code, maxShift int) Result {
	best := Result{HD: 1}
	maxShift = min(max(maxShift, 0), Angles/2)
	var rb Code
	for s := -maxShift; s <= maxShift; s++ {
		rotate(&rb, b, s)
		var diff, valid int
		for w := range words {
			m := a.Mask[w] & rb.Mask[w]
			valid += bits.OnesCount64(m)
			diff += bits.OnesCount64((a.Bits[w] ^ rb.Bits[w]) & m)
		}
		if valid < minValid {
			continue
		}
		if hd := float64(diff) / float64(valid); hd < best.HD || (hd == best.HD && abs(s) < abs(best.Shift)) {
			best = Result{HD: hd, Valid: valid, Shift: s}
		}
	}
	return best
}

// NormalizedHD rescales a distance measured over n bits to what it would be
// over a typical 911 compared bits (Daugman 2004, §6), so that comparisons with
// few valid bits do not look better than they are.
func NormalizedHD(hd float64, n int) float64 {
	if n <= 0 {
		return 1
	}
	return 0.5 - (0.5-hd)*math.Sqrt(float64(n)/911)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// rotate writes into dst the code of src with the eye rotated by s angular
// steps: angle a of dst is angle a-s of src, on every ring.
func rotate(dst, src *Code, s int) {
	k := ((2*s)%BitsPerRow + BitsPerRow) % BitsPerRow
	for r := range Rings {
		o := r * wordsPerRow
		rotl256((*[wordsPerRow]uint64)(dst.Bits[o:o+wordsPerRow]), (*[wordsPerRow]uint64)(src.Bits[o:o+wordsPerRow]), k)
		rotl256((*[wordsPerRow]uint64)(dst.Mask[o:o+wordsPerRow]), (*[wordsPerRow]uint64)(src.Mask[o:o+wordsPerRow]), k)
	}
}

// rotl256 rotates a 256-bit row so that bit i moves to bit (i+k) mod 256.
func rotl256(dst, src *[wordsPerRow]uint64, k int) {
	ws, bs := k/64, uint(k%64)
	for i := range wordsPerRow {
		lo := src[(i-ws+wordsPerRow)%wordsPerRow]
		if bs == 0 {
			dst[i] = lo
			continue
		}
		prev := src[(i-ws-1+2*wordsPerRow)%wordsPerRow]
		dst[i] = lo<<bs | prev>>(64-bs)
	}
}

// MarshalBinary encodes the code as Bytes code bytes then Bytes mask bytes,
// little-endian bit order within each byte (bit i is bit i%8 of byte i/8).
func (c *Code) MarshalBinary() ([]byte, error) {
	b := make([]byte, 2*Bytes)
	for w := range words {
		for j := range 8 {
			b[w*8+j] = byte(c.Bits[w] >> (8 * j))
			b[Bytes+w*8+j] = byte(c.Mask[w] >> (8 * j))
		}
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (c *Code) UnmarshalBinary(b []byte) error {
	if len(b) != 2*Bytes {
		return fmt.Errorf("iris: code is %d bytes, want %d (code and mask)", len(b), 2*Bytes)
	}
	*c = Code{}
	for w := range words {
		for j := range 8 {
			c.Bits[w] |= uint64(b[w*8+j]) << (8 * j)
			c.Mask[w] |= uint64(b[Bytes+w*8+j]) << (8 * j)
		}
	}
	return nil
}
