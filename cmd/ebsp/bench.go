package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/ebsp/ebsp/bench"
	"github.com/ebsp/ebsp/internal/progress"
	"github.com/ebsp/ebsp/search"
)

func init() {
	register("bench", "throughput and latency benchmarks: node API, 1:N search, partner exchange, transparency log", runBench)
}

const benchUsage = `usage: ebsp bench <what> [flags]

Measures ebsp on a synthetic population (two index fingers per person) and
prints a table, or one JSON object with --json. Progress goes to
stderr: a bar on a terminal, otherwise a line per phase and every 5 s.

commands:
  node      a node on loopback (SQLite or PostgreSQL): enrolment and
            identification through the HTTP API, gallery load on restart
  search    the in-process 1:N search alone at one or more gallery sizes:
            comparisons/s, latency, memory per template
  exchange  a partnership (US hub, GB partner) on loopback: step-1
            round-trip latency and requests/s one responder sustains
  audit     the transparency log at national volume: append rate,
            proof latency, memory and reopen time of a log of --leaves
  privacy   the encrypted face hit count (package privacy): time, CPU and
            bytes per query, agreement with the plaintext decisions, and
            the accuracy cost of reducing the embeddings

'ebsp bench <what> -h' explains the flags.
`

func runBench(args []string) int {
	return dispatch("bench", benchUsage, args, map[string]func([]string) int{"node": benchNode, "search": benchSearch, "exchange": benchExchange, "privacy": benchPrivacy, "audit": benchAudit})
}

// benchFlags is a FlagSet with the flags every benchmark has.
func benchFlags(name, usage string) (*flag.FlagSet, *bool, *uint64) {
	fs := newFlagSet("bench "+name, usage)
	return fs, fs.Bool("json", false, "print one JSON object instead of the table"), fs.Uint64("seed", 1, "synthetic population seed")
}

func parseBench(fs *flag.FlagSet, args []string) (ok bool, code int) {
	if ok, code := parseFlags(fs, args); !ok {
		return false, code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "ebsp %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false, 2
	}
	return true, 0
}

