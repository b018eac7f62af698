// Package face holds ebsp's face templates and their comparison.
//
// Template is an embedding from an outside recogniser or from package synth
// (512 dimensions, as ArcFace-class recognisers produce), stored quantised
// to int8 and compared by cosine similarity. Embedding is the 128-value
// embedding of ebsp's own recogniser (package face/pipeline turns photos
// into them), stored as int8 with its scale and compared by Euclidean
// distance.
package face

import (
	"errors"
	"fmt"
	"math"
)

// Dim is the length of a face embedding.
const Dim = 512

// Template is one face embedding quantised to signed bytes. Cosine similarity
// is scale-invariant, so each vector is scaled by its own largest magnitude to
// use the full int8 range; the scale need not be kept.
type Template struct {
	Vector [Dim]int8
}

// Quantize turns a float embedding of length Dim into a Template.
func Quantize(v []float32) (Template, error) {
	var t Template
	if len(v) != Dim {
		return t, fmt.Errorf("face: embedding has %d values, want %d", len(v), Dim)
	}
	maxAbs, err := largest(v)
	if err != nil {
		return t, err
	}
	s := 127 / maxAbs
	for i, x := range v {
		t.Vector[i] = int8(math.Round(float64(x) * s))
	}
	return t, nil
}

// largest returns the largest magnitude in v, refusing NaN, infinities and
// an all-zero vector.
func largest(v []float32) (float64, error) {
	var m float64
	for i, x := range v {
		a := math.Abs(float64(x))
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return 0, fmt.Errorf("face: embedding value %d is %v", i, x)
		}
		m = max(m, a)
	}
	if m == 0 {
		return 0, errors.New("face: embedding is all zeros")
	}
	return m, nil
}

// Compare returns the cosine similarity of two templates, in [-1, 1]; 0 when
// either is all zeros.
func Compare(a, b *Template) float64 {
	var ab, aa, bb int64
	for i := range a.Vector {
		x, y := int64(a.Vector[i]), int64(b.Vector[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return float64(ab) / math.Sqrt(float64(aa)*float64(bb))
}

// Bytes returns the template's encoding: Dim signed bytes, two's complement.
func (t *Template) Bytes() []byte {
	b := make([]byte, Dim)
	for i, x := range t.Vector {
		b[i] = byte(x)
	}
	return b
}

// Parse decodes what Bytes wrote.
func Parse(b []byte) (Template, error) {
	var t Template
	if len(b) != Dim {
		return t, fmt.Errorf("face: template is %d bytes, want %d", len(b), Dim)
	}
	for i, x := range b {
		t.Vector[i] = int8(x)
	}
	return t, nil
}
