package node

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
)

// TestRoleMatrix checks every route against every role: admin may do
// everything, others only what their role allows, and no credential gets
// 401. Bodies are empty objects, so permitted calls fail validation (400)
// rather than succeed: the point is that 403 and 401 come first.
func TestRoleMatrix(t *testing.T) {
	tn := newTestNode(t, nil)
	allowed := map[string][]Role{
		"GET /metrics":                                  {RoleAuditor, RoleAdmin},
		"GET /v1/openapi.json":                          {RoleEnroller, RoleSearcher, RoleExaminer, RoleAuditor, RoleAdmin},
		"POST /v1/enrolments":                           {RoleEnroller, RoleAdmin},
		"POST /v1/identify":                             {RoleSearcher, RoleExaminer, RoleAdmin},
		"POST /v1/verify":                               {RoleSearcher, RoleExaminer, RoleAdmin},
		"GET /v1/identities/{id}":                       {RoleExaminer, RoleAdmin},
		"DELETE /v1/identities/{id}":                    {RoleAdmin},
		"GET /v1/calibration":                           {RoleSearcher, RoleExaminer, RoleAuditor, RoleAdmin},
		"GET /v1/calibration/duplicates":                {RoleExaminer, RoleAdmin},
		"POST /v1/exchange/search":                      {RoleSearcher, RoleAdmin},
		"POST /v1/exchange/disclosures":                 {RoleSearcher, RoleAdmin},
		"GET /v1/exchange/disclosures/{partner}/{case}": {RoleSearcher, RoleAdmin},
		"GET /v1/exchange/cases":                        {RoleExaminer, RoleAdmin},
		"POST /v1/exchange/cases/{id}":                  {RoleExaminer, RoleAdmin},
		"POST /v1/exchange/agreements/{id}/{action}":    {RoleAdmin},
		"GET /v1/audit/checkpoint":                      {RoleAuditor, RoleAdmin},
		"GET /v1/audit/tile/{path...}":                  {RoleAuditor, RoleAdmin},
	}
	for _, rt := range routes {
		if rt.public {
			continue
		}
		key := rt.method + " " + rt.path
		path := rt.path
		for _, v := range []string{"{id}", "{partner}", "{case}", "{action}", "{path...}"} {
			path = strings.ReplaceAll(path, v, "NOBODY")
		}
		var body any
		if rt.method == "POST" {
			body = "{}"
		}
		if st, b := tn.call(t, "", rt.method, path, body); st != 401 || errCode(b) != CodeUnauthenticated {
			t.Errorf("%s without token: %d %v", key, st, b)
		}
		for r := range roleTokens {
			st, b := tn.call(t, r, rt.method, path, body)
			if slices.Contains(allowed[key], r) {
				if st == 401 || st == 403 {
					t.Errorf("%s as %s: %d, want allowed", key, r, st)
				}
			} else if st != 403 || errCode(b) != CodeForbidden {
				t.Errorf("%s as %s: %d %v, want 403 forbidden", key, r, st, b)
			}
		}
	}
	// A wrong token is as good as none.
	req, _ := http.NewRequest("GET", tn.srv.URL+"/v1/openapi.json", nil)
	req.Header.Set("Authorization", "Bearer tok-admin-not")
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	// Nobody can list the gallery.
	for _, p := range []string{"/v1/identities", "/v1/identities/", "/v1/gallery"} {
		if st, _ := tn.call(t, RoleAdmin, "GET", p, nil); st != 404 {
			t.Errorf("GET %s: %d, want 404", p, st)
		}
	}
}

