package main

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/exchange"
)

func TestPKICommand(t *testing.T) {
	dir := t.TempDir()
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	stdout := os.Stdout
	os.Stdout = devnull
	defer func() { os.Stdout = stdout }()
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	for _, args := range [][]string{
		{"init", "--state", "US", "--out", p("us-ca")},
		{"init", "--state", "GB", "--out", p("gb-ca")},
		{"node", "--ca", p("us-ca"), "--name", "us-node", "--out", p("us-node")},
		{"node", "--ca", p("gb-ca"), "--name", "gb-node", "--host", "127.0.0.1", "--out", p("gb-node"), "--json"},
		{"agreement", "--id", "US-GB-T", "--a", p("us-node"), "--b", p("gb-node"), "--endpoint-b", "https://127.0.0.1:9", "--out", p("ag.json")},
	} {
		if rc := runPKI(args); rc != 0 {
			t.Fatalf("ebsp pki %v: exit %d", args, rc)
		}
	}
	a, err := exchange.LoadAgreement(p("ag.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Partner("US").Node != "gb-node" || a.Partner("US").Endpoint != "https://127.0.0.1:9" {
		t.Fatalf("agreement parties %+v", a.Parties)
	}
	if _, err := exchange.LoadNode(p("gb-node")); err != nil {
		t.Fatal(err)
	}
	if rc := runPKI([]string{"init", "--state", "usa", "--out", p("bad")}); rc != 1 {
		t.Fatalf("bad state: exit %d", rc)
	}

	// revoke: the US node's signing certificate, then its TLS certificate
	// by serial; the list keeps the first and verifies with the CA.
	us, err := exchange.LoadNode(p("us-node"))
	if err != nil {
		t.Fatal(err)
	}
	tlsCert, _ := x509.ParseCertificate(us.TLS.Certificate[0])
	for _, args := range [][]string{
		{"revoke", "--ca", p("us-ca"), "--cert", p("us-node", "sign.pem")},
		{"revoke", "--ca", p("us-ca"), "--serial", "0x" + tlsCert.SerialNumber.Text(16)},
	} {
		if rc := runPKI(args); rc != 0 {
			t.Fatalf("ebsp pki %v: exit %d", args, rc)
		}
	}
	if st, err := os.Stat(p("us-ca", "crl.pem")); err != nil {
		t.Fatal(err)
	} else if st.Mode().Perm() != 0o644 {
		t.Fatalf("the revocation list is %v, want 0644 (public, like the CA certificate)", st.Mode())
	}
	ca, _ := exchange.LoadCA(p("us-ca"))
	rv, err := exchange.LoadRevocations([]string{p("us-ca", "crl.pem")}, []*x509.Certificate{ca.Cert})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rv.Revoked(us.SignCert); !ok {
		t.Error("signing certificate not on the list")
	}
	if _, ok := rv.Revoked(tlsCert); !ok {
		t.Error("TLS certificate not on the list")
	}
	// A certificate of another CA is refused.
	if rc := runPKI([]string{"revoke", "--ca", p("us-ca"), "--cert", p("gb-node", "sign.pem")}); rc != 1 {
		t.Fatalf("revoking another CA's certificate: exit %d", rc)
	}

	// rotate: the log key, the signing key from the CA, then to a
	// certificate and key issued elsewhere (here by the same CA); one of
	// another CA is refused.
	for _, args := range [][]string{
		{"node", "--ca", p("us-ca"), "--name", "us-node", "--out", p("issued")},
		{"rotate", "--node", p("us-node"), "--log"},
		{"rotate", "--node", p("us-node"), "--sign", "--ca", p("us-ca")},
		{"rotate", "--node", p("us-node"), "--sign", "--cert", p("issued", "sign.pem"), "--key", p("issued", "sign.key")},
	} {
		if rc := runPKI(args); rc != 0 {
			t.Fatalf("ebsp pki %v: exit %d", args, rc)
		}
	}
	if rc := runPKI([]string{"rotate", "--node", p("us-node"), "--sign", "--cert", p("gb-node", "sign.pem"), "--key", p("gb-node", "sign.key")}); rc != 1 {
		t.Fatalf("rotating to another CA's certificate: exit %d", rc)
	}
	rotated, err := exchange.LoadNode(p("us-node"))
	if err != nil {
		t.Fatal(err)
	}
	issued, _ := exchange.LoadNode(p("issued"))
	if len(rotated.Rotations) != 3 || !rotated.SignCert.Equal(issued.SignCert) || rotated.LogKey == us.LogKey || rotated.LogKeys()[0] != us.LogKey {
		t.Fatalf("after three rotations: %d rotations, signing certificate the issued one %v, log keys %q", len(rotated.Rotations), rotated.SignCert.Equal(issued.SignCert), rotated.LogKeys())
	}
}
