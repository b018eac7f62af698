package synth

import (
	"math"
	"math/rand/v2"

	"github.com/ebsp/ebsp/face"
)

// FaceModel sets the similarity statistics of synthetic face embeddings.
//
// Defaults follow what modern margin-loss recognisers (ArcFace-class models,
// 512-d, cosine similarity) show on good-quality data: impostor cosines
// centred at 0 with a standard deviation of about 0.05 (the mass beyond 0.3
// is tiny, which is why such models reach FNMR of a few per cent at FMR 1e-6),
// and genuine cosines of about 0.6-0.8 depending on capture quality, lower for
// poor captures and with years between captures (Best-Rowden and Jain,
// "Longitudinal study of automatic face recognition", IEEE TPAMI 40(1), 2018,
// found genuine scores falling steadily with elapsed time).
type FaceModel struct {
	// ImpostorSD is the standard deviation of impostor cosine similarity.
	// Random unit vectors in 512 dimensions give 1/√512 ≈ 0.044; a larger
	// value is reached by giving the embedding space a decaying spectrum
	// (fewer effective dimensions), as real embeddings have.
	ImpostorSD float64
	// FidelityLo and FidelityHi bound the cosine between a capture and its
	// identity's true vector, for capture quality 0 and 1. Two captures of
	// quality q1, q2 then compare at about fid(q1)·fid(q2).
	FidelityLo, FidelityHi float64
	// QualityMean and QualitySD describe the spread of capture quality in
	// [0, 1] across captures (a clipped normal).
	QualityMean, QualitySD float64
	// AgeingPerYear is how far an identity's true vector drifts per year
	// between captures, as the tangent of the angle per year (0.04 means
	// self-similarity of about 0.92 after 10 years).
	AgeingPerYear float64
}

// DefaultFaceModel returns the defaults described on FaceModel: impostor SD
// 0.05, capture fidelity 0.70-0.92 (genuine mean about 0.73 at the default
// quality spread), quality N(0.7, 0.15) clipped to [0, 1], drift 0.04 per year.
func DefaultFaceModel() FaceModel {
	return FaceModel{ImpostorSD: 0.05, FidelityLo: 0.70, FidelityHi: 0.92,
		QualityMean: 0.7, QualitySD: 0.15, AgeingPerYear: 0.04}
}

// FaceGenerator draws face embeddings for a FaceModel.
type FaceGenerator struct {
	model FaceModel
	seed  uint64
	scale [face.Dim]float64 // per-dimension standard deviation of the spectrum
}

// NewFaceGenerator prepares a generator. The spectrum λ_i ∝ exp(−α·i/Dim)
// is solved for α so that √(Σλ²)/Σλ, the impostor cosine SD of vectors with
// that covariance, equals ImpostorSD.
func NewFaceGenerator(seed uint64, m FaceModel) *FaceGenerator {
	g := &FaceGenerator{model: m, seed: seed}
	sdFor := func(alpha float64) float64 {
		var s1, s2 float64
		for i := range face.Dim {
			l := math.Exp(-alpha * float64(i) / face.Dim)
			s1 += l
			s2 += l * l
		}
		return math.Sqrt(s2) / s1
	}
	lo, hi := 0.0, 20.0
	if m.ImpostorSD > sdFor(lo) {
		for range 60 {
			mid := (lo + hi) / 2
			if sdFor(mid) < m.ImpostorSD {
				lo = mid
			} else {
				hi = mid
			}
		}
	}
	for i := range face.Dim {
		g.scale[i] = math.Exp(-lo * float64(i) / face.Dim / 2)
	}
	return g
}

// FaceIdentity is one person's face: a true vector and the direction it
// drifts in with age.
type FaceIdentity struct {
	base, drift [face.Dim]float64
}

// Identity returns the face of identity id.
func (g *FaceGenerator) Identity(id uint64) *FaceIdentity {
	r := newRand(g.seed, "face-identity", id)
	f := &FaceIdentity{}
	g.draw(r, &f.base)
	g.draw(r, &f.drift)
	return f
}

// draw fills v with a unit vector from the generator's spectrum.
func (g *FaceGenerator) draw(r *rand.Rand, v *[face.Dim]float64) {
	for i := range v {
		v[i] = r.NormFloat64() * g.scale[i]
	}
	normalise(v[:])
}

func normalise(v []float64) {
	var n float64
	for _, x := range v {
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] /= n
	}
}

// Quality draws a capture quality in [0, 1] for capture number capture of
// identity id.
func (g *FaceGenerator) Quality(id, capture uint64) float64 {
	r := newRand(g.seed, "face-quality", id, capture)
	return clamp(g.model.QualityMean+g.model.QualitySD*r.NormFloat64(), 0, 1)
}

// Capture returns capture number capture of identity id (face f), of the
// given quality, taken years after the identity's reference age: a unit
// vector whose cosine with the aged true vector is the fidelity for quality.
func (g *FaceGenerator) Capture(f *FaceIdentity, id, capture uint64, quality, years float64) []float32 {
	r := newRand(g.seed, "face-capture", id, capture)
	var truth, noise [face.Dim]float64
	d := g.model.AgeingPerYear * years
	for i := range truth {
		truth[i] = f.base[i] + d*f.drift[i]
	}
	normalise(truth[:])
	g.draw(r, &noise)
	// Remove the noise's component along the truth so that the fidelity
	// is exact, then mix.
	var dot float64
	for i := range noise {
		dot += noise[i] * truth[i]
	}
	for i := range noise {
		noise[i] -= dot * truth[i]
	}
	normalise(noise[:])
	fid := g.model.FidelityLo + (g.model.FidelityHi-g.model.FidelityLo)*clamp(quality, 0, 1)
	s := math.Sqrt(1 - fid*fid)
	out := make([]float32, face.Dim)
	for i := range out {
		out[i] = float32(fid*truth[i] + s*noise[i])
	}
	return out
}
