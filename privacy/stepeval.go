package privacy

import (
	"errors"
	"fmt"
	"sync"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// The step composite's polynomials are evaluated here rather than with
// Lattigo's generic Paterson-Stockmeyer evaluator, which for a degree-7
// polynomial in the Chebyshev basis spends 5 key switches (T2, T3, T4 and
// two giant-step products) and 6 rescales, odd polynomials included. For
// p = Σ_{k≤7} c_k·T_k this evaluator writes
//
//	p = A + T4·B,  B = c4 + 2c5·T1 + 2c6·T2 + 2c7·T3,
//	               A = c0 + (c1 − c7)·T1 + (c2 − c6)·T2 + (c3 − c5)·T3
//
// (T4·T_j = (T_{4+j} + T_{4−j})/2), and never computes T3 itself: the T3
// terms are products β·T3 = (β·x)⊗U with U = 2·T2 − 1 = 4x² − 3, each left
// as a degree-2 ciphertext and summed into B and A before their one
// relinearisation. Key switches: T2, T4, B and the final sum, 4; depth 3,
// the same as Lattigo's; degree ≤ 3: T2 and the final sum, depth 2.
// Constants multiply ciphertexts as integers at a scale ratio of about one
// prime (Lattigo's MulThenAdd), so they keep the scheme's precision;
// (β·x) is one such product, rescaled.

// stepCoeffs returns the composite for threshold t and dimension dim as
// Chebyshev coefficients, the last polynomial turned from sign into step,
// (1 + sign)/2, so that the output is 1 above the threshold and 0 below.
func stepCoeffs(t float64, dim int) [][]float64 {
	comp := stepComposite(t, dim)
	out := make([][]float64, len(comp))
	for i, c := range comp {
		c = append([]float64(nil), c...)
		if i == len(comp)-1 {
			for j := range c {
				c[j] /= 2
			}
			c[0] += 0.5
		}
		out[i] = c
	}
	return out
}

// chebyshevEval evaluates Σ c_k·T_k(x) for a degree up to 7 (see above);
// the result is three levels below x (two for degree ≤ 3), at a scale near
// x's.
func (w *worker) chebyshevEval(x *rlwe.Ciphertext, c []float64) (*rlwe.Ciphertext, error) {
	if len(c) > 8 || len(c) < 2 {
		return nil, fmt.Errorf("privacy: step polynomial of degree %d", len(c)-1)
	}
	coef := func(k int) float64 {
		if k < len(c) {
			return c[k]
		}
		return 0
	}
	ev := w.eval
	// T2 = 2x² − 1 and U = 2·T2 − 1, one level below x.
	w.slot = 0
	t2 := w.scratch(2, x.Level(), x)
	if err := w.chebDouble(x, t2); err != nil {
		return nil, err
	}
	u := w.scratch(1, t2.Level(), t2)
	u.Copy(t2)
	if err := ev.Add(u, u, u); err != nil {
		return nil, err
	}
	if err := ev.Add(u, -1, u); err != nil {
		return nil, err
	}
	// times returns (β·x)⊗U scaled to decode as β·T3 at scale target, at
	// U's level; nil for β = 0.
	times := func(beta float64, target rlwe.Scale) (*rlwe.Ciphertext, error) {
		if beta == 0 {
			return nil, nil
		}
		// (β·x) is rescaled to x's scale S, and (β·x)⊗U has scale S·s_U; to
		// decode at target instead, β is multiplied by target/(S·s_U).
		r := target.Div(x.Scale.Mul(u.Scale)).Float64()
		bx := w.zeroed(1, x.Level(), x)
		bx.Scale = x.Scale.Mul(rlwe.NewScale(w.p.CKKS.Q()[x.Level()]))
		if err := ev.MulThenAdd(x, beta*r, bx); err != nil {
			return nil, err
		}
		if err := ev.Rescale(bx, bx); err != nil {
			return nil, err
		}
		out := w.scratch(2, u.Level(), u)
		if err := ev.Mul(bx, u, out); err != nil {
			return nil, err
		}
		out.Scale = target
		return out, nil
	}
	// linear returns c0 + c1·x + c2·T2 at level and scale, degree 1.
	linear := func(c0, c1, c2 float64, level int, scale rlwe.Scale) (*rlwe.Ciphertext, error) {
		out := w.zeroed(1, level, x)
		out.Scale = scale
		if c1 != 0 {
			if err := ev.MulThenAdd(x, c1, out); err != nil {
				return nil, err
			}
		}
		if c2 != 0 {
			if err := ev.MulThenAdd(t2, c2, out); err != nil {
				return nil, err
			}
		}
		if c0 != 0 {
			if err := ev.Add(out, c0, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	// sum adds a degree-2 ciphertext (may be nil) into a degree-1 or -2 one
	// at the same scale, dropping it to acc's level first.
	sum := func(acc, t *rlwe.Ciphertext) (*rlwe.Ciphertext, error) {
		if t == nil {
			return acc, nil
		}
		if d := t.Level() - acc.Level(); d > 0 {
			ev.DropLevel(t, d)
		}
		if acc.Degree() < t.Degree() {
			acc, t = t, acc
		}
		if err := ev.Add(acc, t, acc); err != nil {
			return nil, err
		}
		return acc, nil
	}
	finish := func(ct *rlwe.Ciphertext) (*rlwe.Ciphertext, error) {
		if ct.Degree() == 2 {
			return ct, w.relinRescale(ct)
		}
		if err := ev.Rescale(ct, ct); err != nil {
			return nil, err
		}
		return ct, nil
	}
	if len(c) <= 4 {
		// p = c0 + c1·x + c2·T2 + c3·T3, at U's level before the rescale.
		target := x.Scale.Mul(u.Scale)
		a, err := linear(coef(0), coef(1), coef(2), u.Level(), target)
		if err != nil {
			return nil, err
		}
		t3, err := times(coef(3), target)
		if err != nil {
			return nil, err
		}
		if a, err = sum(a, t3); err != nil {
			return nil, err
		}
		return finish(a)
	}
	// T4 = 2·T2² − 1, two levels below x.
	t4 := w.scratch(2, t2.Level(), t2)
	if err := w.chebDouble(t2, t4); err != nil {
		return nil, err
	}
	// B at U's level and scale about x's times one prime, relinearised and
	// rescaled to T4's level.
	bScale := x.Scale.Mul(u.Scale)
	b, err := linear(coef(4), 2*coef(5), 2*coef(6), u.Level(), bScale)
	if err != nil {
		return nil, err
	}
	t3, err := times(2*coef(7), bScale)
	if err != nil {
		return nil, err
	}
	if b, err = sum(b, t3); err != nil {
		return nil, err
	}
	if b, err = finish(b); err != nil {
		return nil, err
	}
	if b.Level() != t4.Level() {
		return nil, errors.New("privacy: step polynomial: levels of T4 and B differ")
	}
	// p = A + T4⊗B, summed at T4's level and T4⊗B's scale, then one
	// relinearisation and rescale.
	p := w.scratch(2, t4.Level(), t4)
	if err := ev.Mul(t4, b, p); err != nil {
		return nil, err
	}
	a, err := linear(coef(0), coef(1)-coef(7), coef(2)-coef(6), t4.Level(), p.Scale)
	if err != nil {
		return nil, err
	}
	if p, err = sum(p, a); err != nil {
		return nil, err
	}
	t3, err = times(coef(3)-coef(5), p.Scale)
	if err != nil {
		return nil, err
	}
	if p, err = sum(p, t3); err != nil {
		return nil, err
	}
	return finish(p)
}

// Relinearisation and rescale in one step. Relinearising c = (c0, c1, c2)
// at level l computes, with the key's special primes P, d = (d0, d1) with
// d ≈ P·c2·s² modulo QP and returns (c_i·P + d_i)/P; the rescale then
// divides by q_l, which takes an inverse NTT of the q_l residue and an NTT
// into every other prime. Dividing (c_i·P + d_i) by P·q_l at once, a
// basis extension from P ∪ {q_l} to q_0..q_{l−1}, gives the same result up
// to one unit of rounding and saves the rescale's transforms.

// fusedLevel holds the basis extension of relinRescale at one level.
type fusedLevel struct {
	ext *ring.BasisExtender
	p   [2]ring.Poly // views of worker.fusedQP: its P residues and residue q_l
}

// fusedRings are, per level l ≥ 1, the rings of q_0..q_{l−1} and of
// P ∪ {q_l}; they depend only on the parameters, and workers share them.
type fusedRings struct {
	q, p []*ring.Ring
	ext  []*ring.BasisExtender
}

var fusedCache sync.Map // the parameters' ring degree, type and moduli → *fusedRings

func newFusedRings(p Params) (*fusedRings, error) {
	key := fmt.Sprint(p.CKKS.N(), p.CKKS.RingType(), p.CKKS.Q(), p.CKKS.P())
	if f, ok := fusedCache.Load(key); ok {
		return f.(*fusedRings), nil
	}
	q, pp := p.CKKS.Q(), p.CKKS.P()
	f := &fusedRings{q: make([]*ring.Ring, len(q)), p: make([]*ring.Ring, len(q)), ext: make([]*ring.BasisExtender, len(q))}
	for l := 1; l < len(q); l++ {
		var err error
		if f.q[l], err = ring.NewRingFromType(p.CKKS.N(), q[:l], p.CKKS.RingType()); err != nil {
			return nil, err
		}
		if f.p[l], err = ring.NewRingFromType(p.CKKS.N(), append(append([]uint64(nil), pp...), q[l]), p.CKKS.RingType()); err != nil {
			return nil, err
		}
		f.ext[l] = ring.NewBasisExtender(f.q[l], f.p[l])
	}
	fusedCache.Store(key, f)
	return f, nil
}

// chebDouble sets dst to T_2k = 2·T_k² − 1 from src = T_k, relinearised
// and rescaled one level below src.
func (w *worker) chebDouble(src, dst *rlwe.Ciphertext) error {
	if err := w.eval.Mul(src, src, dst); err != nil {
		return err
	}
	if err := w.relinRescale(dst); err != nil {
		return err
	}
	if err := w.eval.Add(dst, dst, dst); err != nil {
		return err
	}
	return w.eval.Add(dst, -1, dst)
}

// relinRescale relinearises the degree-2 ciphertext ct and rescales it by
// its last prime, in place.
func (w *worker) relinRescale(ct *rlwe.Ciphertext) error {
	l := ct.Level()
	if ct.Degree() != 2 || l < 1 || w.rlk == nil {
		return errors.New("privacy: relinRescale needs a degree-2 ciphertext above level 0 and the relinearisation key")
	}
	rlk := w.rlk
	if w.fused == nil {
		f, err := newFusedRings(w.p)
		if err != nil {
			return err
		}
		w.fusedRings = f
		w.fused = make([]*fusedLevel, len(w.p.CKKS.Q()))
		w.fusedQP = [2]ringqp.Poly{w.p.CKKS.RingQP().NewPoly(), w.p.CKKS.RingQP().NewPoly()}
	}
	qp := w.fusedQP
	fl := w.fused[l]
	if fl == nil {
		fl = &fusedLevel{ext: w.fusedRings.ext[l].ShallowCopy()}
		for i := range fl.p {
			fl.p[i] = ring.Poly{Coeffs: make([][]uint64, len(w.p.CKKS.P())+1)}
			copy(fl.p[i].Coeffs, qp[i].P.Coeffs)
			fl.p[i].Coeffs[len(w.p.CKKS.P())] = qp[i].Q.Coeffs[l]
		}
		w.fused[l] = fl
	}
	tmp := &rlwe.Element[ringqp.Poly]{Value: []ringqp.Poly{qp[0], qp[1]}, MetaData: ct.MetaData}
	if err := w.eval.GadgetProductLazy(l, ct.Value[2], &rlk.GadgetCiphertext, tmp); err != nil {
		return err
	}
	rq := w.p.CKKS.RingQ().AtLevel(l)
	levelP := len(w.p.CKKS.P())
	pBig := w.p.CKKS.RingP().ModulusAtLevel[levelP-1]
	for i := range 2 {
		// GadgetProductLazy leaves its result reduced (below q).
		rq.MulScalarBigintThenAdd(ct.Value[i], pBig, qp[i].Q)
		qv := ring.Poly{Coeffs: qp[i].Q.Coeffs[:l]}
		out := ring.Poly{Coeffs: ct.Value[i].Coeffs[:l]}
		fl.ext.ModDownQPtoQNTT(l-1, levelP, qv, fl.p[i], out)
	}
	ct.Resize(1, l-1)
	ct.Scale = ct.Scale.Div(rlwe.NewScale(w.p.CKKS.Q()[l]))
	return nil
}

// Scratch ciphertexts. A polynomial's evaluation makes nine intermediate
// ciphertexts of up to 8 MB each at 2^15; allocated afresh, each is zeroed
// by the runtime (some 0.1 s of CPU a block, profiled), though most are
// outputs of products that overwrite them. chebyshevEval takes them from
// the worker's buffers instead, in order (w.slot); its result is one of
// them, and block copies the composite's result out.

// scratch returns the next scratch buffer as a ciphertext of degree deg
// at level, with like's metadata; its contents are arbitrary.
func (w *worker) scratch(deg, level int, like *rlwe.Ciphertext) *rlwe.Ciphertext {
	if w.slot == len(w.scratchBuf) {
		w.scratchBuf = append(w.scratchBuf, ckks.NewCiphertext(w.p.CKKS, 2, w.p.probeLevel()))
	}
	buf := w.scratchBuf[w.slot]
	w.slot++
	vals := make([]ring.Poly, deg+1)
	for i := range vals {
		vals[i] = ring.Poly{Coeffs: buf.Value[i].Coeffs[:level+1]}
	}
	md := *like.MetaData
	return &rlwe.Ciphertext{Element: rlwe.Element[ring.Poly]{Value: vals, MetaData: &md}}
}

// zeroed is scratch with the contents zero.
func (w *worker) zeroed(deg, level int, like *rlwe.Ciphertext) *rlwe.Ciphertext {
	ct := w.scratch(deg, level, like)
	for _, v := range ct.Value {
		for _, row := range v.Coeffs {
			clear(row)
		}
	}
	return ct
}
