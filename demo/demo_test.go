package demo

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoSmall runs the whole demo at a small size, without the report
// (poc has its own tests), and checks its accounting and outcomes.
func TestDemoSmall(t *testing.T) {
	dir := t.TempDir()
	var out, prog bytes.Buffer
	sum, err := Run(t.Context(), Options{Out: dir, People: 60, PartnerPeople: 40, Probes: 20, Seed: 5, Out2: &out, Progress: &prog})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if sum.TrueHits+sum.MissedHits != 10 || sum.CorrectNoHits > 10 {
		t.Errorf("accounting: %+v", sum)
	}
	if sum.TrueHits < 9 || sum.FalseHits != 0 {
		t.Errorf("US identification: %d true hits of 10, %d false hits", sum.TrueHits, sum.FalseHits)
	}
	ex := sum.Exchange
	if ex == nil || !ex.AuditOK || !ex.ReleasedOK {
		t.Fatalf("exchange: %+v", ex)
	}
	if ex.Hits != ex.TrueHits+ex.FalseHits || ex.Requests != ex.Hits+ex.NoHits+ex.Refused {
		t.Errorf("exchange accounting: %+v", ex)
	}
	if ex.TrueHits < 10 || ex.Confirmed != ex.TrueHits || ex.Released != ex.Confirmed || ex.Refused < 1 {
		t.Errorf("exchange outcomes: %+v", ex)
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo-summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"true_hits", "missed_hits", "false_hits", "correct_no_hits", "p50_ms", "p99_ms", "enrolment_retakes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("demo-summary.json lacks %s", k)
		}
	}
	e, _ := m["exchange"].(map[string]any)
	for _, k := range []string{"requests", "hits", "no_hits", "confirmed", "released", "refused", "p50_ms", "p99_ms"} {
		if _, ok := e[k]; !ok {
			t.Errorf("demo-summary.json exchange lacks %s", k)
		}
	}
	if !strings.Contains(out.String(), "audit log of US") {
		t.Errorf("output does not report the audit verification:\n%s", out.String())
	}
	// Every stage says what it does, the long ones report progress, and
	// the output names what the run wrote, which is there afterwards.
	for _, want := range []string{"[1/3] enrolling", "[2/3] 20 identifications", "[3/3] cross-border searches", "nodes.log", "ebsp audit verify --log"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "[GB") {
		t.Errorf("output prints a Go slice:\n%s", out.String())
	}
	for _, want := range []string{"enrolling at US: started, 60 to do", "enrolling at US: done, 60 in", "enrolling at GB, DE, NL: done, 120 in",
		"identifications at US: done, 20 in", "cross-border searches: done"} {
		if !strings.Contains(prog.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, prog.String())
		}
	}
	for _, f := range []string{"nodes.log", "partnership/US/ebsp.db", "partnership/US/audit"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the demo's %s: %v", f, err)
		}
	}
}
