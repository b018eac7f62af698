package backup

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store/sqlite"
)

// TestRestoreRefuses: a backup holds the configuration, the store and the
// evidence, not the gallery shards. A restore checks the backup before it
// writes anything: a changed, missing or added file, a missing manifest, a target
// that is not empty and a store of the other kind are refused with the
// reason.
func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	st, err := sqlite.Open(filepath.Join(data, "ebsp.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.MkdirAll(filepath.Join(data, "evidence"), 0o700)
	os.WriteFile(filepath.Join(data, "evidence", "fork.json"), []byte("{}"), 0o600)
	// Gallery shards are left out: the restored node fills them from its
	// store.
	os.MkdirAll(filepath.Join(data, "shards", "finger"), 0o700)
	os.WriteFile(filepath.Join(data, "shards", "finger", "log"), []byte("x"), 0o600)
	cfg := &node.Config{State: "GBR", DataDir: data, Store: "sqlite"}
	cfgPath := filepath.Join(dir, "node.json")
	b, _ := json.Marshal(cfg)
	os.WriteFile(cfgPath, b, 0o600)
	out := filepath.Join(dir, "backup")
	m, err := Take(ctx, cfg, cfgPath, out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Store != "sqlite" || len(m.Files) != 3 { // node.json, data/ebsp.db, data/evidence/fork.json
		t.Fatalf("manifest: %+v", m)
	}
	if _, err := Take(ctx, cfg, cfgPath, out); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a backup into a used directory: %v", err)
	}
	if _, err := Restore(ctx, out, filepath.Join(dir, "r0"), "postgres://x@localhost/db"); err == nil || !strings.Contains(err.Error(), "SQLite") {
		t.Fatalf("a SQLite backup into PostgreSQL: %v", err)
	}
	used := filepath.Join(dir, "used")
	os.MkdirAll(used, 0o700)
	os.WriteFile(filepath.Join(used, "x"), nil, 0o600)
	if _, err := Restore(ctx, out, used, ""); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a restore into a used directory: %v", err)
	}
	if _, err := Restore(ctx, out, filepath.Join(out, "restored"), ""); err == nil || !strings.Contains(err.Error(), "inside the backup") {
		t.Fatalf("a restore into the backup: %v", err)
	}
	evidence := filepath.Join(out, "data", "evidence", "fork.json")
	for _, c := range []struct {
		name, want string
		spoil      func()
		undo       func()
	}{
		{"changed", "SHA-256", func() { os.WriteFile(evidence, []byte("{ }"), 0o600) }, func() { os.WriteFile(evidence, []byte("{}"), 0o600) }},
		{"missing", "missing", func() { os.Rename(evidence, filepath.Join(dir, "away")) }, func() { os.Rename(filepath.Join(dir, "away"), evidence) }},
		{"added", "not in the manifest", func() { os.WriteFile(evidence+"2", nil, 0o600) }, func() { os.Remove(evidence + "2") }},
		{"outside", "not a file of the backup", func() {
			editManifest(t, out, func(m *Manifest) { m.Agreements = []string{"../../etc/agreement.json"} })
		}, func() {
			editManifest(t, out, func(m *Manifest) { m.Agreements = nil })
		}},
		{"no manifest", "incomplete", func() { os.Rename(filepath.Join(out, ManifestFile), filepath.Join(dir, "m")) }, func() { os.Rename(filepath.Join(dir, "m"), filepath.Join(out, ManifestFile)) }},
	} {
		c.spoil()
		to := filepath.Join(dir, "r-"+strings.ReplaceAll(c.name, " ", "-"))
		if _, err := Restore(ctx, out, to, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s file: %v, want an error saying %q", c.name, err, c.want)
		}
		if ents, _ := os.ReadDir(to); len(ents) > 0 {
			t.Errorf("%s file: the failed restore left %d entries in %s", c.name, len(ents), to)
		}
		c.undo()
	}
	r, err := Restore(ctx, out, filepath.Join(dir, "r"), "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := node.LoadConfig(r.Config)
	if err != nil || got.DataDir != filepath.Join(dir, "r", "data") {
		t.Fatalf("restored configuration: %+v %v", got, err)
	}
	st, err = sqlite.Open(filepath.Join(got.DataDir, "ebsp.db"))
	if err != nil {
		t.Fatalf("the restored store: %v", err)
	}
	st.Close()
}

// editManifest rewrites the backup's manifest after edit.
func editManifest(t *testing.T, dir string, edit func(*Manifest)) {
	t.Helper()
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	if b, err = json.Marshal(&m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTakeFollowsLinks: a data directory that is a symbolic link (to
// another disk), and files in it that are links (a secret mounted by an
// orchestrator), are backed up as the files they point to; a backup
// reached through a link restores.
func TestTakeFollowsLinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	real := filepath.Join(dir, "disk", "data")
	st, err := sqlite.Open(filepath.Join(real, "ebsp.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.MkdirAll(filepath.Join(real, "evidence"), 0o700)
	secret := filepath.Join(dir, "secret", "fork.json")
	os.MkdirAll(filepath.Dir(secret), 0o700)
	os.WriteFile(secret, []byte(`{"x":1}`), 0o600)
	if err := os.Symlink(secret, filepath.Join(real, "evidence", "fork.json")); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Symlink(real, data); err != nil {
		t.Fatal(err)
	}
	cfg := &node.Config{State: "GBR", DataDir: data, Store: "sqlite"}
	cfgPath := filepath.Join(dir, "node.json")
	b, _ := json.Marshal(cfg)
	os.WriteFile(cfgPath, b, 0o600)
	out := filepath.Join(dir, "backup")
	if _, err := Take(ctx, cfg, cfgPath, out); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(out, "data", "evidence", "fork.json"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the linked evidence file in the backup: %v %v", fi, err)
	}
	link := filepath.Join(dir, "backup-link")
	if err := os.Symlink(out, link); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(ctx, link, filepath.Join(dir, "r"), "")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := node.LoadConfig(r.Config)
	if b, err := os.ReadFile(filepath.Join(got.DataDir, "evidence", "fork.json")); err != nil || string(b) != `{"x":1}` {
		t.Fatalf("restored evidence: %q %v", b, err)
	}
}
