package face

import (
	"encoding/binary"
	"fmt"
	"math"
)

// RecogniserDim is the length of the embeddings ebsp's own recogniser
// (package face/pipeline: dlib's ResNet) produces.
const RecogniserDim = 128

// Embedding is one recogniser embedding stored compactly: each value is
// Vector[i]·Scale. Unlike Template it keeps the scale, because the
// recogniser's embeddings compare by Euclidean distance (dlib's metric),
// which is not scale-invariant. Quantising to int8 moves a distance by
// about 0.01 at most, against dlib's decision threshold of 0.6.
type Embedding struct {
	Vector [RecogniserDim]int8
	Scale  float32
}

// EmbeddingAlgorithm names Embedding templates wherever they are stored or
// sent (the node's template algorithm, the exchange's probe format). Its
// version changes when the recogniser's embeddings stop being comparable.
const EmbeddingAlgorithm = "ebsp-face-dlib-resnet/1"

// EmbeddingSize is the length of Embedding.Bytes: the 128 values, then the
// scale as a little-endian IEEE 754 float32.
const EmbeddingSize = RecogniserDim + 4

// QuantizeEmbedding stores a float embedding of length RecogniserDim.
func QuantizeEmbedding(v []float32) (Embedding, error) {
	var e Embedding
	if len(v) != RecogniserDim {
		return e, fmt.Errorf("face: embedding has %d values, want %d", len(v), RecogniserDim)
	}
	maxAbs, err := largest(v)
	if err != nil {
		return e, err
	}
	e.Scale = float32(maxAbs / 127)
	for i, x := range v {
		e.Vector[i] = int8(math.Round(float64(x) / float64(e.Scale)))
	}
	return e, nil
}

// Distance is the Euclidean distance of two embeddings.
func Distance(a, b *Embedding) float64 {
	var s float64
	for i := range a.Vector {
		d := float64(a.Vector[i])*float64(a.Scale) - float64(b.Vector[i])*float64(b.Scale)
		s += d * d
	}
	return math.Sqrt(s)
}

// Bytes returns the embedding's encoding (EmbeddingSize bytes).
func (e *Embedding) Bytes() []byte {
	b := make([]byte, EmbeddingSize)
	for i, x := range e.Vector {
		b[i] = byte(x)
	}
	binary.LittleEndian.PutUint32(b[RecogniserDim:], math.Float32bits(e.Scale))
	return b
}

// ParseEmbedding decodes what Bytes wrote.
func ParseEmbedding(b []byte) (Embedding, error) {
	var e Embedding
	if len(b) != EmbeddingSize {
		return e, fmt.Errorf("face: embedding is %d bytes, want %d", len(b), EmbeddingSize)
	}
	for i := range e.Vector {
		e.Vector[i] = int8(b[i])
	}
	e.Scale = math.Float32frombits(binary.LittleEndian.Uint32(b[RecogniserDim:]))
	if !(e.Scale > 0) || math.IsInf(float64(e.Scale), 0) {
		return e, fmt.Errorf("face: embedding scale %v is not a positive number", e.Scale)
	}
	return e, nil
}
