package country

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct{ in, a3, a2 string }{
		{"US", "USA", "US"}, {"USA", "USA", "US"}, {"GB", "GBR", "GB"}, {"GBR", "GBR", "GB"},
		{"DE", "DEU", "DE"}, {"NLD", "NLD", "NL"}, {"AQ", "ATA", "AQ"}, {"SS", "SSD", "SS"},
		{"CW", "CUW", "CW"}, {"PS", "PSE", "PS"}, {"TW", "TWN", "TW"},
	} {
		got, err := Parse(c.in)
		if err != nil || got.String() != c.a3 || got.Alpha2() != c.a2 {
			t.Errorf("Parse(%q) = %q (%q), %v; want %s %s", c.in, got, got.Alpha2(), err, c.a3, c.a2)
		}
	}
	for _, in := range []string{"", "U", "usa", "us", "USAA", "840", "U1", "XX", "XXX", "ZZ", "AA", "QZ", "XK", "EU", "UK", "UN",
		"SU", "YU", "CS", "AN", "DD", "ZR", "TP", "BU", "FX", "AC", "TA", "EA", "IC", "CP", "DG", "NT", "PC", "UNK", "ZZZ", "GBX"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", in, got)
		}
	}
	if _, err := ParseAlpha2("USA"); err == nil {
		t.Error("ParseAlpha2(USA) accepted")
	}
	if _, err := ParseAlpha3("US"); err == nil {
		t.Error("ParseAlpha3(US) accepted")
	}
	if !Same("US", "USA") || Same("US", "GBR") || Same("XX", "XX") {
		t.Error("Same")
	}
}

// TestAssignedCount: the two-letter codes Parse accepts are the 249
// officially assigned ISO 3166-1 codes, each with an alpha-3 form that
// parses back to it.
func TestAssignedCount(t *testing.T) {
	n := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			c, err := Parse(string([]rune{a, b}))
			if err != nil {
				continue
			}
			n++
			if back, err := Parse(c.String()); err != nil || back != c || c.Alpha2() != string([]rune{a, b}) {
				t.Errorf("%c%c -> %s -> %s, %v", a, b, c, back, err)
			}
		}
	}
	if n != 249 {
		t.Errorf("%d assigned alpha-2 codes, want 249", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"US", "USA", "XK", "zz", "840", "GBR", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		if len(c) != 3 || c.Alpha2() == "" {
			t.Fatalf("Parse(%q) = %q (alpha-2 %q)", s, c, c.Alpha2())
		}
		if back, err := Parse(c.Alpha2()); err != nil || back != c {
			t.Fatalf("Parse(%q) = %s, but its alpha-2 %s gives %s, %v", s, c, c.Alpha2(), back, err)
		}
	})
}
