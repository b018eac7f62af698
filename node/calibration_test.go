package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/search"
)

// TestConfiguredTail gives a node a measured impostor tail: its thresholds
// follow that tail, not the engine's, and a malformed tail is refused with
// the field named.
func TestConfiguredTail(t *testing.T) {
	heavy := engine.Tail{Mean: 0.06, Points: []engine.TailPoint{{Score: 0.074, FMR: 1e-1}, {Score: 0.102, FMR: 1e-2}, {Score: 0.131, FMR: 1e-3}}}
	tn := newTestNode(t, func(c *Config) { c.ImpostorTails = map[biometric.Modality]engine.Tail{biometric.Finger: heavy} })
	enrolPeople(t, tn, 10)
	pol := tn.policy(biometric.Finger)
	want := heavy.ScoreAt(tn.cfg.FPIRHit / 10)
	if math.Abs(pol.Hit-want) > 1e-12 || pol.Mean != heavy.Mean {
		t.Fatalf("hit threshold %v, mean %v; want %v and %v from the configured tail", pol.Hit, pol.Mean, want, heavy.Mean)
	}
	if def := (engine.Finger{}).Tail().ScoreAt(tn.cfg.FPIRHit / 10); pol.Hit == def {
		t.Fatalf("configured tail gives hit %v, the built-in tail's", pol.Hit)
	}
	for _, bad := range []engine.Tail{
		{},
		{Points: []engine.TailPoint{{Score: 0.1, FMR: 1e-2}, {Score: 0.2, FMR: 1e-1}}},
		{Points: []engine.TailPoint{{Score: 0.2, FMR: 1e-1}, {Score: 0.1, FMR: 1e-2}}},
		{Points: []engine.TailPoint{{Score: math.NaN(), FMR: 1e-1}}},
	} {
		c := &Config{ImpostorTails: map[biometric.Modality]engine.Tail{biometric.Finger: bad}}
		c.Defaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "impostor_tails.finger") {
			t.Errorf("tail %+v: Validate said %v", bad, err)
		}
	}
	// A tail measured on another score scale (the matcher's scores before
	// the verification became its default, say) is refused; one that does
	// not say (as before scales were recorded) is taken with a warning;
	// one on the engine's scale without.
	for _, c := range []struct {
		scale, err string
		warn       bool
	}{{"mcc/1", `impostor_tails.finger was measured on score scale "mcc/1"`, false}, {"", "", true}, {engine.FingerScoreScale, "", false}} {
		tl := heavy
		tl.ScoreScale = c.scale
		cfg := &Config{State: "USA", DataDir: t.TempDir(), ImpostorTails: map[biometric.Modality]engine.Tail{biometric.Finger: tl}}
		var logged bytes.Buffer
		n, err := New(cfg, nil, engine.Defaults(), slog.New(slog.NewTextHandler(&logged, nil)))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("tail on scale %q: New said %v, want %q", c.scale, err, c.err)
			}
			continue
		}
		if err != nil || n == nil {
			t.Fatalf("tail on scale %q: %v", c.scale, err)
		}
		if w := strings.Contains(logged.String(), "does not say on which score scale"); w != c.warn {
			t.Errorf("tail on scale %q: warned %v, want %v (log %q)", c.scale, w, c.warn, logged.String())
		}
	}
}

// assumedFace is the face engine with a tail no measurement backs.
type assumedFace struct{ engine.Face }

func (assumedFace) Tail() engine.Tail {
	return engine.Tail{Mean: 0, Source: "assumed", Points: []engine.TailPoint{{Score: 0.1, FMR: 1e-1}, {Score: 0.2, FMR: 1e-3}}}
}

