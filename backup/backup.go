// Package backup takes a consistent backup of a national node, running or
// stopped, and restores it into a fresh directory (docs/deploy.md,
// "Backups"). A backup holds everything a node needs to start again where
// it was: the store, the transparency log, the rest of the data directory
// (the evidence of partner log forks, self-calibration), the exchange
// credentials, agreements and revocation lists, the API's TLS files and
// the configuration.
//
// Consistency. A running node writes its store before each audit leaf
// that the write leads to (package exchange). The backup copies in the
// same order: first the store as one snapshot (SQLite: VACUUM INTO, which
// reads one transaction of the live database; PostgreSQL: pg_dump, which
// dumps one snapshot), then the log's leaves file, append-only, as far as
// its last complete leaf (audit.CopyPrefix). The log copy therefore holds
// every leaf the store copy refers to, and perhaps a few leaves written
// after the store copy; a node started on the restored directory catches
// its cases up with those (exchange: catchUp), closing, never repeating,
// what the store did not see.
package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for VACUUM INTO

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/internal/durable"
	"github.com/ebsp/ebsp/node"
)

// Format names the layout of a backup directory.
const Format = "ebsp-backup/1"

// Names inside a backup directory.
const (
	ManifestFile = "manifest.json" // written last: a backup without it is incomplete
	ConfigFile   = "node.json"     // the configuration as it was
	DataDir      = "data"          // the data directory: ebsp.db (SQLite), audit/, evidence/ ...
	PGDumpFile   = "store.pgdump"  // the PostgreSQL store (pg_dump --format=custom)
	CredsDir     = "credentials"   // exchange.credentials
)

// Manifest says what a backup holds.
type Manifest struct {
	Format string    `json:"format"`
	Taken  time.Time `json:"taken"`
	State  string    `json:"state"`
	Store  string    `json:"store"` // "sqlite" or "postgres"
	// AuditLeaves is how many leaves of the transparency log were copied.
	AuditLeaves int64 `json:"audit_leaves"`
	// Where the configuration's files are in the backup, in the
	// configuration's order (paths relative to the backup).
	Agreements      []string  `json:"agreements,omitempty"`
	RevocationLists []string  `json:"revocation_lists,omitempty"`
	TLS             *TLSFiles `json:"tls,omitempty"`
	// Files is every file of the backup but the manifest, with its size
	// and SHA-256, checked before a restore.
	Files []File `json:"files"`
}

// TLSFiles are the API's TLS files in the backup.
type TLSFiles struct {
	Cert, Key, ClientCA string
}

