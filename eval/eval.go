// Package eval computes the accuracy figures of a biometric comparator from
// its scores: the equal error rate (EER), the false non-match rate at a
// given false match rate, and the points of the DET curve. It is generic:
// scores are similarities of any modality, and a comparison is accepted as a
// match when its score is at or above the threshold.
//
// Definitions follow ISO/IEC 19795-1:2021 §3.5 (FMR, FNMR) and, for the EER
// and FMR100/FMR1000 figures, the FVC protocol (D. Maio et al., "FVC2000:
// Fingerprint Verification Competition", IEEE TPAMI 24(3), 2002, §3):
//
//	FMR(t)  = |{impostor scores ≥ t}| / |impostor scores|
//	FNMR(t) = |{genuine scores < t}|  / |genuine scores|
package eval

import (
	"errors"
	"math"
	"slices"
)

// ErrNoScores is returned when a list of genuine or impostor scores is empty.
var ErrNoScores = errors.New("eval: need at least one genuine and one impostor score")

// DETPoint is one operating point: accepting scores ≥ Threshold gives these
// error rates (fractions between 0 and 1).
type DETPoint struct {
	Threshold float64 `json:"threshold"`
	FMR       float64 `json:"fmr"`
	FNMR      float64 `json:"fnmr"`
}

// DET returns the operating points of every distinct threshold, by
// increasing threshold, and a last point at +Inf where nothing is accepted
// (FMR 0, FNMR 1). Points that repeat the previous rates are left out. NaN
// scores count as the lowest possible score.
func DET(genuine, impostor []float64) ([]DETPoint, error) {
	if len(genuine) == 0 || len(impostor) == 0 {
		return nil, ErrNoScores
	}
	g, im := sorted(genuine), sorted(impostor)
	var pts []DETPoint
	i, j := 0, 0 // genuine below t, impostor below t
	ng, ni := float64(len(g)), float64(len(im))
	for i < len(g) || j < len(im) {
		t := math.Inf(1)
		if i < len(g) {
			t = g[i]
		}
		if j < len(im) && im[j] < t {
			t = im[j]
		}
		p := DETPoint{Threshold: t, FMR: float64(len(im)-j) / ni, FNMR: float64(i) / ng}
		if n := len(pts); n == 0 || pts[n-1].FMR != p.FMR || pts[n-1].FNMR != p.FNMR {
			pts = append(pts, p)
		}
		for i < len(g) && g[i] == t {
			i++
		}
		for j < len(im) && im[j] == t {
			j++
		}
	}
	pts = append(pts, DETPoint{Threshold: math.Inf(1), FMR: 0, FNMR: 1})
	return pts, nil
}

func sorted(s []float64) []float64 {
	c := slices.Clone(s)
	for i, v := range c {
		if math.IsNaN(v) {
			c[i] = math.Inf(-1)
		}
	}
	slices.Sort(c)
	return c
}

// EER returns the equal error rate as FVC defines it: with t1 the highest
// threshold where FNMR ≤ FMR and t2 the lowest where FNMR ≥ FMR, the EER
// lies in [EERlow, EERhigh] taken from t1 or t2 (whichever has the smaller
// FMR+FNMR), and is reported as the middle of that interval.
func EER(genuine, impostor []float64) (float64, error) {
	pts, err := DET(genuine, impostor)
	if err != nil {
		return 0, err
	}
	// FNMR grows and FMR falls with the threshold, so t1 is the last point
	// with FNMR ≤ FMR and t2 the first with FNMR ≥ FMR.
	var p1, p2 DETPoint
	for _, p := range pts {
		if p.FNMR <= p.FMR {
			p1 = p
		}
	}
	for _, p := range pts {
		if p.FNMR >= p.FMR {
			p2 = p
			break
		}
	}
	// The first point (lowest threshold) has FNMR 0 ≤ FMR and the last
	// (+Inf) FNMR 1 ≥ FMR 0, so both exist.
	var lo, hi float64
	if p1.FNMR+p1.FMR <= p2.FNMR+p2.FMR {
		lo, hi = p1.FNMR, p1.FMR
	} else {
		lo, hi = p2.FMR, p2.FNMR
	}
	return (lo + hi) / 2, nil
}

// FNMRAtFMR returns the lowest FNMR among the operating points whose FMR
// is at most fmr (FVC's FMR100 for fmr = 0.01, FMR1000 for 0.001), and the
// threshold that gives it.
func FNMRAtFMR(genuine, impostor []float64, fmr float64) (fnmr, threshold float64, err error) {
	pts, err := DET(genuine, impostor)
	if err != nil {
		return 0, 0, err
	}
	fnmr, threshold = 1, math.Inf(1)
	for _, p := range pts {
		if p.FMR <= fmr && p.FNMR < fnmr {
			fnmr, threshold = p.FNMR, p.Threshold
		}
	}
	return fnmr, threshold, nil
}
