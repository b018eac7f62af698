// Package engine holds the modality engines a node matches with, behind one
// interface (fingerprints, face embeddings, iris codes), their impostor
// score tails, and the decision policies set from those tails: 1:N
// identification thresholds for a target false-positive identification rate
// at the gallery's size, and 1:1 verification thresholds for a
// per-comparison false-match rate (ISO/IEC 19795-1 §5.2 for the rates).
//
// Package node is the service around it: it stores samples, keeps the
// galleries and answers the API; this package has no I/O and no server
// concerns.
package engine

import (
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/search"
)

// Engine is how a node handles one modality: it makes a template from a
// request sample, and prepares stored and probe templates for the gallery.
type Engine interface {
	search.Engine
	// Template returns the template bytes to store (in the engine's
	// Algorithm) and the sample's quality 0-100. Errors are *Error values
	// with codes CodeBadSample, CodeSampleTooLarge, CodeUnsupported or
	// CodeNotAFingerprint.
	Template(s *Sample, maxPixels int) (tmpl []byte, quality int, err error)
	// Tail is the engine's measured impostor score tail, from which the
	// node sets its thresholds for the gallery's size (see Tail), unless
	// the configuration gives another or fixes thresholds.
	Tail() Tail
	// Formats lists the sample formats the engine makes templates of. An
	// enrolled sample of the modality in another format (a face photo, say)
	// is stored without a template; a probe in another format is refused.
	Formats() []string
}

// Defaults are the engines of a node: fingerprints, face embeddings and
// iris codes. DNA profiles are stored, not searched.
func Defaults() map[biometric.Modality]Engine {
	return map[biometric.Modality]Engine{biometric.Finger: Finger{}, biometric.Face: Face{}, biometric.Iris: Iris{}}
}

// Sample is a biometric sample as a client sends it (the node's API
// request samples are of this type).
type Sample struct {
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

// Codes of the errors an engine returns for a sample; they are the node
// API's error codes of the same name.
const (
	CodeBadSample      = "bad_sample"       // sample data unreadable (corrupt image, bad template)
	CodeSampleTooLarge = "sample_too_large" // image dimensions over the limit
	CodeUnsupported    = "unsupported"      // a format the engine cannot use
	// CodeNotAFingerprint: a fingerprint image in which no fingerprint
	// ridges were found (a face photograph, a document, noise).
	CodeNotAFingerprint = "not_a_fingerprint"
)

// Error is what is wrong with a sample, with a machine-readable code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errf(code, msg string) *Error { return &Error{Code: code, Message: msg} }
