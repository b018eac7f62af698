package partnership

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"golang.org/x/text/language"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
)

// Membership is a node's part in its partnerships: its credentials, the
// agreements it holds, its transparency log and its partner endpoint. Join
// makes one; `ebsp node` (from its configuration) and Start (the demo, for
// each state) both go through Join, so that a node of the demo is the node
// a state runs.
type Membership struct {
	Credentials *exchange.NodeCredentials
	Agreements  []*exchange.Agreement
	Log         *audit.Log
	LogDir      string
	Endpoint    string // the partner endpoint's address, as listening
	server      *http.Server
}

// LoadExchange reads the exchange settings of cfg (cfg.Exchange): the
// credentials directory and each agreement file, and checks them against
// each other and the node: the credentials are this state's, and every
// agreement names this node as a party and holds this node's CA and log
// key. Errors name the setting and the file.
func LoadExchange(cfg *node.Config) (*exchange.NodeCredentials, []*exchange.Agreement, error) {
	x := cfg.Exchange
	if x == nil {
		return nil, nil, errors.New("config: no exchange settings")
	}
	creds, err := exchange.LoadNode(x.Credentials)
	if err != nil {
		return nil, nil, fmt.Errorf("config: exchange.credentials %s: %w", x.Credentials, err)
	}
	if !sameState(cfg.State, creds.State) {
		return nil, nil, fmt.Errorf("config: exchange.credentials %s: issued to state %s, but this node's state is %s", x.Credentials, creds.State, cfg.State)
	}
	var out []*exchange.Agreement
	seen := map[string]string{}
	for i, path := range x.Agreements {
		a, err := exchange.LoadAgreement(path)
		if err != nil {
			return nil, nil, fmt.Errorf("config: exchange.agreements[%d] %s: %w", i, path, err)
		}
		if prev, dup := seen[a.ID]; dup {
			return nil, nil, fmt.Errorf("config: exchange.agreements[%d] %s: agreement %s is also in %s", i, path, a.ID, prev)
		}
		seen[a.ID] = path
		me := a.Party(creds.State)
		switch {
		case me == nil:
			return nil, nil, fmt.Errorf("config: exchange.agreements[%d] %s: agreement %s has no party of state %s", i, path, a.ID, creds.State)
		case me.Node != creds.Node:
			return nil, nil, fmt.Errorf("config: exchange.agreements[%d] %s: agreement %s names node %q for %s, the credentials are node %q", i, path, a.ID, me.Node, creds.State, creds.Node)
		case !me.CA().Equal(creds.CACert):
			return nil, nil, fmt.Errorf("config: exchange.agreements[%d] %s: agreement %s holds another CA certificate for %s than the credentials' ca.pem", i, path, a.ID, creds.State)
		case me.LogKey != creds.LogKey:
			return nil, nil, fmt.Errorf("config: exchange.agreements[%d] %s: agreement %s holds another log key for %s than the credentials' log.pub", i, path, a.ID, creds.State)
		case a.Partner(creds.State).Endpoint == "":
			return nil, nil, fmt.Errorf("config: exchange.agreements[%d] %s: agreement %s gives no endpoint for the partner %s", i, path, a.ID, a.Partner(creds.State).State)
		}
		out = append(out, a)
	}
	return creds, out, nil
}

// sameState says whether two ISO 3166-1 codes (alpha-2 or alpha-3) name
// the same state.
func sameState(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := language.ParseRegion(a)
	rb, err2 := language.ParseRegion(b)
	return err1 == nil && err2 == nil && ra == rb
}

// Join makes n a member of its partnerships: it opens the transparency
// log in dataDir/audit under the credentials' log key, enables the
// exchange on n with the agreements, and serves the partner endpoint
// (mutual TLS, signed envelopes) on ln. Close stops the endpoint and
// closes the log.
func Join(n *node.Node, dataDir string, creds *exchange.NodeCredentials, agreements []*exchange.Agreement, ln net.Listener, logger *slog.Logger) (*Membership, error) {
	m := &Membership{Credentials: creds, Agreements: agreements, LogDir: filepath.Join(dataDir, "audit"), Endpoint: ln.Addr().String()}
	var err error
	if m.Log, err = audit.Open(m.LogDir, creds.LogSigner); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", m.LogDir, err)
	}
	if err := n.EnableExchange(node.ExchangeSetup{Credentials: creds, Agreements: agreements, Log: m.Log}); err != nil {
		m.Log.Close()
		return nil, err
	}
	m.server = &http.Server{Handler: n.PartnerHandler(), TLSConfig: n.Responder().TLSConfig(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: time.Minute, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go m.server.Serve(tls.NewListener(ln, m.server.TLSConfig))
	return m, nil
}

// Shutdown stops the partner endpoint after the requests in flight, then
// closes the log.
func (m *Membership) Shutdown(ctx context.Context) error {
	err := m.server.Shutdown(ctx)
	if cerr := m.Log.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close stops the partner endpoint at once and closes the log.
func (m *Membership) Close() {
	m.server.Close()
	m.Log.Close()
}
