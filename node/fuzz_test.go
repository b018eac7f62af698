package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzAPIBodies throws arbitrary bodies at the enrol, identify and verify
// handlers of a real node: every answer must be a 2xx or a 4xx with a JSON
// error code, never a 5xx or a crash.
func FuzzAPIBodies(f *testing.F) {
	tn := newTestNode(f, nil)
	good, _ := json.Marshal(enrolBody("F1", person(f, 1, 1)))
	f.Add(uint8(0), good)
	f.Add(uint8(1), []byte(`{"samples":[{"modality":"finger","position":2,"format":"png","data":"iVBORw0KGgo="}]}`))
	f.Add(uint8(2), []byte(`{"identity_id":"F1","samples":[]}`))
	f.Add(uint8(0), []byte(`{"samples":[{"modality":"finger","format":"iso19794-2","data":"Rk1SACAyMAA="}],"provenance":{"legal_basis":"x"}}`))
	f.Add(uint8(1), []byte(`{"samples":null}`))
	paths := []string{"/v1/enrolments", "/v1/identify", "/v1/verify"}
	h := tn.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		req := httptest.NewRequest("POST", paths[int(which)%len(paths)], bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+roleTokens[RoleAdmin])
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.String())
		}
		if w.Code >= 400 {
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Code == "" {
				t.Fatalf("status %d without a JSON error code: %s", w.Code, w.Body.String())
			}
		}
		if w.Code != http.StatusCreated && w.Code != http.StatusOK && w.Code < 400 {
			t.Fatalf("unexpected status %d", w.Code)
		}
	})
}
