package poc

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/node"
)

// smallScenario is poc-small.json shrunk to test size: the same states,
// overlap, agreement and volumes; fewer people, encounters and comparisons.
func smallScenario(t testing.TB) *Scenario {
	s := exampleScenario(t, "poc-small.json")
	for i := range s.States {
		s.States[i].Gallery /= 5
	}
	s.Border.Simulated = 30
	s.Border.FromPartners = 0.3
	s.Extrapolation.ImpostorComparisons = 10_000
	s.Extrapolation.GenuineComparisons = 500
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

var testReport struct {
	rep *Report
	dir string
}

// runSmall runs the shrunk scenario once for every test that reads its
// report.
func runSmall(t *testing.T) (*Report, string) {
	t.Helper()
	if testReport.rep != nil {
		return testReport.rep, testReport.dir
	}
	dir, err := os.MkdirTemp("", "poc-report-")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	rep, err := RunWith(context.Background(), smallScenario(t), dir, Options{Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("small run in %v; report in %s", time.Since(t0), dir)
	testReport.rep, testReport.dir = rep, dir
	return rep, dir
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func TestMain(m *testing.M) {
	code := m.Run()
	if testReport.dir != "" && os.Getenv("POC_KEEP_REPORT") == "" {
		os.RemoveAll(testReport.dir)
	}
	os.Exit(code)
}

// TestReportMatchesNodes checks the report against the nodes' own
// counters: every enrolment and every decision the run counted, the nodes
// counted too, and the models' counts agree with each other.
func TestReportMatchesNodes(t *testing.T) {
	rep, dir := runSmall(t)
	s := rep.Scenario
	// How long it took: every step, in order, within the whole run.
	var names []string
	var wall float64
	for _, ph := range rep.Phases {
		names = append(names, ph.Name)
		wall += ph.Seconds
		if ph.Seconds < 0 || ph.CPUSeconds < 0 || (runtime.GOOS == "linux" && ph.PeakRSS <= 0) {
			t.Errorf("phase %+v", ph)
		}
	}
	wantPhases := []string{"score samples", "DET curves and national section", "population, nodes and enrolment", "border encounters"}
	if hasModel(s, ModelEncrypted) {
		wantPhases = append(wantPhases, "encrypted search protocol")
	}
	wantPhases = append(wantPhases, "models, node counters and audit logs")
	if !slices.Equal(names, wantPhases) || wall > rep.Seconds+0.01 || rep.Phases[2].CPUSeconds <= 0 {
		t.Errorf("phases %v (%.2f s of %.2f s; enrolment %.2f CPU-s): want %v", names, wall, rep.Seconds, rep.Phases[2].CPUSeconds, wantPhases)
	}
	for _, ns := range rep.Nodes {
		if ns.Enrolments != ns.RunEnrolments || ns.Enrolments == 0 {
			t.Errorf("node %s: %d enrolments counted by the node, %d by the run", ns.State, ns.Enrolments, ns.RunEnrolments)
		}
		for _, d := range []string{"hit", "no_hit", "review"} {
			if ns.Decisions[d] != ns.RunDecisions[d] {
				t.Errorf("node %s: %d %s decisions counted by the node, %d by the run", ns.State, ns.Decisions[d], d, ns.RunDecisions[d])
			}
		}
		if got := ns.Decisions["hit"] + ns.Decisions["no_hit"] + ns.Decisions["review"]; got != int64(s.Border.Simulated) && !(ns.Hub == false && ns.State != s.Home && s.Agreement.DailyQuota > 0 && got == int64(s.Agreement.DailyQuota)) {
			t.Errorf("node %s: %d searches: want one per encounter (%d)", ns.State, got, s.Border.Simulated)
		}
	}
	byModel := map[Model]ModelResult{}
	for _, m := range rep.Models {
		byModel[m.Model] = m
	}
	nat, prum, dhs := byModel[ModelNational], byModel[ModelPrum], byModel[ModelDHSAsk]
	// The home node's hits are the national model's candidates (cap 1).
	var home NodeStats
	for _, ns := range rep.Nodes {
		if ns.State == s.Home && !ns.Hub {
			home = ns
		}
	}
	if got := int64(nat.TrueIdentifications + nat.FalseMatches); got != home.Decisions["hit"] {
		t.Errorf("national model: %d true + false identifications: the home node made %d hits", got, home.Decisions["hit"])
	}
	if nat.GainedBySharing != 0 || nat.Messages != 0 || nat.RecordsDisclosed != 0 {
		t.Errorf("national model shared something: %+v", nat)
	}
	if prum.GainedBySharing == 0 {
		t.Errorf("Prüm-style model gained nothing from %d partner travellers", rep.Travellers["partner"])
	}
	// Step 1 is the same in every sharing model: messages differ only by
	// step-2 reads, and the DHS ask returns every candidate.
	var partnerHits int64
	for _, ns := range rep.Nodes {
		if ns.State != s.Home && !ns.Hub {
			partnerHits += ns.Decisions["hit"]
		}
	}
	wantDHS := 2*int64(s.Border.Simulated*len(s.Partners())) + 2*partnerHits
	if dhs.Messages != wantDHS {
		t.Errorf("DHS ask: %d messages: want 2 per partner search and 2 per partner hit = %d", dhs.Messages, wantDHS)
	}
	if dhs.InnocentDisclosed < prum.InnocentDisclosed || dhs.RecordsDisclosed < prum.RecordsDisclosed {
		t.Errorf("the DHS ask disclosed less than the examiner-gated model: %d/%d innocent, %d/%d records", dhs.InnocentDisclosed, prum.InnocentDisclosed, dhs.RecordsDisclosed, prum.RecordsDisclosed)
	}
	// The partners' transparency logs: every node search at a partner came
	// through the exchange, and every step-2 case and release is a leaf.
	var auditRequests, auditHits, auditExaminer, auditReleases, auditRefusals int
	for _, a := range rep.Audit {
		auditRequests += a.Requests
		auditHits += a.Hits
		auditExaminer += a.Examiner
		auditReleases += a.Releases
		auditRefusals += a.Refusals
		for _, ns := range rep.Nodes {
			if ns.State == a.State && !ns.Hub {
				if got := ns.Decisions["hit"] + ns.Decisions["no_hit"] + ns.Decisions["review"]; got != int64(a.Requests) || int64(a.Hits) != ns.Decisions["hit"] {
					t.Errorf("%s: node made %d searches with %d hits; its audit log has %d requests and %d hits", a.State, got, ns.Decisions["hit"], a.Requests, a.Hits)
				}
			}
		}
	}
	if len(rep.Audit) != len(s.Partners()) {
		t.Errorf("%d audit logs: want one per partner", len(rep.Audit))
	}
	if auditReleases != prum.RecordsDisclosed {
		t.Errorf("Prüm-style model disclosed %d records; the partners' logs have %d releases", prum.RecordsDisclosed, auditReleases)
	}
	if want := int64(2*(auditRequests+auditRefusals) + 4*auditExaminer); prum.Messages != want {
		t.Errorf("Prüm-style model: %d messages: the logs say %d step-1 requests, %d refusals, %d step-2 cases: want %d", prum.Messages, auditRequests, auditRefusals, auditExaminer, want)
	}
	if auditRefusals != prum.Refused {
		t.Errorf("%d refusals in the logs, %d in the model", auditRefusals, prum.Refused)
	}
	// Encrypted search: the decisions and messages of query-and-purge,
	// the probes seen only at step 2, the ciphertexts on every answered
	// step 1, the measured cost of the real protocol.
	qp, enc := byModel[ModelQueryPurge], byModel[ModelEncrypted]
	ec := rep.Encrypted
	if ec == nil || ec.LogN != encryptedLogN || ec.CPUSecondsPerBlock <= 0 || ec.WallSeconds1Block <= 0 || ec.ProbeBytes <= 0 || len(ec.National) != len(s.Partners()) {
		t.Fatalf("encrypted protocol cost: %+v", ec)
	}
	if enc.TrueIdentifications != qp.TrueIdentifications || enc.Messages != qp.Messages || enc.RecordsDisclosed != qp.RecordsDisclosed {
		t.Errorf("encrypted search and query-and-purge differ in what they decide: %+v, %+v", enc, qp)
	}
	if qp.ProbesSeen != auditRequests || enc.ProbesSeen != auditExaminer {
		t.Errorf("probes seen by partners: query-and-purge %d (step-1 requests %d), encrypted %d (step-2 cases %d)", qp.ProbesSeen, auditRequests, enc.ProbesSeen, auditExaminer)
	}
	if want := qp.Bytes + int64(auditRequests)*ec.WireBytes; enc.Bytes != want {
		t.Errorf("encrypted search: %d bytes, want query-and-purge's %d plus %d per answered step 1 = %d", enc.Bytes, qp.Bytes, ec.WireBytes, want)
	}
	if enc.LatencyMedianMs < qp.LatencyMedianMs {
		t.Errorf("encrypted search faster than query-and-purge: %.1f ms, %.1f ms", enc.LatencyMedianMs, qp.LatencyMedianMs)
	}
	// The JSON on disk says the same.
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Models) != len(rep.Models) || back.Models[1].Messages != rep.Models[1].Messages {
		t.Error("report.json differs from the returned report")
	}
	if back.National == nil || len(back.National.Rows) != len(rep.National.Rows) {
		t.Error("report.json's national section differs from the returned report's")
	}
}

// TestNodesDecideByTheirPolicy: poc-small.json leaves the thresholds to the
// nodes, so every node decides as a node with the default configuration
// does: its hit threshold is the engine's tail at its own gallery's size
// (node.GalleryPolicy), the home node's is the report's threshold, and the
// report says which tail it rests on. At those thresholds the run finds
// travellers and makes no false match (issue 14: the demo and the PoC on
// the realistic synthetic prints with the default policy).
func TestNodesDecideByTheirPolicy(t *testing.T) {
	rep, _ := runSmall(t)
	s := rep.Scenario
	if !s.Matcher.NodePolicy() {
		t.Fatalf("poc-small.json sets the matcher's threshold: %+v", s.Matcher)
	}
	tail := engine.Finger{}.Tail()
	var cfg node.Config
	cfg.Defaults()
	gallery := map[string]int{}
	for _, st := range s.States {
		gallery[st.Code] = st.Gallery
	}
	thresholds := map[float64]bool{}
	for _, ns := range rep.Nodes {
		p := ns.Policy
		want := gallery[ns.State]
		if ns.Hub {
			want = int(ns.Templates) / len(s.Capture.Fingers)
		}
		pol := node.GalleryPolicy(biometric.Finger, engine.Finger{}, &cfg, want)
		if p.Fixed || p.Tail != tail.Source || p.TailComparisons != tail.Comparisons || p.GalleryIdentities != want || p.FPIRTarget != cfg.FPIRHit {
			t.Errorf("node %s (hub %v): policy %+v; want the engine's tail %q at %d identities, FPIR %g", ns.State, ns.Hub, p, tail.Source, want, cfg.FPIRHit)
		}
		if math.Abs(p.HitThreshold-pol.Hit) > 1e-12 {
			t.Errorf("node %s (hub %v): hit threshold %v; node.GalleryPolicy gives %v at %d identities", ns.State, ns.Hub, p.HitThreshold, pol.Hit, want)
		}
		if fused, _ := pol.Thresholds(len(s.Capture.Fingers)); math.Abs(p.FusedHitThreshold-fused) > 1e-12 {
			t.Errorf("node %s: fused hit threshold %v, want %v", ns.State, p.FusedHitThreshold, fused)
		}
		if ns.State == s.Home && !ns.Hub && p.HitThreshold != rep.Threshold {
			t.Errorf("home node's hit threshold %v, the report's %v", p.HitThreshold, rep.Threshold)
		}
		thresholds[p.HitThreshold] = true
	}
	if len(thresholds) < 2 {
		t.Errorf("every node has the same hit threshold, whatever its gallery's size: %v", thresholds)
	}
	if !strings.Contains(rep.ThresholdFrom, tail.Source) {
		t.Errorf("the report does not name the tail: %q", rep.ThresholdFrom)
	}
	for _, m := range rep.Models {
		if m.FalseMatches != 0 || m.TrueIdentifications == 0 {
			t.Errorf("%s: %d identified, %d false matches; want some and none", m.Model, m.TrueIdentifications, m.FalseMatches)
		}
	}
}
