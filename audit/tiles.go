package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of the log's hash tiles, the one C2SP
// tlog-tiles fixes: a full tile holds 256 hashes.
const TileHeight = 8

// tileStore keeps the tree's stored hashes as tiles (C2SP tlog-tiles,
// golang.org/x/mod/sumdb/tlog's Tile): the tile at level L, number N holds
// the hashes at tree level h·L of nodes N·2^h to N·2^h+2^h-1. Full tiles are
// kept on disk, one file per level holding that level's full tiles in
// order (tile N at byte N·2^h·32); the partial tile at the right edge of
// each level (fewer than 2^h hashes) is kept in memory and rebuilt on open
// from the level below. Memory is therefore at most one tile per level,
// whatever the log's size.
//
// The store holds hashes of leaves written but not yet durable; the log
// only ever asks for tiles of its durable tree, and a tile's first W hashes
// do not depend on later leaves.
type tileStore struct {
	h   int
	dir string

	mu    sync.Mutex
	files []*os.File // per level: the full tiles
	full  []int64    // per level: how many full tiles the file holds
	part  [][]byte   // per level: the hashes of the partial tile
}

func (s *tileStore) width() int     { return 1 << s.h }
func (s *tileStore) tileBytes() int { return s.width() * tlog.HashSize }

// openTiles opens the tile files in dir, creating dir if needed. The store
// is empty until reset.
func openTiles(dir string, h int) (*tileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	s := &tileStore{h: h, dir: dir}
	for level := 0; ; level++ {
		f, err := os.OpenFile(s.levelPath(level), os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) {
			return s, nil
		}
		if err != nil {
			s.close()
			return nil, fmt.Errorf("audit: %v", err)
		}
		s.files = append(s.files, f)
	}
}

func (s *tileStore) levelPath(level int) string {
	return filepath.Join(s.dir, strconv.Itoa(level))
}

// level returns the file of a level, creating it if needed.
func (s *tileStore) level(level int) (*os.File, error) {
	for len(s.files) <= level {
		f, err := os.OpenFile(s.levelPath(len(s.files)), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("audit: %v", err)
		}
		s.files = append(s.files, f)
	}
	for len(s.full) <= level {
		s.full = append(s.full, 0)
		s.part = append(s.part, make([]byte, 0, s.tileBytes()))
	}
	return s.files[level], nil
}

// reset makes the store hold the tree of n leaves from the full tiles on
// disk, truncating files that hold more, and rebuilds the partial tiles:
// level 0 from the leaf hashes leafHash returns, higher levels from the
// roots of the full tiles below. It fails if a file holds fewer full tiles
// than the tree needs.
func (s *tileStore) reset(n int64, leafHash func(i int64) (tlog.Hash, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tb := int64(s.tileBytes())
	s.full, s.part = s.full[:0], s.part[:0]
	levels := 0
	for n>>(s.h*levels) > 0 {
		levels++
	}
	for level := 0; level < levels; level++ {
		f, err := s.level(level)
		if err != nil {
			return err
		}
		nodes := n >> (s.h * level) // hashes at this level
		full := nodes >> s.h
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("audit: %v", err)
		}
		if st.Size() < full*tb {
			return fmt.Errorf("audit: tile level %d holds %d bytes, the tree of %d leaves needs %d full tiles", level, st.Size(), n, full)
		}
		if st.Size() > full*tb {
			if err := f.Truncate(full * tb); err != nil {
				return fmt.Errorf("audit: %v", err)
			}
		}
		s.full[level] = full
		for i := full << s.h; i < nodes; i++ {
			h, err := s.hashAt(level, i, leafHash)
			if err != nil {
				return err
			}
			s.part[level] = append(s.part[level], h[:]...)
		}
	}
	// Levels the tree does not reach hold nothing.
	for level := levels; level < len(s.files); level++ {
		if err := s.files[level].Truncate(0); err != nil {
			return fmt.Errorf("audit: %v", err)
		}
	}
	return nil
}

// hashAt returns hash i of a level, from what it is made of: the hash of
// leaf i at level 0, above it the root of full tile i of the level below
// (on disk). Callers hold s.mu.
func (s *tileStore) hashAt(level int, i int64, leafHash func(i int64) (tlog.Hash, error)) (tlog.Hash, error) {
	if level == 0 {
		return leafHash(i)
	}
	return s.fileTileRoot(level-1, i)
}

