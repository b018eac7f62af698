package node

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
)

// TestGallerySnapshot checks that a node restarts its fingerprint gallery
// from the snapshot Close wrote, preparing nothing; that the store, not
// the snapshot, decides what is in the gallery (an identity erased after
// the snapshot was written is not brought back, one enrolled after it is
// prepared); and that a damaged snapshot is detected, not used, and
// rewritten.
func TestGallerySnapshot(t *testing.T) {
	dir := t.TempDir()
	start := func() *testNode {
		tn := newTestNode(t, func(c *Config) { c.DataDir = dir })
		t.Cleanup(func() { tn.Close() })
		return tn
	}
	stop := func(tn *testNode, close bool) {
		tn.srv.Close()
		if close {
			if err := tn.Close(); err != nil {
				t.Fatal(err)
			}
		}
		tn.store.Close()
	}
	load := func(tn *testNode) snapshotLoad {
		tn.snapshots.mu.Lock()
		defer tn.snapshots.mu.Unlock()
		return tn.snapshots.last[biometric.Finger]
	}
	found := func(tn *testNode, p int) bool {
		_, body := tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": person(t, p, 2)})
		c, _ := body["candidates"].([]any)
		return len(c) > 0 && c[0].(map[string]any)["identity_id"] == "P00"+string(rune('0'+p))
	}

	tn := start()
	if l := load(tn); l.state != "none" {
		t.Fatalf("first start: %+v", l)
	}
	enrolPeople(t, tn, 8)
	stop(tn, true)

	tn = start()
	if l := load(tn); l.state != "loaded" || l.reused != 16 || l.prepared != 0 {
		t.Fatalf("restart from the snapshot: %+v, want 16 templates reused, none prepared", l)
	}
	if !found(tn, 3) {
		t.Fatal("P003 not found after a start from the snapshot")
	}
	// Erase P003 and enrol P008, then stop without Close (kill -9): the
	// snapshot on disk still holds P003 and lacks P008.
	if st, _ := tn.call(t, RoleAdmin, "DELETE", "/v1/identities/P003", nil); st != 204 {
		t.Fatalf("erase: %d", st)
	}
	if st, body := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("P008", person(t, 8, 1))); st != 201 {
		t.Fatalf("enrol: %d %v", st, body)
	}
	stop(tn, false)

	tn = start()
	if l := load(tn); l.state != "loaded" || l.reused != 14 || l.prepared != 2 {
		t.Fatalf("restart after an erasure and an enrolment: %+v, want 14 reused and P008's 2 prepared", l)
	}
	if n, ids := tn.galleries[biometric.Finger].Len(); n != 16 || ids != 8 {
		t.Fatalf("gallery %d templates of %d identities, want 16 of 8", n, ids)
	}
	if found(tn, 3) {
		t.Fatal("the erased P003 came back from the snapshot")
	}
	if !found(tn, 8) {
		t.Fatal("P008, enrolled after the snapshot, not found")
	}
	// The start rewrote the snapshot without the erased identity's
	// templates (identities are stored in clear in it).
	if b, err := os.ReadFile(tn.gallerySnapshotPath(biometric.Finger)); err != nil || bytes.Contains(b, []byte("P003")) {
		t.Fatalf("the snapshot still holds the erased P003 (%v)", err)
	}
	stop(tn, true)

	// Damaged: one byte flipped.
	path := tn.gallerySnapshotPath(biometric.Finger)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tn = start()
	if l := load(tn); !strings.HasPrefix(l.state, "rebuilt: ") || l.reused != 0 || l.prepared != 16 {
		t.Fatalf("restart on a damaged snapshot: %+v, want it rebuilt, every template prepared", l)
	}
	if !found(tn, 5) {
		t.Fatal("P005 not found after the rebuild")
	}
	stop(tn, false) // the start rewrote it
	tn = start()
	if l := load(tn); l.state != "loaded" || l.reused != 16 {
		t.Fatalf("restart after the rewrite: %+v", l)
	}
}
