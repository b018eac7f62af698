package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ebsp/ebsp/audit"
	"golang.org/x/mod/sumdb/note"
)

func init() {
	register("audit", "verify a node's transparency log and checkpoints; oversight statistics", runAudit)
}

func runAudit(args []string) int {
	const usage = `usage: ebsp audit verify --log DIR|FILE --key PUBKEY... [--checkpoints FILE]... [--json] [FILE...]
       ebsp audit verify --tiles URL|DIR --key PUBKEY... [--token-file FILE] [--checkpoints FILE]... [--json] [FILE...]
       ebsp audit stats  --log DIR|FILE [--period day|month] [--json]

verify checks a transparency log as a third party would: every leaf is well
formed, every checkpoint (the log's own and those given) is signed by the key,
matches the tree of that many leaves, and all checkpoints are consistent with
each other. With --tiles instead of --log it checks the checkpoints against
the log a node publishes (C2SP tlog-tiles, https://NODE/v1/audit) or a
mirror of it, without the leaves. Exit status 1 if anything is wrong.

stats prints oversight counts per partner and period from the leaves.

'ebsp audit verify -h' and 'ebsp audit stats -h' explain the flags.`
	return dispatch("audit", usage, args, map[string]func([]string) int{"verify": auditVerify, "stats": auditStats})
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func auditVerify(args []string) int {
	fs := newFlagSet("audit verify", `usage: ebsp audit verify --log DIR|FILE --key PUBKEY... [--checkpoints FILE]... [--json] [FILE...]
       ebsp audit verify --tiles URL|DIR --key PUBKEY... [--token-file FILE] [--checkpoints FILE]... [--json] [FILE...]

Checks a transparency log as a third party would: every leaf is well formed,
every checkpoint (the log's own and those given) is signed by the key (or
by a key that a key_rotation leaf, signed by a trusted key, introduced),
matches the tree of that many leaves, and all checkpoints are consistent with
each other.

With --tiles, checks the checkpoints given against the log as a node
publishes it now (its latest checkpoint and hash tiles, C2SP tlog-tiles, at
https://NODE/v1/audit with an auditor's token) or as a directory mirroring
those paths: every checkpoint is signed by the key, no larger than the
published one, and its root is the root of that many leaves of the
published tree (tiles authenticated against the published checkpoint). The
leaves are not published, so not checked. Exit status 1 if anything is
wrong.`)
	logPath := fs.String("log", "", "the log: a log directory (leaves and checkpoint files) or an exported leaves file")
	tiles := fs.String("tiles", "", "instead of --log: the log's tlog-tiles prefix, a URL (https://NODE/v1/audit) or a mirror directory")
	tokenFile := fs.String("token-file", os.Getenv("EBSP_TOKEN_FILE"), "with an http(s) --tiles: file holding the bearer token (env EBSP_TOKEN_FILE; or the token itself in EBSP_TOKEN)")
	var keyArgs listFlag
	fs.Var(&keyArgs, "key", "the log's public key: a file holding note verifier keys \"origin+hash+keydata\" (one a line), or the key itself; repeatable, for a key history. With --log, keys that key_rotation leaves introduce, each signed by a key already trusted, are trusted too")
	var cps listFlag
	fs.Var(&cps, "checkpoints", "a file (or a directory of files) holding one signed checkpoint each, as partners kept them; repeatable, and further files may follow the flags")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	cps = append(cps, fs.Args()...)
	if (*logPath == "") == (*tiles == "") || len(keyArgs) == 0 {
		fmt.Fprintln(os.Stderr, "ebsp audit verify: --key and one of --log and --tiles are required")
		fs.Usage()
		return 2
	}
	var keys []note.Verifier
	for _, k := range keyArgs {
		texts := []string{k}
		if b, err := os.ReadFile(k); err == nil {
			texts = strings.Fields(string(b))
		}
		for _, s := range texts {
			v, err := note.NewVerifier(s)
			if err != nil {
				return fail("audit verify", fmt.Errorf("--key %s: %v", k, err))
			}
			keys = append(keys, v)
		}
	}
	if len(keys) == 0 {
		return fail("audit verify", fmt.Errorf("--key %s holds no key", keyArgs[0]))
	}
	var kept []audit.SignedCheckpoint
	for _, p := range cps {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			ents, err := os.ReadDir(p)
			if err != nil {
				return fail("audit verify", err)
			}
			files = files[:0]
			for _, ent := range ents {
				if !ent.IsDir() {
					files = append(files, filepath.Join(p, ent.Name()))
				}
			}
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return fail("audit verify", err)
			}
			kept = append(kept, audit.SignedCheckpoint{Source: f, Signed: b})
		}
	}
	var r *audit.Report
	if *tiles != "" {
		tok := os.Getenv("EBSP_TOKEN")
		if *tokenFile != "" {
			b, err := os.ReadFile(*tokenFile)
			if err != nil {
				return fail("audit verify", err)
			}
			tok = strings.TrimSpace(string(b))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		r = audit.VerifyTilesKeys(audit.NewTileSource(ctx, *tiles, tok), keys, kept)
	} else {
		var err error
		if r, err = audit.VerifyPath(*logPath, keys, kept); err != nil {
			return fail("audit verify", err)
		}
	}
	if *asJSON {
		out := struct {
			*audit.Report
			OK bool `json:"ok"`
		}{r, r.OK()}
		_ = printJSON(out)
	} else {
		fmt.Printf("log %s: %d leaves, root %s\n", r.Origin, r.Leaves, r.Root)
		if len(r.Keys) > 1 {
			fmt.Printf("  keys: %s\n", strings.Join(r.Keys, ", "))
		}
		for _, c := range r.Checkpoints {
			if c.OK {
				fmt.Printf("  ok    checkpoint %s (size %d)\n", c.Source, c.Size)
			} else {
				fmt.Printf("  FAIL  checkpoint %s (size %d)\n", c.Source, c.Size)
			}
		}
		for _, p := range r.Problems {
			fmt.Printf("  problem: %s\n", p)
		}
		if r.OK() {
			fmt.Printf("verified: %d checkpoints consistent with the log\n", len(r.Checkpoints))
		} else {
			fmt.Printf("NOT VERIFIED: %d problems\n", len(r.Problems))
		}
	}
	if !r.OK() {
		return 1
	}
	return 0
}

