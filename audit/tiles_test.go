package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// refTree is the tree kept the way the log kept it before tiles: every
// stored hash in memory. The tiled log must agree with it everywhere.
type refTree struct{ hashes []tlog.Hash }

func (r *refTree) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(r.hashes)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = r.hashes[x]
	}
	return out, nil
}

func (r *refTree) add(t testing.TB, n int64, leaf []byte) {
	hs, err := tlog.StoredHashes(n, leaf, r)
	if err != nil {
		t.Fatal(err)
	}
	r.hashes = append(r.hashes, hs...)
}

// checkAgainst checks every tile, the root and some proofs of the tree of n
// leaves against the reference.
func checkAgainst(t *testing.T, l *Log, ref *refTree, n int64) {
	t.Helper()
	want, err := tlog.TreeHash(n, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := l.TreeHash(n); err != nil || got != want {
		t.Fatalf("root of %d leaves %v (%v), want %v", n, got, err, want)
	}
	for _, tile := range tlog.NewTiles(l.tiles.h, 0, n) {
		got, err := l.ReadTile(tile)
		if err != nil {
			t.Fatalf("tree %d: %v", n, err)
		}
		wantData, err := tlog.ReadTileData(tile, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantData) {
			t.Fatalf("tree %d: tile %s differs", n, tile.Path())
		}
	}
	for _, i := range []int64{0, n / 3, n - 1} {
		p, err := l.InclusionProof(i, n)
		if err != nil {
			t.Fatalf("inclusion %d in %d: %v", i, n, err)
		}
		leaf, err := l.Leaf(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, n, want, i, tlog.RecordHash(leaf)); err != nil {
			t.Fatalf("inclusion %d in %d: %v", i, n, err)
		}
		if i == 0 {
			continue
		}
		oldRoot, _ := tlog.TreeHash(i, ref)
		tp, err := l.ConsistencyProof(i, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(tp, n, want, i, oldRoot); err != nil {
			t.Fatalf("consistency %d to %d: %v", i, n, err)
		}
	}
}

// growLog appends leaves from..to-1 in batches of varied size, some
// unsynced, and adds them to ref.
func growLog(t *testing.T, l *Log, ref *refTree, from, to int) {
	t.Helper()
	for i := from; i < to; {
		k := min(1+i%7, to-i)
		batch := make([]Leaf, k)
		for j := range batch {
			batch[j] = leafN(i + j)
			b, _ := batch[j].Encode()
			ref.add(t, int64(i+j), b)
		}
		var err error
		if i%3 == 0 {
			_, err = l.AppendUnsynced(batch...)
		} else {
			_, err = l.Append(batch...)
		}
		if err != nil {
			t.Fatal(err)
		}
		i += k
	}
	if _, err := l.Append(leafN(to)); err != nil { // makes the unsynced ones durable
		t.Fatal(err)
	}
	b, _ := leafN(to).Encode()
	ref.add(t, int64(to), b)
}

// With tiles of height 2 (4 hashes) a few hundred leaves reach five tile
// levels; the log must agree with the all-in-memory tree at every size,
// before and after reopening.
func TestTilesAgreeWithStoredHashes(t *testing.T) {
	s, _ := testKeys(t, "ebsp.test/us/audit")
	dir := t.TempDir()
	l, err := openLog(dir, s, 2, 50)
	if err != nil {
		t.Fatal(err)
	}
	ref := &refTree{}
	for _, to := range []int{1, 4, 5, 16, 63, 64, 65, 300} {
		growLog(t, l, ref, int(l.Size()), to)
		checkAgainst(t, l, ref, l.Size())
	}
	n := l.Size()
	for _, m := range []int64{1, 3, 17, 64, 65, 200} {
		checkAgainst(t, l, ref, m)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = openLog(dir, s, 2, 50)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.rebuilt || l.scanned != 0 {
		t.Fatalf("clean reopen rebuilt=%v and read %d leaves, want neither", l.rebuilt, l.scanned)
	}
	checkAgainst(t, l, ref, n)
	growLog(t, l, ref, int(n), int(n)+70)
	checkAgainst(t, l, ref, l.Size())
}

// A process killed between tree file saves: Open re-reads only the leaves
// past the tree file, over an index and tiles holding garbage past it.
func TestOpenAfterKillReadsOnlyTheTail(t *testing.T) {
	s, _ := testKeys(t, "ebsp.test/us/audit")
	dir := t.TempDir()
	l, err := openLog(dir, s, 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	ref := &refTree{}
	growLog(t, l, ref, 0, 130)
	saved, n := l.saved, l.Size()
	if saved < 100 || saved >= n {
		t.Fatalf("tree file covers %d of %d leaves; the test wants a tail", saved, n)
	}
	// Killed: no Close. What the dead process wrote past the tree file may
	// be anything; write garbage over the index and level-0 tiles there.
	l.AppendUnsynced(leafN(999)) // a leaf never made durable, but written
	ref.add(t, n, mustEncode(t, leafN(999)))
	junk := bytes.Repeat([]byte{0xa5}, 64)
	for _, f := range []string{IndexFile, filepath.Join(TilesDir, "0")} {
		fh, err := os.OpenFile(filepath.Join(dir, f), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		fh.Write(junk)
		fh.Close()
	}
	l2, err := openLog(dir, s, 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l2.rebuilt || l2.scanned != n+1-saved {
		t.Fatalf("reopen rebuilt=%v read %d leaves, want the %d past the tree file", l2.rebuilt, l2.scanned, n+1-saved)
	}
	// The unsynced leaf was in the file (the kernel had it): durable now.
	if l2.Size() != n+1 {
		t.Fatalf("size %d, want %d", l2.Size(), n+1)
	}
	checkAgainst(t, l2, ref, n+1)
}

func mustEncode(t testing.TB, l Leaf) []byte {
	b, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A directory as logs were kept before tiles (a leaves file only) opens:
// the index and tiles are built once, and the next Open uses them.
func TestOpenMigratesLeavesOnlyDirectory(t *testing.T) {
	s, _ := testKeys(t, "ebsp.test/us/audit")
	dir := t.TempDir()
	ref := &refTree{}
	file := []byte(fileMagic)
	const n = 700
	for i := 0; i < n; i++ {
		b := mustEncode(t, leafN(i))
		file = appendRecord(file, b)
		ref.add(t, int64(i), b)
	}
	if err := os.WriteFile(filepath.Join(dir, LeavesFile), file, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Open(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if !l.rebuilt || l.scanned != n || l.Size() != n {
		t.Fatalf("migration: rebuilt=%v read %d, size %d; want all %d", l.rebuilt, l.scanned, l.Size(), n)
	}
	checkAgainst(t, l, ref, n)
	l.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, LeavesFile)); !bytes.Equal(b, file) {
		t.Fatal("migration changed the leaves file")
	}
	l, err = Open(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.rebuilt || l.scanned != 0 {
		t.Fatalf("second open rebuilt=%v read %d", l.rebuilt, l.scanned)
	}
	checkAgainst(t, l, ref, n)
}

// Index, tiles or tree file that disagree with the leaves are rebuilt from
// them, never trusted.
func TestOpenRebuildsDamagedIndexAndTiles(t *testing.T) {
	s, _ := testKeys(t, "ebsp.test/us/audit")
	base := t.TempDir()
	l, err := openLog(base, s, 2, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ref := &refTree{}
	growLog(t, l, ref, 0, 90)
	n := l.Size()
	l.Close()
	damage := map[string]func(dir string){
		"no tree file": func(dir string) { os.Remove(filepath.Join(dir, TreeFile)) },
		"tree file garbage": func(dir string) {
			os.WriteFile(filepath.Join(dir, TreeFile), []byte("ebsp audit tree 1\nsize x\n"), 0o600)
		},
		"tree file root wrong": func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, TreeFile))
			i := bytes.Index(b, []byte("root ")) + 5
			b[i] ^= 1
			os.WriteFile(filepath.Join(dir, TreeFile), b, 0o600)
		},
		"last level-0 tile flipped": func(dir string) { flipAt(t, filepath.Join(dir, TilesDir, "0"), -1) },
		"last level-1 tile flipped": func(dir string) { flipAt(t, filepath.Join(dir, TilesDir, "1"), -1) },
		"level-1 tiles truncated": func(dir string) {
			os.Truncate(filepath.Join(dir, TilesDir, "1"), 32)
		},
		"tiles gone":            func(dir string) { os.RemoveAll(filepath.Join(dir, TilesDir)) },
		"index short":           func(dir string) { os.Truncate(filepath.Join(dir, IndexFile), 8*40) },
		"index last entry off":  func(dir string) { flipAt(t, filepath.Join(dir, IndexFile), -1) },
		"index gone":            func(dir string) { os.Remove(filepath.Join(dir, IndexFile)) },
		"leaf before tail edit": func(dir string) { rewriteLeaf(t, dir, int(n-1)) },
	}
	for name, hurt := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, base, dir)
			hurt(dir)
			l, err := openLog(dir, s, 2, 1000)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if !l.rebuilt || l.scanned != n {
				t.Fatalf("rebuilt=%v read %d leaves, want a rebuild from all %d", l.rebuilt, l.scanned, n)
			}
			if name == "leaf before tail edit" {
				return // another history now: the root differs, as it should
			}
			checkAgainst(t, l, ref, n)
		})
	}
}

// A tile damaged inside the tree (not the last, which Open checks) makes
// proofs that need it fail: tiles are authenticated against the root.
func TestDamagedInnerTileFailsProofs(t *testing.T) {
	s, _ := testKeys(t, "ebsp.test/us/audit")
	dir := t.TempDir()
	l, err := openLog(dir, s, 2, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ref := &refTree{}
	growLog(t, l, ref, 0, 90)
	l.Close()
	flipAt(t, filepath.Join(dir, TilesDir, "0"), 5) // tile 0/000, hash 0
	l, err = openLog(dir, s, 2, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.rebuilt {
		t.Fatal("an inner tile is not part of Open's cheap check; this test wants it missed there")
	}
	if _, err := l.InclusionProof(1, l.Size()); err == nil {
		t.Fatal("proof from a damaged tile")
	}
	if _, err := l.InclusionProof(1, l.Size()-1); err == nil {
		t.Fatal("proof in an older tree from a damaged tile")
	}
	if _, err := l.ConsistencyProof(2, l.Size()); err == nil {
		t.Fatal("consistency proof from a damaged tile")
	}
	if _, err := l.InclusionProof(80, l.Size()); err != nil {
		t.Fatalf("proof not touching the damaged tile: %v", err)
	}
}

func flipAt(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		t.Fatalf("%s: %v (%d bytes)", path, err, len(b))
	}
	if at < 0 {
		at += len(b)
	}
	b[at] ^= 0x40
	os.WriteFile(path, b, 0o600)
}

// rewriteLeaf changes leaf i in place with a valid checksum, as someone
// rewriting history would.
func rewriteLeaf(t *testing.T, dir string, i int) {
	t.Helper()
	path := filepath.Join(dir, LeavesFile)
	b, _ := os.ReadFile(path)
	old := fmt.Sprintf(`"case-%d"`, i)
	new := fmt.Sprintf(`"case-%d"`, i+1)
	p, err := parseLog(b)
	if err != nil || !strings.Contains(string(p.leaves[i]), old) {
		t.Fatalf("leaf %d: %v", i, err)
	}
	out := []byte(fileMagic)
	for j, lf := range p.leaves {
		if j == i {
			lf = bytes.Replace(lf, []byte(old), []byte(new), 1)
		}
		out = appendRecord(out, lf)
	}
	os.WriteFile(path, out, 0o600)
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The empty tree has a root too, SHA-256 of nothing (RFC 6962 §2.1), and
// the checkpoint of an empty log commits to it.
func TestEmptyLogRoot(t *testing.T) {
	s, v := testKeys(t, "ebsp.test/us/audit")
	dir := t.TempDir()
	for range 2 { // new, then reopened
		l, err := Open(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := tlog.TreeHash(0, &refTree{})
		signed, _, err := l.Checkpoint()
		if err != nil {
			t.Fatal(err)
		}
		c, err := OpenCheckpoint(signed, v)
		if err != nil || c.Size != 0 || c.Hash != want || want == (tlog.Hash{}) {
			t.Fatalf("empty log's checkpoint %+v (%v), want root %v", c, err, want)
		}
		l.Close()
	}
}

func TestReadTileBounds(t *testing.T) {
	s, _ := testKeys(t, "ebsp.test/us/audit")
	l, err := Open(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.AppendUnsynced(leafN(0), leafN(1), leafN(2))
	l.Append(leafN(3))
	l.AppendUnsynced(leafN(4)) // written, not durable: not served
	for _, bad := range []tlog.Tile{
		{H: 8, L: 0, N: 0, W: 5}, {H: 8, L: 0, N: 1, W: 1}, {H: 8, L: 1, N: 0, W: 1},
		{H: 4, L: 0, N: 0, W: 1}, {H: 8, L: 0, N: 1 << 60, W: 256}, {H: 8, L: 0, N: 0, W: 0},
	} {
		if _, err := l.ReadTile(bad); err == nil {
			t.Errorf("tile %+v served from a tree of 4", bad)
		}
	}
	if b, err := l.ReadTile(tlog.Tile{H: 8, L: 0, N: 0, W: 4}); err != nil || len(b) != 4*32 {
		t.Fatalf("tile 0/000.p/4: %d bytes, %v", len(b), err)
	}
}

func TestTilePaths(t *testing.T) {
	for _, c := range []struct {
		t    tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{tlog.Tile{H: 8, L: 2, N: 5, W: 17}, "tile/2/005.p/17"},
	} {
		if got := TilePath(c.t); got != c.path {
			t.Errorf("TilePath(%+v) = %q, want %q", c.t, got, c.path)
		}
		if got, err := ParseTilePath(c.path); err != nil || got != c.t {
			t.Errorf("ParseTilePath(%q) = %+v, %v", c.path, got, err)
		}
	}
	for _, bad := range []string{"tile/8/0/000", "tile/entries/000", "tile/data/000", "tile/0/0", "tile/0/000.p/256",
		"tile/0/000.p/0", "tile/-1/000", "tile/64/000", "tile/0/x000/001", "tile/0/1000", "tiles/0/000", "tile/0/000/"} {
		if _, err := ParseTilePath(bad); err == nil {
			t.Errorf("ParseTilePath accepted %q", bad)
		}
	}
}

func TestTreeStateText(t *testing.T) {
	s := treeState{height: 8, size: 1 << 40, end: 99}
	s.root[3] = 9
	back, err := parseTreeState([]byte(s.text()))
	if err != nil || back != s {
		t.Fatalf("round trip %+v %v", back, err)
	}
	for _, bad := range []string{"", s.text() + "x", strings.Replace(s.text(), "size ", "size 0", 1),
		strings.Replace(s.text(), "height 8", "height 31", 1), strings.Replace(s.text(), "end 99", "end -1", 1)} {
		if _, err := parseTreeState([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
