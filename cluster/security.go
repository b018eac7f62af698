package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
)

// TLSFiles are the PEM files of mutual TLS between NATS and the processes
// that carry a gallery over it: templates cross NATS in the clear
// otherwise, and anyone who reaches the server can read, enrol or erase.
//
// Cert must allow client authentication (the node and matchers connect
// with it) and, for a server the node embeds, server authentication for
// the listen address too. CA signs the peers' certificates: the server's,
// for a client; the clients', for the embedded server, which requires one.
type TLSFiles struct {
	CA, Cert, Key string
}

// check says which file is missing from f.
func (f *TLSFiles) check() error {
	switch {
	case f.CA == "":
		return errors.New("cluster: TLS without a CA file")
	case f.Cert == "" || f.Key == "":
		return errors.New("cluster: TLS needs both a certificate and its key")
	}
	return nil
}

// load reads the files into a TLS configuration trusting only the CA
// (not the system's roots), at TLS 1.3.
func (f *TLSFiles) load() (*tls.Config, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, fmt.Errorf("cluster: TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster: TLS CA %s holds no PEM certificate", f.CA)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("cluster: TLS certificate %s and key %s: %w", f.Cert, f.Key, err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pool, ClientCAs: pool}, nil
}

// clientOption is the nats.Option that connects with f (none for nil).
func (f *TLSFiles) clientOption() (nats.Option, error) {
	if f == nil {
		return func(*nats.Options) error { return nil }, nil
	}
	c, err := f.load()
	if err != nil {
		return nil, err
	}
	return nats.Secure(c), nil
}

// serverConfig is the embedded server's TLS configuration: a client
// without a certificate of the CA is refused at the handshake.
func (f *TLSFiles) serverConfig() (*tls.Config, error) {
	c, err := f.load()
	if err != nil {
		return nil, err
	}
	c.ClientAuth = tls.RequireAndVerifyClientCert
	return c, nil
}
