package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"

	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/privacy"
	"github.com/ebsp/ebsp/synth"
)

// PrivacyOptions configure a privacy benchmark.
type PrivacyOptions struct {
	Gallery int    // gallery entries (synthetic faces, capture 0)
	Queries int    // searches, alternating mated and non-mated (default 2)
	Seed    uint64 // synthetic population seed
	Dim     int    // reduced dimension (default 64)
	LogN    int    // ring degree 2^LogN (default 15; below 15 is not secure)
	Train   int    // identities the projection is learned on (default 4000)
	Heldout int    // identities the reduction's accuracy is measured on (default 1500)
	// NoPrecompute makes every query encode the gallery's plaintexts;
	// otherwise they are encoded once before the queries
	// (privacy.Gallery.Precompute) if that takes at most PrecomputeLimit
	// bytes (default 8 GiB).
	NoPrecompute    bool
	PrecomputeLimit int
	Progress        Progress
}

// PrivacyResult is what ebsp bench privacy prints.
type PrivacyResult struct {
	Gallery            int     `json:"gallery"`
	Dimensions         int     `json:"dimensions"`
	Queries            int     `json:"queries"`
	Mated              int     `json:"mated_queries"`
	Threshold          float64 `json:"threshold"`
	Margin             float64 `json:"margin"`
	SecondsPerQuery    float64 `json:"seconds_per_query"`
	CPUSecondsPerQuery float64 `json:"cpu_seconds_per_query"`
	BytesUp            int     `json:"bytes_up"`
	BytesDown          int     `json:"bytes_down"`
	// CountAgreement is the share of queries whose decrypted count, rounded,
	// equals the plaintext count; EntryAgreement the share of gallery
	// entries, over all queries, whose encrypted decision (step > 0.5)
	// equals the plaintext one (similarity > threshold).
	CountAgreement float64 `json:"count_agreement"`
	EntryAgreement float64 `json:"entry_agreement"`
	Disagreements  int     `json:"entry_disagreements"`
	// DisagreementsOutsideMargin must be 0: every disagreement lies within
	// Margin of the threshold.
	DisagreementsOutsideMargin int     `json:"entry_disagreements_outside_margin"`
	MaxCountError              float64 `json:"max_count_error"`
	// DecisionMin and DecisionMax bound the decrypted per-entry step values
	// over all queries (ideally 0 and 1); MaxCountVsDecisions is the largest
	// gap between a decrypted count and the sum of that query's decrypted
	// per-entry decisions, which tells a fault in the slot sum or the
	// decryption from one in a single entry's step.
	DecisionMin         float64 `json:"decision_min"`
	DecisionMax         float64 `json:"decision_max"`
	MaxCountVsDecisions float64 `json:"max_count_vs_decisions"`
	MatedHits           int     `json:"mated_hits"`     // mated queries answered hit (count ≥ 1)
	NonMatedHits        int     `json:"non_mated_hits"` // non-mated queries answered hit
	// Precomputed says whether the gallery's plaintexts were encoded once
	// before the queries (PrecomputeSeconds of wall time, PrecomputeBytes of
	// memory) rather than per query.
	Precomputed       bool      `json:"precomputed"`
	PrecomputeSeconds float64   `json:"precompute_seconds"`
	PrecomputeBytes   int       `json:"precompute_bytes"`
	SetupSeconds      float64   `json:"setup_seconds"`
	SetupBytes        int       `json:"setup_bytes_each_way"`
	LogN              int       `json:"log_n"`
	SecureParameters  bool      `json:"secure_parameters"`
	Reduction         Reduction `json:"reduction"`
	Machine           Machine   `json:"machine"`
}

