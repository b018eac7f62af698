package wsq

// This file is the one-dimensional two-channel filter bank of
// IAFIS-IC-0110 Annex A.1-A.2 and its use on rows and columns. A line of n
// samples is split into ceil(n/2) lowpass and floor(n/2) highpass samples
// (the highpass ones first in a spectrally inverted region); lowpass samples
// sit at the even positions of the line and highpass ones at the odd
// positions. At the ends of a line the subbands are extended symmetrically
// (A.1.2): for odd-length filters both bands are symmetric, for even-length
// filters the highpass band is antisymmetric.
//
// The synthesis is arranged so that every output sample is a sum of single
// precision products taken in the same order as the NIST reference
// decoder: first the lowpass taps in increasing tap index, then the
// highpass taps. That order, and rounding after each operation, is what
// makes the decoder bit-exact with the reference decodes.

// edge is how a subband continues past one of its ends.
type edge uint8

const (
	wholeSym  edge = iota // mirror about the end sample: s[-k] = s[k]
	halfSym               // mirror half a sample beyond it: s[-1-k] = s[k]
	halfAnti              // negated half-sample mirror: s[-1-k] = -s[k]
	wholeAnti             // negated mirror about the zero one past the end: s[n] = 0, s[n+k] = -s[n-k]
)

// extend maps index v of an extended band of n samples to a real index and
// a sign (0 where the extension is the zero of a wholeAnti end).
func extend(v, n int, left, right edge) (int, float32) {
	sign := float32(1)
	for guard := 0; v < 0 || v >= n; guard++ {
		if n == 1 || guard > 4*maxFilterLen {
			return 0, sign
		}
		if v < 0 {
			switch left {
			case wholeSym, wholeAnti:
				v = -v
			case halfSym:
				v = -1 - v
			case halfAnti:
				v = -1 - v
				sign = -sign
			}
			continue
		}
		switch right {
		case wholeSym:
			v = 2*(n-1) - v
		case halfSym:
			v = 2*n - 1 - v
		case halfAnti:
			v = 2*n - 1 - v
			sign = -sign
		case wholeAnti:
			if v == n {
				return 0, 0
			}
			v = 2*n - v
			sign = -sign
		}
	}
	return v, sign
}

// term is one product of a synthesis sum: input sample src times coef.
type term struct {
	src  int32
	coef float32
}

// synthPlan lists, for each output sample j of a line of n samples, the
// products whose sum it is: terms[start[j]:start[j+1]], in summation order.
type synthPlan struct {
	start []int32
	terms []term
	reg   [2]regular
	edges []int32 // the outputs outside the regular runs
}

