package wsq

// This file lays out the 64 subbands of the WSQ wavelet packet
// decomposition (IAFIS-IC-0110 Part 1, Figure 3 and Annex A.2): which
// rectangles of the image the 20 one-level two-dimensional splits act on,
// and where each of the 64 subbands lies, in transmission order.

const (
	numSubbands   = 64
	numNodes      = 20
	maxHuffTables = 8
)

// region is a rectangle of the coefficient plane. invX and invY mark a
// spectrally inverted region: it is the high half of its parent in that
// direction, so when it is split again its highpass half comes first
// (and, for an odd length, is the shorter one).
type region struct {
	x, y, w, h int
	invX, invY bool
}

// halves splits a length n into its two parts: lowpass ceil(n/2) and
// highpass floor(n/2), the highpass first when inverted.
func halves(n int, inv bool) (first, second int) {
	lo, hi := (n+1)/2, n/2
	if inv {
		return hi, lo
	}
	return lo, hi
}

// quadrants splits r one level in both directions. The children are
// top-left, top-right, bottom-left and bottom-right; a right child is
// inverted in x and a bottom child in y, whatever r's own inversion.
func (r region) quadrants() [4]region {
	w1, w2 := halves(r.w, r.invX)
	h1, h2 := halves(r.h, r.invY)
	return [4]region{
		{x: r.x, y: r.y, w: w1, h: h1},
		{x: r.x + w1, y: r.y, w: w2, h: h1, invX: true},
		{x: r.x, y: r.y + h1, w: w1, h: h2, invY: true},
		{x: r.x + w1, y: r.y + h1, w: w2, h: h2, invX: true, invY: true},
	}
}

// layout is the decomposition of one image size.
type layout struct {
	// nodes are the regions split by the transform, parents first: the
	// encoder applies them in order and the decoder in reverse.
	nodes [numNodes]region
	// subbands are the 64 leaves in the order their coefficients are sent.
	subbands [numSubbands]region
}

const (
	tl = iota
	tr
	bl
	br
)

// newLayout builds the decomposition of a width x height image: five
// levels for the lowest frequencies, fewer for the high ones, as in the
// specification's Figure 3.
func newLayout(width, height int) *layout {
	l := &layout{}
	n := &l.nodes
	n[0] = region{w: width, h: height}
	q0 := n[0].quadrants()
	n[1], n[2], n[3] = q0[tl], q0[tr], q0[bl]
	q1 := n[1].quadrants()
	n[4], n[5], n[14] = q1[tr], q1[bl], q1[tl]
	q4 := n[4].quadrants()
	copy(n[6:10], q4[:])
	q5 := n[5].quadrants()
	copy(n[10:14], q5[:])
	q14 := n[14].quadrants()
	copy(n[15:19], q14[:])
	q15 := n[15].quadrants()
	n[19] = q15[tl]

	s := l.subbands[:0]
	q19 := n[19].quadrants()
	s = append(s, q19[:]...)                                          // 0-3
	s = append(s, q15[tr], q15[bl], q15[br])                          // 4-6
	for _, i := range []int{16, 17, 18, 6, 7, 8, 9, 10, 11, 12, 13} { // 7-50
		q := n[i].quadrants()
		s = append(s, q[:]...)
	}
	s = append(s, q1[br]) // 51
	q2, q3, qbr := n[2].quadrants(), n[3].quadrants(), q0[br].quadrants()
	s = append(s, q2[:]...)  // 52-55
	s = append(s, q3[:]...)  // 56-59
	s = append(s, qbr[:]...) // 60-63, never coded
	if len(s) != numSubbands {
		panic("wsq: subband layout has wrong count")
	}
	return l
}

// Subband groups of the three blocks the encoder writes (Part 3: block 1
// holds subbands 0-18, block 2 subbands 19-51, block 3 subbands 52-63).
var blockStarts = [...]int{0, 19, 52, numSubbands}
