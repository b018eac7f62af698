package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Tail describes the upper tail of an engine's impostor score distribution:
// for each point, the fraction of impostor comparisons scoring at or above
// Score. A node sets its thresholds from it for the gallery's size: a
// search of N identities at a per-comparison false-match rate f gives a
// false-positive identification rate of about N·f, so the threshold for a
// target FPIR is the score at f = FPIR/N (ISO/IEC 19795-1 §5.2 for the
// relation of FMR and FPIR; it assumes independent comparisons).
type Tail struct {
	Mean   float64     `json:"mean"`   // mean impostor score
	Points []TailPoint `json:"points"` // FMR decreasing
	// Source says what the tail was measured on, e.g. "fvc-real" or
	// "gallery"; "assumed" for a model that no measurement backs.
	Source string `json:"source,omitempty"`
	// Comparisons is the number of impostor comparisons measured; 0 for a
	// tail no measurement backs, which Calibrated reports.
	Comparisons int `json:"comparisons,omitempty"`
	// MeasuredFMR is the lowest FMR the measurement resolves: points below
	// it are extrapolated, by Method ("" for the exponential of ScoreAt).
	MeasuredFMR float64 `json:"measured_fmr,omitempty"`
	Method      string  `json:"method,omitempty"`
	// ScoreScale is the score scale of the engine whose scores were
	// measured (ScoreScaled), when known: a tail measured on another scale
	// does not describe the engine's scores (a node refuses it).
	ScoreScale string `json:"score_scale,omitempty"`
}

// Calibrated reports whether the tail rests on measured impostor
// comparisons. A node never answers "hit" from a tail that does not.
func (t Tail) Calibrated() bool { return t.Comparisons > 0 }

// Validate reports what is wrong with a tail read from a configuration:
// FMRs must lie in (0, 1) and decrease, scores must not decrease.
func (t Tail) Validate() error {
	if len(t.Points) == 0 {
		return errors.New("no points")
	}
	if t.Comparisons < 0 || t.MeasuredFMR < 0 || t.MeasuredFMR >= 1 {
		return fmt.Errorf("comparisons %d, measured_fmr %v: want comparisons ≥ 0 and 0 ≤ measured_fmr < 1", t.Comparisons, t.MeasuredFMR)
	}
	for i, p := range t.Points {
		if !(p.FMR > 0 && p.FMR < 1) || math.IsNaN(p.Score) || math.IsInf(p.Score, 0) {
			return fmt.Errorf("point %d: fmr %v, score %v: want 0 < fmr < 1 and a finite score", i, p.FMR, p.Score)
		}
		if i > 0 && (p.FMR >= t.Points[i-1].FMR || p.Score < t.Points[i-1].Score) {
			return fmt.Errorf("point %d: fmr %v, score %v after fmr %v, score %v: want fmr decreasing, score not decreasing",
				i, p.FMR, p.Score, t.Points[i-1].FMR, t.Points[i-1].Score)
		}
	}
	return nil
}

// FMRAt is the inverse of ScoreAt: the fraction of impostor comparisons at
// or above score, by the same log-linear interpolation and exponential
// extrapolation beyond the last point (1 below the first point's score
// and at most the first point's FMR there).
func (t Tail) FMRAt(score float64) float64 {
	p := t.Points
	if len(p) == 0 {
		return 0
	}
	if score <= p[0].Score {
		return p[0].FMR
	}
	seg := func(a, b TailPoint) float64 {
		if b.Score == a.Score {
			return b.FMR
		}
		la, lb := math.Log(a.FMR), math.Log(b.FMR)
		return math.Exp(la + (lb-la)*(score-a.Score)/(b.Score-a.Score))
	}
	for i := 1; i < len(p); i++ {
		if score <= p[i].Score {
			return seg(p[i-1], p[i])
		}
	}
	if len(p) == 1 {
		return p[0].FMR
	}
	return seg(p[len(p)-2], p[len(p)-1])
}

// TailOf measures the tail of a sample of impostor scores: the mean, and
// the score at FMRs 1e-1, 1e-2, ... down to what the sample resolves (at
// least 10 scores at or above the last point), as measured, without the
// safety margins of Fit. It sorts imp.
func TailOf(imp []float64) Tail {
	slices.Sort(imp)
	t := Tail{Comparisons: len(imp)}
	if len(imp) == 0 {
		return t
	}
	for _, s := range imp {
		t.Mean += s
	}
	t.Mean /= float64(len(imp))
	n := float64(len(imp))
	for e := 1; ; e++ {
		f := math.Pow(10, -float64(e))
		if f*n < 10 {
			break
		}
		k := int(math.Ceil(f * n))
		t.Points = append(t.Points, TailPoint{Score: imp[len(imp)-k], FMR: f})
		t.MeasuredFMR = f
	}
	return t
}

// TailPoint is one point of a Tail.
type TailPoint struct {
	Score float64 `json:"score"`
	FMR   float64 `json:"fmr"`
}

// ScoreAt returns the score above which a fraction fmr of impostor
// comparisons lie: log-linear interpolation between points, and beyond the
// last point an exponential tail through the last two (score tails of
// minutiae matchers fall off about exponentially, which is what the measured
// points show; the extrapolation is stated as such in the docs).
func (t Tail) ScoreAt(fmr float64) float64 {
	p := t.Points
	if len(p) == 0 {
		return math.Inf(1)
	}
	if fmr >= p[0].FMR {
		return p[0].Score
	}
	seg := func(a, b TailPoint) float64 {
		la, lb := math.Log(a.FMR), math.Log(b.FMR)
		return a.Score + (b.Score-a.Score)*(math.Log(fmr)-la)/(lb-la)
	}
	for i := 1; i < len(p); i++ {
		if fmr >= p[i].FMR {
			return seg(p[i-1], p[i])
		}
	}
	if len(p) == 1 {
		return p[0].Score
	}
	return seg(p[len(p)-2], p[len(p)-1])
}

// gaussianTail is the tail of a normal distribution with the given mean and
// standard deviation, at FMRs 1e-1 ... 1e-12: a model, not a measurement.
func gaussianTail(mean, sd float64) Tail {
	t := Tail{Mean: mean, Source: "assumed"}
	for e := 1; e <= 12; e++ {
		f := math.Pow(10, -float64(e))
		z := math.Sqrt2 * math.Erfinv(1-2*f)
		t.Points = append(t.Points, TailPoint{Score: mean + z*sd, FMR: f})
	}
	return t
}
