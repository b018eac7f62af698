package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// The API page (/v1/api.html) is node/openapi.json rendered for people by
// the node itself: no script, no third-party bundle, nothing fetched, so it
// opens offline and under a Content-Security-Policy that forbids scripts.
// It needs no credentials: it is the same text as the OpenAPI document in
// the public repository, holds nothing of the node's data, and a browser
// cannot send a bearer token.

var (
	apiPageOnce sync.Once
	apiPage     []byte
	apiPageErr  error
)

func (n *Node) handleAPIPage(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	apiPageOnce.Do(func() { apiPage, apiPageErr = renderAPIPage(openAPI) })
	if apiPageErr != nil {
		return apiPageErr
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(apiPage)
	return err
}

// oaDoc is the part of an OpenAPI 3.1 document the page shows.
type oaDoc struct {
	Info struct {
		Title, Version, Description string
		License                     struct{ Name string }
	}
	Servers []struct{ URL, Description string }
	Tags    []struct{ Name, Description string }
	Paths   map[string]map[string]json.RawMessage
	// Components.Schemas are kept raw, rendered by schemaHTML.
	Components struct {
		Schemas map[string]any
	}
}

type oaOp struct {
	OperationID string `json:"operationId"`
	Summary     string
	Description string
	Tags        []string
	Security    *[]map[string][]string
	Parameters  []oaParam
	RequestBody *struct {
		Content map[string]struct{ Schema any }
	} `json:"requestBody"`
	Responses map[string]struct {
		Ref         string `json:"$ref"`
		Description string
	}
}

type oaParam struct {
	Name, In, Description string
	Required              bool
	Schema                any
}

type pageOp struct {
	ID, Method, Path, Summary, Description string
	Public                                 bool
	Params                                 []oaParam
	Bodies                                 []pageBody
	Responses                              []pageResp
}

type pageBody struct {
	Media  string
	Schema template.HTML
}

type pageResp struct{ Code, Description string }

type pageTag struct {
	Name, Description string
	Ops               []pageOp
}

type pageSchema struct {
	Name string
	Body template.HTML
}

// methodOrder lists operations of one path in a reading order.
var methodOrder = []string{"get", "post", "put", "patch", "delete"}

func renderAPIPage(spec []byte) ([]byte, error) {
	var d oaDoc
	if err := json.Unmarshal(spec, &d); err != nil {
		return nil, fmt.Errorf("api page: openapi.json: %w", err)
	}
	tags := make([]pageTag, len(d.Tags))
	tagAt := map[string]int{}
	for i, t := range d.Tags {
		tags[i] = pageTag{Name: t.Name, Description: t.Description}
		tagAt[t.Name] = i
	}
	for _, p := range slices.Sorted(maps.Keys(d.Paths)) {
		item := d.Paths[p]
		var shared []oaParam
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("api page: %s parameters: %w", p, err)
			}
		}
		for _, m := range methodOrder {
			raw, ok := item[m]
			if !ok {
				continue
			}
			var op oaOp
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("api page: %s %s: %w", m, p, err)
			}
			po := pageOp{ID: op.OperationID, Method: strings.ToUpper(m), Path: p, Summary: op.Summary, Description: op.Description,
				Public: op.Security != nil && len(*op.Security) == 0, Params: append(slices.Clone(shared), op.Parameters...)}
			if op.RequestBody != nil {
				for _, media := range slices.Sorted(maps.Keys(op.RequestBody.Content)) {
					po.Bodies = append(po.Bodies, pageBody{Media: media, Schema: schemaHTML(op.RequestBody.Content[media].Schema)})
				}
			}
			for _, code := range slices.Sorted(maps.Keys(op.Responses)) {
				r := op.Responses[code]
				desc := r.Description
				if r.Ref != "" {
					desc = "error: {\"error\":{\"code\",\"message\"}}, see Error"
				}
				po.Responses = append(po.Responses, pageResp{Code: code, Description: desc})
			}
			i, ok := -1, false
			if len(op.Tags) > 0 {
				i, ok = tagAt[op.Tags[0]]
			}
			if !ok {
				tags = append(tags, pageTag{Name: "other"})
				i = len(tags) - 1
				tagAt["other"] = i
			}
			tags[i].Ops = append(tags[i].Ops, po)
		}
	}
	var schemas []pageSchema
	for _, name := range slices.Sorted(maps.Keys(d.Components.Schemas)) {
		schemas = append(schemas, pageSchema{Name: name, Body: schemaHTML(d.Components.Schemas[name])})
	}
	var buf bytes.Buffer
	err := apiPageTemplate.Execute(&buf, struct {
		Doc     oaDoc
		Tags    []pageTag
		Schemas []pageSchema
	}{d, tags, schemas})
	return buf.Bytes(), err
}

// schemaHTML renders a JSON Schema as a nested list: type, description,
// properties (required ones marked), items, enumerations, links for $ref.
func schemaHTML(s any) template.HTML {
	var b strings.Builder
	writeSchema(&b, s, 0)
	return template.HTML(b.String()) // every string in it went through html.EscapeString
}

