package privacy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// galleryQuant is the fixed-point scale of stored gallery values: int8/128
// covers ±0.99 in steps of 0.008. (At /256, ±0.5, the leading PCA
// coordinates of centred 128-d faces were clipped: EER 0.07 % against 0 %
// unquantised, ebsp bench privacy on the 128-d synthetic faces.)
const galleryQuant = 128

// Gallery is a responder's plaintext gallery of unit-length embeddings,
// stored as int8 fixed point (value/128), one entry per row.
type Gallery struct {
	dim  int
	n    int
	vals []int8
	pre  *precomputation // encoded diagonals, if Precompute was called
}

// NewGallery normalises and quantises the embeddings (each of length dim).
func NewGallery(dim int, vecs [][]float32) (*Gallery, error) {
	g := &Gallery{dim: dim, n: len(vecs), vals: make([]int8, len(vecs)*dim)}
	for i, v := range vecs {
		if len(v) != dim {
			return nil, fmt.Errorf("privacy: gallery entry %d has %d values, want %d", i, len(v), dim)
		}
		u, err := unit(v)
		if err != nil {
			return nil, fmt.Errorf("privacy: gallery entry %d: %w", i, err)
		}
		for j, x := range u {
			g.vals[i*dim+j] = int8(max(-127, min(127, math.Round(x*galleryQuant))))
		}
	}
	return g, nil
}

// Len is the number of gallery entries.
func (g *Gallery) Len() int { return g.n }

// Dim is the embedding length.
func (g *Gallery) Dim() int { return g.dim }

// value returns coordinate j of entry e as stored.
func (g *Gallery) value(e, j int) float64 { return float64(g.vals[e*g.dim+j]) / galleryQuant }

// Similarities returns the plaintext cosine similarity of a probe with every
// gallery entry as stored (what the encrypted search approximates).
func (g *Gallery) Similarities(probe []float32) ([]float64, error) {
	if len(probe) != g.dim {
		return nil, fmt.Errorf("privacy: probe has %d values, want %d", len(probe), g.dim)
	}
	u, err := unit(probe)
	if err != nil {
		return nil, err
	}
	out := make([]float64, g.n)
	for e := range out {
		var s float64
		for j, x := range u {
			s += x * g.value(e, j)
		}
		out[e] = s
	}
	return out, nil
}

// Reply is the responder's answer: the count ciphertext at level 0 with the
// responder's noise-flooded decryption share already added to C0, so that
// the requester's own share alone finishes the decryption.
type Reply struct {
	Scale float64
	C0    ring.Poly
	C1    ring.Poly
}

// Search runs the responder's side on a received probe.
func (pa *Party) Search(g *Gallery, pr *Probe) (*Reply, error) {
	r, _, err := pa.SearchTrace(g, pr)
	return r, err
}

// SearchTrace is Search that also keeps the per-entry encrypted decisions
// in a Trace, for measurement.
func (pa *Party) SearchTrace(g *Gallery, pr *Probe) (*Reply, *Trace, error) {
	if !pa.finished {
		return nil, nil, errors.New("privacy: key setup not finished")
	}
	if g.dim != pa.params.Dim {
		return nil, nil, fmt.Errorf("privacy: gallery has dimension %d, parameters %d", g.dim, pa.params.Dim)
	}
	ct, err := pa.complete(pr)
	if err != nil {
		return nil, nil, err
	}
	blocks, err := pa.evaluate(g, ct)
	if err != nil {
		return nil, nil, err
	}
	tr := &Trace{responder: pa, n: g.n}
	for _, b := range blocks {
		tr.blocks = append(tr.blocks, b.CopyNew())
	}
	eval := ckks.NewEvaluator(pa.params.CKKS, pa.evk)
	sum := blocks[0]
	for _, b := range blocks[1:] {
		if err := eval.Add(sum, b, sum); err != nil {
			return nil, nil, fmt.Errorf("privacy: sum blocks: %w", err)
		}
	}
	total := ckks.NewCiphertext(pa.params.CKKS, 1, sum.Level())
	if err := eval.InnerSum(sum, 1, pa.params.Slots(), total); err != nil {
		return nil, nil, fmt.Errorf("privacy: sum slots: %w", err)
	}
	if total.Level() != 0 {
		eval.DropLevel(total, total.Level())
	}
	if err := pa.floodedShare(total); err != nil {
		return nil, nil, err
	}
	return &Reply{Scale: total.Scale.Float64(), C0: total.Value[0], C1: total.Value[1]}, tr, nil
}

