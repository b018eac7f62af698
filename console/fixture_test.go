package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"

	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/store"
)

// pair is a running partnership of a US and a GB node (real stores,
// galleries, matcher and exchange over mutual TLS on loopback), each
// serving its console, with 20 people enrolled at GB.
type pair struct {
	p      *partnership.Partnership
	us, gb *partnership.Member
}

func newPair(t testing.TB, fourEyes bool) *pair {
	t.Helper()
	ctx := context.Background()
	p, err := partnership.Start(ctx, partnership.Options{Dir: t.TempDir(), Hub: "US", Partners: []string{"GB"},
		Agreement: func(a *exchange.Agreement) { a.FourEyes = fourEyes }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	for _, m := range p.Members {
		c, err := New(Options{Node: m.Node})
		if err != nil {
			t.Fatal(err)
		}
		m.Node.Mount(Prefix, c)
	}
	x := &pair{p: p, us: p.Members["US"], gb: p.Members["GB"]}
	for i := range 20 {
		_, _, err := partnership.EnrolRetaking(ctx, x.gb.Operator, &node.EnrolRequest{
			Identity: node.IdentityInput{ID: fmt.Sprintf("GB-%03d", i), Names: []string{fmt.Sprintf("Gbperson %d", i)},
				DateOfBirth: "1990-01-02", Nationality: []string{"GBR"}, CaseRef: fmt.Sprintf("GB-CASE-%d", i)},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: personSamples(t, i, 1),
			Flags: []node.FlagInput{{Category: "wanted"}}}, func(r int) ([]node.SampleInput, error) {
			return personSamples(t, i, partnership.RetakeImpression(1, r)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func personSamples(t testing.TB, p int, k uint64) []node.SampleInput {
	s, err := partnership.SyntheticSamples(99, p, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asked are the fields the US asks for in the tests: three of the four on
// GB's allow-list.
var asked = []string{"names", "date_of_birth", "case_reference"}

// openCase has the US search GB for person p (step 1) and ask for the
// agreed data (step 2); it returns GB's case id.
func (x *pair) openCase(t testing.TB, person int) string {
	t.Helper()
	ctx := context.Background()
	res, err := x.us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
		LegalBasis: "test", Officer: "officer-1", Samples: personSamples(t, person, 2)})
	if err != nil || res.Outcome != "hit" {
		t.Fatalf("step 1 for person %d: %+v %v", person, res, err)
	}
	dc, err := x.us.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference,
		Officer: "officer-1", Fields: asked})
	if err != nil {
		t.Fatal(err)
	}
	return dc.Case
}

// browserless is an HTTP client with a cookie jar that signs in through
// the form, as a browser would.
type browserless struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newBrowserless(t testing.TB, m *partnership.Member) *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{t: t, base: m.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// get returns the status, headers and body of a page.
func (b *browserless) get(path string) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header, readAll(b.t, resp)
}

func (b *browserless) post(path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header, readAll(b.t, resp)
}

func readAll(t testing.TB, resp *http.Response) string {
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// signin signs in with a token and returns the session's CSRF token.
func (b *browserless) signin(token string) string {
	b.t.Helper()
	_, _, body := b.get("/console/signin")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatal("sign-in form without a CSRF token")
	}
	st, _, _ := b.post("/console/signin", url.Values{"csrf": {m[1]}, "method": {"token"}, "token": {token}})
	if st != http.StatusSeeOther {
		b.t.Fatalf("sign-in: status %d", st)
	}
	_, _, body = b.get("/console/operator")
	if m = csrfField.FindStringSubmatch(body); m == nil {
		_, _, body = b.get("/console/examiner")
		if m = csrfField.FindStringSubmatch(body); m == nil {
			_, _, body = b.get("/console/auditor")
			m = csrfField.FindStringSubmatch(body)
		}
	}
	if m == nil {
		b.t.Fatal("no page with the session's CSRF token")
	}
	return m[1]
}
