// Package console is the web console a node serves under /console/: the
// screens of the people behind the partnership's safeguards, for whom the
// JSON API is the wrong tool.
//
//   - Examiners work through the queue of partners' step-2 requests and
//     decide each case with the probe and every candidate side by side, the
//     minutiae the matcher paired drawn on both (the human gate of
//     docs/exchange.md).
//   - Auditors (oversight bodies, data-protection authorities) read the
//     statistics per partner and period and the state of the transparency
//     log, and run the same verification as `ebsp audit verify`. Their
//     screens carry counts and hashes, never personal data.
//   - Operators search the node and, under an agreement, a partner.
//
// Pages are rendered on the server with html/template from files embedded
// in the binary, with one stylesheet and no script, so the console works
// offline and its Content-Security-Policy forbids every script. People
// sign in with the node's own credentials (a bearer token, or the client
// certificate of a mutual-TLS connection) and hold the roles the node's
// configuration gives them; every operation goes through the same Node
// methods as the API, so a decision taken here is the same audit leaf as
// one taken with curl.
package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ebsp/ebsp/node"
)

//go:embed templates/*.html static/*
var files embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// Options configure a Console.
type Options struct {
	Node *node.Node
	// Idle and Lifetime end a session after that long without a request,
	// and that long after sign-in (defaults 30 minutes and 8 hours).
	Idle, Lifetime time.Duration
	// MaxUpload bounds an uploaded search (default 32 MiB).
	MaxUpload int64
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger     // nil: discarded
}

// Console is the web console of one node. It is an http.Handler for
// paths under Prefix.
type Console struct {
	n        *node.Node
	o        Options
	now      func() time.Time
	log      *slog.Logger
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New makes the console of a node. Mount it with
// n.Mount(console.Prefix, c) before n.Handler.
func New(o Options) (*Console, error) {
	if o.Node == nil {
		return nil, errors.New("console: no node")
	}
	if o.Idle <= 0 {
		o.Idle = 30 * time.Minute
	}
	if o.Lifetime <= 0 {
		o.Lifetime = 8 * time.Hour
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = 32 << 20
	}
	c := &Console{n: o.Node, o: o, now: o.Now, log: o.Log, pages: map[string]*template.Template{}}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	s, err := newSessions(c.now, o.Idle, o.Lifetime)
	if err != nil {
		return nil, err
	}
	c.sessions = s
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", p)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", p, err)
		}
		c.pages[name] = t
	}
	c.routes()
	return c, nil
}

// routes registers every page with the role it needs; the role check and
// the CSRF check of POSTs are in page.
func (c *Console) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	m.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /console/{$}", c.home)
	m.HandleFunc("GET /console/signin", c.signinForm)
	m.HandleFunc("POST /console/signin", c.signin)
	m.HandleFunc("POST /console/signout", c.page(nil, c.signout))

	m.HandleFunc("GET /console/examiner", c.page(roles(node.RoleExaminer), c.queue))
	m.HandleFunc("GET /console/examiner/cases/{id}", c.page(roles(node.RoleExaminer), c.caseView))
	m.HandleFunc("POST /console/examiner/cases/{id}", c.page(roles(node.RoleExaminer), c.decide))

	m.HandleFunc("GET /console/auditor", c.page(roles(node.RoleAuditor), c.auditor))
	m.HandleFunc("POST /console/auditor/verify", c.page(roles(node.RoleAuditor), c.verify))
	m.HandleFunc("GET /console/auditor/statistics.csv", c.page(roles(node.RoleAuditor), c.statisticsCSV))

	m.HandleFunc("GET /console/operator", c.page(roles(node.RoleSearcher), c.operator))
	m.HandleFunc("POST /console/operator/identify", c.page(roles(node.RoleSearcher), c.identify))
	m.HandleFunc("POST /console/operator/partner-search", c.page(roles(node.RoleSearcher), c.partnerSearch))
	m.HandleFunc("POST /console/operator/disclosure", c.page(roles(node.RoleSearcher), c.disclosure))
	m.HandleFunc("POST /console/operator/disclosure-status", c.page(roles(node.RoleSearcher), c.disclosureStatus))
	c.mux = m
}

func roles(r ...node.Role) []node.Role { return r }

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No script at all; styles and images from the console itself (images
	// of fingerprints come inline as data: URLs in the examiner's SVG).
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	// Examiner screens show biometric data and operators' screens released
	// personal data: nothing of the console is kept by the browser.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer the browser sends
	// "Origin: null" on the console's own form posts, which checkPost refuses.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if _, pat := c.mux.Handler(r); pat == "" {
		c.render(w, r, http.StatusNotFound, "error", nil, view{Title: "Not found", Error: "There is no such page."})
		return
	}
	c.mux.ServeHTTP(w, r)
}

