package poc

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ebsp/ebsp/engine"
)

// Report is the outcome of a PoC run: the same numbers the HTML shows, in
// the JSON written beside it.
type Report struct {
	Scenario *Scenario `json:"scenario"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	// Phases say where the run's time went: wall and process CPU seconds of
	// each step, with the process's peak resident memory at its end.
	Phases []Phase `json:"phases"`
	// Threshold is the single-finger hit threshold every node used, and
	// ThresholdFrom how it was set.
	Threshold     float64 `json:"threshold"`
	ThresholdFrom string  `json:"threshold_from"`
	// ImpostorMean is the mean measured single-finger impostor score.
	ImpostorMean float64 `json:"impostor_mean"`
	// FusionMean is the mean impostor score the nodes' decision policy
	// scales fused thresholds with (search.Policy.Mean): the engine tail's
	// when the nodes decide by their own policy, else ImpostorMean.
	FusionMean float64 `json:"fusion_mean"`
	// ImpostorScores and GenuineScores are the sizes of the measured score
	// samples.
	ImpostorScores int `json:"impostor_scores"`
	GenuineScores  int `json:"genuine_scores"`
	// DET are detection-error trade-off points per finger count.
	DET []DETCurve `json:"det"`
	// National is the national section: every national gallery of the
	// scenario at the thresholds a node's policy sets there for the target
	// FPIR, the FPIR the impostor tail then gives and the FNIR it costs,
	// per finger count.
	National *National `json:"national"`
	// ModelsNational scales each model to national galleries and volumes,
	// each gallery at its own national threshold (National, the node's
	// default real-image tail, the policy's rule).
	ModelsNational []NationalModel `json:"models_national"`
	// Models are the measured results of the simulated day.
	Models []ModelResult `json:"models"`
	// Encrypted is the measured cost of the encrypted protocol that the
	// encrypted_search model charges (when the scenario has that model).
	Encrypted *EncryptedCost `json:"encrypted_cost,omitempty"`
	// HourlyEncounters are the simulated day's encounters per hour.
	HourlyEncounters [24]int `json:"hourly_encounters"`
	// Travellers by kind (home, partner, unknown).
	Travellers map[string]int `json:"travellers"`
	// Nodes are the nodes' own counters next to the run's.
	Nodes []NodeStats `json:"nodes"`
	// Audit are the partners' transparency logs, leaf by leaf counted.
	Audit []AuditCounts `json:"audit"`
	// Limits are the method's limits, stated in the report.
	Limits []string `json:"limits"`
}

// ModelResult is what one sharing model gained and cost over the simulated
// day, measured on the nodes. docs/poc.md defines every count.
type ModelResult struct {
	Model Model  `json:"model"`
	Label string `json:"label"`
	// Searches is the number of border encounters searched.
	Searches int `json:"searches"`
	// TrueIdentifications are travellers the home state identified
	// correctly (after the partner's examiner where the model has one).
	TrueIdentifications int `json:"true_identifications"`
	// GainedBySharing are those of them not enrolled at home: what the
	// national model cannot find.
	GainedBySharing int `json:"gained_by_sharing"`
	// DerogatoryGained are gained identifications whose partner record
	// carries a derogatory flag.
	DerogatoryGained int `json:"derogatory_gained"`
	// Missed are travellers enrolled in a gallery the model searches but
	// not identified (matcher misses, examiner false rejections, quota).
	Missed int `json:"missed"`
	// FalseMatches are candidates at or above the threshold that are not
	// the traveller, in every gallery the model searches.
	FalseMatches int `json:"false_matches"`
	// InnocentDisclosed are people other than the traveller whose records
	// crossed a border because of a false match that passed or skipped the
	// human gate.
	InnocentDisclosed int `json:"innocent_disclosed"`
	// RecordsDisclosed are records (an identity's biographic data, a flag,
	// an encounter) that crossed a border during the day; the bulk copy's
	// up-front transfer is in BulkRecords.
	RecordsDisclosed int `json:"records_disclosed"`
	// RecordsPerPartnerHit is RecordsDisclosed per true identification made
	// through a partner's record.
	RecordsPerPartnerHit float64 `json:"records_per_partner_hit"`
	PartnerHits          int     `json:"partner_true_hits"`
	// BulkPeople and BulkRecords are, for the bulk copy, the partners'
	// people (not enrolled at home) and records handed over before any
	// search, and BulkBytes the bytes of that transfer.
	BulkPeople  int   `json:"bulk_people,omitempty"`
	BulkRecords int64 `json:"bulk_records,omitempty"`
	BulkBytes   int64 `json:"bulk_bytes,omitempty"`
	// ProbesRetained are probes that partners keep after answering: all of
	// them when the agreement allows retention, else those of hits (held
	// for the step-2 case).
	ProbesRetained int `json:"probes_retained_by_partners"`
	// ProbesSeen are probes partners saw in the clear: every step-1
	// request in the clear models, only those of step-2 requests (hits) in
	// encrypted_search, none in national and bulk_copy.
	ProbesSeen int `json:"probes_seen_by_partners"`
	// Messages and Bytes are cross-border requests and responses (each a
	// message) and their bytes (the exchange's: all that crossed the
	// partner endpoint's connections, TLS included; an automatic return's:
	// the bodies); Refused are requests over the quota.
	Messages int64 `json:"messages"`
	Bytes    int64 `json:"bytes"`
	Refused  int   `json:"refused_by_quota"`
	// Latency of a search from capture to the home state's answer, machine
	// time only (examiner time is in ExaminerHours).
	LatencyMedianMs float64   `json:"latency_median_ms"`
	LatencyP99Ms    float64   `json:"latency_p99_ms"`
	LatenciesMs     []float64 `json:"latencies_ms"`
	// ExaminerCases are candidates a human reviews (home officers on home
	// and hub hits and on automatically returned data, partner examiners
	// before a step-2 release); ExaminerHours at the scenario's minutes per
	// case.
	ExaminerCases int     `json:"examiner_cases"`
	ExaminerHours float64 `json:"examiner_hours"`
	// HourlyMessages are cross-border messages per hour of the day.
	HourlyMessages [24]int64 `json:"hourly_messages"`
}

var modelLabels = map[Model]string{
	ModelNational:   "National only",
	ModelPrum:       "Prüm-style (hit/no-hit, examiner-gated step 2)",
	ModelQueryPurge: "Query-and-purge",
	ModelDHSAsk:     "DHS ask as reported (automatic return)",
	ModelBulkCopy:   "Bulk copy into the hub",
	ModelEncrypted:  "Encrypted search (encrypted step 1, examiner-gated step 2)",
}

// Phase is one step of a run and what it took.
type Phase struct {
	Name       string  `json:"name"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// PeakRSS is the process's peak resident set at the end of the phase,
	// in bytes (0 where the system does not say).
	PeakRSS int64 `json:"peak_rss_bytes"`
}