func auditStats(args []string) int {
	fs := newFlagSet("audit stats", `usage: ebsp audit stats --log DIR|FILE [--period day|month] [--json]

Prints oversight counts per partner and period from the log's leaves.`)
	logPath := fs.String("log", "", "the log: a log directory or an exported leaves file")
	period := fs.String("period", "day", "bucket width: day or month (UTC)")
	asJSON := fs.Bool("json", false, "print the rows as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *logPath == "" {
		fmt.Fprintln(os.Stderr, "ebsp audit stats: --log is required")
		return 2
	}
	tally, err := audit.NewTally(audit.Period(*period))
	if err != nil {
		return fail("audit stats", err)
	}
	_, _, err = audit.ScanExport(*logPath, func(i int64, b []byte) error {
		l, err := audit.DecodeLeaf(b)
		if err != nil {
			return fmt.Errorf("leaf %d: %w", i, err)
		}
		tally.Add(l)
		return nil
	})
	if err != nil {
		return fail("audit stats", err)
	}
	rows := tally.Rows()
	if *asJSON {
		return emitJSON("audit stats", rows)
	}
	fmt.Printf("%-8s %-10s %8s %5s %7s %9s %8s %8s %7s  refusals\n", "partner", "period", "requests", "hits", "no_hits", "confirmed", "rejected", "releases", "expired")
	for _, r := range rows {
		var refs []string
		for k, n := range r.Refusals {
			refs = append(refs, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(refs)
		fmt.Printf("%-8s %-10s %8d %5d %7d %9d %8d %8d %7d  %s\n", r.Partner, r.Period, r.Requests, r.Hits, r.NoHits, r.Confirmed, r.Rejected, r.Releases, r.Expired, strings.Join(refs, " "))
	}
	return 0
}
