package console

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store/sqlite"
)

// Sign-in by client certificate on a mutual-TLS node: the sign-in page
// offers the certificate whose name has roles, the session cookie is
// Secure, and the session holds only with that certificate.
func TestCertificateSignin(t *testing.T) {
	now := time.Now().Add(-time.Hour)
	ca, err := exchange.NewCA("US", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(name string) tls.Certificate {
		nc, err := ca.IssueNode(name, []string{"127.0.0.1"}, now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return nc.TLS
	}
	cfg := &node.Config{State: "US", DataDir: t.TempDir(), TLS: &node.TLSConfig{CertFile: "-", KeyFile: "-",
		ClientRoles: map[string][]node.Role{"auditor-1": {node.RoleAuditor}, "post-17": {node.RoleSearcher}}}}
	st, err := sqlite.Open(filepath.Join(cfg.DataDir, "ebsp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := node.New(cfg, st, engine.Defaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	n.Mount(Prefix, c)
	srv := httptest.NewUnstartedServer(n.Handler())
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{issue("node")}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	defer srv.Close()
	client := func(cert tls.Certificate, jar http.CookieJar) *browserless {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}
		return &browserless{t: t, base: srv.URL, c: &http.Client{Transport: tr, Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	}
	jar, _ := cookiejar.New(nil)
	b := client(issue("auditor-1"), jar)
	_, _, body := b.get("/console/signin")
	if !strings.Contains(body, "auditor-1") || !strings.Contains(body, `value="certificate"`) {
		t.Fatal("the sign-in page does not offer the certificate")
	}
	tok := csrfField.FindStringSubmatch(body)[1]
	st2, h, _ := b.post("/console/signin", url.Values{"csrf": {tok}, "method": {"certificate"}})
	if st2 != http.StatusSeeOther {
		t.Fatalf("certificate sign-in: %d", st2)
	}
	var secure bool
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			secure = ck.Secure
		}
	}
	if !secure {
		t.Error("the session cookie over TLS is not Secure")
	}
	if st, _, body := b.get("/console/auditor"); st != 200 || !strings.Contains(body, "cert:auditor-1") {
		t.Errorf("the auditor's screen: %d", st)
	}
	// The same cookie with another certificate is no session.
	if st, _, _ := client(issue("post-17"), jar).get("/console/auditor"); st != http.StatusSeeOther {
		t.Errorf("the session cookie worked with another certificate: %d", st)
	}
}