func faceSampleOf(t *testing.T, seed int) SampleInput {
	t.Helper()
	v := make([]float32, face.RecogniserDim)
	for i := range v {
		v[i] = float32(math.Sin(float64(seed*7919 + i*31)))
	}
	tmpl, err := face.QuantizeEmbedding(v)
	if err != nil {
		t.Fatal(err)
	}
	return SampleInput{Modality: biometric.Face, Format: "face-embedding", Data: tmpl.Bytes()}
}

// TestUncalibratedNeverHits gives a node a face engine whose tail is an
// assumption: the very embedding that was enrolled comes back as review,
// never hit, and 1:1 as review, never match; GET /v1/calibration says so.
func TestUncalibratedNeverHits(t *testing.T) {
	tn := newTestNode(t, nil)
	tn.engines[biometric.Face] = assumedFace{}
	s := faceSampleOf(t, 1)
	if st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("F1", []SampleInput{s})); st != 201 {
		t.Fatalf("enrol: %d %v", st, b)
	}
	st, b := tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": []SampleInput{s}})
	if st != 200 || b["decision"] != "review" {
		t.Fatalf("identify the enrolled face with an assumed tail: %d %v, want review", st, b)
	}
	st, b = tn.call(t, RoleSearcher, "POST", "/v1/verify", map[string]any{"identity_id": "F1", "samples": []SampleInput{s}})
	if st != 200 || b["decision"] != "review" {
		t.Fatalf("verify the enrolled face with an assumed tail: %d %v, want review", st, b)
	}
	cal := tn.Calibration()
	for _, c := range cal.Modalities {
		want := c.Modality != biometric.Face // the assumed tail
		if c.Calibrated != want {
			t.Errorf("%s: calibrated %v, want %v", c.Modality, c.Calibrated, want)
		}
	}
}

// TestCalibrationReport checks what GET /v1/calibration and the metrics
// say of the default fingerprint tail: real images, how deep, and the FPIR
// it implies, which is the target while the threshold's FMR lies on the tail.
func TestCalibrationReport(t *testing.T) {
	tn := newTestNode(t, nil)
	enrolPeople(t, tn, 5)
	st, b := tn.call(t, RoleAuditor, "GET", "/v1/calibration", nil)
	if st != 200 {
		t.Fatalf("GET /v1/calibration: %d %v", st, b)
	}
	var finger ModalityCalibration
	for _, c := range tn.Calibration().Modalities {
		if c.Modality == biometric.Finger {
			finger = c
		}
	}
	def := engine.Finger{}.Tail()
	if finger.Tail != "fvc-real" || finger.Comparisons != def.Comparisons || finger.MeasuredFMR != def.MeasuredFMR ||
		!finger.Calibrated || finger.GalleryIdentities != 5 {
		t.Fatalf("finger calibration %+v", finger)
	}
	if math.Abs(finger.FPIRImplied-tn.cfg.FPIRHit) > 1e-9 || !finger.Extrapolated {
		t.Errorf("FPIR implied %v (extrapolated %v), want the target %v beyond the measured 1e-3", finger.FPIRImplied, finger.Extrapolated, tn.cfg.FPIRHit)
	}
	req, _ := http.NewRequest("GET", tn.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+roleTokens[RoleAuditor])
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	metric := func(name string) float64 {
		for line := range strings.Lines(string(body)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return f
			}
		}
		t.Fatalf("metrics lack %s", name)
		return 0
	}
	if v := metric(`ebsp_calibration_tail_comparisons{modality="finger",tail="fvc-real"}`); v != float64(engine.FVCFingerTail.Comparisons) {
		t.Errorf("tail comparisons metric %v, want engine.FVCFingerTail's %d", v, engine.FVCFingerTail.Comparisons)
	}
	if v := metric(`ebsp_calibration_fpir_implied{modality="finger",tail="fvc-real"}`); math.Abs(v-tn.cfg.FPIRHit) > 1e-9 {
		t.Errorf("implied FPIR metric %v, want %v", v, tn.cfg.FPIRHit)
	}
}

