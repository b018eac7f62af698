package poc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func exampleScenario(t testing.TB, name string) *Scenario {
	t.Helper()
	s, err := LoadScenario(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSmallScenarioIsTheExample(t *testing.T) {
	ex, err := os.ReadFile(filepath.Join("..", "examples", "poc-small.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(ex) != string(smallJSON) {
		t.Error("poc/small.json differs from examples/poc-small.json: copy the example over")
	}
	if _, err := SmallScenario(); err != nil {
		t.Fatal(err)
	}
}

func TestExamplesParse(t *testing.T) {
	for _, name := range []string{"poc-small.json", "poc-national.json"} {
		s := exampleScenario(t, name)
		if s.Home != "USA" || len(s.Partners()) != 3 {
			t.Errorf("%s: home %s with %d partners: want USA with 3", name, s.Home, len(s.Partners()))
		}
		if s.Extrapolation.Gallery != 270_000_000 {
			t.Errorf("%s: extrapolation.gallery %d: want 270,000,000", name, s.Extrapolation.Gallery)
		}
		if len(s.Models) != len(AllModels) {
			t.Errorf("%s: models %v: want all by default", name, s.Models)
		}
	}
}

func TestScenarioErrors(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("..", "examples", "poc-small.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ old, new, want string }{
		{`"home": "USA"`, `"home": "GBR"`, `home "GBR": not one of the states`},
		{`"code": "DEU"`, `"code": "DE"`, `states[1].code "DE": want an officially assigned ISO 3166-1 alpha-3`},
		{`"code": "DEU"`, `"code": "XXX"`, `states[1].code "XXX": want an officially assigned ISO 3166-1 alpha-3`},
		{`"code": "NLD"`, `"code": "DEU"`, `states[2].code "DEU": listed twice`},
		{`"gallery": 500`, `"gallery": 0`, `states[0] (USA).gallery 0`},
		{`"derogatory": 0.05`, `"derogatory": 1.5`, `states[1] (DEU).derogatory 1.5`},
		{`"fraction": 0.10`, `"fraction": 0`, `overlap[0].fraction 0`},
		{`"to": "DEU", "fraction": 0.08`, `"to": "XXX", "fraction": 0.08`, `overlap[2].to "XXX"`},
		{`"from_home": 0.30`, `"from_home": 0.90`, `want fractions that sum to at most 1`},
		{`"hourly": [1, 1,`, `"hourly": [1,`, `border.hourly: 23 weights`},
		{`"fingers": [2, 7]`, `"fingers": [2, 2]`, `capture.fingers[1]: right index listed twice`},
		{`"fingers": [2, 7]`, `"fingers": [2, 13]`, `capture.fingers[1] 13`},
		{`"purpose": "border"`, `"purpose": "fishing"`, `agreement.purpose "fishing": not one of`},
		{`"disclosure": ["biographic", "derogatory"]`, `"disclosure": ["dna"]`, `agreement.disclosure[0] "dna"`},
		{`"false_confirm": 0.01`, `"false_confirm": -1`, `examiner.false_confirm -1`},
		{`"examiner": {`, `"matcher": {"target_fmr": 0.0001, "threshold": 0.03}, "examiner": {`, `give target_fmr or threshold, not both`},
		{`"examiner": {`, `"matcher": {"target_fmr": 1e-9}, "examiner": {`, `below the resolution of 20000 impostor comparisons`},
		{`"seed": 7,`, `"seed": 7, "colour": "red",`, `unknown field "colour"`},
		{`"seed": 7,`, `"seed": "seven",`, `scenario:4:11: cannot unmarshal string`},
	} {
		in := strings.Replace(string(base), tc.old, tc.new, 1)
		if in == string(base) {
			t.Fatalf("test case %q does not change the example", tc.old)
		}
		_, err := ParseScenario([]byte(in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s -> %s: error %v: want it to contain %q", tc.old, tc.new, err, tc.want)
		}
	}
	if _, err := ParseScenario(append(base, []byte(" {}")...)); err == nil || !strings.Contains(err.Error(), "data after the JSON value") {
		t.Errorf("trailing object: error %v", err)
	}
	if _, err := ParseScenario([]byte(`{"name":"x","models":["national","telepathy"]}`)); err == nil {
		t.Error("a bad scenario parsed")
	}
}

func FuzzParseScenario(f *testing.F) {
	for _, name := range []string{"poc-small.json", "poc-national.json"} {
		data, err := os.ReadFile(filepath.Join("..", "examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"name":"x","states":[{"code":"AAA","gallery":1},{"code":"BBB","gallery":1}],"home":"AAA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseScenario(data)
		if err != nil {
			return
		}
		// What parses must validate again after a round trip of defaults.
		s.Defaults()
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed scenario fails validation after Defaults: %v", err)
		}
	})
}
