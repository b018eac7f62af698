package node

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/store/sqlite"
)

// TestMutualTLSRoles authenticates clients by certificate: a certificate
// from the configured CA whose common name has roles gets them; one from
// another CA, or with an unknown name, gets nothing.
func TestMutualTLSRoles(t *testing.T) {
	now := time.Now().Add(-time.Hour)
	ca, err := exchange.NewCA("US", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := exchange.NewCA("FR", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(c *exchange.CA, name string) tls.Certificate {
		nc, err := c.IssueNode(name, []string{"127.0.0.1"}, now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return nc.TLS
	}
	server := issue(ca, "node")
	cfg := &Config{State: "US", DataDir: t.TempDir(), TLS: &TLSConfig{CertFile: "-", KeyFile: "-",
		ClientRoles: map[string][]Role{"border-post-17": {RoleSearcher}, "auditor-1": {RoleAuditor}}}}
	st, err := sqlite.Open(filepath.Join(cfg.DataDir, "ebsp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := New(cfg, st, engine.Defaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.LoadGallery(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(n.Handler())
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{server}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	defer srv.Close()

	get := func(cert *tls.Certificate, path string) (int, error) {
		tc := &tls.Config{RootCAs: pool}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	searcher, auditor, stranger, foreign := issue(ca, "border-post-17"), issue(ca, "auditor-1"), issue(ca, "nobody"), issue(other, "border-post-17")
	for _, c := range []struct {
		name string
		cert *tls.Certificate
		path string
		want int
	}{
		{"searcher reads the API document", &searcher, "/v1/openapi.json", 200},
		{"searcher may not read identities", &searcher, "/v1/identities/X", 403},
		{"searcher may not read metrics", &searcher, "/metrics", 403},
		{"auditor reads metrics", &auditor, "/metrics", 200},
		{"unknown common name", &stranger, "/v1/openapi.json", 401},
		{"no certificate", nil, "/v1/openapi.json", 401},
		// Another state's CA: the client has no certificate the server's
		// CA list accepts, so it is not authenticated (or the handshake
		// fails).
		{"foreign CA", &foreign, "/v1/openapi.json", 401},
	} {
		got, err := get(c.cert, c.path)
		if c.name == "foreign CA" && err != nil {
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %d %v, want %d", c.name, got, err, c.want)
		}
	}
}
