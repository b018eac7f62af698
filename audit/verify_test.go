package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

type keptFixture struct {
	log    *Log
	dir    string
	signer note.Signer
	v      note.Verifier
	kept   []SignedCheckpoint
}

// keptLog builds a log of n leaves and the checkpoints a partner took along
// the way at the given sizes.
func keptLog(t *testing.T, n int, at ...int) *keptFixture {
	t.Helper()
	fx := &keptFixture{dir: t.TempDir()}
	fx.signer, fx.v = testKeys(t, "ebsp.test/us/audit")
	l, err := Open(fx.dir, fx.signer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	fx.log = l
	for i := 1; i <= n; i++ {
		fill(t, l, 1)
		for _, a := range at {
			if a == i {
				cp, _, err := l.Checkpoint()
				if err != nil {
					t.Fatal(err)
				}
				fx.kept = append(fx.kept, SignedCheckpoint{Source: "cp" + strconv.Itoa(a), Signed: cp})
			}
		}
	}
	return fx
}

func mustProblem(t *testing.T, r *Report, want string) {
	t.Helper()
	if r.OK() {
		t.Fatalf("tampering not detected (report %+v)", r)
	}
	for _, p := range r.Problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Fatalf("no problem mentions %q: %q", want, r.Problems)
}

func TestVerifyIntactLog(t *testing.T) {
	fx := keptLog(t, 20, 3, 8, 15, 20)
	r := Verify(fx.log.Leaves(), fx.v, fx.kept)
	if !r.OK() {
		t.Fatalf("intact log: %v", r.Problems)
	}
	if len(r.Checkpoints) != 4 || r.Leaves != 20 {
		t.Fatalf("report %+v", r)
	}
	// And from the exported directory, as `ebsp audit verify --log DIR` reads it.
	e, err := LoadExport(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	all := append(fx.kept, SignedCheckpoint{Source: "dir", Signed: e.Checkpoint})
	if r := Verify(e.Leaves, fx.v, all); !r.OK() {
		t.Fatalf("exported log: %v", r.Problems)
	}
}

func TestVerifyWrongKey(t *testing.T) {
	fx := keptLog(t, 5, 5)
	_, other := testKeys(t, "ebsp.test/us/audit") // same name, another key
	mustProblem(t, Verify(fx.log.Leaves(), other, fx.kept), "signature")
}

func TestVerifyDetectsModifiedLeaf(t *testing.T) {
	fx := keptLog(t, 20, 3, 8, 15, 20)
	leaves := fx.log.Leaves()
	// Rewrite leaf 10's outcome: still well formed, but not what was logged.
	l, _ := DecodeLeaf(leaves[10])
	l.Outcome = OutcomeNoHit
	b, _ := l.Encode()
	leaves[10] = b
	r := Verify(leaves, fx.v, fx.kept)
	mustProblem(t, r, "checkpoint cp15: root hash of the first 15 leaves")
	mustProblem(t, r, "checkpoint cp20")
	mustProblem(t, r, "history diverges between leaf 8 and leaf 14")
	for _, c := range r.Checkpoints {
		if (c.Size <= 10) != c.OK {
			t.Errorf("checkpoint of size %d: ok=%v, want ok only for trees without leaf 10", c.Size, c.OK)
		}
	}
}

func TestVerifyDetectsModifiedLeafInFile(t *testing.T) {
	fx := keptLog(t, 10, 10)
	leaves := fx.log.Leaves() // read from disk: before the file is edited
	fx.log.Close()
	path := filepath.Join(fx.dir, LeavesFile)
	b, _ := os.ReadFile(path)
	// An attacker who edits the file without fixing the record checksum.
	i := bytes.Index(b, []byte(`"case-4"`))
	b[i+6] = '9'
	os.WriteFile(path, b, 0o600)
	if _, err := LoadExport(fx.dir); err == nil {
		t.Fatal("edited record with stale checksum loaded")
	}
	// One who fixes the checksum too: the Merkle tree still shows it.
	leaves[4] = bytes.Replace(leaves[4], []byte(`"case-4"`), []byte(`"case-9"`), 1)
	var file []byte
	file = append(file, fileMagic...)
	for _, lf := range leaves {
		file = appendRecord(file, lf)
	}
	os.WriteFile(path, file, 0o600)
	e, err := LoadExport(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	mustProblem(t, Verify(e.Leaves, fx.v, fx.kept), "root hash of the first 10 leaves")
}

func TestVerifyDetectsDroppedLeaf(t *testing.T) {
	fx := keptLog(t, 12, 6, 12)
	leaves := fx.log.Leaves()
	// Dropped from the middle: every later tree differs.
	mid := append(append([][]byte(nil), leaves[:7]...), leaves[8:]...)
	mustProblem(t, Verify(mid, fx.v, fx.kept), "checkpoint cp12")
	// Dropped from the end: the log is shorter than a kept checkpoint.
	mustProblem(t, Verify(leaves[:11], fx.v, fx.kept), "leaves were dropped")
}

func TestVerifyDetectsForkedCheckpoint(t *testing.T) {
	fx := keptLog(t, 8, 4, 8)
	// The log operator, with its own key, builds a second history that
	// diverges at leaf 5 and hands a partner a checkpoint of it.
	forkDir := t.TempDir()
	fork, err := Open(forkDir, fx.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer fork.Close()
	for i := 0; i < 10; i++ {
		lf := leafN(i)
		if i == 5 {
			lf.Outcome = OutcomeHit
		}
		if _, err := fork.Append(lf); err != nil {
			t.Fatal(err)
		}
	}
	forked, _, _ := fork.Checkpoint() // size 10, valid signature
	kept := append(fx.kept, SignedCheckpoint{Source: "forked", Signed: forked})

	// Against the real log (extended to 10 leaves so sizes line up).
	fill(t, fx.log, 2)
	r := Verify(fx.log.Leaves(), fx.v, kept)
	mustProblem(t, r, "checkpoint forked")
	mustProblem(t, r, "history diverges between leaf 8 and leaf 9")

	// A fork at equal size, found from the checkpoints alone.
	cp10, _, _ := fx.log.Checkpoint()
	kept = append(kept, SignedCheckpoint{Source: "real10", Signed: cp10})
	mustProblem(t, Verify(fx.log.Leaves(), fx.v, kept), "two checkpoints of size 10")
}
