package engine

import (
	"fmt"
	"math"

	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/face/pipeline"
	"github.com/ebsp/ebsp/formats/iso19794"
)

// FacePhotos matches face photos with ebsp's own recogniser (package
// face/pipeline: BlazeFace, alignment, dlib's ResNet; docs/face.md). It
// is Face with the pipeline: it also takes "face-embedding" samples (the
// recogniser's embeddings, from elsewhere or from package synth) and makes
// templates of JPEG and PNG photos, of ISO/IEC 19794-5 face image
// records (their first JPEG image) and so of ANSI/NIST-ITL Type-10 records,
// which the node hands over as JPEG or PNG samples. A template is a
// face.Embedding; the score is 1 − the Euclidean distance of two
// embeddings, so dlib's decision distance 0.6 is a score of 0.4.
//
// A node uses it in place of Face when it is started with the face models
// (ebsp node --face-models): the two keep different templates (Algorithm),
// and a gallery holds one engine's.
type FacePhotos struct {
	Face
	Pipeline *pipeline.Pipeline
}

// FacePhotosAlgorithm names the template: the recogniser's embedding,
// int8 with its scale. The version changes when the pipeline's models or
// alignment change, since old and new embeddings do not compare.
const FacePhotosAlgorithm = face.EmbeddingAlgorithm

// Formats implements Engine.
func (FacePhotos) Formats() []string { return []string{"jpeg", "png", "iso19794-5", "face-embedding"} }

// Tail implements Engine: a normal model (not a calibration, so the node
// answers review, never hit, until a measured tail is configured) with the
// mean and standard deviation of the 760 impostor scores of the shared
// London face subset, 0.158 and 0.095 (ebsp eval face --scores; docs/face.md).
// 760 comparisons are too few to measure a tail: an agency measures its own
// with `ebsp eval face --scores` and `ebsp eval tail --fit` on at least
// 1,000 impostor pairs and configures it (impostor_tails).
func (FacePhotos) Tail() Tail { return facePhotosTail }

var facePhotosTail = gaussianTail(0.158, 0.095)

// Template implements Engine: the photo's embedding, and the detector's
// face score (0-100) as the quality.
func (e FacePhotos) Template(s *Sample, maxPixels int) ([]byte, int, error) {
	img := s.Data
	switch s.Format {
	case "jpeg", "png":
	case "face-embedding":
		return embeddingTemplate(s.Data)
	case "iso19794-5":
		rec, _, err := iso19794.ParseFaceImage(s.Data)
		if err != nil {
			return nil, 0, errf(CodeBadSample, err.Error())
		}
		if len(rec.Images) == 0 {
			return nil, 0, errf(CodeBadSample, "face image record holds no image")
		}
		im := rec.Images[0]
		if im.DataType != iso19794.FaceJPEG {
			return nil, 0, errf(CodeUnsupported, fmt.Sprintf("face image record: image data type %d (JPEG 2000) is not decoded here: want JPEG (0)", im.DataType))
		}
		img = im.Data
	default:
		return nil, 0, errf(CodeUnsupported, fmt.Sprintf("face format %q: want one of %v", s.Format, e.Formats()))
	}
	if e.Pipeline == nil {
		return nil, 0, errf(CodeUnsupported, "face photos need the face models: run 'ebsp models fetch' and start the node with --face-models")
	}
	r, err := e.Pipeline.ProcessLimit(img, maxPixels)
	if err != nil {
		code := CodeBadSample
		switch pipeline.CodeOf(err) {
		case pipeline.CodeTooLarge:
			code = CodeSampleTooLarge
		case pipeline.CodeUnsupportedImage:
			code = CodeUnsupported
		}
		// The pipeline's own code (no_face, face_pose ...) leads the
		// message, so that a client can tell the reasons apart.
		if c := pipeline.CodeOf(err); c != "" {
			return nil, 0, errf(code, fmt.Sprintf("%s: %v", c, err))
		}
		return nil, 0, errf(code, err.Error())
	}
	t, err := face.QuantizeEmbedding(r.Embedding)
	if err != nil {
		return nil, 0, errf(CodeBadSample, err.Error())
	}
	return t.Bytes(), int(math.Round(100 * float64(r.Face.Score))), nil
}
