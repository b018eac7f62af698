package cluster

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// StartServer runs a NATS server in this process, listening on host:port
// (port 0: any free port), for a node that needs nothing else on one
// machine. With tlsFiles (nil: none) every client must connect over
// mutual TLS with a certificate of its CA. Shutdown stops it.
func StartServer(host string, port int, tlsFiles *TLSFiles) (*server.Server, error) {
	opts := &server.Options{Host: host, Port: port, NoLog: true, NoSigs: true}
	if tlsFiles != nil {
		c, err := tlsFiles.serverConfig()
		if err != nil {
			return nil, err
		}
		opts.TLS, opts.TLSVerify, opts.TLSConfig, opts.TLSTimeout = true, true, c, 5
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("cluster: nats server on %s:%d not ready in 10 s", host, port)
	}
	return s, nil
}

// Connect connects to NATS as a matcher or node should: over mutual TLS
// with tlsFiles (nil: as the URL says), reconnecting for ever, every
// quarter second, so that a NATS server restart is ridden out (requests
// made while it is down fail and make answers partial).
func Connect(url, name string, tlsFiles *TLSFiles) (*nats.Conn, error) {
	secure, err := tlsFiles.clientOption()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond), secure)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to %s: %w", redactURLs(url), err)
	}
	return nc, nil
}

// RedactURL hides the password of one NATS URL, for errors that reach a
// log; a URL that does not parse is not shown.
func RedactURL(u string) string { return redactURLs(u) }

// redactURLs hides the passwords of a NATS server list (comma-separated
// URLs, as nats.Connect takes it), for errors that reach a log.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "(a URL that does not parse)"
			continue
		}
		parts[i] = u.Redacted()
	}
	return strings.Join(parts, ",")
}
