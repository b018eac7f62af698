package privacy

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// Params fixes everything both parties of an agreement must share: the CKKS
// parameters, the embedding dimension and the similarity threshold.
type Params struct {
	// CKKS is the scheme's parameter set (ring, modulus chain, scale).
	CKKS ckks.Parameters
	// Dim is the length of the (reduced) embeddings compared, a power of
	// two that divides the number of slots.
	Dim int
	// Threshold is the cosine similarity above which a gallery entry counts.
	Threshold float64
	// FloodSigma is the standard deviation of the noise the responder adds
	// to its decryption share (noise flooding; see docs/privacy.md).
	FloodSigma float64
}

// Depth of the circuit for threshold t and dimension dim: one level for the
// similarities and the levels of the composite step polynomial.
func circuitDepth(t float64, dim int) int { return 1 + signDepth(t, dim) }

// modulusChain returns the bit sizes of the ciphertext modulus chain: q0
// holds the final count (up to 2^20 entries at scale 2^38 fits 60 bits),
// then one 38-bit prime per level of the circuit.
func modulusChain(t float64, dim int) []int {
	q := []int{60}
	for range circuitDepth(t, dim) {
		q = append(q, 38)
	}
	return q
}

// DefaultParams returns the deployment parameters: CKKS over the
// conjugate-invariant ring of degree 2^15 (32768 real slots, so one
// ciphertext carries the similarities of 32768 gallery entries), a 516-bit
// ciphertext modulus (440 bits for a threshold with a lopsided step
// composite, stepTable) and a 305-bit key-switching modulus (821 or 745 bits
// in all, below the 881 bits the Homomorphic Encryption Standard allows at
// degree 2^15 for 128-bit security with a ternary secret), 64-d embeddings
// (half the search cost of 128-d; docs/privacy.md gives the accuracy cost).
func DefaultParams(threshold float64) (Params, error) {
	return NewParams(15, 64, threshold)
}

// NewParams builds parameters for ring degree 2^logN and dim-dimensional
// embeddings. Degrees below 2^15 with this modulus chain are NOT secure; the
// package's tests use them for speed.
func NewParams(logN, dim int, threshold float64) (Params, error) {
	if !(threshold > -1 && threshold < 1) {
		return Params{}, errors.New("privacy: threshold must lie in (-1, 1)")
	}
	p, err := ckks.NewParametersFromLiteral(ckks.ParametersLiteral{
		LogN: logN,
		LogQ: modulusChain(threshold, dim),
		// Five 61-bit special primes: key switching then splits the 11 or
		// 13 ciphertext primes into 3 digits at most, which makes rotation and
		// relinearisation keys smaller and key switching faster than with
		// fewer special primes.
		LogP:            []int{61, 61, 61, 61, 61},
		LogDefaultScale: 38,
		RingType:        ring.ConjugateInvariant,
	})
	if err != nil {
		return Params{}, fmt.Errorf("privacy: ckks parameters: %w", err)
	}
	if dim <= 0 || bits.OnesCount(uint(dim)) != 1 || dim > p.MaxSlots() {
		return Params{}, fmt.Errorf("privacy: dimension %d is not a power of two up to %d", dim, p.MaxSlots())
	}
	return Params{CKKS: p, Dim: dim, Threshold: threshold, FloodSigma: defaultFloodSigma}, nil
}

// defaultFloodSigma is the flooding noise added to the responder's
// decryption share: 2^33. Each slot then carries flooding noise of about
// σ·√N/scale (some 6 at N = 2^15), and the requester reads the median of
// all slots, whose error stays a few hundredths (measured by ebsp bench
// privacy), while the flooding exceeds the evaluation noise by about 23
// bits (TestFlooding measures both).
// docs/privacy.md discusses why that is short of what a proof of circuit
// privacy needs.
var defaultFloodSigma = math.Exp2(33)

// Slots is the number of gallery entries one ciphertext carries.
func (p Params) Slots() int { return p.CKKS.MaxSlots() }

// Margin is the half-width of the band around the threshold in which the
// encrypted decision may differ from the plaintext one:
// (simMax + t)·2^-signLogAlpha. The symmetric step composite maps
// similarities in [-simMax, simMax] to z = (x − t)/(simMax + t) in [-1, 1]
// and separates |z| ≥ 2^-signLogAlpha; the lopsided ones (stepTable) are
// generated for the same band.
func (p Params) Margin() float64 { return (simMax + p.Threshold) * math.Exp2(-signLogAlpha) }
