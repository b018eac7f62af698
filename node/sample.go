package node

import (
	"fmt"

	"github.com/ebsp/ebsp/biometric"
)

// SampleInput is a biometric sample in an API request.
type SampleInput struct {
	// Modality is finger, face, iris or dna.
	Modality biometric.Modality `json:"modality"`
	// Position is the ANSI/NIST FGP code of a fingerprint (0 unknown).
	Position biometric.FingerPosition `json:"position,omitempty"`
	// Format is the encoding of Data: for fingerprints an image ("png",
	// "jpeg", "bmp", "tiff"; the format is sniffed, this names what the
	// client meant) or a template ("iso19794-2", "ansi378").
	Format string `json:"format"`
	// DPI is the resolution of a fingerprint image (500 when 0).
	DPI int `json:"dpi,omitempty"`
	// Data is the sample, base64 (standard encoding) in JSON.
	Data []byte `json:"data"`
}

// validate checks the fields that do not need the sample's bytes decoded.
func (s *SampleInput) validate(i int) *apiError {
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
