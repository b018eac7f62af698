package exchange

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
)

// writeCRL has ca revoke serials on top of the list in path (if any) and
// writes the new list there.
func writeCRL(t *testing.T, ca *CA, path string, serials ...*big.Int) {
	t.Helper()
	var prev *x509.RevocationList
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		if prev, err = ParseCRL(b); err != nil {
			t.Fatal(err)
		}
	}
	pemBytes, _, err := ca.Revoke(prev, serials, time.Now(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCertificateRevocation: over real mutual TLS, a partner certificate
// the CRL lists is refused without a restart (the list is reloaded): an
// envelope signed under a revoked signing certificate gets 403
// certificate_revoked, on a connection opened before the revocation too;
// a revoked TLS certificate is refused on the open connection's next
// message and at every new handshake; the refusals are counted into one
// leaf at the sweep, not one each. The client likewise refuses a partner
// whose server certificate is revoked. A new signing certificate of the
// same CA (a rotated key) passes.
func TestCertificateRevocation(t *testing.T) {
	dir := t.TempDir()
	usCRL, gbCRL := filepath.Join(dir, "us.crl.pem"), filepath.Join(dir, "gb.crl.pem")
	var respRV, clientRV *Revocations
	p := newPartnershipWith(t, nil, nil, func(p *partnership, rc *ResponderConfig, cc *ClientConfig) {
		writeCRL(t, p.usCA, usCRL)
		writeCRL(t, p.gbCA, gbCRL)
		cas := []*x509.Certificate{p.usCA.Cert, p.gbCA.Cert}
		var err error
		if respRV, err = LoadRevocations([]string{usCRL, gbCRL}, cas); err != nil {
			t.Fatal(err)
		}
		if clientRV, err = LoadRevocations([]string{usCRL, gbCRL}, cas); err != nil {
			t.Fatal(err)
		}
		rc.Revocations, cc.Revocations = respRV, clientRV
	})
	rng := rand.New(rand.NewPCG(13, 4))
	ctx := context.Background()
	if _, err := p.client.Step1(ctx, border(freshProbe(rng))); err != nil {
		t.Fatalf("before any revocation: %v", err)
	}

	// A CRL from a CA of no agreement, or one that does not parse, is
	// refused, and the set in force stays.
	frCA, err := NewCA("FR", time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	frCRL := filepath.Join(dir, "fr.crl.pem")
	writeCRL(t, frCA, frCRL)
	if _, err := LoadRevocations([]string{frCRL}, []*x509.Certificate{p.usCA.Cert, p.gbCA.Cert}); err == nil || !strings.Contains(err.Error(), "not the CA of any agreement") {
		t.Fatalf("foreign CRL: %v", err)
	}

	// The US revokes its node's signing certificate; the responder reloads.
	writeCRL(t, p.usCA, usCRL, p.us.SignCert.SerialNumber)
	if changed, err := respRV.Reload(); err != nil || !changed {
		t.Fatalf("reload: %v %v", changed, err)
	}
	if changed, err := respRV.Reload(); err != nil || changed {
		t.Fatalf("second reload of the same files: changed %v, %v", changed, err)
	}
	before := p.log.Size()
	for range 3 {
		_, err := p.client.Step1(ctx, border(freshProbe(rng)))
		if rf := refusalReason(t, err); rf.Reason != ReasonRevoked || rf.Status != http.StatusForbidden {
			t.Fatalf("revoked signing certificate: %v (HTTP %d), want 403 %s", err, rf.Status, ReasonRevoked)
		}
	}
	if n := p.log.Size() - before; n != 0 {
		t.Fatalf("refusals wrote %d leaves before the sweep", n)
	}
	if _, err := p.resp.Sweep(); err != nil {
		t.Fatal(err)
	}
	var leaves int
	for _, l := range p.leaves(t)[before:] {
		if l.Kind == audit.KindRefusal && l.Reason == ReasonRevoked {
			leaves++
			if l.Count != 3 || l.Partner != "US" {
				t.Fatalf("revocation leaf %+v, want count 3 from US", l)
			}
		}
	}
	if leaves != 1 {
		t.Fatalf("%d certificate_revoked leaves, want 1", leaves)
	}

	// A broken update leaves the revocation in force.
	good, _ := os.ReadFile(usCRL)
	if err := os.WriteFile(usCRL, []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := respRV.Reload(); err == nil {
		t.Fatal("a CRL that does not parse was accepted")
	}
	if _, ok := respRV.Revoked(p.us.SignCert); !ok {
		t.Fatal("a failed reload lifted the revocation")
	}
	os.WriteFile(usCRL, good, 0o644)

	// A new signing key certified by the US CA (what a rotation issues) is
	// accepted; the revoked one stays refused.
	fresh, err := p.usCA.IssueNode("us-node", []string{"127.0.0.1"}, p.clock.Now().Add(-time.Hour), 2*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p.client.sealer.Cert, p.client.sealer.Key = fresh.SignCert, fresh.SignKey
	p.clock.Advance(time.Minute) // past the junk allowance's refill
	if _, err := p.client.Step1(ctx, border(freshProbe(rng))); err != nil {
		t.Fatalf("new signing certificate: %v", err)
	}

	// Now the US node's TLS certificate: the open connection's next message
	// is refused, and so is a new handshake.
	tlsCert, _ := x509.ParseCertificate(p.us.TLS.Certificate[0])
	writeCRL(t, p.usCA, usCRL, p.us.SignCert.SerialNumber, tlsCert.SerialNumber)
	if _, err := respRV.Reload(); err != nil {
		t.Fatal(err)
	}
	_, err = p.client.Step1(ctx, border(freshProbe(rng)))
	if rf := refusalReason(t, err); rf.Reason != ReasonRevoked {
		t.Fatalf("revoked TLS certificate on an open connection: %v", err)
	}
	p.client.http.CloseIdleConnections()
	before = p.log.Size()
	_, err = p.client.Step1(ctx, border(freshProbe(rng)))
	if err == nil || !errors.Is(err, ErrPartnerUnreachable) || !handshakeRefused(err) {
		t.Fatalf("revoked TLS certificate at a new handshake: %v", err)
	}
	if n := p.log.Size() - before; n != 0 {
		t.Fatalf("a refused handshake wrote %d leaves", n)
	}

	// The client side: GB's server certificate revoked, reloaded at the
	// client only. The handshake fails at the client.
	gbTLS, _ := x509.ParseCertificate(p.gb.TLS.Certificate[0])
	writeCRL(t, p.gbCA, gbCRL, gbTLS.SerialNumber)
	if _, err := clientRV.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := respRV.Reload(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(usCRL, nil, 0o644) // lift the US revocations at both
	writeCRL(t, p.usCA, usCRL)
	if _, err := respRV.Reload(); err != nil {
		t.Fatal(err)
	}
	p.client.http.CloseIdleConnections()
	_, err = p.client.Step1(ctx, border(freshProbe(rng)))
	if !errors.Is(err, ErrPartnerUnreachable) || !strings.Contains(err.Error(), ReasonRevoked) {
		t.Fatalf("client with the partner's server certificate revoked: %v", err)
	}
}

// handshakeRefused reports whether err is what a client sees when the
// server refuses its certificate. Under TLS 1.3 the client sends its
// certificate in its last handshake flight and considers the handshake done
// (RFC 8446 section 4.4.2): the server's alert can arrive after the client
// has started writing the request, so the client may see the alert ("bad
// certificate", "revoked certificate") or only the closed connection
// (broken pipe, reset), depending on timing.
func handshakeRefused(err error) bool {
	return strings.Contains(err.Error(), "certificate") || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// FuzzParseCRL: revocation list files (PEM or DER) parse or fail without
// panicking; a list that parses verifies only with its CA.
func FuzzParseCRL(f *testing.F) {
	ca, err := NewCA("US", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 365*24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	b, crl, err := ca.Revoke(nil, []*big.Int{big.NewInt(7)}, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(crl.Raw)
	f.Add([]byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"))
	other, _ := NewCA("GB", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 365*24*time.Hour)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseCRL(b)
		if err != nil {
			return
		}
		if _, err := verifyCRL("fuzz", b, []*x509.Certificate{other.Cert}); err == nil && l.CheckSignatureFrom(other.Cert) != nil {
			t.Fatal("a list accepted for a CA that did not sign it")
		}
	})
}

// TestRevocationsReloadWhileChecking: the watcher's reloads run while
// handshakes and envelopes check certificates (run with -race); a check
// sees either the old list or the new one, and the new one in the end.
func TestRevocationsReloadWhileChecking(t *testing.T) {
	ca, err := NewCA("US", time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ca.IssueNode("us-node", nil, time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "crl.pem")
	writeCRL(t, ca, path)
	rv, err := LoadRevocations([]string{path}, []*x509.Certificate{ca.Cert})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			rv.Revoked(nc.SignCert)
			rv.NextUpdates()
		}
	}()
	for i := range 20 {
		if i == 10 {
			writeCRL(t, ca, path, nc.SignCert.SerialNumber)
		}
		if _, err := rv.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	<-done
	if _, ok := rv.Revoked(nc.SignCert); !ok {
		t.Fatal("the revocation written mid-way is not in force")
	}
}
