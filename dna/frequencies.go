package dna

// AlleleFreq is one allele of a locus and its frequency in a population.
type AlleleFreq struct {
	Allele string
	P      float64
}

// European holds approximate allele frequencies of a European population at
// the ESS loci, in ascending allele order. They were written down from
// memory of published European and US-Caucasian data (the ENFSI STRidER
// database, strider.online, and population studies such as Butler, Hill et
// al., J. Forensic Sci. 2003 and 2013), rounded, with rare alleles left out,
// and then normalised to sum to one per locus. They are good enough to make
// profiles with realistic heterozygosity and match statistics; they are NOT
// fit for casework, where a laboratory's validated database must be used.
var European = normalise(map[string][]AlleleFreq{
	"D3S1358": {{"13", 0.005}, {"14", 0.12}, {"15", 0.26}, {"16", 0.25}, {"17", 0.21}, {"18", 0.15}, {"19", 0.01}},
	"vWA":     {{"13", 0.005}, {"14", 0.10}, {"15", 0.11}, {"16", 0.22}, {"17", 0.27}, {"18", 0.20}, {"19", 0.09}, {"20", 0.01}},
	"D8S1179": {{"8", 0.02}, {"9", 0.01}, {"10", 0.09}, {"11", 0.07}, {"12", 0.14}, {"13", 0.32}, {"14", 0.21}, {"15", 0.11}, {"16", 0.03}},
	"D21S11": {{"27", 0.03}, {"28", 0.16}, {"29", 0.20}, {"30", 0.25}, {"30.2", 0.03}, {"31", 0.07},
		{"31.2", 0.09}, {"32", 0.01}, {"32.2", 0.12}, {"33.2", 0.04}},
	"D18S51": {{"10", 0.01}, {"11", 0.01}, {"12", 0.13}, {"13", 0.12}, {"14", 0.16}, {"15", 0.15}, {"16", 0.13},
		{"17", 0.12}, {"18", 0.07}, {"19", 0.04}, {"20", 0.02}, {"21", 0.02}, {"22", 0.01}},
	"TH01": {{"5", 0.002}, {"6", 0.23}, {"7", 0.19}, {"8", 0.10}, {"9", 0.14}, {"9.3", 0.31}, {"10", 0.01}},
	"FGA": {{"18", 0.02}, {"19", 0.06}, {"20", 0.14}, {"21", 0.18}, {"22", 0.19}, {"22.2", 0.01}, {"23", 0.14},
		{"24", 0.14}, {"25", 0.08}, {"26", 0.03}, {"27", 0.01}},
	"D1S1656": {{"11", 0.06}, {"12", 0.11}, {"13", 0.07}, {"13.3", 0.02}, {"14", 0.08}, {"14.3", 0.01}, {"15", 0.15},
		{"15.3", 0.03}, {"16", 0.14}, {"16.3", 0.04}, {"17", 0.07}, {"17.3", 0.07}, {"18.3", 0.05}, {"19.3", 0.01}},
	"D2S441":   {{"10", 0.18}, {"11", 0.36}, {"11.3", 0.05}, {"12", 0.05}, {"13", 0.03}, {"14", 0.30}, {"15", 0.03}},
	"D10S1248": {{"11", 0.01}, {"12", 0.04}, {"13", 0.30}, {"14", 0.28}, {"15", 0.20}, {"16", 0.12}, {"17", 0.04}},
	"D12S391": {{"15", 0.03}, {"16", 0.03}, {"17", 0.12}, {"17.3", 0.02}, {"18", 0.20}, {"18.3", 0.02}, {"19", 0.12},
		{"20", 0.13}, {"21", 0.11}, {"22", 0.10}, {"23", 0.06}, {"24", 0.04}, {"25", 0.02}},
	"D22S1045": {{"10", 0.01}, {"11", 0.13}, {"12", 0.01}, {"13", 0.01}, {"14", 0.05}, {"15", 0.35}, {"16", 0.36}, {"17", 0.06}},
})

func normalise(m map[string][]AlleleFreq) map[string][]AlleleFreq {
	for _, fs := range m {
		var s float64
		for _, f := range fs {
			s += f.P
		}
		for i := range fs {
			fs[i].P /= s
		}
	}
	return m
}
