package privacy

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// Pre-encoded gallery plaintexts. Encoding the gallery's diagonals (an
// IFFT and an NTT per prime for each of Dim plaintexts per block) is about
// half of a search's work when it is done per query; the diagonals depend
// only on the gallery and the parameters, so a responder with the memory
// can encode them once (Gallery.Precompute) and let every search only
// multiply. The cost is memory: every residue of every diagonal, packed in
// whole bytes (5 for the 38-bit primes, 8 for q0), which is
// Dim·(8 + 5·levels) bytes per gallery entry at 64-d: 4,352 bytes at
// depth 12 (symmetric step composite), 3,712 at depth 10 (lopsided), against
// 64 bytes for the int8 entry itself.

// precomputation is a gallery's encoded diagonals for one parameter set.
type precomputation struct {
	params   Params
	baby     int
	diagSize int      // bytes of one packed diagonal
	blocks   [][]byte // per block, its Dim diagonals in order gs·baby + j
}

// diagonal returns the packed diagonal k of block b.
func (pc *precomputation) diagonal(b, k int) []byte {
	return pc.blocks[b][k*pc.diagSize : (k+1)*pc.diagSize]
}

// residueBytes is the packed width of a residue modulo q.
func residueBytes(q uint64) int { return (bits.Len64(q) + 7) / 8 }

// packResidue appends res, little endian in width bytes each, to b.
func packResidue(b []byte, width int, res []uint64) []byte {
	for _, x := range res {
		for k := range width {
			b = append(b, byte(x>>(8*k)))
		}
	}
	return b
}

// unpackResidue reads len(res) residues of width bytes from b at off and
// returns the offset after them.
func unpackResidue(b []byte, off, width int, res []uint64) int {
	src := b[off : off+len(res)*width]
	m := 0
	if width < 8 {
		// Whole 8-byte loads, masked, while 8 bytes remain.
		mask := uint64(1)<<(8*width) - 1
		for ; m*width+8 <= len(src); m++ {
			res[m] = binary.LittleEndian.Uint64(src[m*width:]) & mask
		}
	}
	for ; m < len(res); m++ {
		var x uint64
		for k := range width {
			x |= uint64(src[m*width+k]) << (8 * k)
		}
		res[m] = x
	}
	return off + len(res)*width
}

// PrecomputeBytes is the memory Precompute takes for a gallery of n
// entries under p.
func (p Params) PrecomputeBytes(n int) int {
	nb := max(1, (n+p.Slots()-1)/p.Slots())
	return nb * p.Dim * p.diagonalBytes()
}

func (p Params) diagonalBytes() int {
	per := 0
	for _, q := range p.CKKS.Q()[:p.probeLevel()+1] {
		per += residueBytes(q)
	}
	return per * p.CKKS.N()
}

// Precompute encodes the gallery's plaintexts for searches under p once
// (p.PrecomputeBytes(g.Len()) bytes of memory, on both cores), so that
// Search only multiplies them; searches under other parameters still
// encode per query. Call it before searching, not during a search.
func (g *Gallery) Precompute(p Params) error {
	if g.dim != p.Dim {
		return errors.New("privacy: gallery and parameters differ in dimension")
	}
	nb := max(1, (g.n+p.Slots()-1)/p.Slots())
	baby := p.baby(nb)
	pc := &precomputation{params: p, baby: baby, diagSize: p.diagonalBytes(), blocks: make([][]byte, nb)}
	err := parallel(nb, func() func(int) error {
		w := newWorker(p, nil)
		return func(b int) error {
			buf := make([]byte, 0, p.Dim*pc.diagSize)
			for gs := range p.Dim / baby {
				for j := range baby {
					w.diagonal(g, b, gs, j, baby)
					if err := w.round(); err != nil {
						return err
					}
					for i, q := range p.CKKS.Q()[:p.probeLevel()+1] {
						w.residue(i, w.res)
						buf = packResidue(buf, residueBytes(q), w.res)
					}
				}
			}
			pc.blocks[b] = buf
			return nil
		}
	})
	if err != nil {
		return err
	}
	g.pre = pc
	return nil
}

// precomputed returns the gallery's precomputation if it was made for
// these parameters and this baby-step size, else nil.
func (g *Gallery) precomputed(p Params, baby int) *precomputation {
	pc := g.pre
	if pc == nil || pc.baby != baby || pc.params.Dim != p.Dim || pc.params.Threshold != p.Threshold ||
		!pc.params.CKKS.Equal(&p.CKKS) {
		return nil
	}
	return pc
}