func benchNode(args []string) int {
	fs, asJSON, seed := benchFlags("node", `usage: ebsp bench node [flags]

Starts a node in this process with its HTTP API on loopback and a fresh
store, enrols --fingers/2 synthetic people (two index fingers each) through
the API with --concurrency clients, then runs --searches identifications
(half by enrolled people with another impression, half by people never
enrolled), then restarts the node on the same store and times the gallery
load. A PostgreSQL run makes a schema of its own and drops it afterwards.

`)
	storeURL := fs.String("store", "sqlite", `"sqlite" or a PostgreSQL URL (postgres://user:pass@host/db)`)
	data := fs.String("data", "", "directory to keep the node's data in (default: a temporary directory, removed)")
	fingers := fs.Int("fingers", 10000, "gallery size in fingers (even: two per person)")
	conc := fs.Int("concurrency", 8, "concurrent enrolling clients")
	searches := fs.Int("searches", 200, "identifications, half by enrolled people")
	sconc := fs.Int("search-concurrency", 1, "concurrent searching clients (1: latency without queueing)")
	if ok, code := parseBench(fs, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pb := newBenchProgress()
	r, err := bench.RunNode(ctx, bench.NodeOptions{Store: *storeURL, DataDir: *data, Fingers: *fingers, Concurrency: *conc,
		Searches: *searches, SearchConcurrency: *sconc, Seed: *seed, Progress: pb.Update})
	pb.Done()
	if err != nil {
		return fail("bench node", err)
	}
	return benchOutput(*asJSON, r, r.Table())
}

func benchSearch(args []string) int {
	fs, asJSON, seed := benchFlags("search", `usage: ebsp bench search [flags]

Fills an in-memory gallery (search.Gallery with the node's fingerprint or
face engine, no HTTP, no store) with synthetic people, two index fingers
each (--fingers) or one face (--faces), and times 1:N searches, half by
enrolled people: latency, searches per second, accuracy with the node's
default thresholds, heap bytes per template, the time to build the
gallery, and for a two-stage search where stage 1 ranked each mate
(hit rate against penetration rate).

`)
	fingers := fs.Int("fingers", 10000, "fingerprint gallery size in fingers (even: two per person)")
	faces := fs.Int("faces", 0, "face gallery size (replaces --fingers)")
	searches := fs.Int("searches", 20, "searches, half by enrolled people")
	workers := fs.Int("workers", 0, "search goroutines (0: GOMAXPROCS)")
	exhaustive := fs.Bool("exhaustive", false, "compare every template exactly (no stage 1), for comparison")
	penetration := fs.Float64("penetration", 0, "stage-1 shortlist as a fraction of the identities (0: the engine's default, 5% for fingers, 1,000 identities for faces)")
	minShort := fs.Int("shortlist-min", search.DefaultShortlist.Min, "identities the shortlist holds at least")
	shards := fs.Int("shards", 0, "spread the gallery over this many ebsp matcher processes on an embedded NATS server (0: in this process)")
	compact := fs.String("compact", "auto", `keep fingerprint templates compact (no pair table): "on", "off", or "auto" (on when full templates would not fit in memory: the Go memory limit, else the memory available)`)
	snapshot := fs.String("snapshot", "", "gallery snapshot file: read (and timed as a restart) when it holds this gallery, else written after building it")
	if ok, code := parseBench(fs, args); !ok {
		return code
	}
	o := bench.SearchOptions{Fingers: *fingers, Searches: *searches, Workers: *workers, Exhaustive: *exhaustive, Seed: *seed,
		Shards: *shards, Snapshot: *snapshot}
	if *shards > 0 {
		exe, err := os.Executable()
		if err != nil {
			return fail("bench search", err)
		}
		o.Executable = exe
	}
	switch *compact {
	case "on":
		o.Compact = true
	case "off":
	case "auto":
		o.Compact = !bench.FullTemplatesFit(*fingers)
	default:
		fmt.Fprintf(os.Stderr, "ebsp bench search: --compact %q: want on, off or auto\n", *compact)
		return 2
	}
	if *faces > 0 {
		o.Fingers, o.Faces = 0, *faces
	}
	if *penetration > 0 {
		o.Shortlist = search.Shortlist{Min: *minShort, Fraction: *penetration}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pb := newBenchProgress()
	o.Progress = pb.Update
	r, err := bench.RunSearch(ctx, o)
	pb.Done()
	if err != nil {
		return fail("bench search", err)
	}
	return benchOutput(*asJSON, r, r.Table())
}

func benchExchange(args []string) int {
	fs, asJSON, seed := benchFlags("exchange", `usage: ebsp bench exchange [flags]

Runs a partnership on loopback (US hub and GB partner, each with its own CA,
node, transparency log and mutual-TLS partner endpoint; the agreement as
deployed but with a daily quota above the benchmark's request count), enrols
--partner-fingers/2 synthetic people at GB, then sends --requests step-1
searches from the US node's API to GB twice: one at a time (round-trip
latency), then --concurrency at once (requests/s the responder sustains).
Half the probes are by people GB enrolled (hits), half by strangers.

`)
	data := fs.String("data", "", "directory to keep the nodes' data in (default: a temporary directory, removed)")
	fingers := fs.Int("partner-fingers", 10000, "partner gallery size in fingers (even: two per person)")
	requests := fs.Int("requests", 200, "step-1 searches in each phase, half hits")
	conc := fs.Int("concurrency", 8, "concurrent requests in the throughput phase (and enrolling clients)")
	if ok, code := parseBench(fs, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pb := newBenchProgress()
	r, err := bench.RunExchange(ctx, bench.ExchangeOptions{DataDir: *data, PartnerFingers: *fingers, Requests: *requests,
		Concurrency: *conc, Seed: *seed, Progress: pb.Update})
	pb.Done()
	if err != nil {
		return fail("bench exchange", err)
	}
	return benchOutput(*asJSON, r, r.Table())
}

func benchPrivacy(args []string) int {
	fs, asJSON, seed := benchFlags("privacy", `usage: ebsp bench privacy --gallery N [flags]

Measures the encrypted hit count of package privacy on synthetic faces.
Learns a PCA projection (centring, then from 128-d to --dim) on a separate
synthetic population and reports its accuracy cost (EER, TAR at FAR 1e-3) on held-out
identities, where it also picks the threshold (the lowest 0.01 step whose
margin lies above every held-out impostor score). Then sets up a two-party
key, enrols --gallery faces at the responder and runs --queries searches
(even ones by enrolled identities, odd ones by strangers): the requester
encrypts, the responder searches, the requester decrypts the count. Prints
time and process CPU per query, bytes up and down, and the agreement of
the counts and of every entry's encrypted decision with the plaintext ones.
The responder encodes its gallery's plaintexts once before the queries
(about 4.3 KB of memory per entry at 64-d; --no-precompute encodes them
per query instead).

`)
	gallery := fs.Int("gallery", 0, "gallery entries (required)")
	queries := fs.Int("queries", 2, "searches, alternately mated and non-mated")
	dim := fs.Int("dim", 64, "reduced embedding dimension (a power of two; docs/privacy.md gives its accuracy cost)")
	logN := fs.Int("logn", 15, "ring degree 2^logn (below 15 is NOT secure: speed tests only)")
	noPre := fs.Bool("no-precompute", false, "encode the gallery's plaintexts per query instead of once before the queries")
	preLimit := fs.Int("precompute-limit", 8, "largest memory, in GiB, the once-encoded plaintexts may take (else they are encoded per query)")
	if ok, code := parseBench(fs, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pb := newBenchProgress()
	r, err := bench.RunPrivacy(ctx, bench.PrivacyOptions{Gallery: *gallery, Queries: *queries, Dim: *dim, LogN: *logN,
		Seed: *seed, NoPrecompute: *noPre, PrecomputeLimit: *preLimit << 30, Progress: pb.Update})
	pb.Done()
	if err != nil {
		return fail("bench privacy", err)
	}
	return benchOutput(*asJSON, r, r.Table())
}

func benchAudit(args []string) int {
	fs, asJSON, seed := benchFlags("audit", `usage: ebsp bench audit [flags]

Appends --leaves synthetic leaves (request and decision leaves as the
exchange writes them) to a new transparency log in Append calls of --batch
leaves, one fsync each; then on the full log times --proofs inclusion and
consistency proofs (each checked against a signed checkpoint), --synced
one-leaf Appends, and reopening the log; with --verify also verifying
every leaf and the checkpoint as ebsp audit verify --log does; with
--rebuild also an Open that rebuilds the index and tiles from the leaves
file alone (a log from before tiles). Reports rates, latencies, thread CPU, heap in use and peak RSS.

`)
	dir := fs.String("dir", "", "new log directory (default: a temporary directory, removed)")
	leaves := fs.Int64("leaves", 1000000, "leaves to append")
	batch := fs.Int("batch", 1000, "leaves per Append")
	proofs := fs.Int("proofs", 2000, "inclusion and consistency proofs to time")
	rebuild := fs.Bool("rebuild", false, "also time rebuilding index and tiles from the leaves")
	verify := fs.Bool("verify", false, "also time verifying every leaf and the checkpoint (ebsp audit verify --log)")
	if ok, code := parseBench(fs, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pb := newBenchProgress()
	r, err := bench.RunAudit(ctx, bench.AuditOptions{Dir: *dir, Leaves: *leaves, Batch: *batch, Proofs: *proofs,
		Rebuild: *rebuild, Verify: *verify, Seed: *seed, Progress: pb.Update})
	pb.Done()
	if err != nil {
		return fail("bench audit", err)
	}
	return benchOutput(*asJSON, r, r.Table())
}

func benchOutput(asJSON bool, v any, table string) int {
	if !asJSON {
		fmt.Print(table)
		return 0
	}
	return emitJSON("bench", v)
}

// newBenchProgress reports a benchmark's phases on stderr
// (internal/progress).
func newBenchProgress() *progress.Phases { return progress.NewPhases(os.Stderr, "bench") }
