package engine

import (
	"fmt"
	"math"

	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/iris"
	"github.com/ebsp/ebsp/search"
)

// Face matches face embeddings of ebsp's recogniser (package face:
// face.Embedding, 128 int8 values with their scale; the score is 1 − the
// Euclidean distance, dlib's metric), whether the recogniser ran elsewhere
// or package synth drew them. It is the face engine of a node started
// without the face models: a face photo is then stored as a sample but only
// an embedding ("face-embedding") is searchable. With the models,
// FacePhotos takes its place and compares the same way.
type Face struct{}

// Algorithm implements search.Engine: the recogniser's embedding, so that
// a gallery of embeddings and one of photos hold the same templates.
func (Face) Algorithm() string { return face.EmbeddingAlgorithm }

// Formats implements Engine.
func (Face) Formats() []string { return []string{"face-embedding"} }

// Tail implements Engine: FaceTail.
func (Face) Tail() Tail { return FaceTail }

// BoundedScores implements BoundedScores: the score is 1 − a Euclidean
// distance, and impostors' distances stay far from 0.
func (Face) BoundedScores() bool { return true }

// FaceTail is the face engine's impostor tail measured on synthetic
// embeddings (synth's face model, fitted to the recogniser's distances on
// the shared London face set, docs/synthetic-data.md). FMR 1e-1 to 1e-3:
// 3,998,000 comparisons of capture 2 of each of 2,000 identities against
// capture 1 of every other (seed 2026). FMR 1e-4 to 1e-9: 10^10
// comparisons of capture 2 of 10,000 people against capture 1 of
// 1,000,000 others (seed 2027), every pair scored (TestFaceTailDeep
// -face-tail-deep 1000000,10000: stage 1's int8 distances pick the pairs
// that may score 0.5 or more, which are compared exactly), each point on
// the safe side of its count (Clopper-Pearson, as Fit). FMR 1e-10 to
// 1e-12: FitTop with a free GPD shape (FitBounded's method) over the
// scores beyond FMR 1e-6. The measured 10^10 comparisons' highest score
// is 0.72993 (FMR 1e-10 would put 1 at or above 0.73935 here).
//
// The score is 1 − a Euclidean distance, so bounded, and its tail ends
// short of the bound, falling faster than exponentially; Fit's shape,
// held at 0 or above, had put every point beyond FMR 1e-8 above 1, so no
// face search of a gallery of 100,000 or more answered hit. It describes
// synth's population, not a real one: FacePhotos does not use it, and a
// node configures impostor_tails.face from its recogniser's own
// measurement.
var FaceTail = Tail{Mean: 0.15239, Source: "synthetic", Comparisons: 10_000_000_000, MeasuredFMR: 1e-9, Method: FitMethodBounded,
	Points: []TailPoint{
		{Score: 0.28235, FMR: 1e-1},
		{Score: 0.39051, FMR: 1e-2},
		{Score: 0.46562, FMR: 1e-3},
		{Score: 0.52483, FMR: 1e-4},
		{Score: 0.57178, FMR: 1e-5},
		{Score: 0.61107, FMR: 1e-6},
		{Score: 0.64383, FMR: 1e-7},
		{Score: 0.67339, FMR: 1e-8},
		{Score: 0.71069, FMR: 1e-9},
		{Score: 0.73935, FMR: 1e-10},
		{Score: 0.80428, FMR: 1e-11},
		{Score: 0.91239, FMR: 1e-12},
	}}

// Template implements Engine.
func (Face) Template(s *Sample, _ int) ([]byte, int, error) {
	if s.Format != "face-embedding" {
		return nil, 0, errf(CodeUnsupported, fmt.Sprintf("face format %q cannot be searched here: want face-embedding; "+
			"to search face photos, run 'ebsp models fetch' and start the node with --face-models (docs/face.md)", s.Format))
	}
	return embeddingTemplate(s.Data)
}

// embeddingTemplate checks a "face-embedding" sample: face.Embedding's
// bytes.
func embeddingTemplate(data []byte) ([]byte, int, error) {
	t, err := face.ParseEmbedding(data)
	if err != nil {
		return nil, 0, errf(CodeBadSample, err.Error())
	}
	return t.Bytes(), 0, nil
}

// PrepareGallery implements search.Engine.
func (Face) PrepareGallery(data []byte) (any, error) {
	t, err := face.ParseEmbedding(data)
	return &t, err
}

// PrepareProbe implements search.Engine.
func (Face) PrepareProbe(data []byte) (search.Probe, error) {
	t, err := face.ParseEmbedding(data)
	return embeddingProbe{&t}, err
}

// embeddingProbe compares a probe embedding with the gallery's.
type embeddingProbe struct{ t *face.Embedding }

