// Package face holds ebsp's face templates and their comparison.
//
// Embedding is the 128-value embedding of ebsp's own recogniser (package
// face/pipeline turns photos into them; package synth draws synthetic ones
// with the same distance statistics), stored as int8 with its scale and
// compared by Euclidean distance, dlib's metric.
package face

import (
	"errors"
	"fmt"
	"math"
)

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
