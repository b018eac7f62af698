package fvc

import (
	"fmt"

	"github.com/ebsp/ebsp/eval"
)

// Fold is one fold of a leave-one-set-out evaluation: the held-out set's
// figures at a threshold chosen on the other sets.
//
// The engine has one global parameter set and nothing is tuned per fold,
// so the only thing a fold can choose on the other sets is the decision
// threshold: Threshold is the score that gives FMR (ext impostors) on the
// other sets pooled, and HeldOutFMR and HeldOutFNMR are what that threshold
// gives on the held-out set. OwnFNMR is the held-out set's FNMR at a
// threshold set on its own impostors for the same FMR (what a per-set
// evaluation reports), so the gap between the two is the cost of not
// knowing the set's own impostor scores. EERExt is the held-out set's EER
// (ext), which needs no threshold.
type Fold struct {
	HeldOut     string  `json:"held_out"`
	FMR         float64 `json:"target_fmr"`
	Threshold   float64 `json:"threshold"`
	HeldOutFMR  float64 `json:"held_out_fmr"`
	HeldOutFNMR float64 `json:"held_out_fnmr"`
	OwnFNMR     float64 `json:"own_fnmr"`
	EERExt      float64 `json:"eer_ext"`
}

// LeaveOneOut returns a Fold for each report and each target FMR: the
// threshold for that FMR on the ext impostors of the other reports pooled,
// applied to the held-out report's genuine and ext impostor comparisons.
// It needs at least two reports.
func LeaveOneOut(reps []*Report, fmrs []float64) ([]Fold, error) {
	if len(reps) < 2 {
		return nil, fmt.Errorf("fvc: leave-one-out needs two or more data sets, have %d", len(reps))
	}
	var folds []Fold
	for i, held := range reps {
		var gen, imp []float64
		for j, r := range reps {
			if j == i {
				continue
			}
			g, im := r.scores()
			gen, imp = append(gen, g...), append(imp, im...)
		}
		hg, him := held.scores()
		for _, fmr := range fmrs {
			_, t, err := eval.FNMRAtFMR(gen, imp, fmr)
			if err != nil {
				return nil, err
			}
			own, _, err := eval.FNMRAtFMR(hg, him, fmr)
			if err != nil {
				return nil, err
			}
			folds = append(folds, Fold{HeldOut: held.Dataset, FMR: fmr, Threshold: t,
				HeldOutFMR: rateAtOrAbove(him, t), HeldOutFNMR: 1 - rateAtOrAbove(hg, t), OwnFNMR: own, EERExt: held.EERExt})
		}
	}
	return folds, nil
}

// scores splits the report's comparisons into genuine and ext impostor
// scores.
func (r *Report) scores() (gen, imp []float64) {
	for _, c := range r.Comparisons {
		if c.Genuine {
			gen = append(gen, c.Score)
		} else {
			imp = append(imp, c.Score)
		}
	}
	return gen, imp
}

// rateAtOrAbove is the share of scores accepted at threshold t.
func rateAtOrAbove(scores []float64, t float64) float64 {
	n := 0
	for _, s := range scores {
		if s >= t {
			n++
		}
	}
	return float64(n) / float64(max(len(scores), 1))
}
