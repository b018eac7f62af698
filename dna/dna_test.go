package dna

import (
	"encoding/json"
	"math"
	"testing"
)

func profile(pairs ...[]string) Profile {
	p := Profile{Amelogenin: "XY"}
	for i, al := range pairs {
		p.Loci = append(p.Loci, Genotype{Locus: ESS[i], Alleles: al})
	}
	return p
}

func TestFrequenciesCoverESS(t *testing.T) {
	for _, l := range ESS {
		fs := DutchESS[l]
		if len(fs) < 5 {
			t.Fatalf("%s: %d alleles", l, len(fs))
		}
		var s float64
		for _, f := range fs {
			s += f.P
			if !validAllele(f.Allele) {
				t.Errorf("%s: bad allele %q", l, f.Allele)
			}
		}
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("%s: frequencies sum to %v", l, s)
		}
	}
}

func TestCompare(t *testing.T) {
	a := profile([]string{"15", "16"}, []string{"17", "17"}, []string{"13", "14"})
	same := profile([]string{"16", "15"}, []string{"17"}, []string{"13", "14"})
	r := Compare(&a, &same, DutchESS)
	if r.Compared != 3 || r.Matching != 3 || r.Excluding != 0 {
		t.Fatalf("same person: %+v", r)
	}
	// LR by hand: D3S1358 1/(2*p15*p16), vWA 1/p17², D8S1179 1/(2*p13*p14).
	want := -math.Log10(2*freq(DutchESS, "D3S1358", "15")*freq(DutchESS, "D3S1358", "16")) -
		2*math.Log10(freq(DutchESS, "vWA", "17")) -
		math.Log10(2*freq(DutchESS, "D8S1179", "13")*freq(DutchESS, "D8S1179", "14"))
	if math.Abs(r.Log10LR-want) > 1e-9 {
		t.Fatalf("log10 LR %.4f, want %.4f", r.Log10LR, want)
	}
	dropped := profile([]string{"15"}, []string{"17", "17"})
	if r := Compare(&a, &dropped, DutchESS); r.Consistent != 1 || r.Matching != 1 || r.Excluding != 0 {
		t.Fatalf("drop-out: %+v", r)
	}
	other := profile([]string{"14", "18"}, []string{"17", "17"})
	if r := Compare(&a, &other, DutchESS); r.Excluding != 1 || !math.IsInf(r.Log10LR, -1) {
		t.Fatalf("exclusion: %+v", r)
	}
}

func TestValidate(t *testing.T) {
	good := profile([]string{"15", "16"}, []string{"9.3"})
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Profile{
		{Amelogenin: "Y"},
		{Loci: []Genotype{{Locus: "XYZ"}}},
		{Loci: []Genotype{{Locus: "TH01", Alleles: []string{"6", "7", "8"}}}},
		{Loci: []Genotype{{Locus: "TH01", Alleles: []string{"6x"}}}},
		{Loci: []Genotype{{Locus: "TH01"}, {Locus: "TH01"}}},
	} {
		if bad.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func FuzzProfileJSON(f *testing.F) {
	f.Add([]byte(`{"amelogenin":"XY","loci":[{"locus":"TH01","alleles":["6","9.3"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Profile
		if json.Unmarshal(b, &p) != nil || p.Validate() != nil {
			return
		}
		r := Compare(&p, &p, DutchESS)
		if r.Excluding != 0 {
			t.Fatalf("profile excludes itself: %+v", r)
		}
	})
}
