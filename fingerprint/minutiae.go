package fingerprint

import (
	"math"
	"slices"
)

// exMinutia is a minutia candidate with what ridge tracing found around it.
type exMinutia struct {
	x, y     int
	kind     MinutiaType
	angle    float64 // radians, Minutia.Angle's convention
	branches []exBranch
	fork     float64 // bifurcations: angle between the two branches of the fork, radians
}

// exBranch is the result of following the skeleton away from a minutia.
type exBranch struct {
	length int   // pixels followed
	hit    int32 // the minutia the trace ran into, -1 if none
	dx, dy int   // from the minutia to the point minDirStep pixels along
}

// Tracing lengths in pixels at 500 ppi: minTraceLen (about two ridge
// periods) is as far as the filters need to look; minDirStep (about one
// period) is where a branch's direction is read, far enough to average out
// the skeleton's pixel steps, near enough to stay on a curving ridge.
const (
	minTraceLen = 20
	minDirStep  = 10
)

// detectMinutiae finds the ridge endings (crossing number 1) and
// bifurcations (crossing number 3) of the skeleton (Arcelli and Baja's
// crossing number as used by Ratha et al. 1995), follows each of their
// branches, and sets their direction.
//
// The direction follows ISO/IEC 19794-2 and ANSI/INCITS 378: a ridge
// ending points from its end into the ridge (along the valley fork that
// the ending is), a bifurcation points from its fork into the valley
// between its two branches (away from the single ridge). It is read from the
// traced branches and then refined with the orientation field, whose
// ridge direction is more precise than a few skeleton pixels but has no
// sense.
func detectMinutiae(s *exSkeleton, o *exOrientation) []exMinutia {
	var ms []exMinutia
	at := &minIndex{bits: make([]uint64, (len(s.b)+63)/64)}
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			i := s.idx(x, y)
			if s.b[i] == 0 {
				continue
			}
			var kind MinutiaType
			switch skTrans[s.code(i)] {
			case 1:
				kind = Ending
			case 3:
				kind = Bifurcation
			default:
				continue
			}
			at.bits[i/64] |= 1 << (i % 64)
			at.pix = append(at.pix, i)
			ms = append(ms, exMinutia{x: x, y: y, kind: kind})
		}
	}
	for mi := range ms {
		m := &ms[mi]
		start := s.idx(m.x, m.y)
		firsts := minBranchStarts(s, start)
		m.branches = make([]exBranch, 0, len(firsts))
		for _, f := range firsts {
			m.branches = append(m.branches, minTrace(s, at, start, f, int32(mi), firsts))
		}
		m.angle = minDirection(m, o)
	}
	return ms
}

// minIndex says which minutia, if any, is at a pixel of the skeleton: a
// bit per pixel says whether one is, and the pixels of the minutiae in
// their order (raster order, so ascending) give its index. (A slice of an
// index per pixel did the same, but is 4 bytes a pixel to clear.)
type minIndex struct {
	bits []uint64
	pix  []int
}

// at returns the index of the minutia at pixel index i, or -1.
func (x *minIndex) at(i int) int32 {
	if x.bits[i/64]>>(i%64)&1 == 0 {
		return -1
	}
	k, _ := slices.BinarySearch(x.pix, i)
	return int32(k)
}

// minBranchStarts returns the first pixel of each branch leaving index i:
// one per run of set neighbours around the ring, the 4-neighbour of the run
// if it has one (it is the one that continues the line).
func minBranchStarts(s *exSkeleton, i int) []int {
	c := s.code(i)
	var out []int
	for k := 0; k < 8; k++ {
		if (c>>k)&1 == 0 || (c>>((k+7)&7))&1 == 1 {
			continue // not the start of a run
		}
		best := -1
		for j := k; (c>>(j&7))&1 == 1 && j < k+8; j++ {
			if best < 0 || (j&7)%2 == 0 && best%2 == 1 {
				best = j & 7
			}
		}
		out = append(out, i+s.nb[best])
	}
	return out
}