// Reduction is the accuracy cost of reducing face embeddings, measured on
// held-out identities the projection was not learned on. The threshold is
// chosen on the same held-out impostor scores (tuned, not held out).
type Reduction struct {
	FromDim           int     `json:"from_dim"`
	ToDim             int     `json:"to_dim"`
	TrainIdentities   int     `json:"train_identities"`
	HeldoutIdentities int     `json:"heldout_identities"`
	ImpostorPairs     int     `json:"impostor_pairs"`
	EERFull           float64 `json:"eer_full"`
	TARFull           float64 `json:"tar_at_far_1e-3_full"`
	EERReduced        float64 `json:"eer_reduced"`
	TARReduced        float64 `json:"tar_at_far_1e-3_reduced"`
	EERStored         float64 `json:"eer_reduced_int8"`
	TARStored         float64 `json:"tar_at_far_1e-3_reduced_int8"`
	ImpostorSDFull    float64 `json:"impostor_sd_full"`
	ImpostorSDReduced float64 `json:"impostor_sd_reduced"`
	MaxImpostorFull   float64 `json:"max_impostor_full"`
	MaxImpostor       float64 `json:"max_impostor_reduced"`
	GenuineMeanFull   float64 `json:"genuine_mean_full"`
	GenuineMeanRed    float64 `json:"genuine_mean_reduced"`
	TARAtThreshold    float64 `json:"tar_at_threshold_reduced"`
}