// view is what every page template receives.
type view struct {
	Title   string
	Who     *node.Principal
	CSRF    string
	Nav     []navItem
	Current string
	Error   string
	Notice  string
	Data    any
}

type navItem struct {
	Href, Label string
	Current     bool
}

// handler is a page behind sign-in: s is the caller's session.
type handler func(w http.ResponseWriter, r *http.Request, s *session) (int, string, view)

// page wraps a handler: it finds the session (else to the sign-in page),
// checks the role (403), the rate limit (429) and, on a POST, the CSRF
// token and origin (403), then renders the page the handler names.
func (c *Console) page(need []node.Role, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.sessions.get(r, c.n)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
				return
			}
			c.render(w, r, http.StatusUnauthorized, "error", nil, view{Title: "Signed out", Error: "Your session has ended. Sign in again."})
			return
		}
		if ok, wait := c.n.Allow(s.principal.Name); !ok {
			w.Header().Set("Retry-After", fmt.Sprint(wait))
			c.render(w, r, http.StatusTooManyRequests, "error", s, view{Title: "Too many requests", Error: fmt.Sprintf("Too many requests; try again in %d s.", wait)})
			return
		}
		if need != nil && !s.principal.Has(need...) {
			c.log.Warn("console: role refused", "principal", s.principal.Name, "path", r.URL.Path)
			c.render(w, r, http.StatusForbidden, "error", s, view{Title: "Forbidden", Error: fmt.Sprintf("This page needs the %s role, which %s does not hold.", need[0], s.principal.Name)})
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, c.o.MaxUpload)
			if err := checkPost(r, s.csrf); err != nil {
				c.render(w, r, http.StatusForbidden, "error", s, view{Title: "Forbidden", Error: "Refused: " + err.Error() + "."})
				return
			}
		}
		status, name, v := h(w, r, s)
		if name == "" {
			return // the handler wrote the response
		}
		c.render(w, r, status, name, s, v)
	}
}

// render executes a page into a buffer, so that a template error becomes
// a clean 500 page instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, s *session, v view) {
	if s != nil {
		v.Who, v.CSRF = &s.principal, s.csrf
		v.Nav = c.nav(s, r.URL.Path)
	}
	t := c.pages[name]
	var buf bytes.Buffer
	if t == nil {
		c.log.Error("console: no page template", "page", name)
		status, t = http.StatusInternalServerError, c.pages["error"]
		v = view{Title: "Error", Error: "internal error"}
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("console: rendering", "page", name, "err", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// nav lists the screens of the roles the principal holds.
func (c *Console) nav(s *session, path string) []navItem {
	var out []navItem
	for _, it := range []struct {
		href, label string
		role        node.Role
	}{
		{"/console/examiner", "Examiner queue", node.RoleExaminer},
		{"/console/auditor", "Oversight", node.RoleAuditor},
		{"/console/operator", "Search", node.RoleSearcher},
	} {
		if s.principal.Has(it.role) {
			out = append(out, navItem{Href: it.href, Label: it.label, Current: strings.HasPrefix(path, it.href)})
		}
	}
	return out
}

// home sends a signed-in person to their first screen.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	s := c.sessions.get(r, c.n)
	if s == nil {
		http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
		return
	}
	nav := c.nav(s, "")
	if len(nav) == 0 {
		c.render(w, r, http.StatusForbidden, "error", s, view{Title: "No screens", Error: "Your roles have no screen in the console."})
		return
	}
	http.Redirect(w, r, nav[0].Href, http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"duration": func(d time.Duration) string {
		if d < 0 {
			return "overdue by " + roundDuration(-d).String()
		}
		return roundDuration(d).String()
	},
	"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"percent": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"score":   func(f float64) string { return fmt.Sprintf("%.4f", f) },
	"join":    strings.Join,
	"inc":     func(i int) int { return i + 1 },
	// fingerFormat: what a partner search takes (fingerprints only).
	"fingerFormat": func(f string) bool {
		return f != "face-embedding" && f != "ansi-nist" && !strings.HasPrefix(f, "face:")
	},
}

// roundDuration keeps durations readable: seconds under an hour, minutes
// above.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Hour {
		return d.Round(time.Second)
	}
	return d.Round(time.Minute)
}