// File is one file of a backup.
type File struct {
	Path   string `json:"path"` // relative, with forward slashes
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Take backs up the node that cfg configures (as `ebsp node` read it from
// configPath) into out, a directory that must be missing or empty. The
// node may be running.
func Take(ctx context.Context, cfg *node.Config, configPath, out string) (*Manifest, error) {
	cfg.Defaults()
	if err := emptyDir(out); err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, Taken: time.Now().UTC(), State: cfg.State}
	raw, err := os.ReadFile(configPath)
	if err != nil {
		return nil, fmt.Errorf("backup: configuration: %w", err)
	}
	if err := writeFile(filepath.Join(out, ConfigFile), raw); err != nil {
		return nil, err
	}
	data := filepath.Join(out, DataDir)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	// 1. The store, as one snapshot.
	switch {
	case cfg.Store == "sqlite":
		m.Store = "sqlite"
		if err := vacuumInto(ctx, filepath.Join(cfg.DataDir, "ebsp.db"), filepath.Join(data, "ebsp.db")); err != nil {
			return nil, err
		}
	case isPostgres(cfg.Store):
		m.Store = "postgres"
		if err := pgDump(ctx, cfg.Store, filepath.Join(out, PGDumpFile)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("backup: store %q: want sqlite or a postgres:// URL", cfg.Store)
	}
	// 2. The transparency log, after the store: a prefix at least as long
	// as every leaf the store copy refers to.
	logDir := filepath.Join(cfg.DataDir, "audit")
	if _, err := os.Stat(filepath.Join(logDir, audit.LeavesFile)); err == nil {
		if m.AuditLeaves, err = audit.CopyPrefix(logDir, filepath.Join(data, "audit")); err != nil {
			return nil, fmt.Errorf("backup: transparency log: %w", err)
		}
	}
	// 3. The rest of the data directory: files written whole (evidence,
	// self-calibration); the store's files and the log are done. The
	// gallery shards of a cluster configuration (shards/) are left out:
	// they are copies of the store's templates, and a copy taken after
	// the store's could hold templates the restored store has not (a
	// searchable erased template); a restored node fills empty shards
	// from its store when it starts.
	err = copyTree(cfg.DataDir, data, true, func(rel string, d fs.DirEntry) bool {
		return rel == "audit" || rel == "shards" || strings.HasPrefix(rel, "ebsp.db") || strings.HasSuffix(rel, ".tmp")
	})
	if err != nil {
		return nil, err
	}
	// 4. Keys, certificates, agreements.
	if x := cfg.Exchange; x != nil {
		if err := copyTree(x.Credentials, filepath.Join(out, CredsDir), true, nil); err != nil {
			return nil, fmt.Errorf("backup: exchange.credentials: %w", err)
		}
		if m.Agreements, err = copyFiles(x.Agreements, out, "agreements"); err != nil {
			return nil, fmt.Errorf("backup: exchange.agreements: %w", err)
		}
		if m.RevocationLists, err = copyFiles(x.RevocationLists, out, "revocation"); err != nil {
			return nil, fmt.Errorf("backup: exchange.revocation_lists: %w", err)
		}
	}
	if t := cfg.TLS; t != nil {
		paths := []string{t.CertFile, t.KeyFile}
		if t.ClientCAFile != "" {
			paths = append(paths, t.ClientCAFile)
		}
		got, err := copyFiles(paths, out, "tls")
		if err != nil {
			return nil, fmt.Errorf("backup: tls: %w", err)
		}
		m.TLS = &TLSFiles{Cert: got[0], Key: got[1]}
		if len(got) > 2 {
			m.TLS.ClientCA = got[2]
		}
	}
	// 5. The manifest, last.
	if m.Files, err = hashTree(out); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(out, ManifestFile), append(b, '\n')); err != nil {
		return nil, err
	}
	return m, durable.SyncDir(out)
}

// Restored is a node restored by Restore.
type Restored struct {
	Manifest *Manifest
	Config   string // the restored configuration file: `ebsp node --config` it
}

// Restore restores the backup in from into to, a directory that must be
// missing or empty, after checking every file against the manifest. The
// restored configuration (to/node.json) names the restored files; the node
// it configures listens where the original did. A PostgreSQL store is
// restored into storeURL, which must hold no ebsp tables yet (a fresh
// database, or a server without the backed-up schema); a SQLite store into
// to/data, and storeURL must be empty.
//
// Every file is checked against the manifest as it is copied: the bytes
// restored are the bytes checked, each read once. A restore that fails
// leaves to empty.
func Restore(ctx context.Context, from, to, storeURL string) (_ *Restored, err error) {
	b, err := os.ReadFile(filepath.Join(from, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("restore: %s: %w (an incomplete backup has no manifest)", from, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("restore: %s: %w", ManifestFile, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("restore: %s: format %q, want %q", ManifestFile, m.Format, Format)
	}
	switch {
	case m.Store == "postgres" && !isPostgres(storeURL):
		return nil, errors.New("restore: the backup's store is PostgreSQL: give the postgres:// URL to restore it into")
	case m.Store == "sqlite" && storeURL != "":
		return nil, errors.New("restore: the backup's store is SQLite: it is restored into the data directory, not a server")
	}
	if err := checkNamed(&m); err != nil {
		return nil, err
	}
	to, err = filepath.Abs(to)
	if err != nil {
		return nil, err
	}
	if src, err := filepath.Abs(from); err != nil {
		return nil, err
	} else if rel, err := filepath.Rel(src, to); err == nil && (rel == "." || filepath.IsLocal(rel)) {
		// The copy would walk into its own output.
		return nil, fmt.Errorf("restore: %s is inside the backup %s: restore elsewhere", to, from)
	}
	if err := emptyDir(to); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			clearDir(to)
		}
	}()
	if err := copyChecked(from, to, m.Files); err != nil {
		return nil, err
	}
	if m.Store == "postgres" {
		// From the checked copy, which is not kept.
		dump := filepath.Join(to, PGDumpFile)
		if err := pgRestore(ctx, storeURL, dump); err != nil {
			return nil, err
		}
		if err := os.Remove(dump); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	// The configuration, pointed at the restored files. It is edited as
	// JSON, so that whatever else it says stays as written.
	var cfg map[string]any
	raw, err := os.ReadFile(filepath.Join(to, ConfigFile))
	if err == nil {
		err = json.Unmarshal(raw, &cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("restore: %s: %w", ConfigFile, err)
	}
	in := func(rel string) string { return filepath.Join(to, filepath.FromSlash(rel)) }
	all := func(rels []string) []string {
		out := make([]string, len(rels))
		for i, r := range rels {
			out[i] = in(r)
		}
		return out
	}
	cfg["data_dir"] = in(DataDir)
	cfg["store"] = "sqlite"
	if m.Store == "postgres" {
		cfg["store"] = storeURL
	}
	if x, ok := cfg["exchange"].(map[string]any); ok {
		x["credentials"] = in(CredsDir)
		x["agreements"] = all(m.Agreements)
		if len(m.RevocationLists) > 0 {
			x["revocation_lists"] = all(m.RevocationLists)
		}
	}
	if t, ok := cfg["tls"].(map[string]any); ok && m.TLS != nil {
		t["cert_file"], t["key_file"] = in(m.TLS.Cert), in(m.TLS.Key)
		if m.TLS.ClientCA != "" {
			t["client_ca_file"] = in(m.TLS.ClientCA)
		}
	}
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(to, ConfigFile)
	if err := durable.WriteFile(path, append(out, '\n')); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	// Every file was synced as it was copied; the directories' entries too,
	// so that a restore that returned survives a crash.
	err = filepath.WalkDir(to, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			err = durable.SyncDir(p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if _, err := node.LoadConfig(path); err != nil {
		return nil, fmt.Errorf("restore: the restored configuration: %w", err)
	}
	return &Restored{Manifest: &m, Config: path}, nil
}

// vacuumInto writes a consistent copy of the SQLite database at src, which
// a node may be writing (WAL mode: the copy reads one snapshot and blocks
// no writer), into the new file dst.
func vacuumInto(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: store: %w", err)
	}
	// No _txlock or journal mode here: this connection only reads.
	db, err := sql.Open("sqlite", src+"?_busy_timeout=10000")
	if err != nil {
		return fmt.Errorf("backup: store %s: %w", src, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("backup: store %s: VACUUM INTO: %w", src, err)
	}
	f, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return f.Sync()
}

func isPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// libpq turns a store URL into what pg_dump and pg_restore take: the
// password goes into the environment (not the command line, which other
// users can read), and the pgx-only search_path becomes the schema to dump
// (libpq refuses parameters it does not know).
func libpq(store string) (dsn, schema string, env []string, err error) {
	u, err := url.Parse(store)
	if err != nil {
		return "", "", nil, fmt.Errorf("store URL does not parse: %v", err)
	}
	env = os.Environ()
	if p, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+p)
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if sp := q.Get("search_path"); sp != "" {
		schema = strings.TrimSpace(strings.Split(sp, ",")[0])
		q.Del("search_path")
	}
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), schema, env, nil
}

// pgDump dumps the store at url into the file dst with pg_dump (custom
// format), which reads one snapshot of the database while the node writes.
func pgDump(ctx context.Context, store, dst string) error {
	dsn, schema, env, err := libpq(store)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	args := []string{"--format=custom", "--no-owner", "--no-privileges", "--file=" + dst}
	if schema != "" {
		args = append(args, "--schema="+schema)
	}
	return run(ctx, "backup", "pg_dump", append(args, "--dbname="+dsn), env)
}

// pgRestore restores the dump src into the database at url, in one
// transaction: all of it or nothing.
func pgRestore(ctx context.Context, store, src string) error {
	dsn, _, env, err := libpq(store)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return run(ctx, "restore", "pg_restore", []string{"--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname=" + dsn, src}, env)
}

func run(ctx context.Context, what, tool string, args, env []string) error {
	if _, err := exec.LookPath(tool); err != nil {
		return fmt.Errorf("%s: %s not found: install the PostgreSQL client tools (Debian: postgresql-client) of the server's major version or later", what, tool)
	}
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %s: %v: %s", what, tool, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// emptyDir makes dir if missing and refuses one that holds anything.
func emptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s is not empty: give a new directory", dir)
	}
	return nil
}

// clearDir removes what dir holds, after a failed restore into it.
func clearDir(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// copyTree copies the regular files under src into dst (made if missing),
// except those skip names by their path relative to src (a skipped
// directory is not entered). A missing src copies nothing. src itself may
// be a symbolic link to a directory (a data directory on another disk).
// With follow, a symbolic link inside it to a regular file is copied as
// that file (a credentials directory mounted as a Kubernetes secret holds
// only such links); without, links are left out.
func copyTree(src, dst string, follow bool, skip func(rel string, d fs.DirEntry) bool) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	src, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && skip != nil && skip(filepath.ToSlash(rel), d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o700)
		case d.Type()&fs.ModeSymlink != 0 && follow:
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				return err // a link to a directory is not entered; a dangling one fails
			}
		case !d.Type().IsRegular():
			return nil
		}
		return copyFile(p, to)
	})
}

