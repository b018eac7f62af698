package node

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/exchange"
)

// enableTestExchange turns on tn's exchange as US under an agreement with
// GB, with certificates valid from notBefore for validity and a log in a
// temporary directory; it returns US's credentials and the log.
func enableTestExchange(t *testing.T, tn *testNode, notBefore time.Time, validity time.Duration) (*exchange.NodeCredentials, *audit.Log) {
	t.Helper()
	var creds [2]*exchange.NodeCredentials
	for i, s := range []string{"US", "GB"} {
		ca, err := exchange.NewCA(s, notBefore, validity)
		if err != nil {
			t.Fatal(err)
		}
		if creds[i], err = ca.IssueNode(s+"-node", []string{"127.0.0.1"}, notBefore, validity); err != nil {
			t.Fatal(err)
		}
	}
	lg, err := audit.Open(filepath.Join(t.TempDir(), "audit"), creds[0].LogSigner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	a := exchange.DefaultAgreement("US-GB", creds[0].Party("https://127.0.0.1:1"), creds[1].Party("https://127.0.0.1:2"))
	if err := tn.EnableExchange(ExchangeSetup{Credentials: creds[0], Agreements: []*exchange.Agreement{a}, Log: lg}); err != nil {
		t.Fatal(err)
	}
	return creds[0], lg
}

// TestCertificateExpiryWarned: a node whose exchange certificates expire
// within 30 days says so in its log, and /metrics gives the seconds left on
// each certificate.
func TestCertificateExpiryWarned(t *testing.T) {
	tn := newTestNode(t, nil)
	enableTestExchange(t, tn, time.Now().Add(-time.Hour), 10*24*time.Hour)
	if n := strings.Count(tn.log.String(), "exchange certificate expires soon"); n != 4 {
		t.Errorf("%d expiry warnings logged, want 4 (tls, sign, ca, partner_ca)", n)
	}
	st, body := tn.scrape(t)
	if st != 200 || !strings.Contains(body, `ebsp_exchange_certificate_expiry_seconds{certificate="partner_ca:US-GB"}`) ||
		!strings.Contains(body, `ebsp_exchange_certificate_expiry_seconds{certificate="tls"}`) {
		t.Errorf("/metrics: %d, no expiry gauges:\n%.2000s", st, body)
	}
}

// TestCertificateExpiryWindow: the warning window is configurable; as the
// clock nears expiry the node warns from its periodic sweep (Retain), once
// a day per certificate, not at every sweep; a revocation list past its
// next update is warned about too, and /metrics gives the seconds to each
// list's next update, computed at the scrape.
func TestCertificateExpiryWindow(t *testing.T) {
	tn := newTestNode(t, nil)
	start := time.Now()
	clock := start
	now := func() time.Time { return clock }
	var creds [2]*exchange.NodeCredentials
	var usCA *exchange.CA
	for i, s := range []string{"US", "GB"} {
		ca, err := exchange.NewCA(s, start.Add(-time.Hour), 10*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if creds[i], err = ca.IssueNode(s+"-node", []string{"127.0.0.1"}, start.Add(-time.Hour), 10*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if s == "US" {
			usCA = ca
		}
	}
	crlFile := filepath.Join(t.TempDir(), "us.crl.pem")
	b, _, err := usCA.Revoke(nil, nil, start, 2*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(crlFile, b, 0o644)
	rv, err := exchange.LoadRevocations([]string{crlFile}, []*x509.Certificate{usCA.Cert})
	if err != nil {
		t.Fatal(err)
	}
	lg, err := audit.Open(filepath.Join(t.TempDir(), "audit"), creds[0].LogSigner)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	a := exchange.DefaultAgreement("US-GB", creds[0].Party("https://127.0.0.1:1"), creds[1].Party("https://127.0.0.1:2"))
	if err := tn.EnableExchange(ExchangeSetup{Credentials: creds[0], Agreements: []*exchange.Agreement{a}, Log: lg, Now: now,
		Revocations: rv, ExpiryWarning: 5 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	warnings := func() int { return strings.Count(tn.log.String(), "exchange certificate expires soon") }
	if n := warnings(); n != 0 {
		t.Fatalf("%d warnings 10 days before expiry with a 5-day window", n)
	}
	clock = start.Add(6 * 24 * time.Hour)
	for range 3 {
		if _, err := tn.Retain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := warnings(); n != 4 {
		t.Fatalf("%d warnings after three sweeps 4 days before expiry, want 4 (one per certificate)", n)
	}
	if !strings.Contains(tn.log.String(), "revocation list is past its next update") {
		t.Error("no warning for the revocation list past its next update")
	}
	clock = clock.Add(25 * time.Hour)
	tn.Retain(context.Background())
	if n := warnings(); n != 8 {
		t.Fatalf("%d warnings a day later, want 8", n)
	}
	_, text := tn.scrape(t)
	body := []byte(text)
	// 10 days of validity from start-1h, scraped at start+7d+1h: about 3 days left.
	want := regexp.MustCompile(`ebsp_exchange_certificate_expiry_seconds\{certificate="sign"\} ([0-9.e+]+)`)
	if m := want.FindSubmatch(body); m == nil {
		t.Errorf("no sign gauge in:\n%.3000s", body)
	} else if v, _ := strconv.ParseFloat(string(m[1]), 64); v < 252000-60 || v > 252000 {
		t.Errorf("sign gauge %v s, want 252000 (3 days - 1 h)", v)
	}
	if !strings.Contains(string(body), `ebsp_exchange_revocation_list_next_update_seconds{file="us.crl.pem"} -`) {
		t.Errorf("no negative next-update gauge for the revocation list:\n%.3000s", body)
	}
}

// scrape reads /metrics as the auditor.
func (tn *testNode) scrape(t *testing.T) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", tn.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+roleTokens[RoleAuditor])
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	observe("GET", "/metrics", resp.StatusCode)
	return resp.StatusCode, string(b)
}
