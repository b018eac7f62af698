package exchange

import (
	"context"
	"fmt"
	"slices"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/iso19794"
)

// Probe is what a requester searches with: fingerprint templates by finger
// position, or face embeddings (one modality per probe).
type Probe struct {
	Fingers []FingerProbe
	// Faces are embeddings of ebsp's face recogniser (face.Embedding
	// encodings, algorithm FaceFormat): partners exchange templates, never
	// the photos.
	Faces [][]byte
}

// FaceFormat names the face templates a probe carries: the embedding of
// ebsp's recogniser (docs/face.md), the node's face template algorithm.
const FaceFormat = face.EmbeddingAlgorithm

// maxProbeFaces bounds the faces of one probe.
const maxProbeFaces = 4

// WireFace is one face of a probe on the wire.
type WireFace struct {
	Format    string `json:"format"` // FaceFormat
	Embedding []byte `json:"embedding"`
}

// FingerProbe is one finger of a probe.
type FingerProbe struct {
	Position biometric.FingerPosition
	Template fingerprint.Template
}

// Searcher searches the responder's gallery. It returns the candidates the
// node's own decision policy counts as hits (scores above its threshold for
// the target false-match rate), best first; the responder caps and counts
// them and never passes scores on. A Searcher must not keep the probe.
type Searcher interface {
	Search(ctx context.Context, probe Probe) ([]biometric.Candidate, error)
}

// Discloser reads the disclosable fields of one identity from the node's
// store. It is called only after an examiner confirmed the match; the
// responder filters what it returns to the allow-list.
type Discloser interface {
	Disclose(ctx context.Context, identityID string, fields []string) (map[string]string, error)
}

// wipe overwrites the probe's minutiae so that no copy of them outlives the
// search in this process's heap longer than the garbage collector needs.
func (p *Probe) wipe() {
	for i := range p.Fingers {
		m := p.Fingers[i].Template.Minutiae
		clear(m)
		p.Fingers[i].Template = fingerprint.Template{}
	}
	p.Fingers = nil
	for _, f := range p.Faces {
		clear(f)
	}
	p.Faces = nil
}

// Limits on a probe (a tenprint card has at most 10 rolled and 4 plain
// slap/thumb impressions).
const (
	maxProbeFingers  = 14
	maxProbeMinutiae = 255 // ISO/IEC 19794-2 counts minutiae in one byte
)

// WireFinger is one finger of a probe on the wire: an ISO/IEC 19794-2:2005
// finger minutiae record (clause 7), the interchange format partners
// already exchange, holding one finger view.
type WireFinger struct {
	Position biometric.FingerPosition `json:"position"`
	Format   string                   `json:"format"` // "iso19794-2:2005"
	Record   []byte                   `json:"record"`
}

const wireFormat = "iso19794-2:2005"

// encodeFaces converts a probe's faces to their wire form.
func encodeFaces(p Probe) []WireFace {
	var out []WireFace
	for _, f := range p.Faces {
		out = append(out, WireFace{Format: FaceFormat, Embedding: slices.Clone(f)})
	}
	return out
}

// decodeFaces parses the faces of a probe on the wire.
func decodeFaces(w []WireFace) ([][]byte, error) {
	if len(w) > maxProbeFaces {
		return nil, fmt.Errorf("probe has %d faces, limit %d", len(w), maxProbeFaces)
	}
	var out [][]byte
	for i, f := range w {
		if f.Format != FaceFormat {
			return nil, fmt.Errorf("probe face %d: format %q, want %q", i, f.Format, FaceFormat)
		}
		if _, err := face.ParseEmbedding(f.Embedding); err != nil {
			return nil, fmt.Errorf("probe face %d: %v", i, err)
		}
		out = append(out, slices.Clone(f.Embedding))
	}
	return out, nil
}

// encodeProbe converts a probe's fingers to their wire form.
func encodeProbe(p Probe) ([]WireFinger, error) {
	out := make([]WireFinger, 0, len(p.Fingers))
	for i, f := range p.Fingers {
		rec, err := iso19794.MinutiaeRecordFromTemplate(f.Template, iso19794.ISO19794_2_2005, f.Position)
		if err != nil {
			return nil, fmt.Errorf("exchange: probe finger %d (%v): %v", i, f.Position, err)
		}
		b, err := rec.Marshal()
		if err != nil {
			return nil, fmt.Errorf("exchange: probe finger %d (%v): %v", i, f.Position, err)
		}
		out = append(out, WireFinger{Position: f.Position, Format: wireFormat, Record: b})
	}
	return out, nil
}

// decodeProbe parses the wire form, bounding the work by the limits above:
// fingers or faces, not both.
func decodeProbe(w []WireFinger, faces []WireFace) (Probe, error) {
	var p Probe
	if len(faces) > 0 {
		if len(w) > 0 {
			return p, fmt.Errorf("probe has fingers and faces: one modality per probe")
		}
		var err error
		p.Faces, err = decodeFaces(faces)
		return p, err
	}
	if len(w) == 0 {
		return p, fmt.Errorf("probe has no fingers and no faces")
	}
	if len(w) > maxProbeFingers {
		return p, fmt.Errorf("probe has %d fingers, limit %d", len(w), maxProbeFingers)
	}
	for i, f := range w {
		if f.Format != wireFormat {
			return p, fmt.Errorf("probe finger %d: format %q, want %q", i, f.Format, wireFormat)
		}
		if !f.Position.Valid() {
			return p, fmt.Errorf("probe finger %d: position %d invalid", i, f.Position)
		}
		rec, _, err := iso19794.ParseMinutiaeAs(f.Record, iso19794.ISO19794_2_2005)
		if err != nil {
			return p, fmt.Errorf("probe finger %d: %v", i, err)
		}
		if len(rec.Views) != 1 {
			return p, fmt.Errorf("probe finger %d: record has %d finger views, want 1", i, len(rec.Views))
		}
		t, err := rec.Template(0)
		if err != nil {
			return p, fmt.Errorf("probe finger %d: %v", i, err)
		}
		if len(t.Minutiae) > maxProbeMinutiae {
			return p, fmt.Errorf("probe finger %d: %d minutiae, limit %d", i, len(t.Minutiae), maxProbeMinutiae)
		}
		p.Fingers = append(p.Fingers, FingerProbe{Position: f.Position, Template: t})
	}
	return p, nil
}
