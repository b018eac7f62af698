package poc

import (
	"bytes"
	"strings"
	"testing"
)

// fixtureReport is a report filled from the exponential stand-in matcher and
// two hand-made model rows: enough to render every part of the page.
func fixtureReport(t testing.TB) *Report {
	s := exampleScenario(t, "poc-small.json")
	sc := exponentialScores(20_000, 4)
	th, err := ThresholdForFMR(sc.Impostor, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	r := &Report{Scenario: s, Threshold: th, ThresholdFrom: "test", ImpostorScores: len(sc.Impostor), GenuineScores: len(sc.Genuine),
		Travellers: map[string]int{"home": 3, "partner": 2, "unknown": 5},
		Phases:     []Phase{{Name: "border encounters", Seconds: 12.5, CPUSeconds: 20.2, PeakRSS: 1.5e9}}}
	for _, n := range s.Extrapolation.Fingers {
		r.DET = append(r.DET, detCurve(sc, n))
	}
	// A coarse grid: the page's layout, not the convolution, is tested here.
	defer func(b int) { nationalBins = b }(nationalBins)
	nationalBins = 500
	r.National, err = nationalSection(s, sc, s.Extrapolation.Fingers, Options{RealGenuine: sc.Genuine[:100], RealSource: "test"})
	if err != nil {
		t.Fatal(err)
	}
	r.ModelsNational = modelsNational(s, r.National.Rows, 2)
	r.Models = []ModelResult{
		{Model: ModelNational, Label: modelLabels[ModelNational], Searches: 10, TrueIdentifications: 3, LatenciesMs: []float64{1, 2, 3}},
		{Model: ModelDHSAsk, Label: modelLabels[ModelDHSAsk], Searches: 10, TrueIdentifications: 5, GainedBySharing: 2, FalseMatches: 1,
			InnocentDisclosed: 1, RecordsDisclosed: 9, Messages: 64, LatenciesMs: []float64{3, 4, 9}, HourlyMessages: [24]int64{8: 30, 9: 34}},
	}
	r.HourlyEncounters[8], r.HourlyEncounters[9] = 4, 6
	r.Limits = limits(s, r)
	return r
}

func TestHTMLRenders(t *testing.T) {
	r := fixtureReport(t)
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if n := strings.Count(page, "<svg "); n != 6 {
		t.Errorf("%d plots: want 6", n)
	}
	if n := strings.Count(page, "<figcaption>"); n != 6 {
		t.Errorf("%d captions: want one per plot", n)
	}
	for _, bad := range []string{"NaN", "Inf", "<script", "http://", "https://", "%!"} {
		if strings.Contains(page, bad) {
			i := strings.Index(page, bad)
			t.Errorf("page contains %q: ...%s...", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	for _, want := range []string{"DHS ask as reported", "real FVC images", "synthetic templates", "FNIR (real FVC)", "n-finger target",
		"<td>border encounters</td><td>12.5</td><td>20.2</td><td>1.50 GB</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1234567: "1,234,567", 0.5: "0.5", 3.2e-7: "3.2e-07", 270e6: "270,000,000", 12.5: "12.5"} {
		if got := formatNumber(v); got != want {
			t.Errorf("formatNumber(%g) = %q: want %q", v, got, want)
		}
	}
}