// newSynthPlan plans the synthesis of a line of n samples whose subbands
// are stored lowpass first (highpass first if inv).
func newSynthPlan(t *transformTable, n int, inv bool) *synthPlan {
	lo, hi := t.synthLow, t.synthHigh
	lsz, hsz := len(lo), len(hi)
	llen, hlen := (n+1)/2, n/2
	lowBase, highBase := 0, llen
	if inv {
		lowBase, highBase = hlen, 0
	}
	odd := lsz%2 == 1
	var loc, hoc, lotap, hotap int
	var lLeft, lRight, hLeft, hRight edge
	hsign := float32(1)
	if odd {
		loc, hoc = (lsz-1)/4, (hsz+1)/4-1
		lotap, hotap = ((lsz-1)/2)%2, ((hsz+1)/2)%2
		lLeft, hLeft = wholeSym, halfSym
		if n%2 == 1 {
			lRight, hRight = wholeSym, halfSym
		} else {
			lRight, hRight = halfSym, wholeSym
		}
	} else {
		// Even filters: the highpass synthesis filter enters with its sign
		// flipped and the highpass band is extended antisymmetrically.
		hsign = -1
		loc, hoc = lsz/4-1, hsz/4-1
		lotap, hotap = (lsz/2)%2, (hsz/2)%2
		lLeft, hLeft = halfSym, halfAnti
		if loc < 0 {
			loc, lLeft = 0, wholeSym
		}
		if hoc < 0 {
			hoc, hLeft = 0, wholeSym
		}
		if n%2 == 1 {
			lRight, hRight = wholeSym, wholeAnti
		} else {
			lRight, hRight = halfSym, halfAnti
		}
	}
	// v0 is the extended index of the first sample the first output uses:
	// the filters start loc (hoc) samples into the band, mirrored.
	v0L, v0H := -loc, -hoc
	if lLeft == halfSym {
		v0L = -1 - loc
	}
	if hLeft != wholeSym {
		v0H = -1 - hoc
	}
	p := &synthPlan{start: make([]int32, n+1)}
	p.terms = make([]term, 0, n*(lsz+hsz+2)/2)
	for j := 0; j < n; j++ {
		p.start[j] = int32(len(p.terms))
		for i := (lotap + j) % 2; i < lsz; i += 2 {
			idx, _ := extend(v0L+(j+i-lotap)/2, llen, lLeft, lRight)
			p.terms = append(p.terms, term{int32(lowBase + idx), lo[i]})
		}
		if hlen == 0 {
			continue
		}
		for i := (hotap + j) % 2; i < hsz; i += 2 {
			idx, s := extend(v0H+(j+i-hotap)/2, hlen, hLeft, hRight)
			if s == 0 {
				continue
			}
			p.terms = append(p.terms, term{int32(highBase + idx), hsign * s * hi[i]})
		}
	}
	p.start[n] = int32(len(p.terms))
	return p
}

// regular describes the outputs of one parity p of a synthesis plan away
// from the ends of the line: output j = 2m+p, for m in [mlo, mhi), is the
// sum of in[off[t]+m]*coef[t] in t order. Those outputs are computed a
// whole run at a time (weightedSum), the others from their term lists.
type regular struct {
	mlo, mhi int
	off      []int
	coef     []float32
}

// findRegular finds, for each parity, the longest run of outputs around
// the middle of the line whose terms follow one pattern shifted by one
// input sample per two outputs.
func (p *synthPlan) findRegular(n int) {
	for par := 0; par < 2; par++ {
		mid := (n/2)&^1 + par
		if mid >= n {
			continue
		}
		m0 := mid / 2
		ref := p.terms[p.start[mid]:p.start[mid+1]]
		matches := func(j int) bool {
			ts := p.terms[p.start[j]:p.start[j+1]]
			if len(ts) != len(ref) {
				return false
			}
			for t := range ts {
				if ts[t].coef != ref[t].coef || int(ts[t].src)-j/2 != int(ref[t].src)-m0 {
					return false
				}
			}
			return true
		}
		lo, hi := mid, mid+2
		for lo-2 >= 0 && matches(lo-2) {
			lo -= 2
		}
		for hi < n && matches(hi) {
			hi += 2
		}
		r := &p.reg[par]
		r.mlo, r.mhi = lo/2, (hi-par+1)/2
		for _, t := range ref {
			r.off = append(r.off, int(t.src)-m0)
			r.coef = append(r.coef, t.coef)
		}
	}
	for j := 0; j < n; j++ {
		if r := &p.reg[j&1]; j/2 < r.mlo || j/2 >= r.mhi {
			p.edges = append(p.edges, int32(j))
		}
	}
}

// line synthesises one line: out[j] from in (both n samples). scratch
// holds at least n/2+1 samples and srcs len(terms) slices.
func (p *synthPlan) line(out, in, scratch []float32, srcs [][]float32) {
	for par := range p.reg {
		r := &p.reg[par]
		cnt := r.mhi - r.mlo
		if cnt <= 0 {
			continue
		}
		srcs = srcs[:len(r.off)]
		for t, o := range r.off {
			srcs[t] = in[o+r.mlo : o+r.mhi]
		}
		dst := scratch[:cnt]
		weightedSum(dst, srcs, r.coef)
		for i, v := range dst {
			out[2*(r.mlo+i)+par] = v
		}
	}
	for _, j := range p.edges {
		ts := p.terms[p.start[j]:p.start[j+1]]
		var s float32
		for _, t := range ts {
			// The conversion keeps each product rounded on its own, as
			// the reference does (no fused multiply-add).
			s += float32(in[t.src] * t.coef)
		}
		out[j] = s
	}
}

