package exchange

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
	"golang.org/x/mod/sumdb/note"
)

// TestKeyRotation: GB rotates its log key and its signing key (as `ebsp
// pki rotate` does: new keys, statements signed by the old ones, saved and
// loaded again) and restarts. Its log records each rotation once, however
// often it restarts. The US client, which holds a checkpoint signed by the
// old log key and only the agreement's (old) key, verifies the next reply:
// it learns the new key from GB's signed rotation, checks the consistency
// of the new checkpoint with its old one, and accepts the reply signed by
// the new signing key. A third party with the agreement's key verifies
// every checkpoint of both keys. The US's own signing key rotation
// overlaps: GB accepts the old and the new key.
func TestKeyRotation(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(7, 13))
	ctx := context.Background()
	if _, err := p.client.Step1(ctx, border(freshProbe(rng))); err != nil {
		t.Fatal(err)
	}
	oldLogKey := p.gb.LogKey

	rotated, err := p.gb.RotateLog(p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rotated, err = p.gbCA.RotateSign(rotated, p.clock.Now(), 365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "gb-node")
	if err := rotated.Save(dir); err != nil {
		t.Fatal(err)
	}
	gb, err := LoadNode(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(gb.Rotations) != 2 || gb.LogKey == oldLogKey || gb.SignCert.Equal(p.gb.SignCert) {
		t.Fatalf("loaded %d rotations, log key changed %v", len(gb.Rotations), gb.LogKey != oldLogKey)
	}
	if ks := gb.LogKeys(); len(ks) != 2 || ks[0] != oldLogKey || ks[1] != gb.LogKey {
		t.Fatalf("log key history %q", ks)
	}
	p.gb = gb
	p.respCfg.Credentials = gb
	p.restart(t)
	p.restart(t)
	var rotations int
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindKeyRotation {
			rotations++
		}
	}
	if rotations != 2 {
		t.Fatalf("%d key_rotation leaves after two restarts, want 2", rotations)
	}

	if _, err := p.client.Step1(ctx, border(freshProbe(rng))); err != nil {
		t.Fatalf("after GB's rotation: %v", err)
	}
	if ks := p.client.LogKeys(); len(ks) != 2 || ks[1] != gb.LogKey {
		t.Fatalf("client trusts %q", ks)
	}
	// A fresh client of the agreement (old key only) follows Refresh too.
	fresh, err := NewClient(ClientConfig{Credentials: p.us, Agreement: p.client.a, Now: p.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Refresh(ctx); err != nil {
		t.Fatalf("refresh after rotation: %v", err)
	}

	var kept []audit.SignedCheckpoint
	for i, cp := range p.client.Checkpoints() {
		kept = append(kept, audit.SignedCheckpoint{Source: string(rune('a' + i)), Signed: cp})
	}
	if len(kept) < 2 {
		t.Fatalf("%d checkpoints kept", len(kept))
	}
	if r := audit.Verify(p.log.Leaves(), p.client.a.Party("GB").LogVerifier(), kept); !r.OK() || len(r.Keys) != 2 {
		t.Fatalf("third-party verification with the agreement's key: %q keys %q", r.Problems, r.Keys)
	}

	// The US rotates its signing key: GB accepts both during the overlap.
	usNew, err := p.usCA.RotateSign(p.us, p.clock.Now(), 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.Step1(ctx, border(freshProbe(rng))); err != nil {
		t.Fatalf("old US signing key during the overlap: %v", err)
	}
	p.client.sealer = NewSealer(usNew, p.clock.Now)
	if _, err := p.client.Step1(ctx, border(freshProbe(rng))); err != nil {
		t.Fatalf("new US signing key: %v", err)
	}
	// GB's request leaves name the key of each request, by the ids the
	// US rotation statement gives the old and the new key.
	rot := usNew.Rotations[len(usNew.Rotations)-1]
	var ids []string
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindRequest {
			ids = append(ids, l.Key)
		}
	}
	if n := len(ids); n < 2 || ids[n-2] != keyHash(t, rot.Old) || ids[n-1] != keyHash(t, rot.New) {
		t.Fatalf("request leaves name keys %q, want ... %s %s", ids, keyHash(t, rot.Old), keyHash(t, rot.New))
	}

	// Credentials whose rotation statement was altered do not load.
	stmt := filepath.Join(dir, RotationsDir, "0001-log.json")
	b, _ := os.ReadFile(stmt)
	altered := strings.Replace(string(b), "T10:00:00Z", "T11:00:00Z", 1)
	if altered == string(b) {
		t.Fatalf("statement without the expected time:\n%s", b)
	}
	os.WriteFile(stmt, []byte(altered), 0o600)
	if _, err := LoadNode(dir); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("credentials with an altered rotation statement: %v", err)
	}
}

// keyHash is the short id of a note verifier key.
func keyHash(t *testing.T, vkey string) string {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%08x", v.KeyHash())
}

// TestSaveRotationStatementFirst: a rotation saved over the credentials it
// replaces writes the statement and the retired key before the new keys,
// so a save that stops on the key file (here: a directory where its
// temporary file goes) leaves the old key, with the statement on disk,
// never a new key partners cannot chain to.
func TestSaveRotationStatementFirst(t *testing.T) {
	now := time.Now()
	ca, err := NewCA("GB", now, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ca.IssueNode("gb-node", []string{"127.0.0.1"}, now, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "creds")
	if err := nc.Save(dir); err != nil {
		t.Fatal(err)
	}
	oldKey, err := os.ReadFile(filepath.Join(dir, LogKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := nc.RotateLog(now)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, LogKeyFile+".tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, LogKeyFile+".tmp", "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rotated.Save(dir); err == nil {
		t.Fatal("Save wrote the log key over a directory")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LogKeyFile)); string(b) != string(oldKey) {
		t.Fatal("the old log key was replaced")
	}
	for _, sub := range []string{RotationsDir, RetiredDir} {
		if ents, err := os.ReadDir(filepath.Join(dir, sub)); err != nil || len(ents) != 1 {
			t.Fatalf("%s: %d files (%v); the statement and retired key go first", sub, len(ents), err)
		}
	}
	os.RemoveAll(filepath.Join(dir, LogKeyFile+".tmp"))
	if err := rotated.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadNode(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.LogKey != rotated.LogKey || len(got.Rotations) != 1 {
		t.Fatalf("loaded log key %s with %d rotations, want %s with 1", got.LogKey, len(got.Rotations), rotated.LogKey)
	}
}
