package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/face/pipeline/pipelinetest"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/synth"
)

// Tokens of the test node, one per role.
var roleTokens = map[Role]string{
	RoleEnroller: "tok-enroller", RoleSearcher: "tok-searcher", RoleExaminer: "tok-examiner",
	RoleAuditor: "tok-auditor", RoleAdmin: "tok-admin",
}

// testNode is a real node (SQLite store in a temp dir, the fingerprint
// engine) behind an httptest server, with its JSON log captured.
type testNode struct {
	*Node
	srv *httptest.Server
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestNode(t testing.TB, mod func(*Config)) *testNode {
	t.Helper()
	return newTestNodeOver(t, mod, nil)
}

// newTestNodeOver is newTestNode over the store wrap returns for the
// node's real store (nil: the store itself).
func newTestNodeOver(t testing.TB, mod func(*Config), wrap func(store.Store) store.Store) *testNode {
	t.Helper()
	cfg := &Config{State: "USA", DataDir: t.TempDir(), RatePerSecond: 1000, Burst: 1000}
	for r, tok := range roleTokens {
		cfg.Tokens = append(cfg.Tokens, TokenConfig{Name: "user-" + string(r), SHA256: TokenHash(tok), Roles: []Role{r}})
	}
	if mod != nil {
		mod(cfg)
	}
	st, err := OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	buf := &syncBuffer{}
	engines := engine.Defaults()
	if cfg.FaceModels != "" {
		// Tests set FaceModels to ask for the recogniser; pipelinetest
		// finds the models (or stops the test) wherever they are.
		engines[biometric.Face] = engine.FacePhotos{Pipeline: pipelinetest.Load(t)}
	}
	var ns store.Store = st
	if wrap != nil {
		ns = wrap(st)
	}
	n, err := New(cfg, ns, engines, slog.New(slog.NewJSONHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.LoadGallery(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &testNode{Node: n, srv: srv, log: buf}
}

// call sends a request with a role's token ("" for none) and returns the
// status and decoded JSON body.
func (tn *testNode) call(t testing.TB, role Role, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, tn.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+roleTokens[role])
	}
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(data) > 0 && resp.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: response is not JSON: %q", method, path, data)
		}
	}
	observe(method, path, resp.StatusCode)
	return resp.StatusCode, out
}

// observed records which statuses each route answered in the tests, for
// the OpenAPI agreement test.
var observed sync.Map // "METHOD /pattern" -> map[int]bool

func observe(method, path string, status int) {
	key := method + " " + patternOf(path)
	m, _ := observed.LoadOrStore(key, &sync.Map{})
	m.(*sync.Map).Store(status, true)
}

func patternOf(path string) string {
	for _, rt := range routes {
		mux := http.NewServeMux()
		mux.HandleFunc(rt.path, func(http.ResponseWriter, *http.Request) {})
		if _, p := mux.Handler(httptest.NewRequest("GET", path, nil)); p == rt.path {
			return rt.path
		}
	}
	return path
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// fingerSample is impression k of synthetic finger f as an ISO template.
func fingerSample(t testing.TB, f int, k uint64, pos biometric.FingerPosition) SampleInput {
	t.Helper()
	m := synth.NewFingerMaster(7, uint64(f))
	master := synth.TemplateMaster(m)
	return isoSample(t, synth.TemplateImpression(m, &master, k), pos)
}

// isoSample is tmpl as an ISO/IEC 19794-2:2005 sample at position pos.
func isoSample(t testing.TB, tmpl fingerprint.Template, pos biometric.FingerPosition) SampleInput {
	t.Helper()
	rec, err := iso19794.MinutiaeRecordFromTemplate(tmpl, iso19794.ISO19794_2_2005, pos)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return SampleInput{Modality: biometric.Finger, Position: pos, Format: "iso19794-2", Data: b}
}

// person's samples: two index fingers, synthetic fingers 2p and 2p+1.
func person(t testing.TB, p int, k uint64) []SampleInput {
	return []SampleInput{fingerSample(t, 2*p, k, biometric.RightIndex), fingerSample(t, 2*p+1, k, biometric.LeftIndex)}
}

func enrolBody(id string, s []SampleInput) map[string]any {
	return map[string]any{
		"identity":   map[string]any{"id": id, "names": []string{"Qwertzu Testperson"}},
		"provenance": map[string]any{"legal_basis": "test"},
		"samples":    s,
	}
}

func enrolPeople(t testing.TB, tn *testNode, n int) {
	t.Helper()
	for p := range n {
		st, body := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody(fmt.Sprintf("P%03d", p), person(t, p, 1)))
		if st != 201 {
			t.Fatalf("enrol %d: %d %v", p, st, body)
		}
	}
}

