package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ebsp/ebsp/bench"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/cluster"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/search"
)

func init() {
	register("matcher", "serve one shard of a gallery over NATS (package cluster)", runMatcher)
}

func runMatcher(args []string) int {
	fs := newFlagSet("matcher", `usage: ebsp matcher --nats URL --shard NAME [flags]

Holds one shard of a node's gallery and answers its searches, enrolments
and erasures over NATS (subjects PREFIX.shard.NAME.*; docs/scale.md). The
shard is kept in an append-only log in --data, with a snapshot of its
prepared templates and stage-1 vectors (versioned by the engine; a stale
or damaged one is rebuilt from the log, never loaded) from which it
restarts; an enrolment is acknowledged only once it is synced to the log. Runs
until SIGINT or SIGTERM. With --ready-file it writes "ready" to that file
once it answers. For a node whose "cluster" setting names external
matchers, serve each shard with --prefix PREFIX.MODALITY (ebsp.finger by
default) and --modality to match.`)
	url := fs.String("nats", nats.DefaultURL, "NATS server URL(s), comma-separated")
	shard := fs.String("shard", "", "shard name (required)")
	prefix := fs.String("prefix", "ebsp", "subject prefix")
	data := fs.String("data", "", "directory of the shard log (empty: memory only)")
	modality := fs.String("modality", "finger", "finger or face")
	workers := fs.Int("workers", 0, "search goroutines (0: GOMAXPROCS)")
	ready := fs.String("ready-file", "", "write \"ready\" to this file once answering")
	compactLog := fs.Bool("compact-log", false, "after loading, rewrite the shard log with only what the shard holds (erased identities and templates dropped) and a fresh snapshot")
	penetration := fs.Float64("penetration", 0, "stage-1 shortlist as a fraction of the shard's identities (1: exhaustive; 0: the engine's default, 5% for fingers, 1,000 identities for faces)")
	minShort := fs.Int("shortlist-min", search.DefaultShortlist.Min, "identities the shortlist holds at least")
	compact := fs.Bool("compact", false, "keep fingerprint templates compact (no pair table; search.Gallery.SetCompact)")
	ringNames := fs.String("ring", "", "for --synth-*: every shard of the ring, comma-separated (this one included)")
	synthFingers := fs.Int("synth-fingers", 0, "benchmarks: fill the shard with its share of this many synthetic fingers (not logged)")
	synthFaces := fs.Int("synth-faces", 0, "benchmarks: fill the shard with its share of this many synthetic faces (not logged)")
	seed := fs.Uint64("seed", 1, "synthetic population seed for --synth-*")
	tlsCA := fs.String("tls-ca", "", "mutual TLS with NATS: the CA (PEM) of the server's certificate")
	tlsCert := fs.String("tls-cert", "", "mutual TLS with NATS: this matcher's certificate (PEM)")
	tlsKey := fs.String("tls-key", "", "mutual TLS with NATS: the certificate's key (PEM)")
	if _, ok, code := parseArgs(fs, args, nArgs(0)); !ok {
		return code
	}
	if *shard == "" {
		fmt.Fprintln(os.Stderr, "ebsp matcher: --shard is required")
		return 2
	}
	engines := engine.Defaults()
	eng, ok := engines[biometric.Modality(*modality)]
	if !ok {
		fmt.Fprintf(os.Stderr, "ebsp matcher: --modality %q: want finger or face\n", *modality)
		return 2
	}
	// Reconnect for ever: a NATS server restart must not end the matcher.
	var tlsFiles *cluster.TLSFiles
	if *tlsCA != "" || *tlsCert != "" || *tlsKey != "" {
		tlsFiles = &cluster.TLSFiles{CA: *tlsCA, Cert: *tlsCert, Key: *tlsKey}
	}
	nc, err := cluster.Connect(*url, "ebsp matcher "+*shard, tlsFiles)
	if err != nil {
		return fail("matcher", err)
	}
	defer nc.Close()
	t0 := time.Now()
	setup := func(g *search.Gallery) {
		if *penetration > 0 {
			g.SetShortlist(search.Shortlist{Min: *minShort, Fraction: *penetration})
		}
		g.SetCompact(*compact)
	}
	m, err := cluster.NewMatcher(nc, cluster.MatcherConfig{Prefix: *prefix, Shard: *shard, Engine: eng, Workers: *workers,
		Dir: *data, Setup: setup})
	if err != nil {
		return fail("matcher", err)
	}
	defer m.Close()
	if *synthFingers > 0 || *synthFaces > 0 {
		ring, err := cluster.NewRing(strings.Split(*ringNames, ","))
		if err != nil {
			return fail("matcher", err)
		}
		if !slices.Contains(ring.Shards(), *shard) {
			return fail("matcher", fmt.Errorf("--ring %q does not hold shard %q", *ringNames, *shard))
		}
		f := bench.Fill{Fingers: *synthFingers, Faces: *synthFaces, Seed: *seed, Workers: runtime.GOMAXPROCS(0),
			Owns: func(id string) bool { return ring.Owner(id) == *shard }}
		if err := bench.FillGallery(context.Background(), m.Gallery(), f, nil); err != nil {
			return fail("matcher", err)
		}
	}
	if *compactLog {
		before, after, err := m.CompactLog()
		if err != nil {
			return fail("matcher", err)
		}
		fmt.Fprintf(os.Stderr, "ebsp matcher: shard %s: log compacted from %d to %d bytes\n", *shard, before, after)
	}
	tn, ids := m.Gallery().Len()
	fmt.Fprintf(os.Stderr, "ebsp matcher: shard %s: %d templates of %d identities loaded in %.2f s (snapshot: %s); serving on %s\n",
		*shard, tn, ids, time.Since(t0).Seconds(), m.SnapshotState, nc.ConnectedUrlRedacted())
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte("ready"), 0o600); err != nil {
			return fail("matcher", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return 0
}
