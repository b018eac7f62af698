package exchange

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

// Certificate revocation. A state revokes a certificate of one of its
// nodes (a TLS or signing certificate whose key leaked, a node retired) by
// listing it in a certificate revocation list (RFC 5280 §5, an
// x509.RevocationList) signed by its CA; `ebsp pki revoke` issues one. Each
// node lists the CRL files it trusts in its configuration
// (exchange.revocation_lists): its partners' and its own. A CRL counts only
// if its signature verifies with the CA of one of the node's agreements,
// and then only for certificates that CA issued.
//
// Revocation is checked at every TLS handshake (both ways: a partner's
// client certificate at the responder, a partner's server certificate at
// the client), and on every envelope, both the signing certificate it
// carries and the TLS chain it came over (a connection opened before the
// CRL was reloaded stays open under HTTP keep-alive, so the handshake check
// alone would miss it). An envelope refused for revocation is junk
// (junk.go): it gets no leaf of its own; the next Sweep writes one refusal
// leaf per peer with the count.

// ReasonRevoked refuses a message signed under, or sent over, a revoked
// certificate.
const ReasonRevoked = "certificate_revoked"

// MaxCRLBytes bounds one revocation list file.
const MaxCRLBytes = 16 << 20

// Revocations is the set of certificates revoked by the CRL files a node
// trusts. Reload re-reads the files when one changed; a file that no longer
// parses or verifies leaves the previous set in force (a broken update must
// not un-revoke anything). It is safe for concurrent use.
type Revocations struct {
	paths []string
	cas   []*x509.Certificate

	mu      sync.RWMutex
	revoked map[revokedKey]time.Time // revocation time
	stamps  [][32]byte               // SHA-256 of each file as last read
	lists   []*x509.RevocationList   // as last read, in path order
}

// revokedKey names a certificate: its issuer's subject and serial number.
type revokedKey struct {
	issuer [32]byte // SHA-256 of the issuer's raw subject
	serial string   // decimal
}

func keyOf(rawIssuer []byte, serial *big.Int) revokedKey {
	return revokedKey{sha256.Sum256(rawIssuer), serial.String()}
}

// LoadRevocations reads the CRL files at paths, each of which must be
// signed by one of cas (the CAs of the node's agreements). Errors name the
// file.
func LoadRevocations(paths []string, cas []*x509.Certificate) (*Revocations, error) {
	rv := &Revocations{paths: slices.Clone(paths), cas: slices.Clone(cas)}
	if _, err := rv.Reload(); err != nil {
		return nil, err
	}
	return rv, nil
}

// Paths returns the CRL files.
func (rv *Revocations) Paths() []string { return slices.Clone(rv.paths) }

