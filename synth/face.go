package synth

import (
	"math"
	"math/rand/v2"

	"github.com/ebsp/ebsp/face"
)

// FaceModel sets the distance statistics of synthetic face embeddings.
// They are embeddings of ebsp's own recogniser (package face/pipeline,
// dlib's ResNet): face.RecogniserDim values, compared by Euclidean distance
// as the node compares face.Embedding templates.
//
// Defaults are fitted to the recogniser on the shared London set
// (../shared/data/faces/frl_london_subset, `ebsp eval face --scores`;
// docs/synthetic-data.md): genuine distances 0.199 ± 0.056 (20 pairs, at
// most 0.322), impostor distances 0.842 ± 0.095 (760 pairs, at least
// 0.492). dlib's embeddings are not unit vectors: they lie around a common
// mean of length 1.33, with lengths of 1.31-1.59, and the model keeps that.
// London's two photos of a person come from one sitting, so its genuine
// distances are those of good, contemporaneous captures; the quality
// spread and ageing add what London cannot show (Best-Rowden and Jain,
// "Longitudinal study of automatic face recognition", IEEE TPAMI 40(1),
// 2018, found genuine scores falling steadily with elapsed time).
type FaceModel struct {
	// MeanNorm is the length of the population's mean embedding.
	MeanNorm float64
	// IdentitySpread is the distance of every identity's true embedding
	// from the mean (its direction is drawn from the spectrum); impostor
	// distances are about √2 times it. A fixed length rather than a random
	// one keeps the impostor distances' upper tail as short as London's.
	IdentitySpread float64
	// EffectiveDims is the participation ratio (Σλ)²/Σλ² of the spectrum
	// λ_i ∝ exp(−α·i/Dim) that identity, capture and ageing offsets are
	// drawn from. Fewer effective dimensions than 128 widen the distance
	// distributions, as real embeddings' are.
	EffectiveDims float64
	// NoiseLo and NoiseHi are the RMS length of a capture's offset from
	// the identity's true embedding for capture quality 0 and 1. Two
	// captures of quality q1, q2 are about √(n(q1)²+n(q2)²) apart.
	NoiseLo, NoiseHi float64
	// QualityMean and QualitySD describe the spread of capture quality in
	// [0, 1] across captures (a clipped normal).
	QualityMean, QualitySD float64
	// AgeingPerYear is the RMS length of the drift of an identity's true
	// embedding per year between captures. It is not measured (London has
	// no time lapse): 0.025 puts a capture 10 years on about 0.25 further
	// away, against dlib's decision distance of 0.6.
	AgeingPerYear float64
}

// DefaultFaceModel returns the model fitted to London (see FaceModel) by a
// grid search on the two-sample Kolmogorov-Smirnov distance of synthetic
// and London distances: mean length 1.33, identity spread 0.585 in 20
// effective dimensions, capture noise 0.28 to 0.08 for quality 0 to 1,
// quality N(0.7, 0.2) clipped to [0, 1], drift 0.025 per year. On 400
// identities it gives genuine distances 0.202 ± 0.050 and impostor
// distances 0.846 ± 0.098 (KS distance to London 0.20 and 0.05; London
// has only 20 genuine pairs, for which 0.30 would be significant at 5%).
func DefaultFaceModel() FaceModel {
	return FaceModel{MeanNorm: 1.33, IdentitySpread: 0.585, EffectiveDims: 20, NoiseLo: 0.28, NoiseHi: 0.08,
		QualityMean: 0.7, QualitySD: 0.2, AgeingPerYear: 0.025}
}

// FaceGenerator draws face embeddings for a FaceModel.
type FaceGenerator struct {
	model FaceModel
	seed  uint64
	mean  [face.RecogniserDim]float64
	scale [face.RecogniserDim]float64 // per-dimension SD of a unit-RMS offset
}

