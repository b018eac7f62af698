package fingerprint

import "math"

// exQuality is the local quality on the block grid, 0 to 1.
type exQuality struct {
	cols, rows int
	q          []float32
}

// Quality model. A block's quality is the coherence of its gradients (how
// clearly it shows parallel ridges; NFIQ and Lim, Jiang and Yau, "Fingerprint
// quality and validity analysis", ICIP 2002, use the same measure), mapped
// from [qualCohLow, qualCohHigh] to [0, 1], and lowered where the ridge
// period could not be measured.
const (
	qualCohLow     = 0.15
	qualCohHigh    = 0.75
	qualUnmeasured = 0.7       // factor for blocks whose period was interpolated
	qualBorderRamp = 32.0      // px from the mask edge over which minutia quality rises
	qualFullArea   = 200 * 200 // foreground px for full sample quality (about 10 x 10 mm)
	qualFullCount  = 12        // minutiae for full sample quality (a usual threshold for a match)
)

// blockQuality computes the quality of every foreground block.
func blockQuality(o *exOrientation, f *exFrequency, seg *exSegmentation) *exQuality {
	q := &exQuality{cols: o.cols, rows: o.rows, q: make([]float32, len(o.coh))}
	for i, c := range o.coh {
		if !seg.fg[i] {
			continue
		}
		v := (float64(c) - qualCohLow) / (qualCohHigh - qualCohLow)
		v = math.Min(1, math.Max(0, v))
		if !f.measured[i] {
			v *= qualUnmeasured
		}
		q.q[i] = float32(v)
	}
	return q
}

// minutiaQuality is the mean block quality in the 3 x 3 blocks around the
// minutia, lowered near the edge of the foreground, as 1 to 100.
func minutiaQuality(q *exQuality, seg *exSegmentation, x, y int) uint8 {
	bc, br := x/BlockSize, y/BlockSize
	var s float64
	n := 0
	for r := br - 1; r <= br+1; r++ {
		for c := bc - 1; c <= bc+1; c++ {
			if r < 0 || c < 0 || r >= q.rows || c >= q.cols {
				continue
			}
			s += float64(q.q[r*q.cols+c])
			n++
		}
	}
	v := s / float64(n) * seg.edgeDistance(x, y, qualBorderRamp) / qualBorderRamp
	return uint8(math.Max(1, math.Min(100, math.Round(100*v))))
}

// sampleQuality is the quality score 0-100 of the whole impression: the
// mean block quality of the foreground, scaled down when the foreground is
// small or holds few minutiae, the two ways an otherwise clear sample fails
// to be matched.
func sampleQuality(q *exQuality, seg *exSegmentation, minutiae int) int {
	var s float64
	for i, f := range seg.fg {
		if f {
			s += float64(q.q[i])
		}
	}
	mean := s / float64(max(seg.fgBlocks, 1))
	area := float64(seg.fgBlocks * BlockSize * BlockSize)
	v := mean * math.Sqrt(math.Min(1, area/qualFullArea)) * math.Min(1, float64(minutiae)/qualFullCount)
	return int(math.Max(1, math.Min(100, math.Round(100*v))))
}

// field exports the quality for a Transparency.
func (q *exQuality) field() *QualityField {
	f := &QualityField{BlockSize: BlockSize, Cols: q.cols, Rows: q.rows, Quality: make([]float64, len(q.q))}
	for i, v := range q.q {
		f.Quality[i] = float64(v)
	}
	return f
}
