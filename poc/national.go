package poc

import (
	"fmt"
	"math"
	"slices"

	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/eval"
)

// The national section: each national gallery of the scenario at the
// thresholds a node's policy sets there (engine.Identification at the
// gallery's size for the target FPIR, the node's √n scaling for n fingers),
// the FPIR those thresholds give by the impostor tail they rest on, and the
// identifications they cost (FNIR), counted on measured genuine scores.
//
// A per-comparison FMR of 1e-12 (a 0.1% FPIR at 270 million identities) is
// far beyond what any sample of impostor scores reaches, so the FPIR is not
// measured: it is what the tail says, through the n-fold convolution of the
// single-finger distribution the tail stands for (nationalDist). What is
// measured is the FNIR: the share of mated n-finger comparisons (disjoint
// n-tuples of genuine scores of different fingers) below the threshold.

// nationalFPIR is the target FPIR of the national section: a node's
// default fpir_hit.
const nationalFPIR = 0.001

// nationalTailFloor is the smallest single-finger FMR the distribution of a
// tail is carried to (beyond the tail's last point by its own
// extrapolation, engine.Tail.ScoreAt); the rest of the mass sits at the top
// of the grid in the upper distribution.
const nationalTailFloor = 1e-24

// nationalBins is the grid of the convolutions.
var nationalBins = 3000

// NationalRow is one national gallery, finger count and threshold rule.
type NationalRow struct {
	// Tail is the impostor tail the threshold and the FPIR rest on
	// (engine.Tail.Source: "fvc-real" for the real-image tail a node uses
	// by default, "synthetic-templates" for the deep synthetic measurement).
	Tail string `json:"tail"`
	// State is whose national gallery this is; Gallery its identities.
	State   string `json:"state"`
	Gallery int64  `json:"gallery"`
	Fingers int    `json:"fingers"`
	// Rule is "policy" for the node's own thresholds (single-finger
	// threshold at FMR = target/gallery, scaled by √n for n fingers,
	// search.Policy.Thresholds) or "target" for the n-finger threshold at
	// which the tail's n-fold convolution gives the target FPIR (the same
	// as the policy for one finger, so not repeated).
	Rule       string  `json:"rule"`
	FPIRTarget float64 `json:"fpir_target"`
	// SingleFingerThreshold is the policy's single-finger hit threshold
	// at this gallery size; Threshold the fused n-finger threshold of the
	// row's rule.
	SingleFingerThreshold float64 `json:"single_finger_threshold"`
	Threshold             float64 `json:"threshold"`
	// FMR is the tail's false-match rate per n-finger comparison at the
	// threshold (FMRLow, FMRHigh: the grid's rounding), and FPIR = 1-(1-FMR)^Gallery the share of searches of
	// people not enrolled that end in a false hit. FPIRLow and FPIRHigh
	// bound the grid's rounding (every score rounded down, resp. up); the
	// tail itself is the safe end of its fit's 95% interval where it was
	// fitted (engine.Fit), so the FPIR errs high (an upper bound under the
	// fitted model), not low.
	FMR      float64 `json:"fmr"`
	FMRLow   float64 `json:"fmr_low"`
	FMRHigh  float64 `json:"fmr_high"`
	FPIR     float64 `json:"fpir"`
	FPIRLow  float64 `json:"fpir_low"`
	FPIRHigh float64 `json:"fpir_high"`
	// FNIR is the share of Mated synthetic mated n-finger comparisons
	// (this run's genuine scores) below the threshold, with its exact
	// binomial (Clopper-Pearson) interval at the scenario's confidence.
	Mated    int64   `json:"mated"`
	Missed   int64   `json:"missed"`
	FNIR     float64 `json:"fnir"`
	FNIRLow  float64 `json:"fnir_low"`
	FNIRHigh float64 `json:"fnir_high"`
	// RealFNIR is the same on genuine scores of real images (the shared
	// FVC sets, when the run was given them: Options.RealGenuine).
	RealMated    int64   `json:"real_mated,omitempty"`
	RealMissed   int64   `json:"real_missed,omitempty"`
	RealFNIR     float64 `json:"real_fnir,omitempty"`
	RealFNIRLow  float64 `json:"real_fnir_low,omitempty"`
	RealFNIRHigh float64 `json:"real_fnir_high,omitempty"`
	// FalseMatchesPerDay is the expected number of false matches a day
	// in this gallery at the scenario's border volume: searches × gallery
	// × FMR.
	FalseMatchesPerDay float64 `json:"false_matches_per_day"`
}

