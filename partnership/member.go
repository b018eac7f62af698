package partnership

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
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
	// Revocations are the CRLs the membership checks (nil: none).
	Revocations *exchange.Revocations
	server      *http.Server
	stop        context.CancelFunc // ends the revocation watcher
	logger      *slog.Logger
}

// MemberOptions are a membership's optional settings (from the exchange section
// of a node's configuration: LoadMemberOptions).
type MemberOptions struct {
	// Revocations are checked at every TLS handshake and on every
	// message; Join re-reads them every RevocationCheck, and
	// ReloadRevocations at once (SIGHUP in `ebsp node`).
	Revocations *exchange.Revocations
	// ExpiryWarning is how long before a certificate expires the node
	// warns in its log; 0 means 30 days.
	ExpiryWarning time.Duration
}

// RevocationCheck is how often a membership re-reads its revocation lists.
const RevocationCheck = 30 * time.Second

// LoadMemberOptions reads the optional exchange settings of cfg: the revocation
// lists (each signed by the CA of this node or of a partner of one of
// agreements) and the expiry warning. Errors name the setting and file.
func LoadMemberOptions(cfg *node.Config, creds *exchange.NodeCredentials, agreements []*exchange.Agreement) (MemberOptions, error) {
	var o MemberOptions
	x := cfg.Exchange
	if x == nil {
		return o, nil
	}
	o.ExpiryWarning = time.Duration(x.ExpiryWarningDays) * 24 * time.Hour
	if len(x.RevocationLists) > 0 {
		cas := []*x509.Certificate{creds.CACert}
		for _, a := range agreements {
			cas = append(cas, a.Partner(creds.State).CA())
		}
		for i, path := range x.RevocationLists {
			if _, err := exchange.LoadRevocations([]string{path}, cas); err != nil {
				return o, fmt.Errorf("config: exchange.revocation_lists[%d] %s: %w", i, path, err)
			}
		}
		var err error
		if o.Revocations, err = exchange.LoadRevocations(x.RevocationLists, cas); err != nil {
			return o, fmt.Errorf("config: exchange.revocation_lists: %w", err)
		}
	}
	return o, nil
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
		case !slices.Contains(creds.LogKeys(), me.LogKey):
			// An agreement made before a log-key rotation holds an
			// earlier key of the history: partners chain from it.
			return nil, nil, fmt.Errorf("config: exchange.agreements[%d] %s: agreement %s holds another log key for %s than the credentials' log.pub (or a key it rotated from)", i, path, a.ID, creds.State)
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
//
// opts (at most one) adds revocation lists and the expiry warning.
func Join(n *node.Node, dataDir string, creds *exchange.NodeCredentials, agreements []*exchange.Agreement, ln net.Listener, logger *slog.Logger, opts ...MemberOptions) (*Membership, error) {
	var o MemberOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	m := &Membership{Credentials: creds, Agreements: agreements, LogDir: filepath.Join(dataDir, "audit"), Endpoint: ln.Addr().String(),
		Revocations: o.Revocations, logger: logger}
	var err error
	if m.Log, err = audit.Open(m.LogDir, creds.LogSigner); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", m.LogDir, err)
	}
	if err := n.EnableExchange(node.ExchangeSetup{Credentials: creds, Agreements: agreements, Log: m.Log,
		Revocations: o.Revocations, ExpiryWarning: o.ExpiryWarning}); err != nil {
		m.Log.Close()
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	m.stop = stop
	if o.Revocations != nil {
		go o.Revocations.Watch(ctx, RevocationCheck, logger)
	}
	m.server = &http.Server{Handler: n.PartnerHandler(), TLSConfig: n.Responder().TLSConfig(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: time.Minute, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go m.server.Serve(tls.NewListener(ln, m.server.TLSConfig))
	return m, nil
}

// ReloadRevocations re-reads the revocation lists now (SIGHUP); the
// previous lists stay in force if one fails, and the failure is returned.
func (m *Membership) ReloadRevocations() (bool, error) {
	if m.Revocations == nil {
		return false, nil
	}
	changed, err := m.Revocations.Reload()
	if err != nil {
		m.logger.Warn("revocation lists not reloaded; the previous ones stay in force", "err", err.Error())
	} else if changed {
		m.logger.Info("revocation lists reloaded", "files", len(m.Revocations.Paths()))
	}
	return changed, err
}

// Shutdown stops the partner endpoint after the requests in flight, then
// closes the log.
func (m *Membership) Shutdown(ctx context.Context) error {
	m.stop()
	err := m.server.Shutdown(ctx)
	if cerr := m.Log.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close stops the partner endpoint at once and closes the log.
func (m *Membership) Close() {
	m.stop()
	m.server.Close()
	m.Log.Close()
}