// NodeStats are a node's own counters, read from its Prometheus metrics
// endpoint, next to what this run counted.
type NodeStats struct {
	State      string           `json:"state"`
	Hub        bool             `json:"hub,omitempty"`
	Enrolments int64            `json:"enrolments"`
	Decisions  map[string]int64 `json:"decisions"`
	Templates  int64            `json:"templates"`
	// RunEnrolments and RunDecisions are what the run itself counted.
	RunEnrolments int64            `json:"run_enrolments"`
	RunDecisions  map[string]int64 `json:"run_decisions"`
	// Retakes are enrolment captures the node refused for too few minutiae
	// and the run took again.
	Retakes int64 `json:"enrolment_retakes"`
	// Policy is the node's fingerprint decision policy at the end of the
	// run, as its GET /v1/calibration says.
	Policy NodePolicy `json:"policy"`
}

// NodePolicy is what a node's fingerprint thresholds rest on.
type NodePolicy struct {
	// Tail and TailComparisons name the impostor tail and its depth.
	Tail            string `json:"tail"`
	TailComparisons int    `json:"tail_comparisons"`
	// Fixed says the thresholds were configured (matcher.threshold or
	// target_fmr in the scenario) instead of following the gallery.
	Fixed bool `json:"fixed_thresholds"`
	// GalleryIdentities, FPIRTarget and HitThreshold (single finger) are the
	// node's operating point.
	GalleryIdentities int     `json:"gallery_identities"`
	FPIRTarget        float64 `json:"fpir_target"`
	HitThreshold      float64 `json:"hit_threshold"`
	// FusedHitThreshold is the hit threshold for the scenario's captured
	// fingers (search.Policy.Thresholds).
	FusedHitThreshold float64 `json:"fused_hit_threshold"`
}

