package partnership

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/face/pipeline"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
)

// Assembly is a node assembled from its configuration by Assemble: its
// store, its engines, the node, and its membership in partnerships when it
// is party to agreements. Assemble is the one place that assembles a node:
// `ebsp node`, Start and StartNational (the demo and the PoC), the
// benchmarks and the identification evaluation all go through it, so that
// each runs the node a state runs.
type Assembly struct {
	Config     *node.Config
	Node       *node.Node
	Store      store.Store
	Membership *Membership // nil for a node party to no agreement
	logger     *slog.Logger
}

// AssembleOptions adjust an assembly.
type AssembleOptions struct {
	Logger *slog.Logger // the node's log; nil discards it
	// Engines, when set, adjusts the configuration and the engines before
	// the node is made (a face recogniser, fixed thresholds ...).
	Engines func(cfg *node.Config, engines map[biometric.Modality]engine.Engine)
	// Exchange, when set, makes the node a member of its partnerships
	// with credentials and agreements held in memory (Start); otherwise
	// the configuration's exchange settings, if any, are read from their
	// files (LoadExchange, LoadMemberOptions) and the partner endpoint
	// listens on exchange.listen.
	Exchange *ExchangeParts
}

// ExchangeParts are a membership's parts held in memory.
type ExchangeParts struct {
	Credentials *exchange.NodeCredentials
	Agreements  []*exchange.Agreement
	Listener    net.Listener // the partner endpoint's
	Options     MemberOptions
}

// Assemble checks cfg, opens its store, makes the engines (the defaults,
// face photos when cfg.FaceModels names the models, then o.Engines) and
// the node, and joins the node's partnerships. The gallery is not loaded
// (Node.LoadGallery) and the API not served (Serve). Close undoes it.
func Assemble(ctx context.Context, cfg *node.Config, o AssembleOptions) (*Assembly, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	engines := engine.Defaults()
	if cfg.FaceModels != "" {
		p, err := pipeline.Load(cfg.FaceModels)
		if err != nil {
			return nil, err
		}
		engines[biometric.Face] = engine.FacePhotos{Pipeline: p}
		logger.Info("face photos searchable", "models", cfg.FaceModels, "algorithm", engine.FacePhotosAlgorithm)
	}
	if o.Engines != nil {
		o.Engines(cfg, engines)
	}
	st, err := node.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &Assembly{Config: cfg, Store: st, logger: logger}
	if a.Node, err = node.New(cfg, st, engines, logger); err != nil {
		st.Close()
		return nil, err
	}
	parts := o.Exchange
	if parts == nil && cfg.Exchange != nil {
		if parts, err = loadParts(cfg); err != nil {
			a.Close()
			return nil, err
		}
	}
	if parts != nil {
		if a.Membership, err = Join(a.Node, cfg.DataDir, parts.Credentials, parts.Agreements, parts.Listener, logger, parts.Options); err != nil {
			parts.Listener.Close()
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// loadParts reads the exchange settings of cfg and listens on the partner
// endpoint.
func loadParts(cfg *node.Config) (*ExchangeParts, error) {
	creds, agreements, err := LoadExchange(cfg)
	if err != nil {
		return nil, err
	}
	opts, err := LoadMemberOptions(cfg, creds, agreements)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Exchange.Listen)
	if err != nil {
		return nil, fmt.Errorf("config: exchange.listen %s: %w", cfg.Exchange.Listen, err)
	}
	return &ExchangeParts{Credentials: creds, Agreements: agreements, Listener: ln, Options: opts}, nil
}

// Serve serves the node's API on ln, over TLS when the configuration has
// TLS settings, with the timeouts every node uses. It returns the server,
// its scheme ("http" or "https") and the channel that receives the error
// the server stops with.
func (a *Assembly) Serve(ln net.Listener) (*http.Server, string, <-chan error, error) {
	srv := &http.Server{Handler: a.Node.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	if a.Config.TLS != nil {
		tc, err := ServerTLS(a.Config.TLS)
		if err != nil {
			return nil, "", nil, err
		}
		srv.TLSConfig = tc
		ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	return srv, scheme, errc, nil
}

// Shutdown stops the partner endpoint after the requests in flight, then
// closes the log and the store.
func (a *Assembly) Shutdown(ctx context.Context) error {
	if a.Membership != nil {
		if err := a.Membership.Shutdown(ctx); err != nil {
			a.Node.Close()
			a.Store.Close()
			return fmt.Errorf("partner requests still in flight: %w", err)
		}
	}
	// The matchers and NATS server of a cluster configuration (none
	// without one) stop with the node.
	a.Node.Close()
	if err := a.Store.Close(); err != nil {
		return fmt.Errorf("closing the store: %w", err)
	}
	return nil
}

// Close stops the partner endpoint at once and closes the log and the
// store.
func (a *Assembly) Close() {
	if a.Membership != nil {
		a.Membership.Close()
	}
	a.Node.Close()
	a.Store.Close()
}

// ServerTLS is the TLS configuration of a node's API: its certificate,
// TLS 1.3, and client certificates checked against ClientCAFile when set
// (tokens remain possible).
func ServerTLS(c *node.TLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: client CA %s: no certificate", c.ClientCAFile)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven // tokens remain possible
	}
	return tc, nil
}