// NationalTail is an impostor tail the national section evaluates, with
// the words the report uses for it.
type NationalTail struct {
	Tail engine.Tail
	Note string
}

// nationalTails are the tails of the national section: the one a node
// uses at a national size (its default real-image tail: a gallery's own
// tail measured by self-calibration, at most engine.MaxSampledScores
// comparisons, never reaches the two decades of a national gallery's FMR,
// docs/node.md), and the deep synthetic measurement the synthetic
// population's own tail is best known by.
func nationalTails() []NationalTail {
	return []NationalTail{
		{engine.FVCFingerTail, fmt.Sprintf("the node's default tail, %s impostor comparisons measured to FMR %g and extended by a GPD fit at the safe end of its 95%% interval (engine.FVCFingerTail); a node uses it at every national size, since self-calibration (at most %s comparisons) never measures deep enough for one",
			formatNumber(float64(engine.FVCFingerTail.Comparisons)), engine.FVCFingerTail.MeasuredFMR, formatNumber(float64(engine.MaxSampledScores)))},
		{engine.SyntheticFingerTail, fmt.Sprintf("%s comparisons of synthetic template-level fingers measured to FMR %g, extended exponentially beyond (engine.SyntheticFingerTail); what this run's synthetic population would give, not what a node uses",
			formatNumber(float64(engine.SyntheticFingerTail.Comparisons)), engine.SyntheticFingerTail.MeasuredFMR)},
	}
}

// NationalGallery is a national gallery of the scenario.
type NationalGallery struct {
	State   string `json:"state"` // ISO 3166-1 alpha-3 code, or "hub"
	Gallery int64  `json:"gallery"`
}

// hubGallery names the bulk copy's hub gallery in the national section.
const hubGallery = "hub"

// nationalGalleries are the scenario's national gallery sizes: the home
// state's (extrapolation.gallery), each partner's and, with the bulk copy,
// the hub's (the home state's and the partners' together).
func nationalGalleries(s *Scenario) []NationalGallery {
	out := []NationalGallery{{s.Home, s.Extrapolation.Gallery}}
	hub := s.Extrapolation.Gallery
	for _, st := range s.Partners() {
		out = append(out, NationalGallery{st.Code, st.NationalGallery})
		hub += st.NationalGallery
	}
	if hasModel(s, ModelBulkCopy) {
		out = append(out, NationalGallery{hubGallery, hub})
	}
	return out
}

// NationalSection computes the national section's rows for each tail,
// gallery and finger count. impostor gives the body of each tail's
// distribution (scores below the tail's FMR 1e-2 point; see nationalDist),
// genuine the synthetic mated scores in the order MeasureScores gives them
// (consecutive n make an n-finger comparison), realGenuine (may be empty)
// real mated scores in the same order.
func NationalSection(tails []NationalTail, galleries []NationalGallery, fingers []int, impostor, genuine, realGenuine []float64,
	fpir float64, searchesPerDay int64, conf float64) ([]NationalRow, error) {
	if len(genuine) == 0 {
		return nil, fmt.Errorf("poc: no genuine scores for the national section")
	}
	var rows []NationalRow
	for _, nt := range tails {
		model, err := newNationalDist(nt.Tail, impostor)
		if err != nil {
			return nil, err
		}
		for _, n := range fingers {
			sum := model.nfold(n)
			for _, g := range galleries {
				pol := engine.Identification(nt.Tail, fpir, min(10*fpir, 0.5), 1, int(min(g.Gallery, math.MaxInt32)))
				tn, _ := pol.Thresholds(n)
				rules := []struct {
					name string
					th   float64
				}{{"policy", tn}}
				if n > 1 {
					rules = append(rules, struct {
						name string
						th   float64
					}{"target", sum.thresholdFor(fpir, g.Gallery)})
				}
				for _, r := range rules {
					row := NationalRow{Tail: nt.Tail.Source, State: g.State, Gallery: g.Gallery, Fingers: n, Rule: r.name,
						FPIRTarget: fpir, SingleFingerThreshold: pol.Hit, Threshold: r.th}
					row.FMR = sum.point.tail(r.th)
					row.FPIR = fpirOf(row.FMR, g.Gallery)
					row.FMRLow, row.FMRHigh = sum.lo.tail(r.th), sum.hi.tail(r.th)
					row.FPIRLow, row.FPIRHigh = fpirOf(row.FMRLow, g.Gallery), fpirOf(row.FMRHigh, g.Gallery)
					row.FalseMatchesPerDay = float64(searchesPerDay) * float64(g.Gallery) * row.FMR
					row.Missed, row.Mated = tupleCount(genuine, n, func(s float64) bool { return s < r.th })
					row.FNIR, row.FNIRLow, row.FNIRHigh = rate(row.Missed, row.Mated, conf)
					if len(realGenuine) >= n {
						row.RealMissed, row.RealMated = tupleCount(realGenuine, n, func(s float64) bool { return s < r.th })
						row.RealFNIR, row.RealFNIRLow, row.RealFNIRHigh = rate(row.RealMissed, row.RealMated, conf)
					}
					rows = append(rows, row)
				}
			}
		}
	}
	return rows, nil
}