// AuditCounts are a responder's transparency-log leaves by kind and
// outcome, read back from its log.
type AuditCounts struct {
	State     string `json:"state"`
	Leaves    int    `json:"leaves"`
	Requests  int    `json:"requests"`
	Hits      int    `json:"hits"`
	NoHits    int    `json:"no_hits"`
	Refusals  int    `json:"refusals"`
	Examiner  int    `json:"examiner_decisions"`
	Confirmed int    `json:"confirmed"`
	Releases  int    `json:"releases"`
}

// DETCurve is a detection-error trade-off curve for n fused fingers, from
// disjoint n-tuples of the measured scores.
type DETCurve struct {
	Fingers int `json:"fingers"`
	// Impostor and Genuine are the numbers of n-tuples the rates are
	// measured on: a rate of 0 means below 1/Impostor (or 1/Genuine).
	Impostor int        `json:"impostor_tuples"`
	Genuine  int        `json:"genuine_tuples"`
	Points   []DETPoint `json:"points"`
}

// DETPoint is one threshold's error rates.
type DETPoint struct {
	Threshold float64 `json:"threshold"`
	FMR       float64 `json:"fmr"`
	FNMR      float64 `json:"fnmr"`
}

// NationalModel is one model at national scale: expected false matches
// per day and innocent people whose data would cross a border per day,
// with the bounds of the FMR estimate carried through.
type NationalModel struct {
	Model   Model  `json:"model"`
	Label   string `json:"label"`
	Fingers int    `json:"fingers"`
	// Gallery is the total size of the galleries one search reaches.
	Gallery                    int64   `json:"gallery"`
	FalseMatchesPerDay         float64 `json:"false_matches_per_day"`
	FalseMatchesPerDayLow      float64 `json:"false_matches_per_day_low"`
	FalseMatchesPerDayHigh     float64 `json:"false_matches_per_day_high"`
	InnocentDisclosedPerDay    float64 `json:"innocent_disclosed_per_day"`
	InnocentDisclosedPerDayLow float64 `json:"innocent_disclosed_per_day_low"`
	InnocentDisclosedPerDayHi  float64 `json:"innocent_disclosed_per_day_high"`
	// TransferredUpFront is, for the bulk copy, the partners' holdings
	// handed over before any search.
	TransferredUpFront int64 `json:"transferred_up_front,omitempty"`
}

