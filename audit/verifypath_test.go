package audit

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// samePath checks that VerifyPath reports on path what Export.VerifyKeys
// reports on the same log loaded whole (problems in any order: the
// streaming pass names rotation problems where it meets them).
func samePath(t *testing.T, name, path string, keys []note.Verifier, kept []SignedCheckpoint, wantOK bool) {
	t.Helper()
	e, err := LoadExport(path)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want := e.VerifyKeys(filepath.Join(path, CheckpointFile), keys, kept)
	got, err := VerifyPath(path, keys, kept)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	slices.Sort(want.Problems)
	slices.Sort(got.Problems)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: streaming report\n%+v\nin-memory report\n%+v", name, got, want)
	}
	if got.OK() != wantOK {
		t.Fatalf("%s: OK %v, want %v: %q", name, got.OK(), wantOK, got.Problems)
	}
}

func TestVerifyPathAgreesWithVerify(t *testing.T) {
	fx := keptLog(t, 600, 1, 100, 256, 300, 600)
	fx.log.Close()
	keys := []note.Verifier{fx.v}
	samePath(t, "intact directory", fx.dir, keys, fx.kept, true)
	samePath(t, "intact leaves file", filepath.Join(fx.dir, LeavesFile), keys, fx.kept, true)

	dir := t.TempDir()
	copyDir(t, fx.dir, dir)
	rewriteLeaf(t, dir, 280)
	samePath(t, "leaf 280 rewritten", dir, keys, fx.kept, false)

	dir = t.TempDir()
	copyDir(t, fx.dir, dir)
	b, _ := os.ReadFile(filepath.Join(dir, LeavesFile))
	os.WriteFile(filepath.Join(dir, LeavesFile), b[:len(b)-7], 0o600) // torn: the last leaf is cut
	samePath(t, "torn last leaf", dir, keys, fx.kept, false)

	_, wrong := testKeys(t, "ebsp.test/other")
	samePath(t, "wrong key", fx.dir, []note.Verifier{wrong}, fx.kept, false)

	// Mid-file damage: an error, as LoadExport gives.
	dir = t.TempDir()
	copyDir(t, fx.dir, dir)
	flipAt(t, filepath.Join(dir, LeavesFile), 40)
	if _, err := VerifyPath(dir, keys, fx.kept); err == nil {
		t.Fatal("mid-file damage verified")
	}
}

func TestVerifyPathAcrossKeyRotation(t *testing.T) {
	const origin = "ebsp.test/gb/gb-node/audit"
	dir := t.TempDir()
	l, s1, k1, _, _, cp1 := rotatedLog(t, dir, origin, 3)
	fill(t, l, 2)
	cp2, _, _ := l.Checkpoint()
	stale, _ := note.Sign(&note.Note{Text: mustParse(t, cp2).Text()}, s1)
	l.Close()
	kept := []SignedCheckpoint{{Source: "cp1", Signed: cp1}, {Source: "cp2", Signed: cp2}}
	samePath(t, "rotated", dir, []note.Verifier{verifier(t, k1)}, kept, true)
	samePath(t, "retired key past its rotation", dir, []note.Verifier{verifier(t, k1)}, append(kept, SignedCheckpoint{Source: "stale", Signed: stale}), false)
}