// fpirOf is the chance that a search of G identities, none the searched
// person, gives at least one comparison at or above the threshold when each
// does with probability fmr (independently).
func fpirOf(fmr float64, gallery int64) float64 {
	return -math.Expm1(float64(gallery) * math.Log1p(-min(fmr, 1)))
}

// rate is k/n with its exact binomial (Clopper-Pearson) interval at
// confidence conf.
func rate(k, n int64, conf float64) (p, lo, hi float64) {
	if n == 0 {
		return 0, 0, 1
	}
	lo, hi = eval.ClopperPearson(k, n, conf)
	return float64(k) / float64(n), lo, hi
}

// nationalModel is a tail's single-finger impostor distribution on a grid
// three ways: every score rounded down (lo), to the nearest grid point
// (point) and up (hi), so that a tail probability of lo is below the
// model's and of hi above it.
type nationalModel struct{ lo, point, hi dist }

// nationalSum is the n-fold convolution of a nationalModel.
type nationalSum struct{ lo, point, hi sumDist }

func (m nationalModel) nfold(n int) nationalSum {
	return nationalSum{m.lo.nfold(n), m.point.nfold(n), m.hi.nfold(n)}
}

// thresholdFor returns the lowest fused score on the grid at which the
// point distribution gives at most the target FPIR against gallery
// identities.
func (s nationalSum) thresholdFor(fpir float64, gallery int64) float64 {
	p := 0.0
	j := len(s.point.mass)
	for j > 0 && fpirOf(p+s.point.mass[j-1], gallery) <= fpir {
		j--
		p += s.point.mass[j]
	}
	return s.point.origin + float64(j)*s.point.step
}

