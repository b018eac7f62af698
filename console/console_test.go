package console

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Every console response forbids scripts, framing and caching.
func TestSecurityHeaders(t *testing.T) {
	x := newPair(t, false)
	b := newBrowserless(t, x.gb)
	for _, path := range []string{"/console/signin", "/console/nowhere", "/console/static/console.css"} {
		_, h, _ := b.get(path)
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
	}
	// The API keeps its JSON errors beside the console.
	st, h, _ := b.get("/v1/nowhere")
	if st != 404 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("API 404: %d %s", st, h.Get("Content-Type"))
	}
}

// Sign-in: a wrong token or a form without its CSRF token is refused; a
// good token gives an HttpOnly, SameSite=Strict session cookie limited to
// the console; POSTs need the session's CSRF token; roles decide pages.
func TestSigninSessionsAndRoles(t *testing.T) {
	x := newPair(t, false)
	b := newBrowserless(t, x.gb)
	if st, h, _ := b.get("/console/examiner"); st != http.StatusSeeOther || h.Get("Location") != "/console/signin" {
		t.Fatalf("signed out: %d %s", st, h.Get("Location"))
	}
	if st, _, _ := b.post("/console/signin", url.Values{"token": {x.gb.Tokens["GB-examiner"]}}); st != http.StatusForbidden {
		t.Errorf("sign-in without the form's CSRF token: %d", st)
	}
	_, _, body := b.get("/console/signin")
	tok := csrfField.FindStringSubmatch(body)[1]
	if st, _, _ := b.post("/console/signin", url.Values{"csrf": {tok}, "token": {"not-a-token"}}); st != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", st)
	}
	_, _, body = b.get("/console/signin")
	tok = csrfField.FindStringSubmatch(body)[1]
	st, h, _ := b.post("/console/signin", url.Values{"csrf": {tok}, "token": {x.gb.Tokens["GB-operator"]}})
	if st != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", st)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != Prefix {
		t.Fatalf("session cookie %+v", cookie)
	}
	if st, _, _ := b.get("/console/operator"); st != 200 {
		t.Errorf("operator screen: %d", st)
	}
	for _, path := range []string{"/console/examiner", "/console/examiner/cases/x", "/console/auditor"} {
		if st, _, _ := b.get(path); st != http.StatusForbidden {
			t.Errorf("operator opened %s: %d", path, st)
		}
	}
	if st, _, _ := b.post("/console/operator/disclosure-status", url.Values{"partner": {"US"}, "case": {"x"}}); st != http.StatusForbidden {
		t.Errorf("POST without the session's CSRF token: %d", st)
	}
	if st, _, _ := b.post("/console/signout", url.Values{"csrf": {"0000"}}); st != http.StatusForbidden {
		t.Errorf("sign-out with a wrong CSRF token: %d", st)
	}
}

// An examiner's decision through the console is the API's: the case
// leaves the queue, one examiner leaf is written, and the requester gets
// exactly the fields it asked for that the agreement allows.
func TestExaminerDecisionReleases(t *testing.T) {
	x := newPair(t, false)
	id := x.openCase(t, 7)
	b := newBrowserless(t, x.gb)
	csrf := b.signin(x.gb.Tokens["GB-examiner"])
	st, _, body := b.get("/console/examiner")
	if st != 200 || !strings.Contains(body, id) {
		t.Fatalf("queue: %d, case %s listed: %v", st, id, strings.Contains(body, id))
	}
	st, h, body := b.get("/console/examiner/cases/" + id)
	if st != 200 || !strings.Contains(body, "GB-007") || !strings.Contains(body, `class="m ending paired"`) {
		t.Fatalf("case view: %d", st)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("case view cached: %q", h.Get("Cache-Control"))
	}
	if st, _, _ := b.post("/console/examiner/cases/"+id, url.Values{"csrf": {csrf}, "decision": {"reject"}}); st != http.StatusConflict {
		t.Errorf("a rejection without a reason: %d", st)
	}
	before := x.gb.Log.Size()
	if st, h, _ := b.post("/console/examiner/cases/"+id, url.Values{"csrf": {csrf}, "decision": {"confirm"}, "candidate": {"GB-007"}}); st != http.StatusSeeOther {
		t.Fatalf("confirm: %d %v", st, h)
	}
	if got := x.gb.Log.Size() - before; got != 1 {
		t.Errorf("%d leaves for one decision, want 1", got)
	}
	ds, err := x.us.Operator.Disclosure(context.Background(), "GB", id)
	if err != nil || ds.Release == nil {
		t.Fatalf("US status: %+v %v", ds, err)
	}
	if got := slices.Sorted(maps.Keys(ds.Release.Fields)); !slices.Equal(got, slices.Sorted(slices.Values(asked))) {
		t.Errorf("released fields %v, want %v", got, asked)
	}
	if ds.Release.Fields["names"] != "Gbperson 7" {
		t.Errorf("released %v", ds.Release.Fields)
	}
}

// Four eyes through the console: the first examiner's confirmation
// releases nothing and takes the confirm buttons away from them; the
// second examiner's confirmation releases.
func TestFourEyesInConsole(t *testing.T) {
	x := newPair(t, true)
	id := x.openCase(t, 5)
	first, second := newBrowserless(t, x.gb), newBrowserless(t, x.gb)
	c1 := first.signin(x.gb.Tokens["GB-examiner"])
	c2 := second.signin(x.gb.Tokens["GB-examiner-2"])
	confirm := url.Values{"decision": {"confirm"}, "candidate": {"GB-005"}}
	confirm.Set("csrf", c1)
	if st, _, _ := first.post("/console/examiner/cases/"+id, confirm); st != http.StatusSeeOther {
		t.Fatalf("first confirmation: %d", st)
	}
	if ds, err := x.us.Operator.Disclosure(context.Background(), "GB", id); err != nil || ds.Release != nil {
		t.Fatalf("released after one confirmation: %+v %v", ds, err)
	}
	if _, _, body := second.get("/console/examiner"); !strings.Contains(body, "confirmed by GB-examiner; a second examiner must confirm") {
		t.Errorf("queue does not show the first confirmation")
	}
	if _, _, body := first.get("/console/examiner/cases/" + id); strings.Contains(body, `value="confirm"`) {
		t.Errorf("the first examiner is offered to confirm again")
	}
	if st, _, body := first.post("/console/examiner/cases/"+id, confirm); st != http.StatusConflict || !strings.Contains(body, "four eyes") {
		t.Errorf("the first examiner confirmed twice: %d", st)
	}
	confirm.Set("csrf", c2)
	if st, _, _ := second.post("/console/examiner/cases/"+id, confirm); st != http.StatusSeeOther {
		t.Fatalf("second confirmation: %d", st)
	}
	ds, err := x.us.Operator.Disclosure(context.Background(), "GB", id)
	if err != nil || ds.Release == nil || ds.Release.Fields["names"] != "Gbperson 5" {
		t.Fatalf("after two confirmations: %+v %v", ds, err)
	}
}
