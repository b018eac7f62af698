package node

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestAPIPage: /v1/api.html needs no credentials, forbids scripts, and
// shows every operation and schema of the OpenAPI document.
func TestAPIPage(t *testing.T) {
	tn := newTestNode(t, nil)
	resp, err := tn.srv.Client().Get(tn.srv.URL + "/v1/api.html")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	observe("GET", "/v1/api.html", resp.StatusCode)
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(strings.ToLower(page), "<script") || strings.Contains(page, "http://") && !strings.Contains(page, "http://127.0.0.1:8080") {
		t.Errorf("the page has a script or fetches something")
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage
		Components struct{ Schemas map[string]json.RawMessage }
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	ops := 0
	for path, item := range doc.Paths {
		for m, raw := range item {
			if m == "parameters" {
				continue
			}
			var op struct {
				OperationID string `json:"operationId"`
			}
			json.Unmarshal(raw, &op)
			ops++
			if !strings.Contains(page, `id="op-`+op.OperationID+`"`) || !strings.Contains(page, "<code>"+path+"</code>") {
				t.Errorf("page lacks %s %s (%s)", m, path, op.OperationID)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("page lacks schema %s", name)
		}
	}
	if ops < 15 {
		t.Errorf("only %d operations in the document", ops)
	}
	// A schema's properties and their descriptions are shown, escaped.
	if !strings.Contains(page, `<code>candidates</code>`) || strings.Contains(page, `{"error":{"code","message"}}`) {
		t.Errorf("schema rendering or escaping is off")
	}
}
