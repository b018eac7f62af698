package synth

import (
	"math"
	"math/rand/v2"
)

// mix64 is the SplitMix64 finaliser: it spreads every input bit over the
// output, so neighbouring seeds and labels give unrelated streams.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// deriveSeed combines a seed, a domain label and numeric ids into one 64-bit
// seed. Each generator draws from its own derived stream, so adding draws to
// one (say, faces) never changes what another (fingerprints) produces.
func deriveSeed(seed uint64, domain string, ids ...uint64) uint64 {
	// FNV-1a of the label, written out rather than through hash/fnv so that
	// the template level, which derives several streams per template, does
	// not allocate a hasher each time (the value is hash/fnv's; a test
	// checks it).
	h := uint64(fnvOffset64)
	for i := range len(domain) {
		h = (h ^ uint64(domain[i])) * fnvPrime64
	}
	s := mix64(seed ^ h)
	for _, id := range ids {
		s = mix64(s ^ mix64(id+0x632be59bd9b4e019))
	}
	return s
}

// FNV-1a 64-bit parameters (Fowler, Noll, Vo; the values hash/fnv uses).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// newRand returns a PCG-backed generator for (seed, domain, ids...).
func newRand(seed uint64, domain string, ids ...uint64) *rand.Rand {
	p := new(rand.PCG)
	reseed(p, seed, domain, ids...)
	return rand.New(p)
}

// reseed restarts p as the source of newRand(seed, domain, ids...): one
// generator can serve several streams in turn without allocating.
func reseed(p *rand.PCG, seed uint64, domain string, ids ...uint64) {
	s := deriveSeed(seed, domain, ids...)
	p.Seed(s, mix64(s^0xda3e39cb94b95bdb))
}

// splitMix is the SplitMix64 generator (Steele, Lea and Flood, "Fast
// splittable pseudorandom number generators", OOPSLA 2014): a Weyl sequence
// through the mix64 finaliser. It passes BigCrush and costs a quarter of
// PCG's 128-bit step; with its own uniform and normal variates (below) it
// is called directly, not through rand.Rand's Source interface. That
// matters to the template level, whose own streams (master minutiae,
// extractor error) draw a few hundred numbers per template for galleries of
// millions.
type splitMix struct{ s uint64 }

// newSplitMix returns the generator for (seed, domain, ids...).
func newSplitMix(seed uint64, domain string, ids ...uint64) *splitMix {
	return &splitMix{deriveSeed(seed, domain, ids...)}
}

// Uint64 returns 64 random bits.
func (g *splitMix) Uint64() uint64 {
	v := mix64(g.s) // mix64 adds the Weyl increment first
	g.s += 0x9e3779b97f4a7c15
	return v
}

// Float64 returns a uniform variate in [0, 1) with 53 random bits.
func (g *splitMix) Float64() float64 { return float64(int64(g.Uint64()>>11)) * (1.0 / (1 << 53)) }

// IntN returns a uniform integer in [0, n), n > 0, by multiplying 32
// random bits by n (the bias, below n/2³², is immaterial for the small n
// used here).
func (g *splitMix) IntN(n int) int { return int((g.Uint64() >> 32) * uint64(n) >> 32) }

// NormFloat64 returns a standard normal variate by the ziggurat method of
// Marsaglia and Tsang ("The ziggurat method for generating random
// variables", J. Statistical Software 5(8), 2000), 128 layers: one draw and
// one comparison nearly always.
func (g *splitMix) NormFloat64() float64 {
	for {
		u := g.Uint64()
		i := u & (zigLayers - 1)  // the layer, from the low bits
		j := int64(u>>11) - 1<<52 // a signed 53-bit integer from the high bits
		x := float64(j) * zigW[i]
		if uint64(max(j, -j)) < zigK[i] { // inside the layer's rectangle
			return x
		}
		if i == 0 { // the base strip's tail beyond zigR: Marsaglia's exponential method
			for {
				tx := -math.Log(1-g.Float64()) / zigR
				ty := -math.Log(1 - g.Float64())
				if ty+ty >= tx*tx {
					if j > 0 {
						return zigR + tx
					}
					return -zigR - tx
				}
			}
		}
		// In the wedge between the rectangle and the curve.
		if zigF[i]+g.Float64()*(zigF[i-1]-zigF[i]) < math.Exp(-x*x/2) {
			return x
		}
	}
}

// Ziggurat tables for 128 layers of equal area zigV under the normal
// density exp(−x²/2), the outermost edge at zigR (Marsaglia and Tsang's
// constants). zigK[i] is the layer's rectangle edge scaled to the 52-bit
// magnitude of j, zigW[i] the scale from j to x, zigF[i] the density at the
// layer's edge.
const (
	zigLayers = 128
	zigR      = 3.442619855899
	zigV      = 9.91256303526217e-3
	zigScale  = 1 << 52
)

var zigK [zigLayers]uint64
var zigW, zigF [zigLayers]float64

func init() {
	d := zigR
	t := d
	f := math.Exp(-d * d / 2)
	q := zigV / f
	zigK[0] = uint64(d / q * zigScale)
	zigK[1] = 0
	zigW[0] = q / zigScale
	zigW[zigLayers-1] = d / zigScale
	zigF[0] = 1
	zigF[zigLayers-1] = f
	for i := zigLayers - 2; i >= 1; i-- {
		d = math.Sqrt(-2 * math.Log(zigV/d+math.Exp(-d*d/2)))
		zigK[i+1] = uint64(d / t * zigScale)
		t = d
		zigF[i] = math.Exp(-d * d / 2)
		zigW[i] = d / zigScale
	}
}

// clamp limits v to [lo, hi].
func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// variates is what poisson draws from: *rand.Rand or *splitMix.
type variates interface {
	Float64() float64
	NormFloat64() float64
}

// poisson draws a Poisson variate with mean lambda (Knuth's method; the means
// used here are small).
func poisson[R variates](r R, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		n := int(lambda + r.NormFloat64()*math.Sqrt(lambda) + 0.5)
		if n < 0 {
			n = 0
		}
		return n
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
