package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/internal/shareddata"
	"github.com/ebsp/ebsp/synth"
)

func sharedSample(t *testing.T, rel, format string) SampleInput {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shareddata.Dir(t, filepath.Dir(rel)), filepath.Base(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return SampleInput{Modality: biometric.Finger, Position: biometric.RightIndex, Format: format, Data: b}
}

// TestFingerQualityGate: the enrolment answer gives a real image's quality;
// a node whose min_quality is above it refuses the same image with 422
// low_quality and writes nothing; a face photograph sent as a fingerprint
// is refused with 422 not_a_fingerprint, as an enrolment and as a probe,
// whatever the gate.
func TestFingerQualityGate(t *testing.T) {
	fp := sharedSample(t, "fingerprints/fvc2002_DB1_B/101_1.tif", "tiff")
	face := sharedSample(t, "faces/frl_london_subset/images/001_03.jpg", "jpeg")

	open := newTestNode(t, func(c *Config) { c.MinQuality = 0 })
	st, b := open.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("G1", []SampleInput{fp}))
	if st != 201 {
		t.Fatalf("enrol a real print: %d %v", st, b)
	}
	q := int(b["samples"].([]any)[0].(map[string]any)["quality"].(float64))
	if q < 1 || q > 100 {
		t.Fatalf("quality %d in the enrolment answer, want 1-100", q)
	}
	t.Logf("FVC2002 DB1 101_1: quality %d", q)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/enrolments", enrolBody("G2", []SampleInput{face})},
		{"/v1/identify", map[string]any{"samples": []SampleInput{face}}},
	} {
		role := RoleEnroller
		if c.path == "/v1/identify" {
			role = RoleSearcher
		}
		st, b := open.call(t, role, "POST", c.path, c.body)
		if st != 422 || errCode(b) != CodeNotAFingerprint {
			t.Errorf("face photo as a fingerprint, %s: %d %v; want 422 %s", c.path, st, b, CodeNotAFingerprint)
		} else {
			t.Logf("%s: %v", c.path, b)
		}
	}

	strict := newTestNode(t, func(c *Config) { c.MinQuality = q + 1 })
	st, b = strict.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("G3", []SampleInput{fp}))
	if st != 422 || errCode(b) != CodeLowQuality || !strings.Contains(b["error"].(map[string]any)["message"].(string), "below the gate") {
		t.Errorf("below the gate: %d %v; want 422 %s", st, b, CodeLowQuality)
	}
	if ids, _, err := strict.store.Counts(t.Context()); err != nil || ids != 0 {
		t.Errorf("refused enrolment left %d identities (%v)", ids, err)
	}
	at := newTestNode(t, func(c *Config) { c.MinQuality = q })
	if st, b := at.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("G4", []SampleInput{fp})); st != 201 {
		t.Errorf("at the gate: %d %v; want 201", st, b)
	}
}

// truncatedSample is synthetic finger f's first impression cut to its first
// n minutiae, as an ISO template.
func truncatedSample(t *testing.T, f, n int) SampleInput {
	t.Helper()
	m := synth.NewFingerMaster(7, uint64(f))
	master := synth.TemplateMaster(m)
	tmpl := synth.TemplateImpression(m, &master, 1)
	if len(tmpl.Minutiae) < n {
		t.Fatalf("finger %d has %d minutiae, want at least %d", f, len(tmpl.Minutiae), n)
	}
	tmpl.Minutiae = tmpl.Minutiae[:n]
	return isoSample(t, tmpl, biometric.RightIndex)
}

// TestFingerMinutiaeGate: with the default configuration a fingerprint
// template of fewer than DefaultMinMinutiae minutiae is refused at
// enrolment with 422 too_few_minutiae and nothing is written, one of
// exactly that many is enrolled; min_minutiae -1 turns the gate off; the
// gate does not apply to probes; out-of-range settings are refused.
func TestFingerMinutiaeGate(t *testing.T) {
	small := truncatedSample(t, 1, DefaultMinMinutiae-1)
	enough := truncatedSample(t, 2, DefaultMinMinutiae)

	def := newTestNode(t, nil)
	st, b := def.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("M1", []SampleInput{small}))
	if st != 422 || errCode(b) != CodeTooFewMinutiae || !strings.Contains(b["error"].(map[string]any)["message"].(string), "below the gate") {
		t.Errorf("%d minutiae: %d %v; want 422 %s", DefaultMinMinutiae-1, st, b, CodeTooFewMinutiae)
	}
	if ids, _, err := def.store.Counts(t.Context()); err != nil || ids != 0 {
		t.Errorf("refused enrolment left %d identities (%v)", ids, err)
	}
	// The refusal names the sample to capture again.
	st, b = def.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("M1", []SampleInput{enough, small}))
	if e := b["error"].(map[string]any); st != 422 || e["sample"] != float64(1) || !strings.HasPrefix(e["message"].(string), "samples[1]: ") {
		t.Errorf("the second of two samples below the gate: %d %v; want 422 naming sample 1", st, b)
	}
	if st, b := def.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("M2", []SampleInput{enough})); st != 201 {
		t.Errorf("%d minutiae: %d %v; want 201", DefaultMinMinutiae, st, b)
	}
	if st, b := def.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": []SampleInput{small}}); st != 200 {
		t.Errorf("a probe of %d minutiae: %d %v; want 200 (the gate is for enrolment)", DefaultMinMinutiae-1, st, b)
	}

	off := newTestNode(t, func(c *Config) { c.MinMinutiae = -1 })
	if st, b := off.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("M3", []SampleInput{small})); st != 201 {
		t.Errorf("gate off: %d %v; want 201", st, b)
	}

	for _, v := range []int{-2, 256} {
		c := Config{MinMinutiae: v}
		c.Defaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "min_minutiae") {
			t.Errorf("min_minutiae %d: %v; want an error naming min_minutiae", v, err)
		}
	}
}
