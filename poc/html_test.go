package poc

import (
	"bytes"
	"math"
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
		Travellers: map[string]int{"home": 3, "partner": 2, "unknown": 5}}
	for _, n := range s.Extrapolation.Fingers {
		e, err := EstimateTail(sc, n, th*math.Sqrt(float64(n)), 0.95)
		if err != nil {
			t.Fatal(err)
		}
		r.Extrapolation = append(r.Extrapolation, National(e, s.Extrapolation.Gallery, int64(s.Border.EncountersPerDay)))
		r.DET = append(r.DET, detCurve(sc, n))
	}
	e2, _ := EstimateTail(sc, 2, th*math.Sqrt(2), 0.95)
	r.ModelsNational = modelsNational(s, e2)
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
	if !strings.Contains(page, "DHS ask as reported") || !strings.Contains(page, "below the resolution") && r.Extrapolation[0].BelowResolution {
		t.Error("model labels or resolution note missing")
	}
}

func TestFormatNumber(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1234567: "1,234,567", 0.5: "0.5", 3.2e-7: "3.2e-07", 270e6: "270,000,000", 12.5: "12.5"} {
		if got := formatNumber(v); got != want {
			t.Errorf("formatNumber(%g) = %q: want %q", v, got, want)
		}
	}
}