// RunPrivacy measures the encrypted hit count of package privacy on
// synthetic faces: reduction to Dim dimensions (PCA learned on a separate
// population), threshold, two-party key setup, then per query the
// requester's encryption, the responder's search and the requester's
// decryption, against the plaintext decisions on the same stored gallery.
func RunPrivacy(ctx context.Context, o PrivacyOptions) (*PrivacyResult, error) {
	if o.Gallery <= 0 {
		return nil, errors.New("bench: --gallery must be positive")
	}
	o.Queries = cmp0(o.Queries, 2)
	o.Dim = cmp0(o.Dim, 64)
	o.LogN = cmp0(o.LogN, 15)
	o.Train = cmp0(o.Train, 4000)
	o.Heldout = cmp0(o.Heldout, 1500)
	res := &PrivacyResult{Gallery: o.Gallery, Dimensions: o.Dim, Queries: o.Queries, LogN: o.LogN,
		SecureParameters: o.LogN >= 15, Machine: machine()}
	workers := runtime.GOMAXPROCS(0)

	// 1. Projection learned on its own population (seed+1).
	trainGen := synth.NewFaceGenerator(o.Seed+1, synth.DefaultFaceModel())
	train := make([][]float32, o.Train)
	if err := parallel(ctx, o.Train, workers, func(i int) error {
		train[i] = faceCapture(trainGen, i, 0)
		return nil
	}, "training faces", o.Progress); err != nil {
		return nil, err
	}
	proj, err := privacy.LearnProjection(train, o.Dim)
	if err != nil {
		return nil, err
	}
	// 2. Accuracy cost and threshold on held-out identities (seed+2).
	red, err := measureReduction(ctx, o, proj, workers)
	if err != nil {
		return nil, err
	}
	res.Reduction = red.Reduction
	// Threshold: the smallest 0.01 step whose margin band lies wholly above
	// every held-out impostor score.
	var params privacy.Params
	for t := 0.05; t < 0.95; t += 0.01 {
		t = math.Round(t*100) / 100
		if params, err = privacy.NewParams(o.LogN, o.Dim, t); err != nil {
			return nil, err
		}
		if t-params.Margin() > red.MaxImpostor {
			break
		}
	}
	res.Threshold, res.Margin = params.Threshold, params.Margin()
	res.Reduction.TARAtThreshold = red.tarAt(params.Threshold)

	// 3. Key setup between the two parties, message sizes measured.
	sw := start()
	seed := []byte(fmt.Sprintf("ebsp bench privacy seed %d", o.Seed))
	req, err := privacy.NewParty(params, seed)
	if err != nil {
		return nil, err
	}
	resp, err := privacy.NewParty(params, seed)
	if err != nil {
		return nil, err
	}
	if res.SetupBytes, err = setupParties(req, resp); err != nil {
		return nil, err
	}
	res.SetupSeconds, _ = sw.elapsed()

	// 4. Gallery: identity i's capture 0, reduced and stored as int8.
	gen := synth.NewFaceGenerator(o.Seed, synth.DefaultFaceModel())
	vecs := make([][]float32, o.Gallery)
	if err := parallel(ctx, o.Gallery, workers, func(i int) error {
		v, err := proj.Apply(faceCapture(gen, i, 0))
		vecs[i] = v
		return err
	}, "gallery", o.Progress); err != nil {
		return nil, err
	}
	g, err := privacy.NewGallery(o.Dim, vecs)
	if err != nil {
		return nil, err
	}
	vecs = nil
	if o.PrecomputeLimit <= 0 {
		o.PrecomputeLimit = 8 << 30
	}
	if n := params.PrecomputeBytes(o.Gallery); !o.NoPrecompute && n <= o.PrecomputeLimit {
		sw := start()
		if err := g.Precompute(params); err != nil {
			return nil, err
		}
		res.Precomputed, res.PrecomputeBytes = true, n
		res.PrecomputeSeconds, _ = sw.elapsed()
	}

	// 5. Queries: even ones a later capture of an enrolled identity, odd ones
	// a never-enrolled identity.
	var wall, cpu float64
	var agreeEntries, entries, agreeCounts int
	for q := range o.Queries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mated := q%2 == 0
		id := o.Gallery + q
		if mated {
			res.Mated++
			id = int(int64(q/2) * int64(o.Gallery) / int64(max(1, (o.Queries+1)/2)))
		}
		probe, err := proj.Apply(faceCapture(gen, id, 1))
		if err != nil {
			return nil, err
		}
		sw := start()
		pr, err := req.EncryptProbe(probe)
		if err != nil {
			return nil, err
		}
		up, err := params.MarshalProbe(pr)
		if err != nil {
			return nil, err
		}
		got, err := params.UnmarshalProbe(up)
		if err != nil {
			return nil, err
		}
		reply, tr, err := resp.SearchTrace(g, got)
		if err != nil {
			return nil, err
		}
		down, err := params.MarshalReply(reply)
		if err != nil {
			return nil, err
		}
		back, err := params.UnmarshalReply(down)
		if err != nil {
			return nil, err
		}
		count, err := req.Count(back)
		if err != nil {
			return nil, err
		}
		w, c := sw.elapsed()
		wall += w
		cpu += c
		res.BytesUp, res.BytesDown = len(up), len(down)

		// Plaintext reference on the same stored gallery.
		sims, err := g.Similarities(probe)
		if err != nil {
			return nil, err
		}
		dec, err := tr.Decisions(req)
		if err != nil {
			return nil, err
		}
		want, sumDec := 0, 0.0
		for _, d := range dec {
			sumDec += d
			res.DecisionMin = min(res.DecisionMin, d)
			res.DecisionMax = max(res.DecisionMax, d)
		}
		res.MaxCountVsDecisions = max(res.MaxCountVsDecisions, math.Abs(count-sumDec))
		for i, s := range sims {
			above := s > params.Threshold
			if above {
				want++
			}
			entries++
			if (dec[i] > 0.5) == above {
				agreeEntries++
				continue
			}
			res.Disagreements++
			if math.Abs(s-params.Threshold) >= params.Margin() {
				res.DisagreementsOutsideMargin++
			}
		}
		if math.Round(count) == float64(want) {
			agreeCounts++
		}
		res.MaxCountError = max(res.MaxCountError, math.Abs(count-float64(want)))
		if math.Round(count) >= 1 {
			if mated {
				res.MatedHits++
			} else {
				res.NonMatedHits++
			}
		}
		if o.Progress != nil {
			o.Progress("queries", q+1, o.Queries)
		}
	}
	res.SecondsPerQuery = wall / float64(o.Queries)
	res.CPUSecondsPerQuery = cpu / float64(o.Queries)
	res.CountAgreement = float64(agreeCounts) / float64(o.Queries)
	res.EntryAgreement = float64(agreeEntries) / float64(entries)
	return res, nil
}

func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// faceCapture is capture k of identity i as a float embedding.
func faceCapture(gen *synth.FaceGenerator, i int, k uint64) []float32 {
	id := uint64(i)
	return gen.Capture(gen.Identity(id), id, k, gen.Quality(id, k), 0)
}

