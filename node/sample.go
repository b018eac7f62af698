package node

import (
	"fmt"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
)

// SampleInput is a biometric sample in an API request.
type SampleInput = engine.Sample

// validateSample checks the fields that do not need the sample's bytes
// decoded.
func validateSample(i int, s *SampleInput) *apiError {
	where := fmt.Sprintf("samples[%d]", i)
	if !s.Modality.Valid() {
		return errf(CodeInvalidField, fmt.Sprintf("%s.modality %q: want finger, face, iris or dna", where, s.Modality))
	}
	if s.Modality == biometric.Finger && !s.Position.Valid() {
		return errf(CodeInvalidField, fmt.Sprintf("%s.position %d: not an ANSI/NIST FGP code", where, s.Position))
	}
	if s.Modality != biometric.Finger && s.Position != 0 {
		return errf(CodeInvalidField, fmt.Sprintf("%s.position: only fingerprints have a position", where))
	}
	if s.DPI < 0 || s.DPI > 2000 || (s.DPI != 0 && s.DPI < 250) {
		return errf(CodeInvalidField, fmt.Sprintf("%s.dpi %d: want 250 to 2000", where, s.DPI))
	}
	if len(s.Data) == 0 {
		return errf(CodeInvalidField, fmt.Sprintf("%s.data: empty", where))
	}
	if s.Format == "" {
		return errf(CodeInvalidField, fmt.Sprintf("%s.format: missing", where))
	}
	return nil
}
