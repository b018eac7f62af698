package synth

import (
	"math"
	"slices"
	"testing"

	"github.com/ebsp/ebsp/dna"
)

func TestDutchESSTable(t *testing.T) {
	if len(dna.DutchESS) != len(dna.ESS) {
		t.Fatalf("%d loci, want the %d ESS loci", len(dna.DutchESS), len(dna.ESS))
	}
	for _, locus := range dna.ESS {
		fs := dna.DutchESS[locus]
		if len(fs) < 8 {
			t.Errorf("%s: %d alleles", locus, len(fs))
		}
		var sum float64
		for _, f := range fs {
			sum += f.P
			g := dna.Profile{Loci: []dna.Genotype{{Locus: locus, Alleles: []string{f.Allele}}}}
			if err := g.Validate(); err != nil {
				t.Errorf("%s: %v", locus, err)
			}
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: frequencies sum to %v", locus, sum)
		}
	}
}

// chiSquareCritical approximates the upper 0.1% point of the chi-square
// distribution with df degrees of freedom (Wilson and Hilferty, 1931).
func chiSquareCritical(df int) float64 {
	const z = 3.0902 // standard normal upper 0.1% point
	k := float64(df)
	c := 1 - 2/(9*k) + z*math.Sqrt(2/(9*k))
	return k * c * c * c
}

// TestDNAAlleleDistribution draws profiles and tests, locus by locus, that
// the alleles follow the table (Pearson's chi-square, alleles expected fewer
// than 5 times pooled, at the 0.1% level) and that the share of
// homozygotes is the Hardy-Weinberg one.
func TestDNAAlleleDistribution(t *testing.T) {
	m := DefaultDNAModel()
	const profiles = 4000
	counts := map[string]map[string]int{}
	homs := map[string]int{}
	for _, l := range dna.ESS {
		counts[l] = map[string]int{}
	}
	for i := range uint64(profiles) {
		p := DNAProfile(21, i, "F", m)
		for _, g := range p.Loci {
			if len(g.Alleles) == 1 { // a homozygote is written once
				counts[g.Locus][g.Alleles[0]] += 2
				homs[g.Locus]++
				continue
			}
			for _, a := range g.Alleles {
				counts[g.Locus][a]++
			}
		}
	}
	const n = 2 * profiles
	for _, locus := range dna.ESS {
		var chi, pooledE float64
		pooledO, df := 0, -1
		var hom float64
		seen := 0
		for _, f := range m.Frequencies[locus] {
			hom += f.P * f.P
			e, o := f.P*n, counts[locus][f.Allele]
			seen += o
			if e < 5 {
				pooledE += e
				pooledO += o
				continue
			}
			chi += (float64(o) - e) * (float64(o) - e) / e
			df++
		}
		if pooledE > 0 {
			chi += (float64(pooledO) - pooledE) * (float64(pooledO) - pooledE) / pooledE
			df++
		}
		if seen != n {
			t.Errorf("%s: %d alleles drawn outside the table", locus, n-seen)
		}
		if crit := chiSquareCritical(df); chi > crit {
			t.Errorf("%s: chi-square %.1f on %d df exceeds %.1f", locus, chi, df, crit)
		}
		// Homozygote share: binomial, 4 standard deviations.
		got := float64(homs[locus]) / profiles
		if sd := math.Sqrt(hom * (1 - hom) / profiles); math.Abs(got-hom) > 4*sd {
			t.Errorf("%s: %.3f homozygous, Hardy-Weinberg %.3f", locus, got, hom)
		}
	}
}

// genotypeFrequency is the Hardy-Weinberg frequency of a genotype: p² for
// a homozygote, 2pq otherwise.
func genotypeFrequency(freqs []dna.AlleleFreq, g dna.Genotype) float64 {
	p := func(a string) float64 {
		for _, f := range freqs {
			if f.Allele == a {
				return f.P
			}
		}
		return 0
	}
	if len(g.Alleles) == 1 {
		return p(g.Alleles[0]) * p(g.Alleles[0])
	}
	return 2 * p(g.Alleles[0]) * p(g.Alleles[1])
}

// TestDNAMatchProbability: the random match probability of full ESS
// profiles lies where published ESS figures for Europeans put it, between
// 1e-20 and 1e-15 (product rule, no sub-population correction), both the
// population average (the sum of squared genotype frequencies, multiplied
// over loci) and the median over synthetic profiles.
func TestDNAMatchProbability(t *testing.T) {
	m := DefaultDNAModel()
	var log10PM float64
	for _, locus := range dna.ESS {
		fs := m.Frequencies[locus]
		var pm float64
		for i := range fs {
			for j := i; j < len(fs); j++ {
				g := fs[i].P * fs[i].P
				if i != j {
					g = 2 * fs[i].P * fs[j].P
				}
				pm += g * g
			}
		}
		log10PM += math.Log10(pm)
	}
	var rmps []float64
	for i := range uint64(1000) {
		p := DNAProfile(22, i, "M", m)
		var l float64
		for _, g := range p.Loci {
			l += math.Log10(genotypeFrequency(m.Frequencies[g.Locus], g))
		}
		rmps = append(rmps, l)
	}
	slices.Sort(rmps)
	med := rmps[len(rmps)/2]
	t.Logf("ESS match probability: population average 10^%.2f, median synthetic profile 10^%.2f (range 10^%.1f to 10^%.1f)",
		log10PM, med, rmps[0], rmps[len(rmps)-1])
	if log10PM < -20 || log10PM > -15 || med < -20 || med > -15 {
		t.Errorf("match probability 10^%.2f (average), 10^%.2f (median), want 1e-20 to 1e-15", log10PM, med)
	}
}
