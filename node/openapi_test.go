package node

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	Responses map[string]json.RawMessage `json:"responses"`
}

func loadDoc(t testing.TB) openAPIDoc {
	var d openAPIDoc
	if err := json.Unmarshal(OpenAPI(), &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return d
}

// TestOpenAPIMatchesRoutes checks that the document and the handler table
// name the same operations, and that the error code enum is the code table.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	d := loadDoc(t)
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q", d.OpenAPI)
	}
	var inDoc, inCode []string
	for p, ops := range d.Paths {
		for m := range ops {
			if m != "parameters" {
				inDoc = append(inDoc, strings.ToUpper(m)+" "+p)
			}
		}
	}
	for _, rt := range routes {
		inCode = append(inCode, rt.method+" "+docPath(rt.path))
	}
	sort.Strings(inDoc)
	sort.Strings(inCode)
	if !slices.Equal(inDoc, inCode) {
		t.Errorf("document operations %v\nhandler routes     %v", inDoc, inCode)
	}
	var schema struct {
		Properties struct {
			Error struct {
				Properties struct {
					Code struct {
						Enum []string `json:"enum"`
					} `json:"code"`
				} `json:"properties"`
			} `json:"error"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(d.Components.Schemas["Error"], &schema); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for c := range codeStatus {
		codes = append(codes, c)
	}
	enum := schema.Properties.Error.Properties.Code.Enum
	sort.Strings(codes)
	sort.Strings(enum)
	if !slices.Equal(codes, enum) {
		t.Errorf("error code enum %v\ncode table      %v", enum, codes)
	}
}

// docPath is a route's path as the document names it: a wildcard matching
// the rest of the path, {name...}, is the parameter {name} there.
func docPath(p string) string { return strings.ReplaceAll(p, "...}", "}") }

// TestMain runs the tests, then checks that every status a route answered
// during them is documented for that operation: the document is tested
// against what the handlers really do.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkObserved(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: openapi.json disagrees with the handlers:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func checkObserved() error {
	var d openAPIDoc
	if err := json.Unmarshal(OpenAPI(), &d); err != nil {
		return err
	}
	var problems []string
	observed.Range(func(k, v any) bool {
		method, path, _ := strings.Cut(k.(string), " ")
		ops, ok := d.Paths[docPath(path)]
		if !ok {
			return true // unknown routes: 404/405 are global
		}
		raw, ok := ops[strings.ToLower(method)]
		if !ok {
			return true
		}
		var op operation
		if err := json.Unmarshal(raw, &op); err != nil {
			problems = append(problems, k.(string)+": "+err.Error())
			return true
		}
		v.(*sync.Map).Range(func(s, _ any) bool {
			st := strconv.Itoa(s.(int))
			if _, ok := op.Responses[st]; !ok {
				problems = append(problems, fmt.Sprintf("%s answered %s, not documented", k, st))
			}
			return true
		})
		return true
	})
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
