// Package dna holds STR (short tandem repeat) profiles at the loci of the
// European Standard Set (ESS, Council Resolution 2009/C 296/01: D3S1358, vWA,
// D8S1179, D21S11, D18S51, TH01, FGA, D1S1656, D2S441, D10S1248, D12S391,
// D22S1045) plus amelogenin, and compares two profiles by the number of
// matching loci and a likelihood ratio from allele frequencies.
package dna

import (
	"fmt"
	"math"
	"slices"
)

// ESS lists the European Standard Set loci in the order profiles hold them.
var ESS = []string{"D3S1358", "vWA", "D8S1179", "D21S11", "D18S51", "TH01", "FGA",
	"D1S1656", "D2S441", "D10S1248", "D12S391", "D22S1045"}

// Genotype is what was typed at one locus: two alleles for a heterozygote,
// one for a homozygote or when the other dropped out, none when the locus
// failed. Alleles are repeat numbers as strings ("9.3" is nine repeats and
// three bases).
type Genotype struct {
	Locus   string   `json:"locus"`
	Alleles []string `json:"alleles"`
}

// Profile is one STR profile.
type Profile struct {
	Amelogenin string     `json:"amelogenin"` // "X", "XY", or "" when not typed
	Loci       []Genotype `json:"loci"`
}

// Genotype returns the genotype at a locus, or nil when the profile lacks it.
func (p *Profile) Genotype(locus string) *Genotype {
	for i := range p.Loci {
		if p.Loci[i].Locus == locus {
			return &p.Loci[i]
		}
	}
	return nil
}

// Result is the outcome of comparing two profiles.
type Result struct {
	Compared   int     // loci typed in both profiles
	Matching   int     // loci where the two genotypes are the same
	Consistent int     // loci that differ only as an allele drop-out would explain
	Excluding  int     // loci that cannot come from the same person
	Log10LR    float64 // log10 likelihood ratio (same source vs. unrelated) over matching and consistent loci; -Inf if any locus excludes
}

// MinFrequency is the floor for an allele frequency, for alleles absent or rare
// in the table (the NRC II report, 1996, recommends about 5/2N).
const MinFrequency = 0.01

// Compare compares two single-source profiles using the frequencies freqs
// (for example DutchESS). A locus where both show the same genotype counts as
// matching and contributes 1/(2pq) or 1/p² to the likelihood ratio (Hardy-
// Weinberg, no sub-population correction); one where one profile shows a
// single allele that the other's two include is consistent with drop-out and
// contributes 1/(2p) (the "2p rule"); any other difference excludes.
func Compare(a, b *Profile, freqs map[string][]AlleleFreq) Result {
	var r Result
	for _, ga := range a.Loci {
		gb := b.Genotype(ga.Locus)
		if gb == nil || len(ga.Alleles) == 0 || len(gb.Alleles) == 0 {
			continue
		}
		r.Compared++
		// A homozygote may be written with one allele or two; compare sets.
		x := slices.Compact(slices.Sorted(slices.Values(ga.Alleles)))
		y := slices.Compact(slices.Sorted(slices.Values(gb.Alleles)))
		p := func(allele string) float64 { return max(freq(freqs, ga.Locus, allele), MinFrequency) }
		switch {
		case slices.Equal(x, y):
			r.Matching++
			if len(x) == 2 {
				r.Log10LR -= math.Log10(2 * p(x[0]) * p(x[1]))
			} else {
				r.Log10LR -= 2 * math.Log10(p(x[0]))
			}
		case len(x) == 1 && slices.Contains(y, x[0]), len(y) == 1 && slices.Contains(x, y[0]):
			r.Consistent++
			shared := x[0]
			if len(y) == 1 {
				shared = y[0]
			}
			r.Log10LR -= math.Log10(min(2*p(shared), 1))
		default:
			r.Excluding++
		}
	}
	if r.Excluding > 0 {
		r.Log10LR = math.Inf(-1)
	}
	return r
}

func freq(freqs map[string][]AlleleFreq, locus, allele string) float64 {
	for _, f := range freqs[locus] {
		if f.Allele == allele {
			return f.P
		}
	}
	return 0
}

// Validate checks that a profile names only ESS loci, at most once each, with
// at most two alleles of plausible form.
func (p *Profile) Validate() error {
	switch p.Amelogenin {
	case "", "X", "XY":
	default:
		return fmt.Errorf("dna: amelogenin %q, want X, XY or empty", p.Amelogenin)
	}
	seen := map[string]bool{}
	for i, g := range p.Loci {
		if !slices.Contains(ESS, g.Locus) {
			return fmt.Errorf("dna: locus %d: %q is not an ESS locus", i, g.Locus)
		}
		if seen[g.Locus] {
			return fmt.Errorf("dna: locus %q typed twice", g.Locus)
		}
		seen[g.Locus] = true
		if len(g.Alleles) > 2 {
			return fmt.Errorf("dna: locus %q has %d alleles; profiles must be single-source", g.Locus, len(g.Alleles))
		}
		for _, al := range g.Alleles {
			if !validAllele(al) {
				return fmt.Errorf("dna: locus %q: allele %q is not a repeat number", g.Locus, al)
			}
		}
	}
	return nil
}

// validAllele accepts "n" or "n.m" with n of one or two digits and m one digit.
func validAllele(s string) bool {
	n, i := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		n++
	}
	if n == 0 || n > 2 {
		return false
	}
	if i == len(s) {
		return true
	}
	return len(s) == i+2 && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9'
}