// copyFiles copies files into out/dir as NN-<name> (two files of one name
// stay apart) and returns their paths relative to out.
func copyFiles(paths []string, out, dir string) ([]string, error) {
	var rels []string
	for i, p := range paths {
		rel := fmt.Sprintf("%s/%02d-%s", dir, i, filepath.Base(p))
		if err := copyFile(p, filepath.Join(out, filepath.FromSlash(rel))); err != nil {
			return nil, err
		}
		rels = append(rels, rel)
	}
	return rels, nil
}

// copyFile copies a file into a new file dst, synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeFrom(dst, in)
}

// writeFile writes b into the new file path, synced.
func writeFile(path string, b []byte) error { return writeFrom(path, bytes.NewReader(b)) }

// writeFrom writes what r holds into the new file path (its directory
// made if missing), synced.
func writeFrom(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// hashTree lists every file under dir with its size and SHA-256.
func hashTree(dir string) ([]File, error) {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	var out []File
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		f, err := hashFile(p)
		f.Path = filepath.ToSlash(rel)
		out = append(out, f)
		return err
	})
	return out, err
}

func hashFile(p string) (File, error) {
	in, err := os.Open(p)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	h := sha256.New()
	n, err := io.Copy(h, in)
	return File{Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
}

// checkNamed checks that the files the restored configuration will name
// (agreements, revocation lists, TLS files) are files of the backup, so
// that an edited manifest cannot point the restored node at files outside
// it (the manifest's hashes say nothing about those).
func checkNamed(m *Manifest) error {
	held := map[string]bool{}
	for _, f := range m.Files {
		held[f.Path] = true
	}
	named := append(append([]string(nil), m.Agreements...), m.RevocationLists...)
	if m.TLS != nil {
		named = append(named, m.TLS.Cert, m.TLS.Key)
		if m.TLS.ClientCA != "" {
			named = append(named, m.TLS.ClientCA)
		}
	}
	for _, p := range named {
		if !held[p] {
			return fmt.Errorf("restore: %s names %q for the configuration, which is not a file of the backup", ManifestFile, p)
		}
	}
	return nil
}

// copyChecked copies every file of the backup in from but the manifest
// into to, checking each against files (the manifest's list) as it is
// copied, and that the backup holds no other file and misses none.
func copyChecked(from, to string, files []File) error {
	want := map[string]File{}
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) || f.Path == ManifestFile {
			return fmt.Errorf("restore: %s names %q, outside the backup", ManifestFile, f.Path)
		}
		want[f.Path] = f
	}
	from, err := filepath.EvalSymlinks(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	err = filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil || rel == "." {
			return err
		}
		dst := filepath.Join(to, rel)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o700)
		case rel == ManifestFile || !d.Type().IsRegular():
			return nil
		}
		w, ok := want[rel]
		if !ok {
			return fmt.Errorf("%s is not in the manifest", rel)
		}
		delete(want, rel)
		g, err := copyHashed(p, dst)
		if err != nil {
			return err
		}
		if w.Bytes != g.Bytes || w.SHA256 != g.SHA256 {
			return fmt.Errorf("%s: %d bytes, SHA-256 %s; the manifest says %d bytes, %s", rel, g.Bytes, g.SHA256, w.Bytes, w.SHA256)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	missing := make([]string, 0, len(want))
	for p := range want {
		missing = append(missing, p)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("restore: %s is missing from the backup", strings.Join(missing, ", "))
	}
	return nil
}

// copyHashed copies src into the new file dst, synced, and returns the
// size and SHA-256 of what it copied.
func copyHashed(src, dst string) (File, error) {
	in, err := os.Open(src)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	h := sha256.New()
	var n byteCount
	err = writeFrom(dst, io.TeeReader(in, io.MultiWriter(h, &n)))
	return File{Bytes: int64(n), SHA256: hex.EncodeToString(h.Sum(nil))}, err
}

// byteCount is an io.Writer that counts what it is given.
type byteCount int64

func (c *byteCount) Write(p []byte) (int, error) {
	*c += byteCount(len(p))
	return len(p), nil
}