// fileTileRoot returns the root hash of the full tile of a level on disk.
// Callers hold s.mu.
func (s *tileStore) fileTileRoot(level int, n int64) (tlog.Hash, error) {
	data := make([]byte, s.tileBytes())
	if _, err := s.files[level].ReadAt(data, n*int64(len(data))); err != nil {
		return tlog.Hash{}, fmt.Errorf("audit: reading tile %d/%d: %v", level, n, err)
	}
	return s.tileRoot(level, n, data)
}

// tileRoot returns the root of full tile n of a level: the hash at the
// level above, which tlog.HashFromTile gives as its two children.
func (s *tileStore) tileRoot(level int, n int64, data []byte) (tlog.Hash, error) {
	t := tlog.Tile{H: s.h, L: level, N: n, W: s.width()}
	top := s.h*level + s.h - 1
	a, err := tlog.HashFromTile(t, data, tlog.StoredHashIndex(top, 2*n))
	if err != nil {
		return tlog.Hash{}, err
	}
	b, err := tlog.HashFromTile(t, data, tlog.StoredHashIndex(top, 2*n+1))
	if err != nil {
		return tlog.Hash{}, err
	}
	return tlog.NodeHash(a, b), nil
}

// add appends the hash of the next leaf, writing every tile it fills.
func (s *tileStore) add(h tlog.Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for level := 0; ; level++ {
		f, err := s.level(level)
		if err != nil {
			return err
		}
		s.part[level] = append(s.part[level], h[:]...)
		if len(s.part[level]) < s.tileBytes() {
			return nil
		}
		n := s.full[level]
		if _, err := f.WriteAt(s.part[level], n*int64(s.tileBytes())); err != nil {
			return fmt.Errorf("audit: writing tile %d/%d: %v", level, n, err)
		}
		if h, err = s.tileRoot(level, n, s.part[level]); err != nil {
			return err
		}
		s.full[level]++
		s.part[level] = s.part[level][:0]
	}
}

// tile returns the data of t: its first t.W hashes, from the full tile on
// disk or the partial tile in memory.
func (s *tileStore) tile(t tlog.Tile) ([]byte, error) {
	if t.H != s.h || t.L < 0 || t.N < 0 || t.W < 1 || t.W > s.width() {
		return nil, fmt.Errorf("audit: tile %s is not a tile of this log", t.Path())
	}
	size := t.W * tlog.HashSize
	s.mu.Lock()
	if s.files == nil {
		s.mu.Unlock()
		return nil, errors.New("audit: log is closed")
	}
	if t.L >= len(s.full) || t.N > s.full[t.L] || (t.N == s.full[t.L] && size > len(s.part[t.L])) {
		s.mu.Unlock()
		return nil, fmt.Errorf("audit: tile %s is not in the log", t.Path())
	}
	if t.N == s.full[t.L] {
		data := append([]byte(nil), s.part[t.L][:size]...)
		s.mu.Unlock()
		return data, nil
	}
	// Full tiles on disk never change: read them without the lock.
	f := s.files[t.L]
	s.mu.Unlock()
	data := make([]byte, size)
	if _, err := f.ReadAt(data, t.N*int64(s.tileBytes())); err != nil {
		return nil, fmt.Errorf("audit: reading tile %s: %v", t.Path(), err)
	}
	return data, nil
}

// Height, ReadTiles and SaveTiles make the store a tlog.TileReader, so that
// tlog.TileHashReader proves hashes from tiles it authenticates against the
// tree hash.
func (s *tileStore) Height() int { return s.h }

func (s *tileStore) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := s.tile(t)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (s *tileStore) SaveTiles([]tlog.Tile, [][]byte) {}