// weightedSum sets dst[x] to the sum over t of srcs[t][x]*coefs[t], each
// product rounded to single precision and added in increasing t, which is
// the reference decoder's order. The standard 9/7 filters give seven or
// nine terms, which run as one loop each; other counts go four terms at a
// time through dst.
func weightedSum(dst []float32, srcs [][]float32, coefs []float32) {
	switch len(srcs) {
	case 7:
		sum7(dst, srcs, coefs)
		return
	case 9:
		sum9(dst, srcs, coefs)
		return
	}
	for t := 0; t < len(srcs); {
		k := min(4, len(srcs)-t)
		if k == 4 {
			sum4(dst, srcs[t:t+4], coefs[t:t+4], t == 0)
		} else {
			for i := 0; i < k; i++ {
				sum1(dst, srcs[t+i], coefs[t+i], t+i == 0)
			}
		}
		t += k
	}
	if len(srcs) == 0 {
		clear(dst)
	}
}

func sum7(dst []float32, s [][]float32, c []float32) {
	n := len(dst)
	a0, a1, a2, a3 := s[0][:n], s[1][:n], s[2][:n], s[3][:n]
	a4, a5, a6 := s[4][:n], s[5][:n], s[6][:n]
	c0, c1, c2, c3, c4, c5, c6 := c[0], c[1], c[2], c[3], c[4], c[5], c[6]
	for x := range dst {
		v := float32(a0[x] * c0)
		v += float32(a1[x] * c1)
		v += float32(a2[x] * c2)
		v += float32(a3[x] * c3)
		v += float32(a4[x] * c4)
		v += float32(a5[x] * c5)
		v += float32(a6[x] * c6)
		dst[x] = v
	}
}

// sum9 is sum7 and then the last two products, added to each sum in
// the same order a single loop would.
func sum9(dst []float32, s [][]float32, c []float32) {
	sum7(dst, s[:7], c[:7])
	n := len(dst)
	a7, a8 := s[7][:n], s[8][:n]
	c7, c8 := c[7], c[8]
	for x := range dst {
		v := dst[x] + float32(a7[x]*c7)
		dst[x] = v + float32(a8[x]*c8)
	}
}

func sum4(dst []float32, s [][]float32, c []float32, first bool) {
	n := len(dst)
	a0, a1, a2, a3 := s[0][:n], s[1][:n], s[2][:n], s[3][:n]
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	for x := range dst {
		var v float32
		if !first {
			v = dst[x]
		}
		v += float32(a0[x] * c0)
		v += float32(a1[x] * c1)
		v += float32(a2[x] * c2)
		v += float32(a3[x] * c3)
		dst[x] = v
	}
}

func sum1(dst, a []float32, c float32, first bool) {
	a = a[:len(dst)]
	for x := range dst {
		var v float32
		if !first {
			v = dst[x]
		}
		dst[x] = v + float32(a[x]*c)
	}
}

// planCache keeps the plans of one decode, keyed by length and inversion,
// and the scratch space of the synthesis.
type planCache struct {
	t       *transformTable
	plans   map[[2]int]*synthPlan
	scratch []float32
	srcs    [][]float32
	coefs   []float32
}

func (c *planCache) get(n int, inv bool) *synthPlan {
	k := [2]int{n, 0}
	if inv {
		k[1] = 1
	}
	if p, ok := c.plans[k]; ok {
		return p
	}
	p := newSynthPlan(c.t, n, inv)
	p.findRegular(n)
	c.plans[k] = p
	return p
}

