package node

import (
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
)

// ModalityCalibration says how one modality's thresholds are set: which
// impostor tail they follow, how deep it is measured, and what it implies
// at the gallery's current size.
type ModalityCalibration struct {
	Modality biometric.Modality `json:"modality"`
	// Tail names what the tail was measured on ("fvc-real", "gallery",
	// "assumed" for a model no measurement backs); Configured says it comes
	// from the node's configuration rather than the engine.
	Tail       string `json:"tail"`
	Configured bool   `json:"configured"`
	// Comparisons and MeasuredFMR say how deep the tail is measured; below
	// MeasuredFMR it is extrapolated by Method.
	Comparisons int     `json:"comparisons"`
	MeasuredFMR float64 `json:"measured_fmr"`
	Method      string  `json:"method,omitempty"`
	// Calibrated is false when no measurement backs the thresholds: the
	// modality then answers review, never hit (nor match).
	Calibrated      bool `json:"calibrated"`
	FixedThresholds bool `json:"fixed_thresholds"`
	// GalleryIdentities is the number of identities searched.
	GalleryIdentities int `json:"gallery_identities"`
	// HitThreshold and ReviewThreshold are the single-sample thresholds.
	HitThreshold    float64 `json:"hit_threshold"`
	ReviewThreshold float64 `json:"review_threshold"`
	// FPIRTarget is fpir_hit; FPIRImplied is the FPIR the tail implies for
	// the hit threshold at this gallery size: identities × the tail's FMR
	// at the threshold, at most 1. Extrapolated says that FMR lies below
	// what the tail measured.
	FPIRTarget   float64 `json:"fpir_target"`
	FPIRImplied  float64 `json:"fpir_implied"`
	Extrapolated bool    `json:"extrapolated"`
	// VerifyFMR and VerifyThreshold are the 1:1 policy: the single-sample
	// threshold at the configured per-comparison false-match rate.
	VerifyFMR       float64 `json:"verify_fmr"`
	VerifyThreshold float64 `json:"verify_threshold"`
	// SelfCalibration is the impostor comparisons of the gallery sampled
	// so far (self_calibration), and Duplicates the pairs of identities
	// they found scoring like one person (GET /v1/calibration/duplicates).
	SelfCalibration int64 `json:"self_calibration_comparisons"`
	Duplicates      int   `json:"duplicates"`
}

// CalibrationResponse is the body of GET /v1/calibration.
type CalibrationResponse struct {
	Modalities []ModalityCalibration `json:"modalities"`
}

// Calibration reports, for each modality the node searches, the tail its
// thresholds follow and what they imply now.
func (n *Node) Calibration() *CalibrationResponse {
	var out CalibrationResponse
	dups := n.Duplicates()
	for m := range n.engines {
		tail, from := n.tail(m)
		configured := from == "configured"
		_, fixed := n.cfg.Thresholds[m]
		_, ids := n.galleryLen(m)
		pol := n.policy(m)
		fmr := tail.FMRAt(pol.Hit)
		src := tail.Source
		if src == "" {
			src = "unnamed"
		}
		out.Modalities = append(out.Modalities, ModalityCalibration{
			Modality: m, Tail: src, Configured: configured,
			Comparisons: tail.Comparisons, MeasuredFMR: tail.MeasuredFMR, Method: tail.Method,
			Calibrated: n.calibrated(m), FixedThresholds: fixed, GalleryIdentities: ids,
			HitThreshold: pol.Hit, ReviewThreshold: pol.Review,
			FPIRTarget: n.cfg.FPIRHit, FPIRImplied: math.Min(1, float64(max(ids, 1))*fmr),
			Extrapolated: tail.MeasuredFMR > 0 && fmr < tail.MeasuredFMR,
			VerifyFMR:    n.cfg.FMRVerify, VerifyThreshold: engine.Verification(tail, n.cfg.FMRVerify, 1),
			SelfCalibration: n.selfCalProgress(m), Duplicates: len(dups[m]),
		})
	}
	slices.SortFunc(out.Modalities, func(a, b ModalityCalibration) int { return strings.Compare(string(a.Modality), string(b.Modality)) })
	return &out
}

// DuplicatesResponse is the body of GET /v1/calibration/duplicates.
type DuplicatesResponse struct {
	Duplicates map[biometric.Modality][]engine.Mate `json:"duplicates"`
}

func (n *Node) handleDuplicates(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	writeJSON(w, 200, DuplicatesResponse{n.Duplicates()})
	return nil
}

func (n *Node) handleCalibration(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	writeJSON(w, 200, n.Calibration())
	return nil
}