// Reload re-reads the CRL files and, if any changed since they were last
// read (by content), takes the new set; it reports whether it did. On
// error the previous set stays in force.
func (rv *Revocations) Reload() (bool, error) {
	raws := make([][]byte, len(rv.paths))
	stamps := make([][32]byte, len(rv.paths))
	for i, p := range rv.paths {
		b, err := readBounded(p)
		if err != nil {
			return false, err
		}
		raws[i], stamps[i] = b, sha256.Sum256(b)
	}
	rv.mu.RLock()
	same := rv.revoked != nil && slices.Equal(stamps, rv.stamps)
	rv.mu.RUnlock()
	if same {
		return false, nil
	}
	revoked := map[revokedKey]time.Time{}
	lists := make([]*x509.RevocationList, len(rv.paths))
	for i, p := range rv.paths {
		crl, err := verifyCRL(p, raws[i], rv.cas)
		if err != nil {
			return false, err
		}
		lists[i] = crl
		for _, e := range crl.RevokedCertificateEntries {
			revoked[keyOf(crl.RawIssuer, e.SerialNumber)] = e.RevocationTime
		}
	}
	rv.mu.Lock()
	rv.revoked, rv.stamps, rv.lists = revoked, stamps, lists
	rv.mu.Unlock()
	return true, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("exchange: revocation list: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxCRLBytes+1))
	if err != nil {
		return nil, fmt.Errorf("exchange: revocation list %s: %v", path, err)
	}
	if len(b) > MaxCRLBytes {
		return nil, fmt.Errorf("exchange: revocation list %s is larger than %d bytes", path, MaxCRLBytes)
	}
	return b, nil
}

// verifyCRL parses a CRL file's bytes (PEM "X509 CRL" or DER) and checks
// its signature against the CA that issued it.
func verifyCRL(path string, b []byte, cas []*x509.Certificate) (*x509.RevocationList, error) {
	crl, err := ParseCRL(b)
	if err != nil {
		return nil, fmt.Errorf("%v (in %s)", err, path)
	}
	var bad error
	for _, ca := range cas {
		if ca != nil && slices.Equal(ca.RawSubject, crl.RawIssuer) {
			if err := crl.CheckSignatureFrom(ca); err != nil {
				bad = fmt.Errorf("exchange: revocation list %s: signature does not verify with the CA %s: %v", path, ca.Subject, err)
				continue
			}
			return crl, nil
		}
	}
	if bad != nil {
		return nil, bad
	}
	return nil, fmt.Errorf("exchange: revocation list %s is issued by %s, which is not the CA of any agreement of this node", path, crl.Issuer)
}

// ParseCRL parses a certificate revocation list, PEM ("X509 CRL") or DER.
func ParseCRL(b []byte) (*x509.RevocationList, error) {
	if block, _ := pem.Decode(b); block != nil {
		if block.Type != "X509 CRL" {
			return nil, fmt.Errorf("exchange: revocation list: PEM block %q, want \"X509 CRL\"", block.Type)
		}
		b = block.Bytes
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("exchange: revocation list: %v", err)
	}
	return crl, nil
}

// Revoked reports whether c is revoked, and since when.
func (rv *Revocations) Revoked(c *x509.Certificate) (time.Time, bool) {
	if rv == nil || c == nil {
		return time.Time{}, false
	}
	rv.mu.RLock()
	defer rv.mu.RUnlock()
	t, ok := rv.revoked[keyOf(c.RawIssuer, c.SerialNumber)]
	return t, ok
}

// NextUpdates returns each CRL's issuer and next update (zero if it gives
// none): a CRL past its next update still revokes what it lists, but the
// operator should fetch a fresh one.
func (rv *Revocations) NextUpdates() map[string]time.Time {
	rv.mu.RLock()
	defer rv.mu.RUnlock()
	out := map[string]time.Time{}
	for i, l := range rv.lists {
		out[rv.paths[i]] = l.NextUpdate
	}
	return out
}

// checkChain refuses a chain holding a revoked certificate.
func (rv *Revocations) checkChain(chain []*x509.Certificate, what string) *Refusal {
	for _, c := range chain {
		if t, ok := rv.Revoked(c); ok {
			return refuse(http.StatusForbidden, ReasonRevoked, "%s %s (serial %s) was revoked at %s", what, c.Subject, c.SerialNumber, t.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// verifyConnection is a tls.Config.VerifyConnection hook that fails the
// handshake when the peer's verified chain holds a revoked certificate.
func (rv *Revocations) verifyConnection(chains [][]*x509.Certificate) error {
	if rv == nil {
		return nil
	}
	for _, ch := range chains {
		if rf := rv.checkChain(ch, "TLS certificate"); rf != nil {
			return rf
		}
	}
	return nil
}

// Watch reloads the lists every interval until ctx is done, so that a
// revocation takes effect without a restart; it logs each reload and each
// failure (the previous lists stay in force).
func (rv *Revocations) Watch(ctx context.Context, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rv.reloadLogged(logger)
		}
	}
}

// reloadLogged reloads and logs what happened.
func (rv *Revocations) reloadLogged(logger *slog.Logger) {
	changed, err := rv.Reload()
	switch {
	case err != nil:
		logger.Warn("revocation lists not reloaded; the previous ones stay in force", "err", err.Error())
	case changed:
		rv.mu.RLock()
		n := len(rv.revoked)
		rv.mu.RUnlock()
		logger.Info("revocation lists reloaded", "files", len(rv.paths), "revoked", n)
	}
}
