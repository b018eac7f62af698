package engine

import (
	"fmt"
	"math"

	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/iris"
	"github.com/ebsp/ebsp/search"
)

// Face matches face embeddings from an outside recogniser or package synth
// (package face: 512-d, int8, cosine). It is the face engine of a node
// started without the face models: a face photo is then stored as a sample
// but only an embedding ("face-embedding") is searchable. With the models,
// FacePhotos takes its place.
type Face struct{}

// Algorithm implements search.Engine.
func (Face) Algorithm() string { return "ebsp-face-embedding/1" }

// Formats implements Engine.
func (Face) Formats() []string { return []string{"face-embedding"} }

// Tail implements Engine: FaceTail.
func (Face) Tail() Tail { return FaceTail }

// FaceTail is the face engine's impostor tail measured on synthetic
// embeddings (synth's face model, whose impostor cosines spread about 0 with
// a standard deviation near 0.05, the figure of a modern recogniser,
// docs/synthetic-data.md): 3,998,000 comparisons of capture 2 of each of 2,000
// identities against capture 1 of every other, measured and extended by Fit
// (TestFaceIrisTails -tail-identities 2000 -v). It is a synthetic tail until
// the face pipeline's embeddings of real photos are measured; configure
// impostor_tails.face from your recogniser's own measurement.
var FaceTail = Tail{Mean: -0.00004, Source: "synthetic", Comparisons: 3_998_000, MeasuredFMR: 1e-5, Method: FitMethod,
	Points: []TailPoint{
		{Score: 0.06397, FMR: 1e-1},
		{Score: 0.11588, FMR: 1e-2},
		{Score: 0.15366, FMR: 1e-3},
		{Score: 0.18410, FMR: 1e-4},
		{Score: 0.21314, FMR: 1e-5},
		{Score: 0.28708, FMR: 1e-6},
		{Score: 0.32991, FMR: 1e-7},
		{Score: 0.37275, FMR: 1e-8},
		{Score: 0.41559, FMR: 1e-9},
		{Score: 0.45843, FMR: 1e-10},
		{Score: 0.50127, FMR: 1e-11},
		{Score: 0.54411, FMR: 1e-12},
	}}

// Template implements Engine.
func (Face) Template(s *Sample, _ int) ([]byte, int, error) {
	if s.Format != "face-embedding" {
		return nil, 0, errf(CodeUnsupported, fmt.Sprintf("face format %q cannot be searched here: want face-embedding; "+
			"to search face photos, run 'ebsp models fetch' and start the node with --face-models (docs/face.md)", s.Format))
	}
	t, err := face.Parse(s.Data)
	if err != nil {
		return nil, 0, errf(CodeBadSample, err.Error())
	}
	return t.Bytes(), 0, nil
}

// PrepareGallery implements search.Engine.
func (Face) PrepareGallery(data []byte) (any, error) {
	t, err := face.Parse(data)
	return &t, err
}

// PrepareProbe implements search.Engine.
func (Face) PrepareProbe(data []byte) (search.Probe, error) {
	t, err := face.Parse(data)
	return faceProbe{&t}, err
}

type faceProbe struct{ t *face.Template }

// Compare implements search.Probe. The gallery hands a template it keeps
// only as its stage-1 vector (search.VectorTemplate) as that []int8.
func (p faceProbe) Compare(g any) float64 {
	switch g := g.(type) {
	case *face.Template:
		return face.Compare(p.t, g)
	case []int8:
		return cosineInt8(p.t.Vector[:], g)
	}
	return 0
}

// cosineInt8 is the cosine similarity of two int8 vectors, 0 when either
// is all zeros: face.Compare on the gallery's copy of the embedding.
func cosineInt8(a, b []int8) float64 {
	ab, aa, bb := search.DotInt8(a, b), search.DotInt8(a, a), search.DotInt8(b, b)
	if aa == 0 || bb == 0 {
		return 0
	}
	return float64(ab) / math.Sqrt(float64(aa)*float64(bb))
}

// Vector implements search.VectorProbe: a face's stage-1 vector is its
// embedding.
func (p faceProbe) Vector(dst []int8) { copy(dst, p.t.Vector[:]) }

// VectorLen implements search.Indexer.
func (Face) VectorLen() int { return face.Dim }

// GalleryVector implements search.Indexer.
func (Face) GalleryVector(prepared any, dst []int8) {
	copy(dst, prepared.(*face.Template).Vector[:])
}