// Compare implements search.Probe.
func (p embeddingProbe) Compare(g any) float64 {
	if g, ok := g.(*face.Embedding); ok {
		return 1 - face.Distance(p.t, g)
	}
	return math.Inf(-1)
}

// Stage 1 (search.Indexer) ranks by Euclidean distance, not by the dot
// product of the stored int8 values: those are scaled per embedding, and
// the recogniser's embeddings share a common mean whose dot product with
// each identity's offset would outweigh the offsets' own agreement (a
// shortlist of 1% then missed most mates). For a probe a, the gallery
// embedding b nearest to it maximises a·b − |b|²/2: the vectors are a and
// b at the fixed scale faceStage1Scale (face.RecogniserDim int8 values),
// and −|b|²/2 at that scale is the template's stage-1 constant
// (search.BiasedIndexer), kept beside the vectors. (Version 2 spread
// |b|²/2 over 64 more vector values, 192 bytes a face that every scan
// read; 128 bytes and a 4-byte constant read 31% less.)
const (
	faceVectorLen   = face.RecogniserDim
	faceStage1Scale = 192 // embedding values up to ±0.66 (London's reach 0.51)
)

// stage1Values writes e at the fixed scale, clamped to int8, and returns
// the squared length of what it wrote, in units of that scale. The length
// must be the written values', not the embedding's: the embedding's own
// int8 grid and this one alias, and the difference of the two lengths
// moved stage 1's distances by up to 0.025 (synthetic faces, 3,000 pairs).
func stage1Values(e *face.Embedding, dst []int8) int {
	var sq int
	for i, x := range e.Vector {
		v := float64(x) * float64(e.Scale)
		q := int(max(-127, min(127, math.Round(v*faceStage1Scale))))
		dst[i] = int8(q)
		sq += q * q
	}
	return sq
}

// Vector implements search.VectorProbe.
func (p embeddingProbe) Vector(dst []int8) { stage1Values(p.t, dst) }

// VectorLen implements search.Indexer.
func (Face) VectorLen() int { return faceVectorLen }

// FaceShortlist is the face galleries' stage-1 shortlist: 1,000
// identities whatever the gallery's size. Stage 1 ranks by the Euclidean
// distance itself, up to the rounding of the int8 values (at most 0.01
// of distance on synthetic faces, 0.08 for the 1% of them whose values
// the fixed scale clamps), so the shortlist need only hold every
// identity that could score above the review threshold, which at any
// gallery size lies far above the 1,000th best impostor
// (TestFaceShortlist); a penetration rate would grow stage 2 with the
// gallery for nothing (2% of ten million faces was 200,000 exact
// comparisons a search).
var FaceShortlist = search.Shortlist{Min: 1000}

// Shortlist implements search.Shortlister: FaceShortlist.
func (Face) Shortlist() search.Shortlist { return FaceShortlist }

// GalleryVector implements search.Indexer.
func (Face) GalleryVector(prepared any, dst []int8) {
	stage1Values(prepared.(*face.Embedding), dst)
}

// GalleryBias implements search.BiasedIndexer: −|b|²/2 at the fixed
// scale, rounded.
func (Face) GalleryBias(prepared any) int32 {
	var v [faceVectorLen]int8
	return -int32((stage1Values(prepared.(*face.Embedding), v[:]) + 1) / 2)
}

// PreparedVersion implements search.PreparedCodec: the embedding's
// algorithm and the stage-1 vector's layout, scale and version (3: the
// constant beside 128 values; 2: |b|² of the written values), so that a
// snapshot made before any changes is rebuilt.
func (Face) PreparedVersion() string {
	return fmt.Sprintf("%s stage1/%d/%d/3", face.EmbeddingAlgorithm, faceVectorLen, faceStage1Scale)
}

// MarshalPrepared implements search.PreparedCodec: the embedding's stored
// form.
func (Face) MarshalPrepared(prepared any) ([]byte, error) {
	e, ok := prepared.(*face.Embedding)
	if !ok {
		return nil, fmt.Errorf("engine: face prepared template of type %T", prepared)
	}
	return e.Bytes(), nil
}

// UnmarshalPrepared implements search.PreparedCodec.
func (f Face) UnmarshalPrepared(data []byte) (any, error) { return f.PrepareGallery(data) }

// GalleryProbe implements Prober.
func (Face) GalleryProbe(tmpl any) (search.Probe, error) {
	t, ok := tmpl.(*face.Embedding)
	if !ok {
		return nil, fmt.Errorf("engine: face gallery template of type %T", tmpl)
	}
	return embeddingProbe{t}, nil
}

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

// GalleryProbe implements Prober.
func (Iris) GalleryProbe(tmpl any) (search.Probe, error) {
	c, ok := tmpl.(*iris.Code)
	if !ok {
		return nil, fmt.Errorf("engine: iris gallery template of type %T", tmpl)
	}
	return irisProbe{c}, nil
}
