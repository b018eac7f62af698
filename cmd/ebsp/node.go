package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/console"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
)

func init() {
	register("node", "run a national biometric node (store, gallery, HTTP API)", runNode)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func runNode(args []string) int {
	if code, ran := runSub(args, map[string]func([]string) int{"hash-token": nodeHashToken}); ran {
		return code
	}
	fs := newFlagSet("node", `usage: ebsp node [flags]
       ebsp node hash-token < token     print the sha256 form of a bearer token for the config file

Runs one state's biometric node. Settings come from the config file (JSON, see
docs/node.md), then environment variables, then flags, each overriding the last.
The node also serves its web console under /console/ (sign in with a token of
the configuration; see docs/console.md).

`)
	cfgPath := fs.String("config", os.Getenv("EBSP_CONFIG"), "JSON configuration file (env EBSP_CONFIG)")
	listen := fs.String("listen", os.Getenv("EBSP_LISTEN"), "address to serve the API on, e.g. 127.0.0.1:8080 (env EBSP_LISTEN)")
	dataDir := fs.String("data", os.Getenv("EBSP_DATA_DIR"), "data directory for the SQLite store (env EBSP_DATA_DIR)")
	storeURL := fs.String("store", os.Getenv("EBSP_STORE"), "sqlite, or a postgres:// URL (env EBSP_STORE)")
	state := fs.String("state", os.Getenv("EBSP_STATE"), "ISO 3166-1 alpha-3 code of the node's state (env EBSP_STATE)")
	faceModels := fs.String("face-models", os.Getenv("EBSP_FACE_MODELS"), "directory of the face models ('ebsp models fetch'): face photos become searchable (env EBSP_FACE_MODELS)")
	readyFile := fs.String("ready-file", "", "write the listening address to this file once ready (for scripts and tests)")
	drainDelay := fs.Duration("drain-delay", 2*time.Second, "on SIGTERM or SIGINT, answer /readyz with 503 for this long before closing the listener, so that load balancers stop sending requests")
	drainTimeout := fs.Duration("drain-timeout", 30*time.Second, "then wait at most this long for the requests in flight to finish")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	cfg := &node.Config{}
	if *cfgPath != "" {
		c, err := node.LoadConfig(*cfgPath)
		if err != nil {
			return fail("node", err)
		}
		cfg = c
	}
	for dst, v := range map[*string]string{&cfg.Listen: *listen, &cfg.DataDir: *dataDir, &cfg.Store: *storeURL, &cfg.State: *state, &cfg.FaceModels: *faceModels} {
		if v != "" {
			*dst = v
		}
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// The signal that stops the node is the context's cause, for the log.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if s, ok := <-sigs; ok {
			cancel(fmt.Errorf("signal %s", s))
		}
	}()
	if err := serveNode(ctx, cfg, log, *readyFile, drain{*drainDelay, *drainTimeout}); err != nil {
		log.Error("node stopped", "err", oneLine(err.Error()))
		return fail("node", err)
	}
	return 0
}

// drain is how a node stops: /readyz answers 503 for delay, then the
// listener closes and the requests in flight get at most timeout.
type drain struct{ delay, timeout time.Duration }

// serveNode opens the store, loads the gallery, serves the API until ctx
// ends, then shuts down gracefully.
func serveNode(ctx context.Context, cfg *node.Config, log *slog.Logger, readyFile string, d drain) error {
	began := time.Now()
	log.Info("node starting", "version", version, "state", cfg.State, "store", storeKind(cfg.Store), "pid", os.Getpid())
	a, err := partnership.Assemble(ctx, cfg, partnership.AssembleOptions{Logger: log})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			a.Close()
		}
	}()
	n, member := a.Node, a.Membership
	if member != nil {
		// SIGHUP re-reads the revocation lists at once (they are also
		// re-read every partnership.RevocationCheck).
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-hup:
					member.ReloadRevocations()
				case <-ctx.Done():
					return
				}
			}
		}()
		ids := make([]string, len(member.Agreements))
		for i, ag := range member.Agreements {
			ids[i] = ag.ID
		}
		log.Info("partner endpoint listening", "addr", member.Endpoint, "node", member.Credentials.Node, "agreements", strings.Join(ids, ","))
	}
	con, err := console.New(console.Options{Node: n, Log: log})
	if err != nil {
		return err
	}
	n.Mount(console.Prefix, con)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv, scheme, errc, err := a.Serve(ln)
	if err != nil {
		ln.Close()
		return err
	}
	if _, ok := cfg.ImpostorTails[biometric.Finger]; !ok {
		// docs/node.md, "Calibrating the thresholds": the built-in tail
		// is measured on tens of thousands of real comparisons only, so
		// the thresholds of any gallery beyond a few hundred identities
		// rest on its extrapolation.
		t := engine.FVCFingerTail
		log.Warn("fingerprint thresholds follow the built-in conservative impostor tail of real images, extrapolated beyond what it measured; measure yours with 'ebsp eval tail --fit' and set impostor_tails.finger",
			"comparisons", t.Comparisons, "measured_to_fmr", t.MeasuredFMR)
	}
	log.Info("node listening", "state", cfg.State, "addr", ln.Addr().String(), "scheme", scheme, "store", storeKind(cfg.Store))
	start := time.Now()
	if err := n.LoadGallery(ctx, func(m biometric.Modality, k int) {
		log.Info("gallery loading", "modality", string(m), "templates", k)
	}); err != nil {
		return err
	}
	log.Info("node ready", "gallery_load_ms", time.Since(start).Milliseconds())
	go n.RunRetention(ctx, time.Minute)
	go func() {
		if err := n.RunSelfCalibration(ctx); err != nil {
			log.Error("self-calibration stopped", "err", err.Error())
		}
	}()
	if readyFile != "" {
		if err := os.WriteFile(readyFile, []byte(scheme+"://"+ln.Addr().String()), 0o600); err != nil {
			return err
		}
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("node stopping", "reason", context.Cause(ctx).Error(), "drain_delay", d.delay.String(), "drain_timeout", d.timeout.String())
	n.Drain()
	time.Sleep(d.delay)
	sctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	// Shutdown closes the listener, then waits for the requests in flight.
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("requests still in flight after %s: %w", d.timeout, err)
	}
	closed = true
	if err := a.Shutdown(sctx); err != nil {
		return err
	}
	log.Info("node stopped", "uptime_s", int(time.Since(began).Seconds()))
	return nil
}

func storeKind(s string) string {
	if strings.HasPrefix(s, "postgres") {
		return "postgres" // the URL may hold a password: never log it
	}
	return s
}

func nodeHashToken(args []string) int {
	fs := newFlagSet("node hash-token", `usage: ebsp node hash-token < TOKENFILE

Reads a bearer token on standard input and prints its SHA-256 in the form a
node's configuration holds ("sha256" of a token entry); the node never
stores tokens themselves.`)
	if _, ok, code := parseArgs(fs, args, nArgs(0)); !ok {
		return code
	}
	tok, err := bufio.NewReader(os.Stdin).ReadString('\n')
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return fail("node hash-token", fmt.Errorf("no token on standard input: %v", err))
	}
	fmt.Println(node.TokenHash(tok))
	return 0
}