// reconstruct undoes the decomposition of a width-wide plane in place:
// for each split region, from the last to the first, columns then rows
// (the reverse of the encoder's rows then columns). tmp has the plane's
// size.
func reconstruct(data, tmp []float32, width int, l *layout, t *transformTable) {
	c := &planCache{t: t, plans: map[[2]int]*synthPlan{}}
	maxTerms := len(t.synthLow) + len(t.synthHigh)
	c.srcs = make([][]float32, maxTerms)
	c.scratch = make([]float32, width/2+1)
	c.coefs = make([]float32, maxTerms)
	for k := numNodes - 1; k >= 0; k-- {
		r := l.nodes[k]
		if r.w == 0 || r.h == 0 {
			continue
		}
		base := r.y*width + r.x
		// Columns: output row j of tmp is a weighted sum of whole input
		// rows, which keeps memory access sequential while each sample
		// still sums its terms in the reference order.
		cp := c.get(r.h, r.invY)
		for j := 0; j < r.h; j++ {
			ts := cp.terms[cp.start[j]:cp.start[j+1]]
			srcs := c.srcs[:len(ts)]
			coefs := c.coefs[:len(ts)]
			for i, tm := range ts {
				o := base + int(tm.src)*width
				srcs[i] = data[o : o+r.w]
				coefs[i] = tm.coef
			}
			weightedSum(tmp[j*width:j*width+r.w], srcs, coefs)
		}
		// Rows: the regular middle of each row a run at a time.
		rp := c.get(r.w, r.invX)
		for j := 0; j < r.h; j++ {
			rp.line(data[base+j*width:base+j*width+r.w], tmp[j*width:j*width+r.w], c.scratch, c.srcs)
		}
	}
}

// analysisFilters are the encoder's filters in float64: h0 lowpass and h1
// highpass, full length. Both have odd lengths or both even ones.
type analysisFilters struct {
	h0, h1 []float64
}

// analyse splits a line of n samples (in, read with stride) into its
// lowpass and highpass halves, written to out (stride 1), lowpass first
// unless inv. It inverts newSynthPlan's synthesis: odd filters are centred
// on the even (lowpass) and odd (highpass) samples of a signal extended
// whole-sample symmetrically; even filters straddle sample pairs of a
// signal extended half-sample symmetrically, and their lowpass band is sent
// negated, the sign convention of the reference decoder's even synthesis
// lowpass filter.
func (f *analysisFilters) analyse(out []float32, in []float32, n, stride int, inv bool) {
	llen, hlen := (n+1)/2, n/2
	low, high := out[:llen], out[llen:n]
	if inv {
		high, low = out[:hlen], out[hlen:n]
	}
	c0, c1, ext, lsign := (len(f.h0)-1)/2, (len(f.h1)-1)/2, wholeSym, 1.0
	if len(f.h0)%2 == 0 {
		c0, c1, ext, lsign = len(f.h0)/2-1, len(f.h1)/2, halfSym, -1
	}
	at := func(v int) float64 {
		i, _ := extend(v, n, ext, ext)
		return float64(in[i*stride])
	}
	for k := 0; k < llen; k++ {
		var s float64
		for i, h := range f.h0 {
			s += h * at(2*k+i-c0)
		}
		low[k] = float32(lsign * s)
	}
	for k := 0; k < hlen; k++ {
		var s float64
		for i, h := range f.h1 {
			s += h * at(2*k+1+i-c1)
		}
		high[k] = float32(s)
	}
}

// decompose applies the decomposition to a width-wide plane in place:
// for each split region, rows then columns.
func decompose(data, tmp []float32, width int, l *layout, f *analysisFilters) {
	line := make([]float32, 0)
	for k := 0; k < numNodes; k++ {
		r := l.nodes[k]
		if r.w == 0 || r.h == 0 {
			continue
		}
		base := r.y*width + r.x
		for j := 0; j < r.h; j++ {
			f.analyse(tmp[j*width:j*width+r.w], data[base+j*width:], r.w, 1, r.invX)
		}
		if cap(line) < r.h {
			line = make([]float32, r.h)
		}
		line = line[:r.h]
		for x := 0; x < r.w; x++ {
			f.analyse(line, tmp[x:], r.h, width, r.invY)
			for j, v := range line {
				data[base+j*width+x] = v
			}
		}
	}
}
