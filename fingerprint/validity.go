package fingerprint

import "fmt"

// The fingerprint check: is the image a fingerprint at all? A face
// photograph, a document scan or a textured surface has edges and
// coherent patches enough to pass segmentation (skin and hair are
// coherent, and the crossing-number detector finds "minutiae" in any
// binarised texture: a 1350 x 1350 face photograph gave 128 minutiae,
// sample quality 44, and matched itself at 0.72). What such images lack is
// the one thing a fingerprint is made of: parallel ridges at a steady
// spacing over most of the foreground. ISO/IEC 29794-4 and NFIQ 2 measure
// the same thing as "ridge valley uniformity" and "frequency domain
// analysis"; here it is the share of the foreground blocks whose grey
// profile across the local ridge direction shows a ridge period in the
// band a finger can have (frequency.go: 4 to 16 px at 500 ppi, with
// hysteresis, so that a single edge or a blotch does not count).
//
// Measured (docs/fingerprint-extraction.md, "Not a fingerprint"): on the
// 400 images of the five shared FVC sets the share is 0.53 to 1.00 (mean
// 0.94); on the 40 face photographs of the shared FRL London subset 0.06 to
// 0.19. The threshold sits between the two.
//
// Printed text passes that test (its strokes are lines at a steady
// spacing), so a second one asks whether the ridges are clean: the mean
// over the foreground of the raw gradient coherence plus the block clarity
// (quality.go), which is 0.62 to 1.71 on the FVC images, 0.64 to 0.93 on
// the faces and 0.50 on the text-like page of the tests: a page of glyphs
// changes direction every few pixels and only part of its variation is
// ridge profile.
const (
	valMinMeasured = 0.35
	valMinRidge    = 0.55
)

// checkRidges returns an error wrapping ErrNoFingerprint when too little of
// the foreground shows a measurable ridge period.
func checkRidges(f *exFrequency, seg *exSegmentation) error {
	n, m := 0, 0
	for i, fg := range seg.fg {
		if fg {
			n++
			if f.measured[i] {
				m++
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: no foreground", ErrNoFingerprint)
	}
	if share := float64(m) / float64(n); share < valMinMeasured {
		return fmt.Errorf("%w: not a fingerprint image: a ridge period of %.0f-%.0f px (at 500 ppi) was found in %.0f%% of the foreground, a fingerprint shows one in at least %.0f%%",
			ErrNoFingerprint, freqMinPeriod, freqMaxPeriod, 100*share, 100*valMinMeasured)
	}
	return nil
}

// checkClarity returns an error wrapping ErrNoFingerprint when the
// foreground's mean coherence plus clarity is under valMinRidge.
func checkClarity(o *exOrientation, q *exQuality, seg *exSegmentation) error {
	var s float64
	n := 0
	for i, fg := range seg.fg {
		if fg {
			s += float64(o.coh[i]) + float64(q.clarity[i])
			n++
		}
	}
	if v := s / float64(max(n, 1)); v < valMinRidge {
		return fmt.Errorf("%w: not a fingerprint image: ridge coherence plus clarity %.2f on the foreground, a fingerprint shows at least %.2f",
			ErrNoFingerprint, v, valMinRidge)
	}
	return nil
}
