// Package country is the one country-code type of ebsp: ISO 3166-1 codes
// of the states in a partnership, of nationalities and of certificate
// subjects. A Code holds the alpha-3 form ("USA"), which the node, its store
// and the Proof-of-Concept use; Parse also takes the alpha-2 form ("US"),
// which X.509 certificates' countryName attribute carries (RFC 5280
// §4.1.2.4 via X.520) and which the exchange's messages and agreements use,
// and Alpha2 gives it back at those edges.
//
// Only officially assigned codes are codes: not the user-assigned ones
// (AA, QM-QZ, XA-XZ, ZZ and their alpha-3 forms, XK included), not the
// exceptionally reserved (such as UK, EU, AC, CP, DG, EA, IC, TA, FX, SU)
// nor the transitionally reserved (such as AN, BU, CS, NT, TP, YU, ZR).
// The region data is Unicode CLDR's, through golang.org/x/text/language.
package country

import (
	"fmt"

	"golang.org/x/text/language"
)

// Code is an officially assigned ISO 3166-1 country code, alpha-3.
type Code string

// notAssigned are codes CLDR knows as countries that ISO 3166-1 does not
// (or no longer) assign: exceptionally and transitionally reserved, and
// Kosovo's user-assigned XK.
var notAssigned = map[string]bool{
	"AC": true, "CP": true, "DG": true, "TA": true, "SU": true, "CS": true, "AN": true,
	"YU": true, "XK": true, "NT": true, "PC": true, "FQ": true,
}

// Parse reads an alpha-2 or alpha-3 code (upper case, as the standard
// writes them) and returns it as a Code.
func Parse(s string) (Code, error) {
	bad := func(why string) (Code, error) {
		return "", fmt.Errorf("country code %q: %s", s, why)
	}
	if len(s) != 2 && len(s) != 3 {
		return bad("want an ISO 3166-1 alpha-2 or alpha-3 code, such as US or USA")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return bad("want capital letters A-Z only (ISO 3166-1 alpha-2 or alpha-3)")
		}
	}
	r, err := language.ParseRegion(s)
	if err != nil {
		return bad("not an ISO 3166-1 code")
	}
	a3 := r.ISO3()
	switch {
	case !r.IsCountry(), len(a3) != 3, a3 == "ZZZ", notAssigned[r.String()]:
		return bad("not an officially assigned ISO 3166-1 code")
	case r.Canonicalize() != r:
		return bad(fmt.Sprintf("no longer assigned; %s replaced it", r.Canonicalize()))
	}
	if len(s) == 3 {
		// CLDR accepts some alpha-3 forms of other regions' codes: the
		// code given must be the country's own.
		if back, err := language.ParseRegion(a3); err != nil || back != r || a3 != s {
			return bad("not an ISO 3166-1 alpha-3 code")
		}
	} else if r.String() != s {
		return bad("not an ISO 3166-1 alpha-2 code")
	}
	return Code(a3), nil
}

// ParseAlpha2 is Parse for the alpha-2 form only, as certificates and the
// exchange's agreements carry it.
func ParseAlpha2(s string) (Code, error) {
	if len(s) != 2 {
		return "", fmt.Errorf("country code %q: want ISO 3166-1 alpha-2, such as US", s)
	}
	return Parse(s)
}

// ParseAlpha3 is Parse for the alpha-3 form only.
func ParseAlpha3(s string) (Code, error) {
	if len(s) != 3 {
		return "", fmt.Errorf("country code %q: want ISO 3166-1 alpha-3, such as USA", s)
	}
	return Parse(s)
}

// String is the alpha-3 code.
func (c Code) String() string { return string(c) }

// Alpha2 is the alpha-2 code ("" for the zero Code).
func (c Code) Alpha2() string {
	if c == "" {
		return ""
	}
	r, err := language.ParseRegion(string(c))
	if err != nil {
		return ""
	}
	return r.String()
}

// Same reports whether a and b, each alpha-2 or alpha-3, are codes of the
// same country.
func Same(a, b string) bool {
	ca, err1 := Parse(a)
	cb, err2 := Parse(b)
	return err1 == nil && err2 == nil && ca == cb
}
