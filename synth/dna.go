package synth

import (
	"math/rand/v2"

	"github.com/ebsp/ebsp/dna"
)

// DNAModel sets how synthetic STR profiles are drawn and degraded.
type DNAModel struct {
	// Frequencies are the allele frequencies drawn from (dna.DutchESS by
	// default: published, Westen et al. 2014, N = 2,085).
	Frequencies map[string][]dna.AlleleFreq
	// DropOut is the chance that one allele of a heterozygous locus is not
	// seen in a sample; LocusFail that a whole locus fails. Reference
	// samples (buccal swabs) have neither; crime-scene stains often do.
	DropOut, LocusFail float64
}

// DefaultDNAModel draws from dna.DutchESS, with allele drop-out 5% and locus
// failure 2%.
func DefaultDNAModel() DNAModel {
	return DNAModel{Frequencies: dna.DutchESS, DropOut: 0.05, LocusFail: 0.02}
}

// drawAllele draws one allele at a locus.
func drawAllele(r *rand.Rand, fs []dna.AlleleFreq) string {
	u := r.Float64()
	for _, f := range fs {
		if u < f.P {
			return f.Allele
		}
		u -= f.P
	}
	return fs[len(fs)-1].Allele
}

// DNAProfile returns the true profile of identity id (sex "M" or "F"):
// two independently drawn alleles per ESS locus (Hardy-Weinberg equilibrium),
// homozygotes written once.
func DNAProfile(seed, id uint64, sex string, m DNAModel) dna.Profile {
	r := newRand(seed, "dna-profile", id)
	p := dna.Profile{Amelogenin: "X"}
	if sex == "M" {
		p.Amelogenin = "XY"
	}
	for _, locus := range dna.ESS {
		a, b := drawAllele(r, m.Frequencies[locus]), drawAllele(r, m.Frequencies[locus])
		p.Loci = append(p.Loci, genotype(locus, a, b))
	}
	return p
}

// DNAChild returns the true profile of a child of two profiles: one allele
// from each parent at every locus (Mendelian inheritance, no mutation).
func DNAChild(seed, id uint64, sex string, mother, father *dna.Profile) dna.Profile {
	r := newRand(seed, "dna-child", id)
	p := dna.Profile{Amelogenin: "X"}
	if sex == "M" {
		p.Amelogenin = "XY"
	}
	pick := func(g *dna.Genotype) string {
		if len(g.Alleles) == 1 {
			return g.Alleles[0]
		}
		return g.Alleles[r.IntN(2)]
	}
	for _, locus := range dna.ESS {
		gm, gf := mother.Genotype(locus), father.Genotype(locus)
		if gm == nil || gf == nil || len(gm.Alleles) == 0 || len(gf.Alleles) == 0 {
			continue
		}
		p.Loci = append(p.Loci, genotype(locus, pick(gm), pick(gf)))
	}
	return p
}

func genotype(locus, a, b string) dna.Genotype {
	if a == b {
		return dna.Genotype{Locus: locus, Alleles: []string{a}}
	}
	if b < a {
		a, b = b, a
	}
	return dna.Genotype{Locus: locus, Alleles: []string{a, b}}
}

// DNASample returns sample number sample of a true profile, with drop-outs
// and locus failures as the model sets.
func DNASample(seed, id, sample uint64, truth *dna.Profile, m DNAModel) dna.Profile {
	r := newRand(seed, "dna-sample", id, sample)
	p := dna.Profile{Amelogenin: truth.Amelogenin}
	for _, g := range truth.Loci {
		if r.Float64() < m.LocusFail {
			continue
		}
		al := g.Alleles
		if len(al) == 2 && r.Float64() < m.DropOut {
			al = []string{al[r.IntN(2)]}
		}
		p.Loci = append(p.Loci, dna.Genotype{Locus: g.Locus, Alleles: append([]string(nil), al...)})
	}
	return p
}
