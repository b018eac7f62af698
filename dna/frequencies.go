package dna

// AlleleFreq is one allele of a locus and its frequency in a population.
type AlleleFreq struct {
	Allele string
	P      float64
}

// This file holds the published allele frequencies that profiles are
// weighed with (Compare) and that synthetic profiles are drawn from
// (package synth).
//
// Source: A.A. Westen, T. Kraaijenbrink, E.A. Robles de Medina, J. Harteveld,
// P. Willemse, S.B. Zuniga, K.J. van der Gaag, N.E.C. Weiler, J. Warnaar,
// M. Kayser, T. Sijen, P. de Knijff, "Comparing six commercial autosomal STR
// kits in a large Dutch population sample", Forensic Science International:
// Genetics 10 (2014) 55-63, doi:10.1016/j.fsigen.2014.01.008: 2,085
// unrelated Dutch men typed with six kits, discordances resolved by
// sequencing, allele frequencies of 23 autosomal STRs for the Dutch
// reference database. The figures below are that study's frequencies at the
// twelve ESS loci, read from the Dutch NGM frequency file distributed with
// EuroForMix (Bleka et al.), "NGM_Holland.csv", and written as allele counts
// out of the 4,170 typed chromosomes: every frequency in that file is an
// exact multiple of 1/4,170 (2N for N = 2,085, which is how the file is
// matched to the study), so the counts are the data, not a rounding of it.
//
// They describe one north-west European population. Frequencies elsewhere
// in Europe differ a little (F_ST between European populations is of the
// order of 0.01), which matters for casework statistics, not for synthetic
// test data.

// dutchChromosomes is 2N for Westen et al. (2014): 2,085 men.
const dutchChromosomes = 4170

// alleleCount is an allele and the number of chromosomes carrying it.
type alleleCount struct {
	allele string
	n      int
}

// DutchESS holds the allele frequencies at the ESS loci of Westen et al.
// (2014), N = 2,085 (see above), in ascending allele order, summing to one
// at every locus.
var DutchESS = countsToFrequencies(map[string][]alleleCount{
	"D3S1358": {{"10", 1}, {"11", 8}, {"13", 25}, {"14", 512}, {"15", 1028}, {"16", 1008}, {"17", 902},
		{"18", 644}, {"19", 39}, {"20", 3}},
	"vWA": {{"10", 1}, {"12", 2}, {"13", 8}, {"14", 412}, {"15", 407}, {"16", 859}, {"17", 1143}, {"18", 833},
		{"19", 442}, {"20", 60}, {"21", 3}},
	"D8S1179": {{"8", 80}, {"9", 70}, {"10", 371}, {"11", 323}, {"12", 665}, {"12.1", 1}, {"13", 1333},
		{"14", 813}, {"15", 383}, {"16", 110}, {"17", 21}},
	"D21S11": {{"24.2", 1}, {"25.2", 1}, {"26", 7}, {"27", 179}, {"28", 706}, {"28.2", 1}, {"29", 839},
		{"29.2", 3}, {"29.3", 2}, {"30", 1079}, {"30.2", 137}, {"31", 382}, {"31.2", 325}, {"32", 67},
		{"32.2", 306}, {"33", 12}, {"33.2", 109}, {"34", 1}, {"34.1", 2}, {"34.2", 8}, {"35", 2}, {"35.2", 1}},
	"D18S51": {{"9", 4}, {"10", 33}, {"11", 58}, {"12", 655}, {"13", 575}, {"14", 687}, {"15", 596},
		{"16", 514}, {"17", 448}, {"18", 299}, {"19", 153}, {"20", 82}, {"21", 38}, {"22", 18}, {"23", 4}, {"24", 6}},
	"TH01": {{"5", 30}, {"6", 875}, {"7", 754}, {"8", 463}, {"8.3", 1}, {"9", 564}, {"9.3", 1445}, {"10", 38}},
	"FGA": {{"17", 5}, {"18", 75}, {"19", 253}, {"19.1", 2}, {"19.2", 4}, {"20", 559}, {"20.2", 1}, {"21", 696},
		{"21.2", 13}, {"22", 718}, {"22.1", 1}, {"22.2", 31}, {"23", 614}, {"23.2", 14}, {"24", 574}, {"24.2", 5},
		{"25", 428}, {"26", 156}, {"27", 20}, {"28", 1}},
	"D1S1656": {{"10", 7}, {"11", 312}, {"12", 517}, {"13", 239}, {"14", 365}, {"14.3", 7}, {"15", 547},
		{"15.3", 312}, {"16", 495}, {"16.1", 1}, {"16.3", 229}, {"17", 241}, {"17.1", 3}, {"17.3", 592},
		{"18", 16}, {"18.3", 224}, {"19", 2}, {"19.3", 57}, {"20.3", 4}},
	"D2S441": {{"8", 2}, {"9", 1}, {"10", 787}, {"11", 1431}, {"11.3", 177}, {"12", 198}, {"12.3", 7},
		{"13", 107}, {"13.3", 2}, {"14", 1225}, {"14.1", 1}, {"15", 207}, {"16", 25}},
	"D10S1248": {{"7", 1}, {"10", 3}, {"11", 11}, {"12", 148}, {"13", 1318}, {"14", 1281}, {"15", 819},
		{"16", 489}, {"17", 85}, {"18", 14}, {"19", 1}},
	"D12S391": {{"14", 1}, {"15", 173}, {"16", 156}, {"16.3", 1}, {"17", 419}, {"17.3", 95}, {"18", 732},
		{"18.3", 92}, {"19", 430}, {"19.3", 41}, {"20", 503}, {"20.2", 1}, {"20.3", 2}, {"21", 546}, {"22", 423},
		{"23", 313}, {"24", 154}, {"25", 65}, {"26", 15}, {"27", 6}, {"28", 1}, {"29", 1}},
	"D22S1045": {{"10", 6}, {"11", 586}, {"12", 56}, {"13", 25}, {"14", 212}, {"15", 1356}, {"16", 1546},
		{"17", 351}, {"18", 28}, {"19", 4}},
})

func countsToFrequencies(m map[string][]alleleCount) map[string][]AlleleFreq {
	out := make(map[string][]AlleleFreq, len(m))
	for locus, cs := range m {
		fs := make([]AlleleFreq, len(cs))
		for i, c := range cs {
			fs[i] = AlleleFreq{Allele: c.allele, P: float64(c.n) / dutchChromosomes}
		}
		out[locus] = fs
	}
	return out
}
