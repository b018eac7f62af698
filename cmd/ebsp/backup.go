package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ebsp/ebsp/backup"
	"github.com/ebsp/ebsp/node"
)

func init() {
	register("backup", "back up a node, running or stopped: store, transparency log, keys, agreements", runBackup)
	register("restore", "restore a node's backup into a fresh directory", runRestore)
}

func runBackup(args []string) int {
	fs := newFlagSet("backup", `usage: ebsp backup --config FILE --out DIR [--data DIR] [--store URL]

Backs up the node that FILE configures into DIR (new or empty), while it runs
or after it stopped: the store as one snapshot (SQLite: VACUUM INTO;
PostgreSQL: pg_dump, which must be installed), then the transparency log up
to its last complete leaf, the rest of the data directory (evidence), the
exchange credentials, agreements and revocation lists, the TLS files and the
configuration, and last DIR/manifest.json with every file's SHA-256
(docs/deploy.md, "Backups"). A backup without its manifest is incomplete.`)
	cfgPath := fs.String("config", os.Getenv("EBSP_CONFIG"), "the node's JSON configuration file (env EBSP_CONFIG)")
	out := fs.String("out", "", "directory to write the backup into (new or empty)")
	dataDir := fs.String("data", os.Getenv("EBSP_DATA_DIR"), "the data directory, when the node takes it from the environment or a flag rather than the file (env EBSP_DATA_DIR)")
	storeURL := fs.String("store", os.Getenv("EBSP_STORE"), "the store, when the node takes it from the environment or a flag rather than the file (env EBSP_STORE)")
	asJSON := fs.Bool("json", false, "print the manifest as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *cfgPath == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "ebsp backup: --config and --out are required")
		return 2
	}
	cfg, err := node.LoadConfig(*cfgPath)
	if err != nil {
		return fail("backup", err)
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *storeURL != "" {
		cfg.Store = *storeURL
	}
	m, err := backup.Take(context.Background(), cfg, *cfgPath, *out)
	if err != nil {
		return fail("backup", err)
	}
	printResult(*asJSON, m, fmt.Sprintf("backup of %s in %s: %s store, %d audit leaves, %d files", m.State, *out, m.Store, m.AuditLeaves, len(m.Files)))
	return 0
}

func runRestore(args []string) int {
	fs := newFlagSet("restore", `usage: ebsp restore --from DIR --to DIR [--store URL]

Checks the backup in --from against its manifest and restores it into --to
(new or empty): the data directory, credentials, agreements and TLS files,
and --to/node.json, the configuration pointed at them; a PostgreSQL store is
restored with pg_restore into --store, which must not hold the backed-up
tables yet. Then verify the restored log against the checkpoints your
partners kept ('ebsp audit verify --checkpoints') and start the node with
'ebsp node --config TO/node.json' (docs/deploy.md, "Backups").`)
	from := fs.String("from", "", "the backup directory")
	to := fs.String("to", "", "directory to restore into (new or empty)")
	storeURL := fs.String("store", "", "postgres:// URL to restore a PostgreSQL store into")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *from == "" || *to == "" {
		fmt.Fprintln(os.Stderr, "ebsp restore: --from and --to are required")
		return 2
	}
	r, err := backup.Restore(context.Background(), *from, *to, *storeURL)
	if err != nil {
		return fail("restore", err)
	}
	printResult(*asJSON, r, fmt.Sprintf("restored %s (%s store, %d audit leaves, taken %s) into %s; start it with: ebsp node --config %s",
		r.Manifest.State, r.Manifest.Store, r.Manifest.AuditLeaves, r.Manifest.Taken.Format("2006-01-02T15:04:05Z"), *to, r.Config))
	return 0
}
