package wsq

import (
	"errors"
	"sort"
)

// This file holds the Huffman tables of IAFIS-IC-0110 Annex B.2.5 and
// Part 3: canonical codes generated from the count of codes of each length
// (the same procedure as JPEG, ITU-T T.81 Annex C), and the construction of
// code lengths from symbol frequencies with lengths limited to 16 bits
// (T.81 Annex K.2).

const maxCodeLen = 16

// checkCodeSpace reports an error when the counts ask for more codes of
// some length than a prefix code has room for.
func checkCodeSpace(counts *[16]uint8) error {
	code := 0
	for l := 1; l <= maxCodeLen; l++ {
		code += int(counts[l-1])
		if code > 1<<l {
			return errors.New("code lengths over-subscribe the code space")
		}
		code <<= 1
	}
	return nil
}

// fastBits is the width of the decoder's lookup table: codes up to this
// length are decoded with one table read.
const fastBits = 10

// decodeTable is a huffTable prepared for decoding.
type decodeTable struct {
	// fast is indexed by the next fastBits bits; an entry is
	// length<<8 | symbol, or 0 when the code is longer than fastBits.
	fast [1 << fastBits]uint16
	// maxCode[l] is the largest code of length l (-1 if none), and
	// valPtr[l]-minCode[l] maps a code of length l to its symbol index.
	maxCode [maxCodeLen + 1]int32
	minCode [maxCodeLen + 1]int32
	valPtr  [maxCodeLen + 1]int32
	values  []uint8
}

func newDecodeTable(t *huffTable) *decodeTable {
	d := &decodeTable{values: t.values}
	code, k := int32(0), int32(0)
	for l := 1; l <= maxCodeLen; l++ {
		n := int32(t.counts[l-1])
		if n == 0 {
			d.maxCode[l] = -1
		} else {
			d.valPtr[l] = k
			d.minCode[l] = code
			d.maxCode[l] = code + n - 1
			if l <= fastBits {
				for i := int32(0); i < n; i++ {
					c := code + i
					entry := uint16(l)<<8 | uint16(t.values[k+i])
					shift := fastBits - l
					for j := int32(0); j < 1<<shift; j++ {
						d.fast[c<<shift|j] = entry
					}
				}
			}
		}
		code += n
		k += n
		code <<= 1
	}
	return d
}

// encodeTable maps a symbol to its code and length.
type encodeTable struct {
	code [256]uint16
	size [256]uint8
}

// buildHuffman makes a table for the symbol frequencies freq, lengths at
// most 16 bits and the all-ones code left unused (as T.81 K.2 does by
// adding a reserved symbol), so that byte padding with one bits never
// completes a code.
func buildHuffman(freq *[256]int) (huffTable, *encodeTable) {
	const n = 257 // symbol 256 is the reserved one
	var f [n]int
	copy(f[:], freq[:])
	f[256] = 1
	var codesize [n]int
	var others [n]int
	for i := range others {
		others[i] = -1
	}
	for {
		// The two least frequent (ties: the larger symbol) nonzero entries.
		v1, v2 := -1, -1
		for i := 0; i < n; i++ {
			if f[i] == 0 {
				continue
			}
			if v1 < 0 || f[i] <= f[v1] {
				v2 = v1
				v1 = i
			} else if v2 < 0 || f[i] <= f[v2] {
				v2 = i
			}
		}
		if v2 < 0 {
			break
		}
		f[v1] += f[v2]
		f[v2] = 0
		for {
			codesize[v1]++
			if others[v1] < 0 {
				break
			}
			v1 = others[v1]
		}
		others[v1] = v2
		for {
			codesize[v2]++
			if others[v2] < 0 {
				break
			}
			v2 = others[v2]
		}
	}
	var bits [33]int
	for i := 0; i < n; i++ {
		if codesize[i] > 0 {
			bits[codesize[i]]++
		}
	}
	// Limit code lengths to 16 (T.81 Figure K.3).
	for i := 32; i > maxCodeLen; i-- {
		for bits[i] > 0 {
			j := i - 2
			for bits[j] == 0 {
				j--
			}
			bits[i] -= 2
			bits[i-1]++
			bits[j+1] += 2
			bits[j]--
		}
	}
	// Remove the reserved symbol's code, the longest one.
	for i := maxCodeLen; i > 0; i-- {
		if bits[i] > 0 {
			bits[i]--
			break
		}
	}
	var t huffTable
	t.defined = true
	for l := 1; l <= maxCodeLen; l++ {
		t.counts[l-1] = uint8(bits[l])
	}
	// Symbols sorted by code length, then by value.
	type sym struct{ v, size int }
	var syms []sym
	for i := 0; i < 256; i++ {
		if codesize[i] > 0 {
			syms = append(syms, sym{i, codesize[i]})
		}
	}
	sort.SliceStable(syms, func(a, b int) bool {
		if syms[a].size != syms[b].size {
			return syms[a].size < syms[b].size
		}
		return syms[a].v < syms[b].v
	})
	for _, s := range syms {
		t.values = append(t.values, uint8(s.v))
	}
	e := &encodeTable{}
	code, k := 0, 0
	for l := 1; l <= maxCodeLen; l++ {
		for i := 0; i < bits[l]; i++ {
			v := t.values[k]
			e.code[v] = uint16(code)
			e.size[v] = uint8(l)
			code++
			k++
		}
		code <<= 1
	}
	return t, e
}