// minTrace follows the skeleton from start through first for up to
// minTraceLen pixels, stopping at another minutia or a dead end. The other
// branch starts of the same minutia are never entered.
func minTrace(s *exSkeleton, at *minIndex, start, first int, self int32, firsts []int) exBranch {
	var path [minTraceLen + 1]int
	n := 0
	br := exBranch{hit: -1}
	sx, sy := s.xy(start)
	prev, cur := start, first
	dirAt := first
	for steps := 1; ; steps++ {
		path[n] = cur
		n++
		if steps <= minDirStep {
			dirAt = cur
		}
		br.length = steps
		if m := at.at(cur); m >= 0 && m != self {
			br.hit = m
			break
		}
		if steps >= minTraceLen {
			break
		}
		// Where the line offers two pixels (a corner), the 4-neighbour
		// is the one that continues it.
		next, nextFour := -1, false
		for k, off := range s.nb {
			j := cur + off
			if s.b[j] == 0 || j == start || j == prev || minIn(path[:n], j) || (j != first && minIn(firsts, j)) {
				continue
			}
			if four := k%2 == 0; next < 0 || four && !nextFour {
				next, nextFour = j, four
			}
		}
		if next < 0 {
			break
		}
		prev, cur = cur, next
	}
	dx, dy := s.xy(dirAt)
	br.dx, br.dy = dx-sx, dy-sy
	return br
}

func minIn(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// minDirection returns the minutia's angle (Minutia.Angle convention) from
// its branches and the orientation field.
func minDirection(m *exMinutia, o *exOrientation) float64 {
	var ax, ay float64 // direction in image coordinates
	switch {
	case m.kind == Ending && len(m.branches) >= 1:
		ax, ay = float64(m.branches[0].dx), float64(m.branches[0].dy)
	case len(m.branches) == 3:
		// The two branches with the smallest angle between them are the
		// fork; the direction bisects them.
		var u [3][2]float64
		for k, b := range m.branches {
			l := math.Hypot(float64(b.dx), float64(b.dy))
			if l > 0 {
				u[k] = [2]float64{float64(b.dx) / l, float64(b.dy) / l}
			}
		}
		best, bi, bj := -2.0, 0, 1
		for i := 0; i < 3; i++ {
			for j := i + 1; j < 3; j++ {
				if d := u[i][0]*u[j][0] + u[i][1]*u[j][1]; d > best {
					best, bi, bj = d, i, j
				}
			}
		}
		m.fork = math.Acos(math.Max(-1, math.Min(1, best)))
		ax, ay = u[bi][0]+u[bj][0], u[bi][1]+u[bj][1]
		if ax == 0 && ay == 0 {
			// Two opposite branches: point away from the third.
			k := 3 - bi - bj
			ax, ay = -u[k][0], -u[k][1]
		}
	}
	traced := math.Atan2(ay, ax)
	// The orientation field's ridge direction, taken in the sense closer
	// to the traced one, unless they disagree by more than 45° (near a
	// core or delta, where the block field is coarse).
	th := o.ridgeAngleSmooth(m.x, m.y)
	for _, cand := range [2]float64{th, th + math.Pi} {
		if minAngleDiff(cand, traced) < math.Pi/4 {
			traced = cand
			break
		}
	}
	// Image y runs down; Minutia.Angle has y up.
	return minNormAngle(-traced)
}

// minAngleDiff returns the absolute difference of two angles, in [0, π].
func minAngleDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 2*math.Pi)
	if d > math.Pi {
		d = 2*math.Pi - d
	}
	return d
}

// minNormAngle brings an angle into [0, 2π).
func minNormAngle(a float64) float64 {
	a = math.Mod(a, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	if a >= 2*math.Pi {
		a = 0
	}
	return a
}

// minutia converts a candidate to the exported type (Quality unset).
func (m *exMinutia) minutia() Minutia {
	return Minutia{X: m.x, Y: m.y, Angle: m.angle, Type: m.kind}
}

func rawToMinutiae(raw []exMinutia) []Minutia {
	out := make([]Minutia, len(raw))
	for i := range raw {
		out[i] = raw[i].minutia()
	}
	return out
}