// NewFaceGenerator prepares a generator: the mean embedding and the spectrum λ_i ∝ exp(−α·i/Dim), with α solved
// so that the participation ratio is EffectiveDims.
func NewFaceGenerator(seed uint64, m FaceModel) *FaceGenerator {
	g := &FaceGenerator{model: m, seed: seed}
	const dim = face.RecogniserDim
	spectrum := func(alpha float64) (pr, sum float64) {
		var s1, s2 float64
		for i := range dim {
			l := math.Exp(-alpha * float64(i) / dim)
			s1 += l
			s2 += l * l
		}
		return s1 * s1 / s2, s1
	}
	lo, hi := 0.0, 50.0
	if pr, _ := spectrum(0); m.EffectiveDims > 0 && m.EffectiveDims < pr {
		for range 60 {
			mid := (lo + hi) / 2
			if pr, _ := spectrum(mid); pr > m.EffectiveDims {
				lo = mid
			} else {
				hi = mid
			}
		}
	}
	_, sum := spectrum(lo)
	for i := range dim {
		g.scale[i] = math.Sqrt(math.Exp(-lo*float64(i)/dim) / sum)
	}
	// The mean is the recogniser's, not a population's: the same for
	// every seed, so that populations of different seeds (a gallery and the
	// training set of privacy's projection) share it.
	r := newRand(0, "face-mean")
	var n float64
	for i := range g.mean {
		g.mean[i] = r.NormFloat64()
		n += g.mean[i] * g.mean[i]
	}
	for i := range g.mean {
		g.mean[i] *= m.MeanNorm / math.Sqrt(n)
	}
	return g
}

// FaceIdentity is one person's face: a true embedding and the direction it
// drifts in with age.
type FaceIdentity struct {
	base, drift [face.RecogniserDim]float64
}

// Identity returns the face of identity id.
func (g *FaceGenerator) Identity(id uint64) *FaceIdentity {
	r := newRand(g.seed, "face-identity", id)
	f := &FaceIdentity{}
	g.offset(r, &f.base, 1)
	var n float64
	for _, x := range f.base {
		n += x * x
	}
	for i := range f.base {
		f.base[i] = g.mean[i] + f.base[i]*g.model.IdentitySpread/math.Sqrt(n)
	}
	g.offset(r, &f.drift, 1)
	return f
}

// offset fills v with a draw from the spectrum of RMS length rms.
func (g *FaceGenerator) offset(r *rand.Rand, v *[face.RecogniserDim]float64, rms float64) {
	for i := range v {
		v[i] = r.NormFloat64() * g.scale[i] * rms
	}
}

// Quality draws a capture quality in [0, 1] for capture number capture of
// identity id.
func (g *FaceGenerator) Quality(id, capture uint64) float64 {
	r := newRand(g.seed, "face-quality", id, capture)
	return clamp(g.model.QualityMean+g.model.QualitySD*r.NormFloat64(), 0, 1)
}

// Capture returns capture number capture of identity id (face f), of the
// given quality, taken years after the identity's reference age: the aged
// true embedding plus capture noise whose RMS length falls from NoiseLo at
// quality 0 to NoiseHi at quality 1. Its length is face.RecogniserDim.
func (g *FaceGenerator) Capture(f *FaceIdentity, id, capture uint64, quality, years float64) []float32 {
	r := newRand(g.seed, "face-capture", id, capture)
	var noise [face.RecogniserDim]float64
	q := clamp(quality, 0, 1)
	g.offset(r, &noise, g.model.NoiseLo+(g.model.NoiseHi-g.model.NoiseLo)*q)
	d := g.model.AgeingPerYear * years
	out := make([]float32, face.RecogniserDim)
	for i := range out {
		out[i] = float32(f.base[i] + d*f.drift[i] + noise[i])
	}
	return out
}

// Embedding is Capture stored as the node stores the recogniser's
// embeddings (face.QuantizeEmbedding): the template of format
// "face-embedding".
func (g *FaceGenerator) Embedding(f *FaceIdentity, id, capture uint64, quality, years float64) face.Embedding {
	e, err := face.QuantizeEmbedding(g.Capture(f, id, capture, quality, years))
	if err != nil {
		panic(err) // a capture is finite and never all zeros
	}
	return e
}
