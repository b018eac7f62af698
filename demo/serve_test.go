package demo

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/node"
)

// TestDemoServe runs the demo with Serve and uses what it prints: each
// console answers at its URL, the GB examiner signs in with the printed
// token and confirms the waiting case through the console's form, and the
// US operator then receives the release.
func TestDemoServe(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{Out: t.TempDir(), People: 20, PartnerPeople: 40, Probes: 4, Seed: 3, Out2: pw, Serve: true})
		pw.CloseWithError(err)
		done <- err
	}()
	urls, tokens, cases := map[string]string{}, map[string]string{}, map[string]string{}
	urlLine := regexp.MustCompile(`^  ([A-Z]{2})  (http://\S+/console/)$`)
	tokLine := regexp.MustCompile(`^      ([A-Z]{2}-[a-z0-9-]+)\s+(\S+)$`)
	caseLine := regexp.MustCompile(`^  at ([A-Z]{2}): case ([0-9a-f]+);`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		l := sc.Text()
		if m := urlLine.FindStringSubmatch(l); m != nil {
			urls[m[1]] = m[2]
		} else if m := tokLine.FindStringSubmatch(l); m != nil {
			tokens[m[1]] = m[2]
		} else if m := caseLine.FindStringSubmatch(l); m != nil {
			cases[m[1]] = m[2]
		}
		if strings.HasPrefix(l, "Then, as US-operator") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if len(urls) != 4 || len(tokens) != 20 || cases["GB"] == "" {
		t.Fatalf("printed %d console URLs, %d tokens, cases %v", len(urls), len(tokens), cases)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get := func(u string) string {
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
		return string(b)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	post := func(u string, form url.Values) {
		resp, err := hc.PostForm(u, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d", u, resp.StatusCode)
		}
	}
	for s, u := range urls {
		if !strings.Contains(get(u+"signin"), `id="token"`) {
			t.Errorf("%s console: no sign-in form", s)
		}
	}
	gb := urls["GB"]
	tok := csrf.FindStringSubmatch(get(gb + "signin"))[1]
	post(gb+"signin", url.Values{"csrf": {tok}, "token": {tokens["GB-examiner"]}}) // redirected to the queue
	page := get(gb + "examiner/cases/" + cases["GB"])
	cand := regexp.MustCompile(`name="candidate" value="([^"]+)"`).FindStringSubmatch(page)
	if cand == nil {
		t.Fatalf("case page has no candidate to confirm")
	}
	post(gb+"examiner/cases/"+cases["GB"], url.Values{"csrf": {csrf.FindStringSubmatch(page)[1]}, "decision": {"confirm"}, "candidate": {cand[1]}})
	us := node.NewClient(strings.TrimSuffix(urls["US"], "/console/"), tokens["US-operator"], nil)
	st, err := us.Disclosure(ctx, "GB", cases["GB"])
	if err != nil || st.Release == nil || st.Release.Fields["names"] == "" {
		t.Fatalf("the US operator's status of the confirmed case: %+v %v", st, err)
	}
	t.Logf("released to the US after the console confirmation: %v", st.Release.Fields)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
