package exchange

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/country"
	"github.com/ebsp/ebsp/internal/durable"
	"golang.org/x/mod/sumdb/note"
)

// The test PKI: one CA per state (ECDSA P-256), and per node a TLS
// certificate for mutual TLS (ECDSA P-256, client and server auth), a
// message-signing certificate for an Ed25519 key (key usage digital
// signature only), and a checkpoint key for the node's transparency log.
// It is for test partnerships and the demo; a real deployment uses its
// states' own PKIs, which the same verification code accepts.

// File names of a CA directory and of a node directory.
const (
	CACertFile   = "ca.pem"
	CAKeyFile    = "ca.key"
	TLSCertFile  = "node.pem"
	TLSKeyFile   = "node.key"
	SignCertFile = "sign.pem"
	SignKeyFile  = "sign.key"
	LogKeyFile   = "log.key" // note signer key: keep secret
	LogPubFile   = "log.pub" // note verifier key: goes into agreements
)

// CA is a state's certificate authority.
type CA struct {
	State string
	Cert  *x509.Certificate
	Key   crypto.Signer
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}

// NewCA makes a self-signed CA for state, valid from now for validity.
func NewCA(state string, now time.Time, validity time.Duration) (*CA, error) {
	if _, err := country.ParseAlpha2(state); err != nil {
		return nil, fmt.Errorf("exchange: CA state: %v", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Country: []string{state}, Organization: []string{"ebsp test PKI"}, CommonName: state + " partnership CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("exchange: making CA: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{State: state, Cert: cert, Key: key}, nil
}

// CertPEM returns the CA certificate as PEM.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// NodeCredentials are what a node needs to take part in a partnership.
type NodeCredentials struct {
	State, Node string
	TLS         tls.Certificate   // mutual TLS certificate and key
	SignCert    *x509.Certificate // certifies SignKey's public key
	SignKey     ed25519.PrivateKey
	LogSigner   note.Signer // checkpoint signer of the node's audit log
	LogKey      string      // its verifier key, for agreements
	CACert      *x509.Certificate
	// Rotations are the node's key rotations, oldest first (rotation.go).
	Rotations []audit.KeyRotation

	files map[string][]byte // PEM and key files as written by Save, by path relative to the directory
}

// LogOrigin is the origin (checkpoint key name) of a node's audit log.
func LogOrigin(state, node string) string {
	return "ebsp.example/" + strings.ToLower(state) + "/" + node + "/audit"
}

// IssueNode makes credentials for node, with TLS names hosts (DNS names or
// IP addresses), valid from now for validity.
func (ca *CA) IssueNode(node string, hosts []string, now time.Time, validity time.Duration) (*NodeCredentials, error) {
	if node == "" || strings.ContainsAny(node, " /+") {
		return nil, fmt.Errorf("exchange: node name %q must be non-empty without spaces, slashes or plus", node)
	}
	subject := pkix.Name{Country: []string{ca.State}, Organization: []string{"ebsp test PKI"}, CommonName: node}
	tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	tlsDER, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &tlsKey.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("exchange: issuing TLS certificate: %v", err)
	}
	signPub, signKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	stmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	signDER, err := x509.CreateCertificate(rand.Reader, stmpl, ca.Cert, signPub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("exchange: issuing signing certificate: %v", err)
	}
	skey, vkey, err := audit.GenerateKey(LogOrigin(ca.State, node))
	if err != nil {
		return nil, err
	}
	tlsKeyDER, err := x509.MarshalPKCS8PrivateKey(tlsKey)
	if err != nil {
		return nil, err
	}
	signKeyDER, err := x509.MarshalPKCS8PrivateKey(signKey)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		TLSCertFile:  append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsDER}), ca.CertPEM()...),
		TLSKeyFile:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: tlsKeyDER}),
		SignCertFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signDER}),
		SignKeyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: signKeyDER}),
		LogKeyFile:   []byte(skey + "\n"),
		LogPubFile:   []byte(vkey + "\n"),
		CACertFile:   ca.CertPEM(),
	}
	return credentialsFromFiles(files)
}

// Save writes the credentials into dir (created if needed; keys mode 0600).
// Each file is written beside, synced and renamed, and its directory
// synced, so that a node starting meanwhile reads either the old file or
// the new one. The files go in an order that a crash cannot make lose the
// chain of keys: the retired keys and rotation statements first, then the
// other files (the new keys) in name order. A crash in the middle of a
// rotation so leaves the old keys with a statement naming a new key that
// was never stored (LoadNode refuses the credentials; remove the last
// statement and its retired file, and rotate again), never a new key
// without the statement partners need to trust it.
func (nc *NodeCredentials) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("exchange: %v", err)
	}
	first := func(name string) int {
		if strings.HasPrefix(name, RetiredDir+string(filepath.Separator)) || strings.HasPrefix(name, RotationsDir+string(filepath.Separator)) {
			return 0
		}
		return 1
	}
	names := slices.Sorted(maps.Keys(nc.files))
	slices.SortStableFunc(names, func(a, b string) int { return first(a) - first(b) })
	for _, name := range names {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("exchange: %v", err)
		}
		if err := durable.WriteFile(path, nc.files[name]); err != nil {
			return fmt.Errorf("exchange: %v", err)
		}
	}
	return nil
}

