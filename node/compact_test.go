package node

import (
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
)

// TestCompactFingerprints checks that a node with compact_fingerprints
// keeps its fingerprint templates without their pair tables, in memory and
// after a restart from its snapshot, and answers every search exactly as a
// node with full templates does.
func TestCompactFingerprints(t *testing.T) {
	const people = 12
	full := newTestNode(t, nil)
	dir := t.TempDir()
	start := func() *testNode {
		tn := newTestNode(t, func(c *Config) { c.DataDir, c.CompactFingerprints = dir, true })
		t.Cleanup(func() { tn.Close() })
		return tn
	}
	compact := start()
	enrolPeople(t, full, people)
	enrolPeople(t, compact, people)
	allCompact := func(tn *testNode) {
		t.Helper()
		g := tn.galleries[biometric.Finger]
		n := 0
		for i := 0; ; i++ {
			_, tmpl, ok := g.Entry(i)
			if !ok {
				break
			}
			if p := tmpl.(*fingerprint.Prepared); p.Full() == p {
				t.Fatalf("gallery entry %d holds its pair table", i)
			}
			n++
		}
		if n != 2*people {
			t.Fatalf("%d gallery templates, want %d", n, 2*people)
		}
	}
	same := func(tn *testNode) {
		t.Helper()
		for p := 0; p < people+3; p += 2 { // the last ones are not enrolled
			probe := map[string]any{"samples": person(t, p, 2)}
			sa, a := full.call(t, RoleSearcher, "POST", "/v1/identify", probe)
			sb, b := tn.call(t, RoleSearcher, "POST", "/v1/identify", probe)
			if sa != 200 || sb != 200 || a["decision"] != b["decision"] {
				t.Fatalf("person %d: full %d %v, compact %d %v", p, sa, a["decision"], sb, b["decision"])
			}
			ca, _ := a["candidates"].([]any)
			cb, _ := b["candidates"].([]any)
			if len(ca) != len(cb) {
				t.Fatalf("person %d: %d candidates full, %d compact", p, len(ca), len(cb))
			}
			for i := range ca {
				x, y := ca[i].(map[string]any), cb[i].(map[string]any)
				if x["identity_id"] != y["identity_id"] || x["score"] != y["score"] {
					t.Fatalf("person %d candidate %d: full %v, compact %v", p, i, x, y)
				}
			}
		}
	}
	allCompact(compact)
	same(compact)
	// A restart from the snapshot Close wrote keeps the templates compact.
	compact.srv.Close()
	if err := compact.Close(); err != nil {
		t.Fatal(err)
	}
	compact.store.Close()
	compact = start()
	if l := compact.snapshots.last[biometric.Finger]; l.state != "loaded" {
		t.Fatalf("restart: snapshot %+v", l)
	}
	allCompact(compact)
	same(compact)
}
