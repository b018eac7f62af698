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
// splittable pseudorandom number generators", OOPSLA 2014) as a
// rand.Source: a Weyl sequence through the mix64 finaliser. It passes
// BigCrush and costs a quarter of PCG's 128-bit step, which matters to the
// template level, whose own streams (master minutiae, extractor error) draw
// a few hundred numbers per template for galleries of millions.
type splitMix struct{ s uint64 }

// Uint64 implements rand.Source.
func (g *splitMix) Uint64() uint64 {
	v := mix64(g.s) // mix64 adds the Weyl increment first
	g.s += 0x9e3779b97f4a7c15
	return v
}

// newMixRand returns a SplitMix64-backed generator for (seed, domain, ids...).
func newMixRand(seed uint64, domain string, ids ...uint64) *rand.Rand {
	return rand.New(&splitMix{deriveSeed(seed, domain, ids...)})
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

// poisson draws a Poisson variate with mean lambda (Knuth's method; the means
// used here are small).
func poisson(r *rand.Rand, lambda float64) int {
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