// hashReader reads stored hashes from the tiles without authenticating
// them: for tree hashes, which define what later proofs are checked against.
func (s *tileStore) hashReader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			t := tlog.TileForIndex(s.h, x)
			data, err := s.tile(t)
			if err != nil {
				return nil, err
			}
			if out[i], err = tlog.HashFromTile(t, data, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// check compares the last full tile of every level with what it is made
// from: at level 0 the hashes of its leaves, above the roots of the full
// tiles below. It is the cheap check Open makes that the tiles on disk
// match the leaves file; reading every leaf is ebsp audit verify's job.
func (s *tileStore) check(leafHash func(i int64) (tlog.Hash, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for level, full := range s.full {
		if full == 0 {
			continue
		}
		n := full - 1
		data := make([]byte, s.tileBytes())
		if _, err := s.files[level].ReadAt(data, n*int64(len(data))); err != nil {
			return fmt.Errorf("audit: reading tile %d/%d: %v", level, n, err)
		}
		for j := 0; j < s.width(); j++ {
			h, err := s.hashAt(level, n<<s.h+int64(j), leafHash)
			if err != nil {
				return err
			}
			if string(h[:]) != string(data[j*tlog.HashSize:(j+1)*tlog.HashSize]) {
				return fmt.Errorf("audit: tile %d/%d hash %d does not match the tree below it", level, n, j)
			}
		}
	}
	return nil
}

// sync flushes the tile files to disk.
func (s *tileStore) sync() error {
	s.mu.Lock()
	files := append([]*os.File(nil), s.files...)
	s.mu.Unlock()
	for _, f := range files {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("audit: syncing tiles: %v", err)
		}
	}
	return nil
}

func (s *tileStore) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.files, s.full, s.part = nil, nil, nil
	return first
}

// TilePath returns the C2SP tlog-tiles path of a hash tile,
// "tile/<L>/<N>[.p/<W>]" (N in groups of three digits, all but the last
// prefixed by "x"), relative to the log's prefix.
func TilePath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), "tile/"+strconv.Itoa(TileHeight)+"/")
}

// ParseTilePath parses a C2SP tlog-tiles hash tile path ("tile/0/x001/234",
// "tile/1/005.p/17"). Entry bundles ("tile/entries/...") are not hash tiles
// and are refused, as is any path not in its one canonical form.
func ParseTilePath(path string) (tlog.Tile, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok || len(path) > 64 || strings.HasPrefix(rest, "entries/") || strings.HasPrefix(rest, "data/") {
		return tlog.Tile{}, fmt.Errorf("audit: %q is not a tlog-tiles hash tile path", path)
	}
	t, err := tlog.ParseTilePath("tile/" + strconv.Itoa(TileHeight) + "/" + rest)
	if err != nil || t.L < 0 || t.L > 63 || TilePath(t) != path {
		return tlog.Tile{}, fmt.Errorf("audit: %q is not a tlog-tiles hash tile path", path)
	}
	return t, nil
}

// treeState is the tree file: how many leaves the index and tiles on disk
// covered, durably, when it was written, where the last of those leaves
// ends in the leaves file, and the tree's root hash. Open trusts the index
// and tiles up to there (after a cheap check) and rebuilds the rest from
// the leaves file.
type treeState struct {
	height int
	size   int64
	end    int64
	root   tlog.Hash
}

const treeMagic = "ebsp audit tree 1"

func (s treeState) text() string {
	return fmt.Sprintf("%s\nheight %d\nsize %d\nend %d\nroot %s\n", treeMagic, s.height, s.size, s.end, s.root)
}

// parseTreeState parses the tree file, strictly: it is derived data, and
// anything but its one form is a reason to rebuild.
func parseTreeState(b []byte) (treeState, error) {
	var s treeState
	if len(b) > 256 {
		return s, errors.New("audit: tree file too long")
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) != 6 || lines[0] != treeMagic || lines[5] != "" {
		return s, errors.New("audit: tree file is not in its format")
	}
	field := func(line, name string) (int64, error) {
		v, ok := strings.CutPrefix(line, name+" ")
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') || strings.Trim(v, "0123456789") != "" {
			return 0, fmt.Errorf("audit: tree file: %q is not %s", line, name)
		}
		return strconv.ParseInt(v, 10, 64)
	}
	h, err := field(lines[1], "height")
	if err != nil || h < 1 || h > 30 {
		return s, fmt.Errorf("audit: tree file: bad height line %q", lines[1])
	}
	s.height = int(h)
	if s.size, err = field(lines[2], "size"); err != nil {
		return s, err
	}
	if s.end, err = field(lines[3], "end"); err != nil {
		return s, err
	}
	root, ok := strings.CutPrefix(lines[4], "root ")
	if !ok {
		return s, fmt.Errorf("audit: tree file: bad root line %q", lines[4])
	}
	if s.root, err = tlog.ParseHash(root); err != nil || s.root.String() != root {
		return s, fmt.Errorf("audit: tree file: bad root line %q", lines[4])
	}
	return s, nil
}
