package node

import (
	"encoding/json"
	"fmt"
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

// TestOpenAPIConventions checks in Go what ./test.sh's linters (Redocly's
// recommended rules, Spectral's spectral:oas) would flag, so that a new
// operation added without them fails here, in the node's own tests: every
// operation has a unique operationId, a description and a declared tag;
// every array schema has items; every required property is defined.
func TestOpenAPIConventions(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"servers", "tags"} {
		if l, _ := doc[k].([]any); len(l) == 0 {
			t.Errorf("no %s", k)
		}
	}
	info, _ := doc["info"].(map[string]any)
	if info["license"] == nil || info["contact"] == nil {
		t.Errorf("info lacks license or contact")
	}
	tags := map[string]bool{}
	for _, tg := range doc["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	ids := map[string]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		for m, v := range item.(map[string]any) {
			if m == "parameters" {
				continue
			}
			op := v.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s %s: operationId %q missing or repeated", m, path, id)
			}
			ids[id] = true
			if d, _ := op["description"].(string); d == "" {
				t.Errorf("%s %s: no description", m, path)
			}
			opTags, _ := op["tags"].([]any)
			if len(opTags) == 0 || !tags[fmt.Sprint(opTags[0])] {
				t.Errorf("%s %s: no declared tag", m, path)
			}
			has4xx := false
			for code := range op["responses"].(map[string]any) {
				has4xx = has4xx || strings.HasPrefix(code, "4")
			}
			if !has4xx {
				t.Errorf("%s %s: no 4XX response", m, path)
			}
		}
	}
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if typ, ok := x["type"]; ok && strings.Contains(fmt.Sprint(typ), "array") && x["items"] == nil {
				t.Errorf("%s: array without items", at)
			}
			if req, ok := x["required"].([]any); ok {
				props, _ := x["properties"].(map[string]any)
				for _, r := range req {
					if _, ok := props[fmt.Sprint(r)]; !ok && x["$ref"] == nil {
						t.Errorf("%s: required property %v is not defined", at, r)
					}
				}
			}
			for k, e := range x {
				walk(at+"/"+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", at, i), e)
			}
		}
	}
	walk("#", doc)
}
