package node

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/exchange"
)

// TestCertificateExpiryWarned: a node whose exchange certificates expire
// within 30 days says so in its log, and /metrics gives the seconds left on
// each certificate.
func TestCertificateExpiryWarned(t *testing.T) {
	tn := newTestNode(t, nil)
	now := time.Now().Add(-time.Hour)
	var creds [2]*exchange.NodeCredentials
	for i, s := range []string{"US", "GB"} {
		ca, err := exchange.NewCA(s, now, 10*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if creds[i], err = ca.IssueNode(s+"-node", []string{"127.0.0.1"}, now, 10*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	lg, err := audit.Open(filepath.Join(t.TempDir(), "audit"), creds[0].LogSigner)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	a := exchange.DefaultAgreement("US-GB", creds[0].Party("https://127.0.0.1:1"), creds[1].Party("https://127.0.0.1:2"))
	if err := tn.EnableExchange(ExchangeSetup{Credentials: creds[0], Agreements: []*exchange.Agreement{a}, Log: lg}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(tn.log.String(), "exchange certificate expires soon"); n != 4 {
		t.Errorf("%d expiry warnings logged, want 4 (tls, sign, ca, partner_ca)", n)
	}
	req, _ := http.NewRequest("GET", tn.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+roleTokens[RoleAuditor])
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	st, body := resp.StatusCode, string(b)
	observe("GET", "/metrics", st)
	if st != 200 || !strings.Contains(body, `ebsp_exchange_certificate_expiry_seconds{certificate="partner_ca:US-GB"}`) ||
		!strings.Contains(body, `ebsp_exchange_certificate_expiry_seconds{certificate="tls"}`) {
		t.Errorf("/metrics: %d, no expiry gauges:\n%.2000s", st, body)
	}
}