// setupParties runs the two-party key setup message by message and returns
// the bytes one party sends the other (both send the same amount).
func setupParties(a, b *privacy.Party) (int, error) {
	a1, err := a.Round1()
	if err != nil {
		return 0, err
	}
	b1, err := b.Round1()
	if err != nil {
		return 0, err
	}
	a2, err := a.Round2(b1)
	if err != nil {
		return 0, err
	}
	b2, err := b.Round2(a1)
	if err != nil {
		return 0, err
	}
	if err := a.Finish(b2); err != nil {
		return 0, err
	}
	if err := b.Finish(a2); err != nil {
		return 0, err
	}
	n := a1.Relin.BinarySize() + a2.Relin.BinarySize()
	for _, g := range a1.Galois {
		n += g.BinarySize()
	}
	return n, nil
}

// reductionScores are held-out genuine and impostor scores in one space.
type reductionScores struct{ genuine, impostor []float64 }

// measureReduction compares full, reduced and reduced-int8 embeddings on
// held-out identities: genuine pairs are captures 0 and 1 of one identity,
// impostor pairs capture 0 of one with capture 1 of another.
func measureReduction(ctx context.Context, o PrivacyOptions, proj *privacy.Projection, workers int) (*reductionResult, error) {
	gen := synth.NewFaceGenerator(o.Seed+2, synth.DefaultFaceModel())
	h := o.Heldout
	full := [2][][]float64{make([][]float64, h), make([][]float64, h)}
	red := [2][][]float64{make([][]float64, h), make([][]float64, h)}
	stored := [2][][]float64{make([][]float64, h), make([][]float64, h)}
	if err := parallel(ctx, h, workers, func(i int) error {
		for k := range 2 {
			v := faceCapture(gen, i, uint64(k))
			r, err := proj.Apply(v)
			if err != nil {
				return err
			}
			full[k][i] = unitF(v, false)
			red[k][i] = unitF(r, false)
			stored[k][i] = unitF(r, true)
		}
		return nil
	}, "held-out faces", o.Progress); err != nil {
		return nil, err
	}
	out := &reductionResult{Reduction: Reduction{FromDim: len(full[0][0]), ToDim: o.Dim, TrainIdentities: o.Train,
		HeldoutIdentities: h, ImpostorPairs: h * (h - 1)}}
	for si, set := range [][2][][]float64{full, red, stored} {
		var s reductionScores
		for i := range h {
			for j := range h {
				d := dot(set[0][i], set[1][j])
				if i == j {
					s.genuine = append(s.genuine, d)
				} else {
					s.impostor = append(s.impostor, d)
				}
			}
		}
		eer, err := eval.EER(s.genuine, s.impostor)
		if err != nil {
			return nil, err
		}
		fnmr, _, err := eval.FNMRAtFMR(s.genuine, s.impostor, 1e-3)
		if err != nil {
			return nil, err
		}
		sd, top := spread(s.impostor)
		switch si {
		case 0:
			out.EERFull, out.TARFull = eer, 1-fnmr
			out.ImpostorSDFull, out.MaxImpostorFull, out.GenuineMeanFull = sd, top, mean(s.genuine)
		case 1:
			out.EERReduced, out.TARReduced = eer, 1-fnmr
			out.ImpostorSDReduced, out.MaxImpostor, out.GenuineMeanRed = sd, top, mean(s.genuine)
			out.genuine = s.genuine
		case 2:
			out.EERStored, out.TARStored = eer, 1-fnmr
		}
	}
	return out, nil
}

type reductionResult struct {
	Reduction
	genuine []float64
}

// tarAt is the share of held-out genuine reduced scores above t.
func (r *reductionResult) tarAt(t float64) float64 {
	n := 0
	for _, g := range r.genuine {
		if g > t {
			n++
		}
	}
	return float64(n) / float64(len(r.genuine))
}

// unitF normalises v; with quant it first rounds each normalised value to
// the gallery's int8/128 fixed point, as privacy.Gallery stores entries.
func unitF(v []float32, quant bool) []float64 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	n = math.Sqrt(n)
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x) / n
		if quant {
			out[i] = max(-127, min(127, math.Round(out[i]*128))) / 128
		}
	}
	return out
}