// floodedShare adds the responder's decryption share s_B·c1 + e_flood to c0:
// a collective key switch from s_B to the zero key with flooding noise of
// standard deviation FloodSigma.
func (pa *Party) floodedShare(ct *rlwe.Ciphertext) error {
	sigma := pa.params.FloodSigma
	ks, err := multiparty.NewKeySwitchProtocol(pa.params.CKKS, ring.DiscreteGaussian{Sigma: sigma, Bound: 6 * sigma})
	if err != nil {
		return fmt.Errorf("privacy: decryption share: %w", err)
	}
	share := ks.AllocateShare(ct.Level())
	ks.GenShare(pa.sk, rlwe.NewSecretKey(pa.params.CKKS), ct, &share)
	ks.KeySwitch(ct, share, ct)
	// Lattigo's share is reduced lazily (MulCoeffsMontgomeryLazy: residues
	// in [0, 2q)), and so is c0 + share: about one reply in eleven at ring
	// degree 2^15 had a residue of c0 at or above q0. Reduce it fully before
	// it leaves (the wire packs each residue in bitlen(q) bits, see
	// appendPoly).
	pa.params.CKKS.RingQ().AtLevel(ct.Level()).Reduce(ct.Value[0], ct.Value[0])
	return nil
}

// Count finishes the decryption of a reply with the requester's own share
// and returns the decrypted (real-valued) count; round it for the number of
// entries above the threshold.
func (pa *Party) Count(r *Reply) (float64, error) {
	p := pa.params
	if r == nil || r.C0.Level() != 0 || r.C1.Level() != 0 || r.C0.N() != p.CKKS.N() || r.C1.N() != p.CKKS.N() {
		return 0, errors.New("privacy: reply does not match these parameters")
	}
	if !(r.Scale > 1) || math.IsInf(r.Scale, 0) {
		return 0, errors.New("privacy: reply has an invalid scale")
	}
	ct := ckks.NewCiphertext(p.CKKS, 1, 0)
	ct.Value[0].CopyLvl(0, r.C0)
	ct.Value[1].CopyLvl(0, r.C1)
	ct.Scale = rlwe.NewScale(r.Scale)
	pt := rlwe.NewDecryptor(p.CKKS, pa.sk).DecryptNew(ct)
	vals := make([]float64, p.Slots())
	if err := ckks.NewEncoder(p.CKKS).Decode(pt, vals); err != nil {
		return 0, fmt.Errorf("privacy: decode count: %w", err)
	}
	// Every slot holds the count plus noise; read their median. (With the
	// slot-sum keys limited to one special prime, see evkParams, the mean
	// was off by exactly 256 in 4 of 26 bench queries while every entry's
	// decision was right; the median also ignores such a fault in a few
	// slots.)
	slices.Sort(vals)
	return vals[len(vals)/2], nil
}