func TestEnrolIdentifyVerifyReadErase(t *testing.T) {
	tn := newTestNode(t, nil)
	enrolPeople(t, tn, 40)

	// An enrolled person, new impressions: hit, right person first.
	st, body := tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": person(t, 5, 2)})
	if st != 200 || body["decision"] != "hit" {
		t.Fatalf("identify enrolled: %d %v", st, body)
	}
	cands := body["candidates"].([]any)
	if top := cands[0].(map[string]any)["identity_id"]; top != "P005" {
		t.Fatalf("top candidate %v, want P005", top)
	}
	if len(cands) > tn.cfg.CandidateCap {
		t.Errorf("%d candidates over the cap %d", len(cands), tn.cfg.CandidateCap)
	}
	// Someone never enrolled: no hit.
	st, body = tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": person(t, 500, 2)})
	if st != 200 || body["decision"] != "no_hit" || len(body["candidates"].([]any)) != 0 {
		t.Fatalf("identify unenrolled: %d %v", st, body)
	}
	// 1:1.
	st, body = tn.call(t, RoleSearcher, "POST", "/v1/verify", map[string]any{"identity_id": "P005", "samples": person(t, 5, 3)})
	if st != 200 || body["decision"] != "match" {
		t.Fatalf("verify genuine: %d %v", st, body)
	}
	st, body = tn.call(t, RoleSearcher, "POST", "/v1/verify", map[string]any{"identity_id": "P006", "samples": person(t, 5, 3)})
	if st != 200 || body["decision"] != "no_match" {
		t.Fatalf("verify impostor: %d %v", st, body)
	}
	// Read as examiner: encounters and sample metadata, no biometric bytes.
	st, body = tn.call(t, RoleExaminer, "GET", "/v1/identities/P005", nil)
	if st != 200 || len(body["encounters"].([]any)) != 1 || len(body["samples"].([]any)) != 2 {
		t.Fatalf("read: %d %v", st, body)
	}
	if _, ok := body["samples"].([]any)[0].(map[string]any)["data"]; ok {
		t.Error("identity read returned sample bytes")
	}
	// Erase as admin: gone from store and gallery at once.
	if st, body = tn.call(t, RoleAdmin, "DELETE", "/v1/identities/P005", nil); st != 204 {
		t.Fatalf("erase: %d %v", st, body)
	}
	st, body = tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": person(t, 5, 2)})
	if st != 200 || body["decision"] == "hit" && body["candidates"].([]any)[0].(map[string]any)["identity_id"] == "P005" {
		t.Fatalf("erased identity still found: %v", body)
	}
	if st, _ = tn.call(t, RoleExaminer, "GET", "/v1/identities/P005", nil); st != 404 {
		t.Errorf("read erased: %d", st)
	}
	if st, _ = tn.call(t, RoleSearcher, "POST", "/v1/verify", map[string]any{"identity_id": "P005", "samples": person(t, 5, 3)}); st != 404 {
		t.Errorf("verify erased: %d", st)
	}
	if st, _ = tn.call(t, RoleAdmin, "DELETE", "/v1/identities/P005", nil); st != 404 {
		t.Errorf("erase twice: %d", st)
	}

	// A second encounter of an existing identity.
	st, body = tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("P007", person(t, 7, 4)))
	if st != 201 || body["identity_id"] != "P007" {
		t.Fatalf("second encounter: %d %v", st, body)
	}
	if _, body = tn.call(t, RoleExaminer, "GET", "/v1/identities/P007", nil); len(body["encounters"].([]any)) != 2 {
		t.Errorf("want 2 encounters: %v", body)
	}
}

func TestGalleryReloadsFromStore(t *testing.T) {
	dir := t.TempDir()
	tn := newTestNode(t, func(c *Config) { c.DataDir = dir })
	enrolPeople(t, tn, 10)
	tn.srv.Close()
	tn.store.Close()
	tn2 := newTestNode(t, func(c *Config) { c.DataDir = dir })
	if tpl, ids := tn2.galleries[biometric.Finger].Len(); tpl != 20 || ids != 10 {
		t.Fatalf("reloaded gallery: %d templates, %d identities", tpl, ids)
	}
	_, body := tn2.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": person(t, 3, 2)})
	if body["decision"] != "hit" || body["candidates"].([]any)[0].(map[string]any)["identity_id"] != "P003" {
		t.Fatalf("after reload: %v", body)
	}
}

// TestRetention enrols records with an expiry, advances the node's clock
// past it, and checks that the sweep deletes them from store and gallery.
func TestRetention(t *testing.T) {
	tn := newTestNode(t, nil)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tn.now = func() time.Time { return now }
	body := enrolBody("R1", person(t, 1, 1))
	body["provenance"] = map[string]any{"legal_basis": "test", "expiry": now.Add(24 * time.Hour)}
	if st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", body); st != 201 {
		t.Fatalf("enrol: %d %v", st, b)
	}
	enrolPeople(t, tn, 3) // no expiry
	if r, err := tn.Retain(t.Context()); err != nil || r.Identities != 0 {
		t.Fatalf("early sweep: %+v %v", r, err)
	}
	now = now.Add(48 * time.Hour)
	r, err := tn.Retain(t.Context())
	if err != nil || r.Identities != 1 {
		t.Fatalf("sweep after expiry: %+v %v", r, err)
	}
	if st, _ := tn.call(t, RoleExaminer, "GET", "/v1/identities/R1", nil); st != 404 {
		t.Errorf("expired identity still readable: %d", st)
	}
	if _, n := tn.galleries[biometric.Finger].Len(); n != 3 {
		t.Errorf("gallery holds %d identities, want 3", n)
	}
}
