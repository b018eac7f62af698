// Package pipeline turns a face photo into an embedding, in pure Go: BlazeFace
// finds the face and its keypoints (detect.go), a similarity transform cuts
// the 150×150 crop dlib's recogniser expects (align.go), and dlib's ResNet
// gives a 128-value embedding (embed.go). The networks run on package nn's
// kernels with weights read by package tfjs; package models fetches them.
//
// Bad input never crashes it: an unreadable or oversized image, no face,
// several faces, a face too small or turned too far each give an *Error
// with a Code.
package pipeline

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ebsp/ebsp/face/models"
)

// Quality thresholds, applied to the detection's keypoints.
const (
	// MinEyeDistance is the smallest distance between the eye centres, in
	// photo pixels, that is enrolled. ISO/IEC 19794-5 asks 60 for a
	// full-frontal image; the recogniser's crop puts them 53 apart, and
	// below about 30 the crop is an upscaled blur.
	MinEyeDistance = 30
	// MaxYaw bounds how far the nose tip sits from the eyes' midpoint,
	// sideways, as a fraction of the eye distance (0 frontal, about 0.5 at
	// 45° of yaw). Beyond it the face is refused as too strongly turned.
	MaxYaw = 0.45
	// MaxRoll bounds the eye line's tilt in degrees. Alignment undoes roll;
	// beyond this the detector's keypoints are unreliable.
	MaxRoll = 40
	// OtherFace is how large a second face must be, relative to the first,
	// for the photo to count as showing several faces.
	OtherFace = 0.5
)

// Pipeline is a loaded detector and recogniser. It is safe for concurrent
// use.
type Pipeline struct {
	det *Detector
	rec *Recogniser
}

// Load reads the models from dir, after checking their pinned sums. When
// they are missing, the error says which command installs them.
func Load(dir string) (*Pipeline, error) {
	if err := models.Check(dir); err != nil {
		return nil, err
	}
	open := models.Open(dir)
	b, err := os.ReadFile(filepath.Join(dir, "blazeface.json"))
	if err != nil {
		return nil, err
	}
	det, err := NewDetector(b, open)
	if err != nil {
		return nil, err
	}
	if b, err = os.ReadFile(filepath.Join(dir, "face_recognition_model-weights_manifest.json")); err != nil {
		return nil, err
	}
	rec, err := NewRecogniser(b, open)
	if err != nil {
		return nil, err
	}
	return &Pipeline{det: det, rec: rec}, nil
}

// Result is one photo's embedding and what the pipeline saw.
type Result struct {
	Embedding []float32
	Face      Detection
	// EyeDistance is in photo pixels; Yaw is the nose's sideways offset
	// from the eyes' midpoint over the eye distance; Roll is the eye line's
	// tilt in degrees.
	EyeDistance, Yaw, Roll float64
	// OtherFaces counts the smaller faces also found (below OtherFace of the
	// main face's size, so not refused).
	OtherFaces int
}

// Process decodes a JPEG or PNG photo and returns the embedding of its face.
func (p *Pipeline) Process(img []byte) (*Result, error) { return p.ProcessLimit(img, 0) }

// ProcessLimit is Process with a tighter bound on the photo's pixels (0:
// MaxPixels), checked from the header.
func (p *Pipeline) ProcessLimit(img []byte, maxPixels int) (*Result, error) {
	m, err := DecodeLimit(img, maxPixels)
	if err != nil {
		return nil, err
	}
	return p.ProcessImage(m)
}

// ProcessImage returns the embedding of the one face in m.
func (p *Pipeline) ProcessImage(m *RGB) (*Result, error) {
	faces, err := p.det.Detect(m)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		return nil, &Error{Code: CodeNoFace, Msg: "no face found in the image"}
	}
	best := 0
	for i := range faces {
		if area(&faces[i]) > area(&faces[best]) {
			best = i
		}
	}
	r := &Result{Face: faces[best]}
	for i := range faces {
		if i == best {
			continue
		}
		if area(&faces[i]) >= OtherFace*OtherFace*area(&faces[best]) {
			return nil, &Error{Code: CodeSeveralFaces, Msg: fmt.Sprintf("%d faces of similar size in the image; enrol one face per image", len(faces))}
		}
		r.OtherFaces++
	}
	k := r.Face.Keypoints
	ex, ey := float64(k[LeftEye][0]-k[RightEye][0]), float64(k[LeftEye][1]-k[RightEye][1])
	r.EyeDistance = math.Hypot(ex, ey)
	if r.EyeDistance < MinEyeDistance {
		return nil, &Error{Code: CodeFaceTooSmall, Msg: fmt.Sprintf("eyes are %.0f pixels apart; at least %d are needed", r.EyeDistance, MinEyeDistance)}
	}
	r.Roll = math.Atan2(ey, ex) * 180 / math.Pi
	// The nose's offset from the eyes' midpoint along the eye line.
	mx, my := float64(k[LeftEye][0]+k[RightEye][0])/2, float64(k[LeftEye][1]+k[RightEye][1])/2
	r.Yaw = ((float64(k[NoseTip][0])-mx)*ex + (float64(k[NoseTip][1])-my)*ey) / (r.EyeDistance * r.EyeDistance)
	if math.Abs(r.Roll) > MaxRoll {
		return nil, &Error{Code: CodePose, Msg: fmt.Sprintf("head tilted %.0f degrees; at most %d are accepted", r.Roll, MaxRoll)}
	}
	if math.Abs(r.Yaw) > MaxYaw {
		return nil, &Error{Code: CodePose, Msg: fmt.Sprintf("head turned too far sideways (nose offset %.2f of the eye distance, at most %.2f)", r.Yaw, MaxYaw)}
	}
	if r.Embedding, err = p.rec.Embed(Align(m, &r.Face)); err != nil {
		return nil, err
	}
	return r, nil
}

func area(d *Detection) float32 { return max(d.X1-d.X0, 0) * max(d.Y1-d.Y0, 0) }
