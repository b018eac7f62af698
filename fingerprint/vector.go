package fingerprint

import (
	"math"
)

// Vector is a finger's fixed-length first-stage representation: VectorLen
// signed bytes, compared by dot product (Dot), larger meaning more alike. It
// exists so that a search can rank millions of gallery fingers with a scan
// of one contiguous array before the exact comparison (Matcher) re-scores a
// short list; it is far less discriminating than the Matcher and is not a
// comparison score.
//
// It is a soft histogram of the template's minutia pairs, the pair
// descriptor of Germain, Califano and Colville ("Fingerprint matching using
// transformation parameter clustering", IEEE CSE 4(4), 1997) made into a
// fixed-length vector: for every ordered pair (i, j) of minutiae at most
// vectorMaxDist apart where j is one of i's vectorNeighbours nearest
// neighbours, the distance, the direction of j relative to i and the
// direction of the segment i→j relative to i (all three invariant to
// translation and rotation) vote, with trilinear weights, into 2 × 8 × 16
// bins. The histogram is square-rooted (so that a few crowded bins do not
// dominate) and scaled to unit length, centred on the mean histogram of a synthetic population
// (vectorMean) so that what every finger has in common does not count, and
// scaled to unit length again; each value is then stored as round(256·x), clipped
// to ±127. The dot product of two vectors is thus 65,536 times their
// cosine, up to rounding and clipping.
//
// Measured on the real FVC prints (docs/search.md, TestVectorIndexFVC),
// a single finger's mate ranks within the best 5% of a 10,050-finger
// gallery for 98% of probes (97.1% within 2%), and a shortlist of 5%
// (search.DefaultShortlist) loses no mate that the exhaustive search
// finds (2% lost 1 of 350 with version 3); the exact stage decides the
// rest.
type Vector [VectorLen]int8

// VectorLen is the length of a Vector in bytes.
const VectorLen = 256

// VectorVersion changes whenever the vectors of the same template would
// change; a stored vector of another version must be recomputed.
// 3: vectorMean re-measured on the synthetic prints of issue 14 (ridge
// breaks).
const VectorVersion = 3

// Layout of the pair histogram.
const (
	vectorMaxDist = 100.0 // pixels at 500 ppi
	// vectorNeighbours: a minutia votes only with its nearest neighbours
	// (those at most as far as its vectorNeighbours-th nearest). Local pairs
	// survive a partial overlap and spurious minutiae elsewhere in the
	// print; with every pair within 150 px, real prints' mates escaped a
	// 10% shortlist four times as often (docs/search.md).
	vectorNeighbours = 8
	vectorND         = 2   // distance bins
	vectorNT         = 8   // relative direction bins
	vectorNA         = 16  // radial angle bins
	vectorScale      = 256 // a unit vector's values times this, as integers
)

// Vector returns the first-stage vector of a prepared template. A template
// with fewer than two minutiae gives the zero vector, which is equally
// (un)like every other.
func (p *Prepared) Vector() Vector {
	var v Vector
	h, ok := p.pairHistogram()
	if !ok {
		return v
	}
	norm := 0.0
	for i := range h {
		h[i] -= float64(vectorMean[i])
		norm += h[i] * h[i]
	}
	if norm == 0 {
		return v
	}
	s := vectorScale / math.Sqrt(norm)
	for i, x := range h {
		v[i] = int8(max(-127, min(127, math.Round(x*s))))
	}
	return v
}

// pairHistogram returns the square root of the soft pair histogram scaled
// to unit length, and false when it is empty.
func (p *Prepared) pairHistogram() ([VectorLen]float64, bool) {
	var h [VectorLen]float64
	n := p.n
	pair := p.pair
	if pair == nil && n > 0 { // a compact form
		c := *p
		c.buildGeometry()
		pair = c.pair
	}
	for i := 0; i < n; i++ {
		row := pair[i*n : (i+1)*n]
		reach := neighbourReach(row, i)
		for j, pk := range row {
			if j == i {
				continue
			}
			d := float64(mccDist4(pk)) / 4
			if d >= vectorMaxDist || mccDist4(pk) > reach {
				continue
			}
			// Bin coordinates; a value's weight goes to the two nearest bin
			// centres of each axis (circular for the angles).
			fd := d/vectorMaxDist*vectorND - 0.5
			ft := float64(p.dir8[j]-p.dir8[i])/256*vectorNT - 0.5
			fa := float64(mccRadial(pk))/256*vectorNA - 0.5
			d0, t0, a0 := math.Floor(fd), math.Floor(ft), math.Floor(fa)
			wd, wt, wa := fd-d0, ft-t0, fa-a0
			for _, dd := range [2]struct {
				b int
				w float64
			}{{int(d0), 1 - wd}, {int(d0) + 1, wd}} {
				if dd.b < 0 || dd.b >= vectorND {
					continue
				}
				for k := 0; k < 2; k++ {
					tb := (int(t0) + k + vectorNT) % vectorNT
					w2 := dd.w * (1 - wt)
					if k == 1 {
						w2 = dd.w * wt
					}
					ab0 := (int(a0) + vectorNA) % vectorNA
					ab1 := (ab0 + 1) % vectorNA
					base := (dd.b*vectorNT + tb) * vectorNA
					h[base+ab0] += w2 * (1 - wa)
					h[base+ab1] += w2 * wa
				}
			}
		}
	}
	norm := 0.0
	for i := range h {
		h[i] = math.Sqrt(h[i])
		norm += h[i] * h[i]
	}
	if norm == 0 {
		return h, false
	}
	norm = math.Sqrt(norm)
	for i := range h {
		h[i] /= norm
	}
	return h, true
}

// neighbourReach is the distance (quarter pixels) of minutia i's
// vectorNeighbours-th nearest neighbour, given its row of the pair table;
// every neighbour when it has no more.
func neighbourReach(row []uint32, i int) int {
	var near [vectorNeighbours]int // the nearest distances so far, ascending
	k := 0
	for j, pk := range row {
		if j == i {
			continue
		}
		d := mccDist4(pk)
		if k == vectorNeighbours && d >= near[k-1] {
			continue
		}
		if k < vectorNeighbours {
			k++
		}
		// Insert d, dropping the largest when full.
		at := k - 1
		for at > 0 && near[at-1] > d {
			near[at] = near[at-1]
			at--
		}
		near[at] = d
	}
	if k < vectorNeighbours {
		return math.MaxInt
	}
	return near[k-1]
}

// Dot returns the dot product of two vectors: about 65,536 times their
// cosine similarity.
func Dot(a, b *Vector) int32 {
	var s0, s1, s2, s3 int32
	for i := 0; i < VectorLen; i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	return s0 + s1 + s2 + s3
}

// Vector returns the first-stage vector of the matcher's probe.
func (m *Matcher) Vector() Vector { return m.probe.Vector() }
