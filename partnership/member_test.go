package partnership

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
)

// TestLoadExchangeErrors: a node's exchange settings are checked at start,
// and each mistake is named with the setting and the file.
func TestLoadExchangeErrors(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().Add(-time.Hour)
	creds := map[string]*exchange.NodeCredentials{}
	for _, s := range []string{"US", "GB", "DE"} {
		ca, err := exchange.NewCA(s, now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ca.IssueNode(s+"-node", []string{"127.0.0.1"}, now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Save(filepath.Join(dir, s)); err != nil {
			t.Fatal(err)
		}
		creds[s] = c
	}
	write := func(name string, a *exchange.Agreement) string {
		b, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("us-gb.json", exchange.DefaultAgreement("US-GB", creds["US"].Party("https://127.0.0.1:1"), creds["GB"].Party("https://127.0.0.1:2")))
	gbDE := write("gb-de.json", exchange.DefaultAgreement("GB-DE", creds["GB"].Party("https://127.0.0.1:2"), creds["DE"].Party("https://127.0.0.1:3")))
	noEndpoint := write("us-de.json", exchange.DefaultAgreement("US-DE", creds["US"].Party("https://127.0.0.1:1"), creds["DE"].Party("")))
	other := exchange.DefaultAgreement("US-GB-2", creds["US"].Party("https://127.0.0.1:1"), creds["GB"].Party("https://127.0.0.1:2"))
	other.Parties[0].LogKey = creds["DE"].LogKey
	wrongKey := write("us-gb-2.json", other)

	for _, c := range []struct {
		state, creds string
		agreements   []string
		want         string
	}{
		{"USA", "US", []string{good}, ""},
		{"US", "US", []string{good}, ""},
		{"USA", "missing", []string{good}, "exchange.credentials " + filepath.Join(dir, "missing")},
		{"GBR", "US", []string{good}, "issued to state US, but this node's state is GBR"},
		{"USA", "US", []string{filepath.Join(dir, "none.json")}, "exchange.agreements[0] " + filepath.Join(dir, "none.json")},
		{"USA", "US", []string{good, good}, "agreement US-GB is also in " + good},
		{"USA", "US", []string{gbDE}, "agreement GB-DE has no party of state US"},
		{"USA", "US", []string{noEndpoint}, "gives no endpoint for the partner DE"},
		{"USA", "US", []string{wrongKey}, "another log key for US"},
	} {
		cfg := &node.Config{State: c.state, Exchange: &node.ExchangeConfig{Listen: "127.0.0.1:0", Credentials: filepath.Join(dir, c.creds), Agreements: c.agreements}}
		_, ags, err := LoadExchange(cfg)
		switch {
		case c.want == "" && (err != nil || len(ags) != len(c.agreements)):
			t.Errorf("%+v: %v", c, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: %v, want an error with %q", c, err, c.want)
		}
	}
}

// TestLoadMemberOptionsRevocationLists: revocation lists are checked at
// start: each must be signed by the CA of this node or of a partner, and
// a mistake names the setting and the file.
func TestLoadMemberOptionsRevocationLists(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().Add(-time.Hour)
	cas := map[string]*exchange.CA{}
	creds := map[string]*exchange.NodeCredentials{}
	crl := map[string]string{}
	for _, s := range []string{"US", "GB", "DE"} {
		ca, err := exchange.NewCA(s, now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if creds[s], err = ca.IssueNode(s+"-node", []string{"127.0.0.1"}, now, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		cas[s] = ca
		b, _, err := ca.Revoke(nil, nil, time.Now(), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		crl[s] = filepath.Join(dir, s+".crl.pem")
		if err := os.WriteFile(crl[s], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ags := []*exchange.Agreement{exchange.DefaultAgreement("US-GB", creds["US"].Party("https://127.0.0.1:1"), creds["GB"].Party("https://127.0.0.1:2"))}
	if err := ags[0].Validate(); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a CRL"), 0o644)
	for _, c := range []struct {
		lists []string
		want  string
	}{
		{nil, ""},
		{[]string{crl["US"], crl["GB"]}, ""},
		{[]string{crl["GB"], crl["DE"]}, "exchange.revocation_lists[1] " + crl["DE"]},
		{[]string{garbage}, "exchange.revocation_lists[0] " + garbage},
		{[]string{filepath.Join(dir, "missing.pem")}, "exchange.revocation_lists[0] " + filepath.Join(dir, "missing.pem")},
	} {
		cfg := &node.Config{State: "US", Exchange: &node.ExchangeConfig{RevocationLists: c.lists, ExpiryWarningDays: 10}}
		o, err := LoadMemberOptions(cfg, creds["US"], ags)
		switch {
		case c.want == "" && (err != nil || (o.Revocations == nil) != (len(c.lists) == 0) || o.ExpiryWarning != 240*time.Hour):
			t.Errorf("%v: %+v %v", c.lists, o, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: %v, want an error with %q", c.lists, err, c.want)
		}
	}
}