// TestVerifyOwnFMR checks that the 1:1 threshold is the tail's score at
// fmr_verify, and that it does not move as the gallery grows.
func TestVerifyOwnFMR(t *testing.T) {
	tn := newTestNode(t, func(c *Config) { c.FMRVerify = 1e-3 })
	enrolPeople(t, tn, 1)
	verify := func() map[string]any {
		st, b := tn.call(t, RoleSearcher, "POST", "/v1/verify", map[string]any{"identity_id": "P000", "samples": person(t, 0, 2)})
		if st != 200 {
			t.Fatalf("verify: %d %v", st, b)
		}
		return b
	}
	first := verify()
	want := engine.Verification(engine.Finger{}.Tail(), 1e-3, 2)
	if th := first["threshold"].(float64); math.Abs(th-want) > 1e-12 || first["fmr"].(float64) != 1e-3 {
		t.Fatalf("verify threshold %v at fmr %v, want %v at 1e-3", th, first["fmr"], want)
	}
	for p := 1; p < 12; p++ {
		if st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody(fmt.Sprintf("Q%03d", p), person(t, p, 1))); st != 201 {
			t.Fatalf("enrol: %d %v", st, b)
		}
	}
	if th := verify()["threshold"].(float64); th != first["threshold"].(float64) {
		t.Errorf("verify threshold moved from %v to %v as the gallery grew", first["threshold"], th)
	}
	c := &Config{FMRVerify: 2}
	c.Defaults()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "fmr_verify") {
		t.Errorf("fmr_verify 2: Validate said %v", err)
	}
}

// TestSelfCalibration runs a node's self-calibration over a gallery with one
// person enrolled twice: the sampled comparisons are reported, survive a
// restart, and the pair is listed as a possible duplicate, not measured as
// an impostor; GET /v1/calibration/duplicates shows it to an examiner.
func TestSelfCalibration(t *testing.T) {
	dir := t.TempDir()
	mod := func(c *Config) {
		c.DataDir = dir
		c.SelfCalibration.ComparisonsPerSecond = 1_000_000
	}
	tn := newTestNode(t, mod)
	enrolPeople(t, tn, 12)
	// The same captures submitted again under another identity: the very
	// templates score far above the mate score (the default tail at FMR
	// 1e-7, 0.406), where two impressions of one synthetic finger often do
	// not.
	if st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("TWICE", person(t, 0, 1))); st != 201 {
		t.Fatalf("enrol again: %d %v", st, b)
	}
	got := selfCalUntilDuplicate(t, tn)
	if len(got) != 1 || got[0].A != "P000" || got[0].B != "TWICE" {
		t.Fatalf("duplicates %v after %d comparisons: want P000 and TWICE", got, tn.selfCalProgress(biometric.Finger))
	}
	measured := tn.selfCalProgress(biometric.Finger)
	if measured == 0 {
		t.Fatal("no comparisons sampled")
	}
	st, b := tn.call(t, RoleExaminer, "GET", "/v1/calibration/duplicates", nil)
	if st != 200 || !strings.Contains(fmt.Sprint(b), "TWICE") {
		t.Fatalf("GET /v1/calibration/duplicates: %d %v", st, b)
	}
	// A restarted node over the same data folder resumes.
	again := newTestNode(t, mod)
	if c := again.selfCalProgress(biometric.Finger); c != measured {
		t.Errorf("after restart %d comparisons, before %d", c, measured)
	}
	if d := again.Duplicates()[biometric.Finger]; len(d) != 1 {
		t.Errorf("after restart duplicates %v", d)
	}
	// 12 people's comparisons are far from deep enough: the thresholds
	// still follow the engine's tail.
	if _, src := again.tail(biometric.Finger); src != "engine" {
		t.Errorf("thresholds follow the %s tail", src)
	}
	// The saved sample is named for the engine's score scale
	// (engine.ScoreScaled): one saved on another scale, as the name
	// without it was before the verification became the matcher's
	// default, is not resumed.
	saved := filepath.Join(dir, "selfcal-finger-mcc-2.gob")
	if _, err := os.Stat(saved); err != nil {
		t.Fatalf("the sample's file: %v", err)
	}
	if err := os.Rename(saved, filepath.Join(dir, "selfcal-finger.gob")); err != nil {
		t.Fatal(err)
	}
	fresh := newTestNode(t, mod)
	if c := fresh.selfCalProgress(biometric.Finger); c != 0 {
		t.Errorf("a node over a sample of the old scale resumed it: %d comparisons", c)
	}
	if !strings.Contains(fresh.log.String(), "selfcal-finger.gob") {
		t.Errorf("no word of the old scale's sample in the log: %s", fresh.log.String())
	}
}