func pngOf(w, h int, fill uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = fill
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// TestErrors sends each kind of bad input and checks the precise status and
// code, and that nothing was written.
func TestErrors(t *testing.T) {
	tn := newTestNode(t, func(c *Config) { c.MaxBodyBytes = 64 << 10; c.MaxImagePixels = 1000 * 1000; c.MinQuality = 0 })
	good := enrolBody("E1", person(t, 1, 1))
	if st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", good); st != 201 {
		t.Fatalf("good enrolment: %d %v", st, b)
	}
	corrupt := SampleInput{Modality: biometric.Finger, Position: 2, Format: "png", Data: []byte("\x89PNG\r\n\x1a\nnot really")}
	huge := SampleInput{Modality: biometric.Finger, Position: 2, Format: "png", Data: pngOf(1200, 1000, 255)}
	blank := SampleInput{Modality: biometric.Finger, Position: 2, Format: "png", Data: pngOf(400, 400, 255)}
	iso := person(t, 2, 1)[0]
	cases := []struct {
		name, method, path string
		role               Role
		body               any
		status             int
		code               string
	}{
		{"malformed JSON", "POST", "/v1/enrolments", RoleEnroller, `{"samples": [`, 400, CodeBadJSON},
		{"not an object", "POST", "/v1/identify", RoleSearcher, `[1,2]`, 400, CodeInvalidField},
		{"empty body", "POST", "/v1/identify", RoleSearcher, ``, 400, CodeBadJSON},
		{"trailing data", "POST", "/v1/identify", RoleSearcher, `{} {}`, 400, CodeBadJSON},
		{"unknown field", "POST", "/v1/enrolments", RoleEnroller, `{"samples":[],"colour":"red"}`, 400, CodeUnknownField},
		{"wrong type", "POST", "/v1/enrolments", RoleEnroller, `{"samples":"many"}`, 400, CodeInvalidField},
		{"bad base64", "POST", "/v1/identify", RoleSearcher, `{"samples":[{"modality":"finger","format":"png","data":"***"}]}`, 400, CodeInvalidField},
		{"no samples", "POST", "/v1/identify", RoleSearcher, `{"samples":[]}`, 400, CodeInvalidField},
		{"bad modality", "POST", "/v1/identify", RoleSearcher, map[string]any{"samples": []any{map[string]any{"modality": "aura", "format": "png", "data": "AA=="}}}, 400, CodeInvalidField},
		{"bad position", "POST", "/v1/identify", RoleSearcher, map[string]any{"samples": []any{map[string]any{"modality": "finger", "position": 77, "format": "png", "data": "AA=="}}}, 400, CodeInvalidField},
		{"no legal basis", "POST", "/v1/enrolments", RoleEnroller, map[string]any{"samples": person(t, 3, 1)}, 400, CodeInvalidField},
		{"bad id", "POST", "/v1/enrolments", RoleEnroller, enrolBody("a/b", person(t, 3, 1)), 400, CodeInvalidField},
		{"body too large", "POST", "/v1/enrolments", RoleEnroller, `{"samples":[{"data":"` + strings.Repeat("A", 70<<10) + `"}]}`, 413, CodeBodyTooLarge},
		{"corrupt image", "POST", "/v1/enrolments", RoleEnroller, enrolBody("E2", []SampleInput{corrupt}), 422, CodeBadSample},
		{"absurd image size", "POST", "/v1/identify", RoleSearcher, map[string]any{"samples": []SampleInput{huge}}, 422, CodeSampleTooLarge},
		{"blank image", "POST", "/v1/enrolments", RoleEnroller, enrolBody("E3", []SampleInput{blank}), 422, CodeBadSample},
		{"corrupt template", "POST", "/v1/identify", RoleSearcher, map[string]any{"samples": []any{map[string]any{"modality": "finger", "format": "iso19794-2", "data": base64.StdEncoding.EncodeToString([]byte("FMR\x00 20\x00garbage"))}}}, 422, CodeBadSample},
		{"unknown format", "POST", "/v1/identify", RoleSearcher, map[string]any{"samples": []any{map[string]any{"modality": "finger", "format": "gif", "data": "AA=="}}}, 422, CodeUnsupported},
		{"unsearchable modality", "POST", "/v1/identify", RoleSearcher, map[string]any{"samples": []any{map[string]any{"modality": "dna", "format": "str", "data": "AA=="}}}, 422, CodeUnsupported},
		{"duplicate encounter id", "POST", "/v1/enrolments", RoleEnroller, map[string]any{"identity": map[string]any{"id": "E9"}, "encounter": map[string]any{"id": "ENC-DUP"}, "provenance": map[string]any{"legal_basis": "t"}, "samples": []SampleInput{iso}}, 0, ""},
		{"duplicate encounter id again", "POST", "/v1/enrolments", RoleEnroller, map[string]any{"identity": map[string]any{"id": "E10"}, "encounter": map[string]any{"id": "ENC-DUP"}, "provenance": map[string]any{"legal_basis": "t"}, "samples": []SampleInput{iso}}, 409, CodeDuplicateID},
		{"unknown identity read", "GET", "/v1/identities/NOPE", RoleExaminer, nil, 404, CodeNotFound},
		{"unknown identity verify", "POST", "/v1/verify", RoleSearcher, map[string]any{"identity_id": "NOPE", "samples": person(t, 1, 2)}, 404, CodeNotFound},
		{"verify without id", "POST", "/v1/verify", RoleSearcher, map[string]any{"samples": person(t, 1, 2)}, 400, CodeInvalidField},
		{"unknown route", "GET", "/v2/whatever", RoleAdmin, nil, 404, CodeNotFound},
		{"wrong method", "PUT", "/v1/identify", RoleAdmin, "{}", 405, CodeMethodNotAllowed},
	}
	for _, c := range cases {
		st, b := tn.call(t, c.role, c.method, c.path, c.body)
		if c.status == 0 {
			if st != 201 {
				t.Fatalf("%s: setup enrolment failed: %d %v", c.name, st, b)
			}
			continue
		}
		if st != c.status || errCode(b) != c.code {
			t.Errorf("%s: got %d %v, want %d %s", c.name, st, b, c.status, c.code)
		}
		if m, _ := b["error"].(map[string]any); m != nil && m["message"] == "" {
			t.Errorf("%s: empty message", c.name)
		}
	}
	// Wrong content type.
	req, _ := http.NewRequest("POST", tn.srv.URL+"/v1/identify", strings.NewReader("samples=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+roleTokens[RoleSearcher])
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	observe("POST", "/v1/identify", resp.StatusCode)
	if resp.StatusCode != 415 {
		t.Errorf("form body: %d, want 415", resp.StatusCode)
	}
	// Nothing from the failed calls was written: E1, E9 and nothing else.
	ids, tpl, err := tn.store.Counts(t.Context())
	if err != nil || ids != 2 || tpl != 3 {
		t.Errorf("store holds %d identities, %d templates (%v); want 2, 3", ids, tpl, err)
	}
	if _, n := tn.galleries[biometric.Finger].Len(); n != 2 {
		t.Errorf("gallery holds %d identities, want 2", n)
	}
}

func TestQualityGate(t *testing.T) {
	tn := newTestNode(t, func(c *Config) { c.MinQuality = 101 - 1 })
	st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("Q1", person(t, 1, 1)))
	if st != 422 || errCode(b) != CodeLowQuality {
		t.Errorf("below quality gate: %d %v", st, b)
	}
}

func TestRateLimit(t *testing.T) {
	tn := newTestNode(t, func(c *Config) { c.RatePerSecond = 1; c.Burst = 3 })
	var last int
	var retry string
	for range 5 {
		req, _ := http.NewRequest("GET", tn.srv.URL+"/v1/openapi.json", nil)
		req.Header.Set("Authorization", "Bearer "+roleTokens[RoleSearcher])
		resp, err := tn.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		last, retry = resp.StatusCode, resp.Header.Get("Retry-After")
		observe("GET", "/v1/openapi.json", last)
		if last == 429 && errCode(b) != CodeRateLimited {
			t.Errorf("429 with code %q", errCode(b))
		}
	}
	if n, err := strconv.Atoi(retry); last != 429 || err != nil || n < 1 {
		t.Errorf("6th request: %d, Retry-After %q", last, retry)
	}
	// Another principal is not limited by the first one's use.
	if st, _ := tn.call(t, RoleAuditor, "GET", "/v1/openapi.json", nil); st != 200 {
		t.Errorf("other principal: %d", st)
	}
}

// TestPublicRateLimit: the routes that need no credentials are limited per
// client address, so probes cannot be turned into load.
func TestPublicRateLimit(t *testing.T) {
	tn := newTestNode(t, func(c *Config) { c.RatePerSecond = 1; c.Burst = 3 })
	for _, path := range []string{"/healthz", "/readyz"} {
		var last int
		for range 4 {
			resp, err := tn.srv.Client().Get(tn.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			last = resp.StatusCode
			observe("GET", path, last)
			if last == 429 && resp.Header.Get("Retry-After") == "" {
				t.Errorf("%s: 429 without Retry-After", path)
			}
		}
		if last != 429 {
			t.Errorf("%s: 4th request within a second from one address: %d, want 429", path, last)
		}
	}
	// A principal's own bucket is not the address's.
	if st, _ := tn.call(t, RoleAuditor, "GET", "/v1/openapi.json", nil); st != 200 {
		t.Errorf("authenticated request from the same address: %d", st)
	}
}

// TestLimitersStayBounded: buckets for many addresses are forgotten once
// idle, and never exceed maxLimiters.
func TestLimitersStayBounded(t *testing.T) {
	l := newLimiters(1000, 1)
	for i := range 3 * maxLimiters {
		l.allow("addr-" + strconv.Itoa(i))
	}
	if len(l.by) > maxLimiters {
		t.Fatalf("%d buckets kept, limit %d", len(l.by), maxLimiters)
	}
}

// TestLogsHoldNoPersonalData enrols and searches, then checks the node's log
// for the name, the tokens and the template bytes.
func TestLogsHoldNoPersonalData(t *testing.T) {
	tn := newTestNode(t, nil)
	s := person(t, 4, 1)
	tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("L1", s))
	tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": s})
	tn.call(t, RoleEnroller, "POST", "/v1/enrolments", `{"samples":[{"modality":"finger","format":"iso19794-2","data":"`+base64.StdEncoding.EncodeToString(s[0].Data)+`"}]}`)
	log := tn.log.String()
	if !strings.Contains(log, `"route"`) {
		t.Fatal("no request log captured")
	}
	for what, secret := range map[string]string{
		"name": "Qwertzu", "token": roleTokens[RoleEnroller], "template (base64)": base64.StdEncoding.EncodeToString(s[0].Data)[:24],
		"identity id": "L1\"",
	} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains the %s", what)
		}
	}
	if bytes.Contains([]byte(log), s[0].Data[:24]) {
		t.Error("log contains raw template bytes")
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	tn := newTestNode(t, nil)
	if st, b := tn.call(t, "", "GET", "/healthz", nil); st != 200 || b["status"] != "ok" {
		t.Errorf("healthz: %d %v", st, b)
	}
	if st, _ := tn.call(t, "", "GET", "/readyz", nil); st != 200 {
		t.Errorf("readyz: %d", st)
	}
	tn.ready.Store(false)
	if st, b := tn.call(t, "", "GET", "/readyz", nil); st != 503 || errCode(b) != CodeUnavailable {
		t.Errorf("readyz while loading: %d %v", st, b)
	}
	if st, b := tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": person(t, 1, 1)}); st != 503 {
		t.Errorf("identify while loading: %d %v", st, b)
	}
	tn.ready.Store(true)
	enrolPeople(t, tn, 2)
	req, _ := http.NewRequest("GET", tn.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+roleTokens[RoleAuditor])
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	observe("GET", "/metrics", resp.StatusCode)
	for _, m := range []string{"ebsp_enrolments_total 2", `ebsp_gallery_templates{modality="finger"} 4`, "ebsp_http_requests_total"} {
		if !strings.Contains(buf.String(), m) {
			t.Errorf("metrics lack %q", m)
		}
	}
}
