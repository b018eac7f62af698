package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
	"golang.org/x/mod/sumdb/note"
)

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	skey, vkey, err := audit.GenerateKey("ebsp.test/cmd/audit")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	l, err := audit.Open(filepath.Join(dir, "log"), s)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "log.pub")
	os.WriteFile(keyFile, []byte(vkey+"\n"), 0o600)
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var kept []string
	for i := 0; i < 6; i++ {
		if _, err := l.Append(audit.Leaf{Time: now, Kind: audit.KindRequest, Partner: "GB"}); err != nil {
			t.Fatal(err)
		}
		cp, _, _ := l.Checkpoint()
		f := filepath.Join(dir, "cp", "cp"+string(rune('0'+i)))
		os.MkdirAll(filepath.Dir(f), 0o700)
		os.WriteFile(f, cp, 0o600)
		kept = append(kept, f)
	}
	published := filepath.Join(dir, "published")
	if err := l.Publish(published, 0); err != nil {
		t.Fatal(err)
	}
	l.Close()
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	stdout := os.Stdout
	os.Stdout = devnull
	defer func() { os.Stdout = stdout }()

	if rc := runAudit([]string{"verify", "--log", filepath.Join(dir, "log"), "--key", keyFile, "--checkpoints", filepath.Join(dir, "cp"), "--json"}); rc != 0 {
		t.Fatalf("intact log: exit %d", rc)
	}
	if rc := runAudit([]string{"verify", "--tiles", published, "--key", keyFile, "--checkpoints", filepath.Join(dir, "cp")}); rc != 0 {
		t.Fatalf("published tiles: exit %d", rc)
	}
	if rc := runAudit([]string{"verify", "--tiles", published, "--log", filepath.Join(dir, "log"), "--key", keyFile}); rc != 2 {
		t.Fatalf("--tiles with --log: exit %d, want 2", rc)
	}
	if rc := runAudit([]string{"stats", "--log", filepath.Join(dir, "log")}); rc != 0 {
		t.Fatalf("stats: exit %d", rc)
	}
	// Drop the last leaf by rewriting the file from the first five.
	e, _ := audit.LoadExport(filepath.Join(dir, "log"))
	short := filepath.Join(dir, "short")
	l2, _ := audit.Open(short, s)
	for _, b := range e.Leaves[:5] {
		lf, _ := audit.DecodeLeaf(b)
		l2.Append(lf)
	}
	l2.Close()
	if rc := runAudit([]string{"verify", "--log", filepath.Join(short, audit.LeavesFile), "--key", vkey, kept[5]}); rc != 1 {
		t.Fatalf("log missing a leaf a checkpoint covers: exit %d, want 1", rc)
	}
	// The shorter log published: the checkpoint of 6 leaves shows the rollback.
	l2, _ = audit.Open(short, s)
	l2.Publish(filepath.Join(dir, "short-published"), 0)
	l2.Close()
	if rc := runAudit([]string{"verify", "--tiles", filepath.Join(dir, "short-published"), "--key", vkey, kept[5]}); rc != 1 {
		t.Fatalf("published log shorter than a kept checkpoint: exit %d, want 1", rc)
	}
}