// TestGalleryTailDeepEnough checks the rule by which a node's own tail
// replaces the default: at least 100,000 comparisons, and the hit
// threshold's FMR no more than two decades beyond what it measured.
func TestGalleryTailDeepEnough(t *testing.T) {
	tn := newTestNode(t, func(c *Config) { c.SelfCalibration.ComparisonsPerSecond = 1 })
	enrolPeople(t, tn, 10)
	own := engine.SyntheticFingerTail // 1e-3/10 = 1e-4 per comparison: measured
	own.Source = "gallery"
	tn.selfcal.tails[biometric.Finger] = own
	if _, src := tn.tail(biometric.Finger); src != "gallery" {
		t.Fatalf("a deep gallery tail: thresholds follow the %s tail", src)
	}
	var c ModalityCalibration
	for _, x := range tn.Calibration().Modalities {
		if x.Modality == biometric.Finger {
			c = x
		}
	}
	if c.Tail != "gallery" || c.HitThreshold != own.ScoreAt(tn.cfg.FPIRHit/10) {
		t.Errorf("calibration %+v", c)
	}
	shallow := own
	shallow.MeasuredFMR = 1e-1 // 1e-4 is three decades beyond
	tn.selfcal.tails[biometric.Finger] = shallow
	if _, src := tn.tail(biometric.Finger); src != "engine" {
		t.Errorf("a shallow gallery tail: thresholds follow the %s tail", src)
	}
	few := own
	few.Comparisons = 99_999
	tn.selfcal.tails[biometric.Finger] = few
	if _, src := tn.tail(biometric.Finger); src != "engine" {
		t.Errorf("a gallery tail of 99,999 comparisons: thresholds follow the %s tail", src)
	}
}

// selfCalUntilDuplicate runs tn's self-calibration until it lists a
// fingerprint duplicate (20 s at most) and returns the list.
func selfCalUntilDuplicate(t *testing.T, tn *testNode) []engine.Mate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- tn.RunSelfCalibration(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for len(tn.Duplicates()[biometric.Finger]) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return tn.Duplicates()[biometric.Finger]
}

// TestSelfCalShardsInTurn: each modality's steps take its own shards in
// turn, whatever the other modalities' steps (one counter for all made two
// modalities on two shards each sample the same shard of theirs while
// they were stepped in the same order).
func TestSelfCalShardsInTurn(t *testing.T) {
	sc := &selfCal{}
	var gs []*search.Gallery
	for range 4 {
		gs = append(gs, search.NewGallery(engine.Finger{}, 1))
	}
	sc.addShard(biometric.Finger, gs[0])
	sc.addShard(biometric.Finger, gs[1])
	sc.addShard(biometric.Face, gs[2])
	sc.addShard(biometric.Face, gs[3])
	seen := map[*search.Gallery]int{}
	for range 4 {
		seen[sc.gallery(nil, biometric.Finger)]++
		seen[sc.gallery(nil, biometric.Face)]++
	}
	for i, g := range gs {
		if seen[g] != 2 {
			t.Errorf("shard %d sampled %d times in 4 steps of its modality, want 2", i, seen[g])
		}
	}
}