func writeSchema(b *strings.Builder, s any, depth int) {
	m, ok := s.(map[string]any)
	if !ok || depth > 12 {
		return
	}
	esc := html.EscapeString
	if ref, ok := m["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		fmt.Fprintf(b, `<a href="#schema-%s">%s</a>`, esc(name), esc(name))
		return
	}
	var typ string
	switch t := m["type"].(type) {
	case string:
		typ = t
	case []any:
		var parts []string
		for _, x := range t {
			parts = append(parts, fmt.Sprint(x))
		}
		typ = strings.Join(parts, " or ")
	}
	if typ != "" {
		fmt.Fprintf(b, `<span class="type">%s</span>`, esc(typ))
	}
	for _, k := range []string{"format", "const", "minimum", "maximum", "maxLength", "maxItems", "pattern"} {
		if v, ok := m[k]; ok {
			fmt.Fprintf(b, ` <span class="kw">%s %s</span>`, esc(k), esc(fmt.Sprint(v)))
		}
	}
	if e, ok := m["enum"].([]any); ok {
		var parts []string
		for _, x := range e {
			parts = append(parts, fmt.Sprint(x))
		}
		fmt.Fprintf(b, ` <span class="kw">one of %s</span>`, esc(strings.Join(parts, ", ")))
	}
	if d, ok := m["description"].(string); ok {
		fmt.Fprintf(b, ` <span class="desc">%s</span>`, esc(d))
	}
	if items, ok := m["items"]; ok {
		b.WriteString(`<ul><li>items: `)
		writeSchema(b, items, depth+1)
		b.WriteString(`</li></ul>`)
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		if alts, ok := m[k].([]any); ok {
			fmt.Fprintf(b, `<ul><li>%s:<ul>`, k)
			for _, a := range alts {
				b.WriteString("<li>")
				writeSchema(b, a, depth+1)
				b.WriteString("</li>")
			}
			b.WriteString(`</ul></li></ul>`)
		}
	}
	props, _ := m["properties"].(map[string]any)
	if len(props) == 0 {
		return
	}
	required := map[string]bool{}
	if r, ok := m["required"].([]any); ok {
		for _, x := range r {
			required[fmt.Sprint(x)] = true
		}
	}
	b.WriteString("<ul>")
	for _, name := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(b, `<li><code>%s</code>`, esc(name))
		if required[name] {
			b.WriteString(` <span class="req">required</span>`)
		}
		b.WriteString(" ")
		writeSchema(b, props[name], depth+1)
		b.WriteString("</li>")
	}
	b.WriteString("</ul>")
}

var apiPageTemplate = template.Must(template.New("api").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Doc.Info.Title}} API</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 1.5rem;color:#1b1b1b}
nav{columns:2 18rem;font-size:14px;background:#f4f4f4;padding:.5rem 1rem}
nav a{display:block}
h2{border-bottom:2px solid #999;margin-top:2.5rem}
.op{border:1px solid #ccc;border-radius:4px;margin:1rem 0;padding:.5rem 1rem}
.op h3{margin:.2rem 0;font-size:16px;overflow-wrap:anywhere}
.m{display:inline-block;min-width:4.2rem;font-weight:bold}
.GET{color:#075}.POST{color:#036}.DELETE{color:#900}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
.type{color:#555;font-family:monospace}.kw{color:#666;font-size:13px}.req{color:#a00;font-size:12px}.desc{color:#222}
.public{background:#ffe;border:1px solid #cc9;font-size:12px;padding:0 .3rem}
code{overflow-wrap:anywhere}
</style></head><body>
<h1>{{.Doc.Info.Title}} <small>API version {{.Doc.Info.Version}}</small></h1>
<p>{{.Doc.Info.Description}}</p>
<p>The machine-readable document is <code>/v1/openapi.json</code> (any role's credentials). Licence: {{.Doc.Info.License.Name}}.</p>
{{range .Doc.Servers}}<p>Server: <code>{{.URL}}</code>: {{.Description}}</p>{{end}}
<nav>{{range .Tags}}<strong>{{.Name}}</strong>{{range .Ops}}<a href="#op-{{.ID}}">{{.Method}} {{.Path}}</a>{{end}}{{end}}<strong>schemas</strong>{{range .Schemas}}<a href="#schema-{{.Name}}">{{.Name}}</a>{{end}}</nav>
{{range .Tags}}<h2>{{.Name}}</h2><p>{{.Description}}</p>
{{range .Ops}}<section class="op" id="op-{{.ID}}">
<h3><span class="m {{.Method}}">{{.Method}}</span> <code>{{.Path}}</code> {{if .Public}}<span class="public">no credentials</span>{{end}}</h3>
<p><strong>{{.Summary}}</strong>. {{.Description}} <small>(operationId <code>{{.ID}}</code>)</small></p>
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>schema</th></tr>{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{range .Bodies}}<p>Request body <code>{{.Media}}</code>: {{.Schema}}</p>{{end}}
<table><tr><th>status</th><th>answer</th></tr>{{range .Responses}}<tr><td>{{.Code}}</td><td>{{.Description}}</td></tr>{{end}}</table>
</section>{{end}}{{end}}
<h2>Schemas</h2>
{{range .Schemas}}<section class="op" id="schema-{{.Name}}"><h3>{{.Name}}</h3>{{.Body}}</section>{{end}}
</body></html>
`))