// LoadNode reads credentials written by Save.
func LoadNode(dir string) (*NodeCredentials, error) {
	files := map[string][]byte{}
	for _, name := range []string{TLSCertFile, TLSKeyFile, SignCertFile, SignKeyFile, LogKeyFile, LogPubFile, CACertFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("exchange: node credentials: %v", err)
		}
		files[name] = b
	}
	if err := readRotationFiles(dir, files); err != nil {
		return nil, err
	}
	nc, err := credentialsFromFiles(files)
	if err != nil {
		return nil, fmt.Errorf("%v (in %s)", err, dir)
	}
	return nc, nil
}

func parsePEMCert(b []byte, what string) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("exchange: %s is not a PEM certificate", what)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("exchange: %s: %v", what, err)
	}
	return c, nil
}

// ParseSignKeyPair parses a signing certificate (PEM) and its Ed25519
// private key (PEM, PKCS #8), and checks that the one certifies the other.
// certName and keyName name them in errors.
func ParseSignKeyPair(certPEM, keyPEM []byte, certName, keyName string) (*x509.Certificate, ed25519.PrivateKey, error) {
	cert, err := parsePEMCert(certPEM, certName)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("exchange: %s is not PEM", keyName)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: %s: %v", keyName, err)
	}
	sk, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("exchange: %s is not an Ed25519 key", keyName)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok || !pub.Equal(sk.Public()) {
		return nil, nil, fmt.Errorf("exchange: %s does not certify the key in %s", certName, keyName)
	}
	return cert, sk, nil
}

func credentialsFromFiles(files map[string][]byte) (*NodeCredentials, error) {
	nc := &NodeCredentials{files: files}
	var err error
	if nc.TLS, err = tls.X509KeyPair(files[TLSCertFile], files[TLSKeyFile]); err != nil {
		return nil, fmt.Errorf("exchange: TLS key pair: %v", err)
	}
	if nc.CACert, err = parsePEMCert(files[CACertFile], CACertFile); err != nil {
		return nil, err
	}
	if nc.SignCert, nc.SignKey, err = ParseSignKeyPair(files[SignCertFile], files[SignKeyFile], SignCertFile, SignKeyFile); err != nil {
		return nil, err
	}
	if nc.LogSigner, err = note.NewSigner(strings.TrimSpace(string(files[LogKeyFile]))); err != nil {
		return nil, fmt.Errorf("exchange: %s: %v", LogKeyFile, err)
	}
	nc.LogKey = strings.TrimSpace(string(files[LogPubFile]))
	if _, err := note.NewVerifier(nc.LogKey); err != nil {
		return nil, fmt.Errorf("exchange: %s: %v", LogPubFile, err)
	}
	if len(nc.SignCert.Subject.Country) != 1 {
		return nil, errors.New("exchange: signing certificate names no single country")
	}
	nc.State = nc.SignCert.Subject.Country[0]
	nc.Node = nc.SignCert.Subject.CommonName
	if err := nc.loadRotations(); err != nil {
		return nil, err
	}
	return nc, nil
}

// Save writes the CA certificate and key into dir.
func (ca *CA) Save(dir string) error {
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("exchange: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, CACertFile), ca.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("exchange: %v", err)
	}
	return os.WriteFile(filepath.Join(dir, CAKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// LoadCA reads a CA written by Save.
func LoadCA(dir string) (*CA, error) {
	cb, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("exchange: %v", err)
	}
	cert, err := parsePEMCert(cb, CACertFile)
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("exchange: %v", err)
	}
	block, _ := pem.Decode(kb)
	if block == nil {
		return nil, fmt.Errorf("exchange: %s is not PEM", CAKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("exchange: %s: %v", CAKeyFile, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("exchange: %s is not a signing key", CAKeyFile)
	}
	if len(cert.Subject.Country) != 1 {
		return nil, errors.New("exchange: CA certificate names no single country")
	}
	return &CA{State: cert.Subject.Country[0], Cert: cert, Key: signer}, nil
}

// Party returns the agreement party entry for these credentials.
func (nc *NodeCredentials) Party(endpoint string) Party {
	return Party{State: nc.State, Node: nc.Node, CACert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: nc.CACert.Raw})), LogKey: nc.LogKey, Endpoint: endpoint}
}

// CRLFile is the revocation list a CA directory keeps (`ebsp pki revoke`).
const CRLFile = "crl.pem"

// Revoke returns a new revocation list of the CA (PEM, "X509 CRL"): the
// entries of prev (nil for the first list), plus serials revoked at now
// that prev does not hold yet, numbered one above prev, valid until
// now+validity (its next update). A node re-reads the file it is given
// (Revocations.Reload); partners get a copy the same way they got the
// agreement.
func (ca *CA) Revoke(prev *x509.RevocationList, serials []*big.Int, now time.Time, validity time.Duration) ([]byte, *x509.RevocationList, error) {
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(validity)}
	seen := map[string]bool{}
	if prev != nil {
		if err := prev.CheckSignatureFrom(ca.Cert); err != nil {
			return nil, nil, fmt.Errorf("exchange: the previous revocation list is not this CA's: %v", err)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, prev.RevokedCertificateEntries...)
		for _, e := range prev.RevokedCertificateEntries {
			seen[e.SerialNumber.String()] = true
		}
		if prev.Number != nil {
			tmpl.Number = new(big.Int).Add(prev.Number, big.NewInt(1))
		}
	}
	for _, s := range serials {
		if !seen[s.String()] {
			seen[s.String()] = true
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: now.UTC()})
		}
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: signing the revocation list: %v", err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), crl, nil
}