// newNationalDist is the single-finger impostor score distribution a tail
// stands for: above the tail's FMR 1e-2 point (x₂), its survival function
// is the tail's (engine.Tail.FMRAt, down to nationalTailFloor, the rest at
// the top); below x₂ it has the shape of the measured impostor scores
// below x₂ (the body, which barely moves a national threshold), scaled to
// the mass 1 - FMR(x₂).
func newNationalDist(t engine.Tail, impostor []float64) (nationalModel, error) {
	var x2, f2 float64
	for _, p := range t.Points {
		if p.FMR <= 0.01 {
			x2, f2 = p.Score, p.FMR
			break
		}
	}
	if f2 == 0 {
		return nationalModel{}, fmt.Errorf("poc: tail %q has no point at FMR 0.01 or below", t.Source)
	}
	var body []float64
	for _, s := range impostor {
		if s < x2 {
			body = append(body, s)
		}
	}
	if len(body) == 0 {
		return nationalModel{}, fmt.Errorf("poc: no measured impostor score below the %q tail's FMR %g point %.4g", t.Source, f2, x2)
	}
	top := t.ScoreAt(nationalTailFloor)
	g := scoreGrid{min: slices.Min(body), bins: nationalBins + 1}
	g.step = (top - g.min) / float64(nationalBins)
	m := nationalModel{}
	for _, d := range []*dist{&m.lo, &m.point, &m.hi} {
		d.g = g
		d.mass = make([]float64, g.bins)
	}
	w := (1 - f2) / float64(len(body))
	for _, s := range body {
		m.lo.mass[g.index(s, math.Floor)] += w
		m.point.mass[g.index(s, math.Round)] += w
		m.hi.mass[g.index(s, math.Ceil)] += w
	}
	// The tail: the mass between consecutive grid points from x₂ up.
	x := func(j int) float64 { return g.min + float64(j)*g.step }
	j2 := int(math.Ceil((x2 - g.min) / g.step))
	// Between x₂ and the first grid point at or above it.
	first := f2 - t.FMRAt(x(j2))
	m.lo.mass[max(j2-1, 0)] += first
	m.point.mass[j2] += first
	m.hi.mass[j2] += first
	for j := j2; j < g.bins-1; j++ {
		p := t.FMRAt(x(j)) - t.FMRAt(x(j+1))
		m.lo.mass[j] += p
		if t.FMRAt(x(j)+g.step/2) > t.FMRAt(x(j+1)) {
			// nearest grid point: the part above the midpoint goes up
			up := t.FMRAt(x(j)+g.step/2) - t.FMRAt(x(j+1))
			m.point.mass[j] += p - up
			m.point.mass[j+1] += up
		} else {
			m.point.mass[j] += p
		}
		m.hi.mass[j+1] += p
	}
	rest := t.FMRAt(x(g.bins - 1))
	m.lo.mass[g.bins-1] += rest
	m.point.mass[g.bins-1] += rest
	m.hi.mass[g.bins-1] += rest
	return m, nil
}

// National is the report's national section.
type National struct {
	FPIRTarget float64 `json:"fpir_target"`
	// Tails say what each tail (by NationalRow.Tail) rests on.
	Tails map[string]string `json:"tails"`
	// Galleries are the national galleries evaluated.
	Galleries []NationalGallery `json:"galleries"`
	// Genuine and RealGenuine are the numbers of synthetic and real
	// genuine scores the FNIRs are counted on; RealSource says what the
	// real ones are ("" when the run had none).
	Genuine     int           `json:"genuine_scores"`
	RealGenuine int           `json:"real_genuine_scores"`
	RealSource  string        `json:"real_source,omitempty"`
	Rows        []NationalRow `json:"rows"`
}

// nationalSection computes the report's national section from the run's
// measured scores.
func nationalSection(s *Scenario, sc *Scores, fingers []int, o Options) (*National, error) {
	tails := nationalTails()
	nat := &National{FPIRTarget: nationalFPIR, Tails: map[string]string{}, Galleries: nationalGalleries(s),
		Genuine: len(sc.Genuine), RealGenuine: len(o.RealGenuine), RealSource: o.RealSource}
	for _, t := range tails {
		nat.Tails[t.Tail.Source] = t.Note
	}
	var err error
	nat.Rows, err = NationalSection(tails, nat.Galleries, fingers, sc.Impostor, sc.Genuine, o.RealGenuine,
		nationalFPIR, int64(s.Border.EncountersPerDay), s.Extrapolation.Confidence)
	return nat, err
}

// RealGenuineScores orders genuine scores grouped by finger (each group
// the genuine comparisons of one real finger) so that consecutive scores
// come from different fingers: the k-th score of every finger in turn, for
// k below the smallest group's size (the rest is left out). Disjoint
// n-tuples of the result, n up to the number of fingers, are then n-finger
// mated comparisons as the synthetic samples' are (fingers of different
// people stand in for the fingers of one: the same independence the
// synthetic tuples have).
func RealGenuineScores(byFinger [][]float64) []float64 {
	if len(byFinger) == 0 {
		return nil
	}
	k := len(byFinger[0])
	for _, f := range byFinger {
		k = min(k, len(f))
	}
	out := make([]float64, 0, k*len(byFinger))
	for i := range k {
		for _, f := range byFinger {
			out = append(out, f[i])
		}
	}
	return out
}