// evaluate returns, per block of Slots() gallery entries, a ciphertext at
// level 0 whose slot i is the step of entry i's similarity (1 above the
// threshold, 0 below).
//
// Similarities: with the probe repeated with period d across the slots,
// rot_k(probe)[i] = u[(i+k) mod d], so Σ_k rot_k(probe) ⊙ D_k with
// D_k[i] = w·g_{e(i)}[(i+k) mod d] puts w·<u, g_e(i)> in slot i (the
// diagonal method of Halevi and Shoup, "Algorithms in HElib", CRYPTO 2014).
// Writing k = baby·j' + j, the rotations are split into baby steps of the
// probe (computed once per query) and giant steps of the partial sums
// (once per block, Horner order), with the plaintexts pre-rotated, which
// costs nothing.
func (pa *Party) evaluate(g *Gallery, ct *rlwe.Ciphertext) ([]*rlwe.Ciphertext, error) {
	p := pa.params
	nb := max(1, (g.n+p.Slots()-1)/p.Slots())
	babies, err := pa.babySteps(ct, p.baby(nb))
	if err != nil {
		return nil, err
	}
	out := make([]*rlwe.Ciphertext, nb)
	var (
		mu   sync.Mutex
		used []*worker
	)
	err = parallel(nb, func() func(int) error {
		w, _ := pa.workers.Get().(*worker)
		if w == nil {
			w = pa.newWorker()
		}
		mu.Lock()
		used = append(used, w)
		mu.Unlock()
		return func(b int) (err error) {
			out[b], err = w.block(g, b, babies)
			return err
		}
	})
	// Workers are kept for the next search: their buffers and basis
	// extensions (relinRescale) are some tens of MB, made on first use.
	for _, w := range used {
		pa.workers.Put(w)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parallel runs task(0..n-1) on up to GOMAXPROCS goroutines; each goroutine
// gets its own task function from newTask, because Lattigo's evaluators and
// encoders are not safe for concurrent use.
func parallel(n int, newTask func() func(int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := newTask()
			for i := range next {
				errs[i] = task(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// babySteps returns rot_0..rot_{baby-1} of the probe, with their residues
// in Montgomery form for worker.mulAdd. The rotations form chains of
// babySteps[0] that start at multiples of it (reached with that rotation's
// key), so the chains run on both cores; within a chain every hoist-th
// step is rotated by 1..hoist at once (hoisted: one decomposition).
func (pa *Party) babySteps(ct *rlwe.Ciphertext, baby int) ([]*rlwe.Ciphertext, error) {
	p := pa.params
	chain := baby
	if step := babySteps[0]; baby > step && p.Dim > step {
		chain = step
	}
	babies := make([]*rlwe.Ciphertext, baby)
	babies[0] = ct
	eval := ckks.NewEvaluator(p.CKKS, pa.evk)
	for c := chain; c < baby; c += chain {
		babies[c] = ckks.NewCiphertext(p.CKKS, 1, ct.Level())
		if err := eval.Rotate(babies[c-chain], chain, babies[c]); err != nil {
			return nil, fmt.Errorf("privacy: baby-step rotation: %w", err)
		}
	}
	// Within a chain, hoisted rotations by 1..hoist of every hoist-th step
	// (one decomposition each), if the keys are there (parties stored
	// before them rotate by 1).
	h := pa.hoisting(ct.Level())
	err := parallel(baby/chain, func() func(int) error {
		eval := ckks.NewEvaluator(p.CKKS, pa.evk)
		out := map[int]*rlwe.Ciphertext{}
		rots := make([]int, 0, h)
		return func(c int) error {
			end := (c + 1) * chain
			for head := c * chain; head < end-1; head += h {
				clear(out)
				rots = rots[:0]
				for r := 1; r <= h && head+r < end; r++ {
					babies[head+r] = ckks.NewCiphertext(p.CKKS, 1, ct.Level())
					out[r] = babies[head+r]
					rots = append(rots, r)
				}
				if err := eval.RotateHoisted(babies[head], rots, out); err != nil {
					return fmt.Errorf("privacy: baby-step rotation: %w", err)
				}
			}
			rq := p.CKKS.RingQ().AtLevel(ct.Level())
			for j := c * chain; j < (c+1)*chain; j++ {
				for i := range babies[j].Value {
					rq.MForm(babies[j].Value[i], babies[j].Value[i])
				}
			}
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	return babies, nil
}

// worker holds one goroutine's evaluators and buffers.
type worker struct {
	p     Params
	eval  *ckks.Evaluator
	ecd   *ckks.Encoder
	vals  []float64
	cmpl  []complex128
	pt    *rlwe.Plaintext // metadata of the gallery plaintexts; encode fills it (tests)
	coeff []int64         // the plaintext's integer coefficients
	res   []uint64        // one residue of the plaintext, NTT buffer
	steps [][]float64     // the step composite (stepCoeffs)
	rlk   *rlwe.RelinearizationKey
	// relinRescale's basis extensions, per level, made when first used
	fusedRings *fusedRings
	fused      []*fusedLevel
	fusedQP    [2]ringqp.Poly
	scratchBuf []*rlwe.Ciphertext // chebyshevEval's buffers (scratch)
	slot       int
	stepOut    [2]*rlwe.Ciphertext // the composite's intermediate results
	sum        [4][]uint64         // 128-bit sums of productsPacked: low and high words of both polynomials
}

func (pa *Party) newWorker() *worker { return newWorker(pa.params, pa.evk) }

// newWorker makes a worker for parameters p; evk may be nil for a worker
// that only encodes (Gallery.Precompute).
func newWorker(p Params, evk rlwe.EvaluationKeySet) *worker {
	eval := ckks.NewEvaluator(p.CKKS, evk)
	level := p.probeLevel()
	pt := ckks.NewPlaintext(p.CKKS, level)
	// Gallery plaintexts are scaled by the prime the product is rescaled by,
	// so the similarities come out at the default scale.
	pt.Scale = rlwe.NewScale(p.CKKS.Q()[level])
	w := &worker{p: p, eval: eval, ecd: ckks.NewEncoder(p.CKKS),
		vals: make([]float64, p.Slots()), cmpl: make([]complex128, p.Slots()), pt: pt,
		coeff: make([]int64, p.CKKS.N()), res: make([]uint64, p.CKKS.N()), steps: stepCoeffs(p.Threshold, p.Dim)}
	if evk != nil {
		w.rlk, _ = evk.GetRelinearizationKey()
	}
	for k := range w.sum {
		w.sum[k] = make([]uint64, p.CKKS.N())
	}
	return w
}

// round is the first half of ckks.Encoder.Encode for w.vals, without the
// per-coefficient allocations of Lattigo's generic fixed-point conversion:
// IFFT, then each coefficient rounded to an integer at the plaintext's
// scale. Gallery values are below 1 and the scale below 2^39, so every
// coefficient fits an int64.
func (w *worker) round() error {
	for i, v := range w.vals {
		w.cmpl[i] = complex(v, 0)
	}
	if err := w.ecd.IFFT(w.cmpl, w.p.CKKS.LogMaxSlots()); err != nil {
		return err
	}
	scale := w.pt.Scale.Float64()
	for i, c := range w.cmpl {
		w.coeff[i] = int64(math.Round(real(c) * scale))
	}
	return nil
}

// residue writes the rounded plaintext modulo prime i, in the NTT domain,
// to out: the second half of the encoding, one prime at a time.
func (w *worker) residue(i int, out []uint64) {
	s := w.p.CKKS.RingQ().SubRings[i]
	q, brc := s.Modulus, s.BRedConstant
	for m, c := range w.coeff {
		r := ring.BRedAdd(uint64(max(c, -c)), q, brc)
		if c < 0 && r != 0 {
			r = q - r
		}
		out[m] = r
	}
	s.NTT(out, out)
}

// encode is ckks.Encoder.Encode for w.vals into w.pt (TestEncodeMatchesLattigo
// checks it against Lattigo's); the search itself uses mulAdd.
func (w *worker) encode() error {
	if err := w.round(); err != nil {
		return err
	}
	for i := range w.pt.Level() + 1 {
		w.residue(i, w.pt.Value.Coeffs[i])
	}
	return nil
}

// mulAdd adds ct ⊙ encode(w.vals) to acc: per prime, the plaintext's
// residue is computed and at once multiplied into both ciphertext
// polynomials while it is in cache (Lattigo's MulThenAdd takes the whole
// plaintext, converts it to Montgomery form and passes over it twice). The
// ciphertext's residues are in Montgomery form (babySteps), so MRed of a
// plain residue and a Montgomery one is the plain product.
func (w *worker) mulAdd(ct, acc *rlwe.Ciphertext) error {
	if err := w.round(); err != nil {
		return err
	}
	for i := range acc.Level() + 1 {
		w.residue(i, w.res)
		w.accumulate(i, ct, acc)
	}
	return nil
}

// productsPacked sets inner to Σ_j babies[j] ⊙ D_j over the precomputed
// diagonals D_j of giant step gs in block b, prime by prime. For a prime
// below 2^57 each product x·c (< q², q < 2^39) is added to a 128-bit sum
// and the sum of all baby steps is reduced once (a Montgomery reduction:
// the babies' residues are in Montgomery form, and a sum below 2^83 keeps
// its high word below q as the reduction needs), which takes one
// multiplication per product where a reduction per product takes three;
// the packed residues are read in the same pass. That made the products
// about a third cheaper than unpacking and reducing each (thread CPU, see
// docs/privacy.md). q0 (60 bits) keeps the reduction per product.
func (w *worker) productsPacked(babies []*rlwe.Ciphertext, inner *rlwe.Ciphertext, pre *precomputation, b, gs int) {
	baby := len(babies)
	n := len(w.res)
	off := 0
	for i := range inner.Level() + 1 {
		s := w.p.CKKS.RingQ().SubRings[i]
		q, mrc := s.Modulus, s.MRedConstant
		width := residueBytes(q)
		if !wideSumPrime(q) || width > 8 {
			for j := range baby {
				unpackResidue(pre.diagonal(b, gs*baby+j), off, width, w.res)
				w.accumulate(i, babies[j], inner)
			}
			off += n * width
			continue
		}
		lo0, hi0, lo1, hi1 := w.sum[0][:n], w.sum[1][:n], w.sum[2][:n], w.sum[3][:n]
		clear(lo0)
		clear(hi0)
		clear(lo1)
		clear(hi1)
		mask := uint64(1)<<(8*width) - 1
		for j := range baby {
			src := pre.diagonal(b, gs*baby+j)[off : off+n*width]
			c0, c1 := babies[j].Value[0].Coeffs[i][:n], babies[j].Value[1].Coeffs[i][:n]
			// The residues are read as unpackResidue reads them (whole
			// 8-byte loads while 8 bytes remain, then the tail), here in
			// the same pass as the products: unpackResidue into w.res
			// and a second loop took 7% more CPU a query (`ebsp bench
			// privacy --gallery 100000 --queries 2`, four alternating
			// runs each: 5.08-5.63 against 4.87-5.20 CPU-s).
			m := 0
			for ; m*width+8 <= len(src); m++ {
				x := binary.LittleEndian.Uint64(src[m*width:]) & mask
				mulAdd128(&hi0[m], &lo0[m], x, c0[m])
				mulAdd128(&hi1[m], &lo1[m], x, c1[m])
			}
			for ; m < n; m++ {
				var x uint64
				for k := range width {
					x |= uint64(src[m*width+k]) << (8 * k)
				}
				mulAdd128(&hi0[m], &lo0[m], x, c0[m])
				mulAdd128(&hi1[m], &lo1[m], x, c1[m])
			}
		}
		a0, a1 := inner.Value[0].Coeffs[i][:n], inner.Value[1].Coeffs[i][:n]
		for m := range n {
			a0[m] = mredWide(hi0[m], lo0[m], q, mrc)
			a1[m] = mredWide(hi1[m], lo1[m], q, mrc)
		}
		off += n * width
	}
}

// wideSumPrime says whether productsPacked may sum maxLazyTerms products
// modulo q in 128 bits and reduce once: every product is below q² and the
// sum's high word must stay below q, so maxLazyTerms·q² < q·2^64.
func wideSumPrime(q uint64) bool { return q < math.MaxUint64/maxLazyTerms }

// mredWide is ring.MRed for a 128-bit value hi·2^64 + lo with hi < q:
// (hi·2^64 + lo)·2^-64 mod q, fully reduced.
func mredWide(hi, lo, q, mrc uint64) uint64 {
	h, _ := bits.Mul64(lo*mrc, q)
	r := hi - h + q
	if r >= q {
		r -= q
	}
	return r
}

// accumulate adds the product of w.res (residue i of a plaintext, NTT
// domain) and ct's residues i (Montgomery form) to acc's.
func (w *worker) accumulate(i int, ct, acc *rlwe.Ciphertext) {
	s := w.p.CKKS.RingQ().SubRings[i]
	q, mrc := s.Modulus, s.MRedConstant
	n := len(w.res)
	a0, a1 := acc.Value[0].Coeffs[i][:n], acc.Value[1].Coeffs[i][:n]
	c0, c1 := ct.Value[0].Coeffs[i][:n], ct.Value[1].Coeffs[i][:n]
	if lazyPrime(q) {
		// a < 2^63 after up to maxLazyTerms products below 2q each.
		for m, x := range w.res {
			a0[m] += ring.MRedLazy(x, c0[m], q, mrc)
			a1[m] += ring.MRedLazy(x, c1[m], q, mrc)
		}
		return
	}
	for m, x := range w.res {
		a0[m] = ring.CRed(a0[m]+ring.MRed(x, c0[m], q, mrc), q)
		a1[m] = ring.CRed(a1[m]+ring.MRed(x, c1[m], q, mrc), q)
	}
}

// maxLazyTerms bounds the products mulAdd sums without reduction (the
// baby steps per giant step, at most 64); lazyPrime says whether a prime is
// small enough for that, 2q·maxLazyTerms < 2^63. The level primes (38
// bits) are; q0 (60 bits) is not and is reduced at every step.
const maxLazyTerms = 64

func lazyPrime(q uint64) bool { return q < 1<<63/(2*maxLazyTerms) }

// reduceLazy brings the lazily summed residues of acc back below q.
func (w *worker) reduceLazy(acc *rlwe.Ciphertext) {
	for i, s := range w.p.CKKS.RingQ().SubRings[:acc.Level()+1] {
		if lazyPrime(s.Modulus) {
			for k := range acc.Value {
				s.Reduce(acc.Value[k].Coeffs[i], acc.Value[k].Coeffs[i])
			}
		}
	}
}

// diagonal puts into w.vals the gallery plaintext that multiplies baby
// step j in giant step gs of block b:
// E[m] = w·G[e((m − baby·gs) mod S)][(m + j) mod d], with w the scale of
// the step's input (stepInput).
func (w *worker) diagonal(g *Gallery, b, gs, j, baby int) {
	S, d := w.p.Slots(), w.p.Dim
	scale, _ := stepInput(w.p.Threshold, w.p.Dim)
	for m := range S {
		i := m - baby*gs
		if i < 0 {
			i += S
		}
		if e := b*S + i; e < g.n {
			w.vals[m] = scale * g.value(e, (m+j)%d)
		} else {
			w.vals[m] = 0
		}
	}
}

// block evaluates gallery block b: similarities, then the step.
func (w *worker) block(g *Gallery, b int, babies []*rlwe.Ciphertext) (*rlwe.Ciphertext, error) {
	p := w.p
	baby := len(babies)
	giant := p.Dim / baby
	if baby > maxLazyTerms {
		return nil, fmt.Errorf("privacy: %d baby steps, at most %d", baby, maxLazyTerms)
	}
	level := babies[0].Level()
	pre := g.precomputed(p, baby)
	var acc *rlwe.Ciphertext
	inner := ckks.NewCiphertext(p.CKKS, 1, level)
	for gs := giant - 1; gs >= 0; gs-- {
		inner.Value[0].Zero()
		inner.Value[1].Zero()
		inner.Scale = babies[0].Scale.Mul(w.pt.Scale)
		if pre != nil {
			w.productsPacked(babies, inner, pre, b, gs)
		} else {
			for j := range baby {
				w.diagonal(g, b, gs, j, baby)
				if err := w.mulAdd(babies[j], inner); err != nil {
					return nil, fmt.Errorf("privacy: similarity block %d: %w", b, err)
				}
			}
			w.reduceLazy(inner)
		}
		if acc == nil {
			acc = inner.CopyNew()
			continue
		}
		if err := w.eval.Rotate(acc, baby, acc); err != nil {
			return nil, fmt.Errorf("privacy: giant-step rotation: %w", err)
		}
		if err := w.eval.Add(acc, inner, acc); err != nil {
			return nil, fmt.Errorf("privacy: similarity block %d: %w", b, err)
		}
	}
	if err := w.eval.Rescale(acc, acc); err != nil {
		return nil, fmt.Errorf("privacy: rescale block %d: %w", b, err)
	}
	// The step's input a·x + b: the similarity already carries the a.
	if _, shift := stepInput(p.Threshold, p.Dim); shift != 0 {
		if err := w.eval.Add(acc, shift, acc); err != nil {
			return nil, fmt.Errorf("privacy: shift block %d: %w", b, err)
		}
	}
	// Each polynomial's result is in the worker's scratch buffers, which
	// the next one reuses: it is copied to one of two buffers of the
	// worker's first (the last one to a new ciphertext: the block's
	// result, at level 0).
	for i, c := range w.steps {
		res, err := w.chebyshevEval(acc, c)
		if err != nil {
			return nil, fmt.Errorf("privacy: step polynomial %d, block %d: %w", i, b, err)
		}
		if i == len(w.steps)-1 {
			return res.CopyNew(), nil
		}
		if w.stepOut[i%2] == nil {
			w.stepOut[i%2] = ckks.NewCiphertext(p.CKKS, 1, p.probeLevel())
		}
		buf := w.stepOut[i%2]
		md := *res.MetaData
		acc = &rlwe.Ciphertext{Element: rlwe.Element[ring.Poly]{Value: []ring.Poly{
			{Coeffs: buf.Value[0].Coeffs[:res.Level()+1]}, {Coeffs: buf.Value[1].Coeffs[:res.Level()+1]}}, MetaData: &md}}
		acc.Copy(res)
	}
	return acc, nil
}

// mulAdd128 adds the 128-bit product x·c to the accumulator (hi, lo); the
// products of a giant step are summed this way and reduced once.
func mulAdd128(hi, lo *uint64, x, c uint64) {
	h, l := bits.Mul64(x, c)
	var carry uint64
	*lo, carry = bits.Add64(*lo, l, 0)
	*hi += h + carry
}