// write writes report.json and report.html.
func (r *Report) write(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("poc: report JSON: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		return err
	}
	if err := r.HTML(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// detCurve sweeps thresholds over disjoint n-tuples of the scores: at
// impostor quantiles spaced evenly in log FMR and at genuine quantiles
// spaced evenly in log FNMR, so that the curve shows both tails even when
// the sample separates the two completely.
func detCurve(sc *Scores, n int) DETCurve {
	imp := tupleSums(sc.Impostor, n)
	gen := tupleSums(sc.Genuine, n)
	slices.Sort(imp)
	slices.Sort(gen)
	c := DETCurve{Fingers: n, Impostor: len(imp), Genuine: len(gen)}
	if len(imp) == 0 || len(gen) == 0 {
		return c
	}
	var ths []float64
	for e := 0.0; ; e += 0.25 {
		k := int(math.Pow(10, -e) * float64(len(imp)))
		if k < 1 {
			break
		}
		ths = append(ths, imp[len(imp)-k])
	}
	for e := 0.0; ; e += 0.25 {
		k := int(math.Pow(10, -e) * float64(len(gen)))
		if k < 1 {
			break
		}
		ths = append(ths, math.Nextafter(gen[k-1], math.Inf(1)))
	}
	slices.Sort(ths)
	ths = slices.Compact(ths)
	for _, th := range ths {
		atOrAbove := len(imp) - lowerBound(imp, th)
		below := lowerBound(gen, th)
		c.Points = append(c.Points, DETPoint{Threshold: th, FMR: float64(atOrAbove) / float64(len(imp)), FNMR: float64(below) / float64(len(gen))})
	}
	return c
}

func tupleSums(xs []float64, n int) []float64 {
	var out []float64
	for i := 0; i+n <= len(xs); i += n {
		s := 0.0
		for _, x := range xs[i : i+n] {
			s += x
		}
		out = append(out, s)
	}
	return out
}

// lowerBound returns the number of sorted xs below v.
func lowerBound(xs []float64, v float64) int {
	i, _ := slices.BinarySearch(xs, v)
	for i > 0 && xs[i-1] >= v {
		i--
	}
	return i
}

// modelsNational scales each model to the national galleries: a search
// under a model reaches some galleries, each searched at the threshold its
// own node's policy sets at its size (the national rows of the real-image
// tail and the policy's rule for n fingers; the bulk copy's hub is one
// gallery of the home state's and the partners' holdings, at the threshold
// for that size), every innocent identity in them can be a false match at
// that threshold's FMR, and the model decides whether a false match's data
// crosses a border.
func modelsNational(s *Scenario, rows []NationalRow, n int) []NationalModel {
	at := map[string]NationalRow{}
	for _, r := range rows {
		if r.Tail == engine.FVCFingerTail.Source && r.Rule == "policy" && r.Fingers == n {
			at[r.State] = r
		}
	}
	d := float64(s.Border.EncountersPerDay)
	// perDay is the expected false matches a day among people identities
	// of the gallery of state (low, point, high).
	perDay := func(state string, people int64) (lo, pt, hi float64) {
		r, g := at[state], d*float64(people)
		return g * r.FMRLow, g * r.FMR, g * r.FMRHigh
	}
	var out []NationalModel
	for _, m := range s.Models {
		mn := NationalModel{Model: m, Label: modelLabels[m], Fingers: n}
		add := func(state string, people int64, crosses bool, gate float64) {
			lo, pt, hi := perDay(state, people)
			mn.Gallery += people
			mn.FalseMatchesPerDayLow += lo
			mn.FalseMatchesPerDay += pt
			mn.FalseMatchesPerDayHigh += hi
			if crosses {
				mn.InnocentDisclosedPerDayLow += lo * gate
				mn.InnocentDisclosedPerDay += pt * gate
				mn.InnocentDisclosedPerDayHi += hi * gate
			}
		}
		switch m {
		case ModelBulkCopy:
			add(hubGallery, s.Extrapolation.Gallery, false, 0)
			for _, st := range s.Partners() {
				add(hubGallery, st.NationalGallery, true, 1)
				mn.TransferredUpFront += st.NationalGallery
			}
		default:
			add(s.Home, s.Extrapolation.Gallery, false, 0)
			if m == ModelNational {
				break
			}
			gate := 1.0 // dhs_ask: no human step
			if m != ModelDHSAsk {
				gate = s.Examiner.FalseConfirm
			}
			for _, st := range s.Partners() {
				add(st.Code, st.NationalGallery, true, gate)
			}
		}
		out = append(out, mn)
	}
	return out
}

// limits are the method's limits as they apply to this run.
func limits(s *Scenario, r *Report) []string {
	l := []string{
		"Fingerprints are template-level synthetic minutiae (package synth), not real people's fingers. Real galleries have poorer captures, ageing, twins and relatives; the real false-match rate can be higher.",
		fmt.Sprintf("The national section's FPIR is not measured: at a national gallery the threshold sits at a per-comparison FMR (about 4e-12 at 270 million identities) that no sample reaches, so the FPIR is what the impostor tail says. The real-image tail a node uses is measured on %s comparisons to FMR %g and extended beyond by a fitted model at the safe end of its 95%% interval; the synthetic one on %s comparisons to FMR %g and extended exponentially. Below each tail's FMR 1e-2 point its distribution takes the shape of this run's %s synthetic impostor scores (the body barely moves a national threshold). The FNIR is measured, on mated comparisons.",
			formatNumber(float64(engine.FVCFingerTail.Comparisons)), engine.FVCFingerTail.MeasuredFMR, formatNumber(float64(engine.SyntheticFingerTail.Comparisons)), engine.SyntheticFingerTail.MeasuredFMR, formatNumber(float64(r.ImpostorScores))),
		"Fused scores of several fingers are taken as independent across fingers: the tail is convolved n times for the FPIR, and the real-image FNIR for n fingers adds the genuine scores of n different real fingers (of different people).",
		"The simulated galleries are small, so a simulated day shows few or no false matches: the measured counts show the mechanics of each model; the extrapolation shows the scale.",
		"The examiner is a model: it confirms true matches and rejects false ones, wrong at the scenario's rates. Real examiner error depends on training, workload and the candidate's quality.",
		"Step 1 of every sharing model and step 2 of the Prüm-style and query-and-purge models go through the real exchange (signed envelopes over mutual TLS, agreement checks, quotas, the partner's examiner queue and transparency log). The exchange releases biographic fields only, never flags or encounter history, so those models disclose biographic records only whatever the scenario's allow-list says. The exchange refuses an automatic return by design, so the DHS ask's return is modelled by reading the partner node's record through its API; the bulk copy is modelled by enrolling the partners' records into a hub node.",
		"Query-and-purge and Prüm-style differ here only in what partners keep: the exchange purges non-matching probes in both, and the count of probes kept follows the agreement's retention (all probes when it allows retention, else those of hits, held until the examiner decides).",
		"The DHS ask is modelled from public reporting: on a match the requester receives biographic, derogatory and encounter data with no human step. Details of the real proposal may differ.",
		"Latency is measured on one machine over loopback, with every node sharing the same processor cores; it excludes network distance and examiner time.",
	}
	if hasModel(s, ModelEncrypted) {
		l = append(l, "The encrypted search model takes its step-1 decisions from this run's clear fingerprint searches: the encrypted protocol is built for face embeddings (the fixed-length fingerprint vector only ranks a shortlist for the exact comparison; its cosine alone does not decide a hit), and its encrypted decisions agreed with the plaintext ones on every gallery entry measured (docs/privacy.md). Its bytes add the real protocol's ciphertexts to the measured clear exchange (the clear fingerprint probe stays counted, a small overcount), its latency adds the measured wall time of an encrypted query on the partner's gallery size (by blocks of 32768 entries), and its national cost scales the measured CPU by blocks. The key setup is counted apart, once per agreement.")
	}
	if q := s.Agreement.DailyQuota; q > 0 && q < s.Border.EncountersPerDay {
		l = append(l, fmt.Sprintf("The daily quota (%d requests per partner) is applied to the simulated day only; at %d encounters a day it would refuse all but %.1f%% of national traffic to each partner.",
			q, s.Border.EncountersPerDay, 100*float64(q)/float64(s.Border.EncountersPerDay)))
	}
	return l
}