// VectorIsTemplate implements search.VectorTemplate: the gallery keeps a
// face as its 512-byte vector alone.
func (Face) VectorIsTemplate() bool { return true }

// Iris matches iris codes (package iris, Daugman's fractional Hamming
// distance over rotations). The score is 0.5 - HD, so that impostors centre
// on 0 like the other engines' scores and higher means more alike.
type Iris struct{}

// irisMaxShift is the rotation searched: ±8 angular steps of the 128 per
// ring, about ±22 degrees of head tilt.
const irisMaxShift = 8

// Algorithm implements search.Engine.
func (Iris) Algorithm() string { return "ebsp-iris-code/1" }

// Formats implements Engine.
func (Iris) Formats() []string { return []string{"iris-code"} }

// Tail implements Engine: IrisTail.
func (Iris) Tail() Tail { return IrisTail }

// IrisTail is the iris engine's impostor tail measured on synthetic iris
// codes (synth's iris model): 999,000 comparisons of capture 2 of the right
// eye of each of 1,000 people against capture 1 of every other's, with the
// engine's search over ±8 rotations, measured and extended by Fit
// (TestFaceIrisTails -tail-identities 2000 -v). The best of 17 rotations
// moves the impostor mean from 0 (HD 0.5, Daugman 2004) to 0.026, which the
// Gaussian model this replaces did not.
var IrisTail = Tail{Mean: 0.02606, Source: "synthetic", Comparisons: 999_000, MeasuredFMR: 1e-4, Method: FitMethod,
	Points: []TailPoint{
		{Score: 0.06844, FMR: 1e-1},
		{Score: 0.10380, FMR: 1e-2},
		{Score: 0.12997, FMR: 1e-3},
		{Score: 0.15445, FMR: 1e-4},
		{Score: 0.19100, FMR: 1e-5},
		{Score: 0.22014, FMR: 1e-6},
		{Score: 0.24927, FMR: 1e-7},
		{Score: 0.27841, FMR: 1e-8},
		{Score: 0.30754, FMR: 1e-9},
		{Score: 0.33668, FMR: 1e-10},
		{Score: 0.36581, FMR: 1e-11},
		{Score: 0.39494, FMR: 1e-12},
	}}

// Template implements Engine.
func (Iris) Template(s *Sample, _ int) ([]byte, int, error) {
	if s.Format != "iris-code" {
		return nil, 0, errf(CodeUnsupported, fmt.Sprintf("iris format %q cannot be searched here: want iris-code", s.Format))
	}
	var c iris.Code
	if err := c.UnmarshalBinary(s.Data); err != nil {
		return nil, 0, errf(CodeBadSample, err.Error())
	}
	return s.Data, 0, nil
}

// PrepareGallery implements search.Engine.
func (Iris) PrepareGallery(data []byte) (any, error) {
	var c iris.Code
	err := c.UnmarshalBinary(data)
	return &c, err
}

// PrepareProbe implements search.Engine.
func (Iris) PrepareProbe(data []byte) (search.Probe, error) {
	var c iris.Code
	err := c.UnmarshalBinary(data)
	return irisProbe{&c}, err
}

type irisProbe struct{ c *iris.Code }

func (p irisProbe) Compare(g any) float64 {
	r := iris.Compare(p.c, g.(*iris.Code), irisMaxShift)
	return 0.5 - iris.NormalizedHD(r.HD, r.Valid)
}

// GalleryProbe implements Prober: the gallery keeps a face as its vector.
func (Face) GalleryProbe(tmpl any) (search.Probe, error) {
	switch v := tmpl.(type) {
	case *face.Template:
		return faceProbe{v}, nil
	case []int8:
		var t face.Template
		if len(v) != face.Dim {
			return nil, fmt.Errorf("engine: face gallery vector of length %d", len(v))
		}
		copy(t.Vector[:], v)
		return faceProbe{&t}, nil
	}
	return nil, fmt.Errorf("engine: face gallery template of type %T", tmpl)
}

// GalleryProbe implements Prober.
func (Iris) GalleryProbe(tmpl any) (search.Probe, error) {
	c, ok := tmpl.(*iris.Code)
	if !ok {
		return nil, fmt.Errorf("engine: iris gallery template of type %T", tmpl)
	}
	return irisProbe{c}, nil
}