// spread returns the standard deviation and the maximum of xs.
func spread(xs []float64) (sd, top float64) {
	m := mean(xs)
	top = math.Inf(-1)
	for _, x := range xs {
		sd += (x - m) * (x - m)
		top = max(top, x)
	}
	return math.Sqrt(sd / float64(len(xs))), top
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// Table is the human-readable report of a privacy benchmark.
func (r *PrivacyResult) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ebsp bench privacy: encrypted hit count (CKKS, two-party threshold key), ring 2^%d, %d-d faces, gallery %d\n",
		r.LogN, r.Dimensions, r.Gallery)
	if !r.SecureParameters {
		b.WriteString("WARNING: ring degree below 2^15: these parameters are NOT secure (speed tests only)\n")
	}
	fmt.Fprintf(&b, "machine: %d CPUs, GOMAXPROCS %d, %s, load average %.2f at start\n",
		r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.Load1)
	rd := r.Reduction
	b.WriteString(table([][2]string{
		{"reduction", fmt.Sprintf("%d -> %d dimensions, PCA on %d separate identities; held-out %d identities, %d impostor pairs",
			rd.FromDim, rd.ToDim, rd.TrainIdentities, rd.HeldoutIdentities, rd.ImpostorPairs)},
		{"EER", fmt.Sprintf("full %.4f%%, reduced %.4f%%, reduced int8 %.4f%%", 100*rd.EERFull, 100*rd.EERReduced, 100*rd.EERStored)},
		{"TAR at FAR 1e-3", fmt.Sprintf("full %.4f, reduced %.4f, reduced int8 %.4f", rd.TARFull, rd.TARReduced, rd.TARStored)},
		{"scores", fmt.Sprintf("impostor SD full %.4f, reduced %.4f; highest impostor full %.3f, reduced %.3f; genuine mean full %.3f, reduced %.3f",
			rd.ImpostorSDFull, rd.ImpostorSDReduced, rd.MaxImpostorFull, rd.MaxImpostor, rd.GenuineMeanFull, rd.GenuineMeanRed)},
		{"threshold", fmt.Sprintf("%.2f (highest held-out impostor %.3f; margin ±%.4f; held-out TAR above it %.4f)",
			r.Threshold, rd.MaxImpostor, r.Margin, rd.TARAtThreshold)},
		{"key setup", fmt.Sprintf("%.1f s, %.1f MiB each way", r.SetupSeconds, float64(r.SetupBytes)/(1<<20))},
		{"gallery plaintexts", r.precomputation()},
		{"queries", fmt.Sprintf("%d (%d mated): hits on mated %d, on non-mated %d", r.Queries, r.Mated, r.MatedHits, r.NonMatedHits)},
		{"per query", fmt.Sprintf("%.2f s wall, %.2f s CPU", r.SecondsPerQuery, r.CPUSecondsPerQuery)},
		{"bytes", fmt.Sprintf("up %d (%.2f MiB), down %d (%.2f MiB)", r.BytesUp, float64(r.BytesUp)/(1<<20), r.BytesDown, float64(r.BytesDown)/(1<<20))},
		{"count agreement", fmt.Sprintf("%.4f (largest count error %.3g; largest gap to the sum of the decisions %.3g)", r.CountAgreement, r.MaxCountError, r.MaxCountVsDecisions)},
		{"decisions", fmt.Sprintf("decrypted step values between %.3g and %.3g", r.DecisionMin, r.DecisionMax)},
		{"entry agreement", fmt.Sprintf("%.6f (%d disagreements, %d outside the margin)", r.EntryAgreement, r.Disagreements, r.DisagreementsOutsideMargin)},
	}))
	return b.String()
}

func (r *PrivacyResult) precomputation() string {
	if !r.Precomputed {
		return "encoded per query"
	}
	return fmt.Sprintf("encoded once before the queries: %.1f s, %.0f MiB", r.PrecomputeSeconds, float64(r.PrecomputeBytes)/(1<<20))
}
