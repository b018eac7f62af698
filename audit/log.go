package audit

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ebsp/ebsp/internal/durable"
)

// File names inside a log directory.
const (
	LeavesFile     = "leaves"     // the framed leaves (see file.go), the only source of truth
	CheckpointFile = "checkpoint" // the latest signed checkpoint, a convenience copy
	IndexFile      = "index"      // each leaf's offset in the leaves file, uint64 big endian
	TilesDir       = "tiles"      // the hash tiles, one file of full tiles per level
	TreeFile       = "tree"       // how far index and tiles were durable (treeState)
)

// saveEvery is how many durable leaves may go by before the index and tiles
// are synced and the tree file rewritten: the most leaves Open re-reads
// after a crash.
const saveEvery = 1 << 14

// Log is a durable append-only transparency log in a directory. It is safe
// for concurrent use.
//
// The leaves file is the only source of truth. The index (each leaf's
// offset) and the hash tiles are derived from it and kept on disk, so
// memory stays bounded whatever the log's size; they are synced now and
// then, and Open rebuilds whatever part of them a crash may have lost, or
// all of them if they disagree with the leaves.
type Log struct {
	mu      sync.Mutex
	dir     string
	f       *os.File // leaves
	idx     *os.File // index
	tiles   *tileStore
	signer  note.Signer
	origin  string
	every   int64      // saveEvery, smaller in tests
	n       int64      // leaves written, durable or not
	end     int64      // offset just after the last leaf written
	durable int64      // leaves known to be on disk; only these are served
	durEnd  int64      // offset just after the last durable leaf
	saved   int64      // leaves the tree file covers
	rootN   int64      // size of the tree whose root is cached, -1 for none
	root    tlog.Hash  // its root
	syncMu  sync.Mutex // serialises fsyncs and tree file writes, held without mu
	saveErr error      // the last failure to write the tree file, for Close

	last      []byte    // latest signed checkpoint
	lastN     int64     // its tree size
	lastWrite time.Time // when the checkpoint file was last written

	// What Open read, for tests and the benchmark: whether the index and
	// tiles were rebuilt from the start, and how many records it read from
	// the leaves file to rebuild them.
	rebuilt bool
	scanned int64
}

// Open opens (creating if needed) the log in dir. Checkpoints are signed with
// signer, whose name is the log's origin (C2SP tlog-checkpoint §"Note text":
// the origin line names the log, and signers of a checkpoint use it as the
// key name). A torn last record, left by a crash during Append, is dropped
// and the file truncated to its valid prefix. A directory with only a
// leaves file (as logs were kept before tiles) gets its index and tiles
// built on the first Open.
func Open(dir string, signer note.Signer) (*Log, error) {
	return openLog(dir, signer, TileHeight, saveEvery)
}

func openLog(dir string, signer note.Signer, height int, every int64) (*Log, error) {
	if signer == nil {
		return nil, errors.New("audit: Open needs a checkpoint signer")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	l := &Log{dir: dir, signer: signer, origin: signer.Name(), every: every, rootN: -1}
	var err error
	if l.f, err = os.OpenFile(filepath.Join(dir, LeavesFile), os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		if l.idx, err = os.OpenFile(filepath.Join(dir, IndexFile), os.O_RDWR|os.O_CREATE, 0o600); err == nil {
			l.tiles, err = openTiles(filepath.Join(dir, TilesDir), height)
		}
	}
	if err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("audit: %v", err)
	}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	return l, nil
}

func (l *Log) closeFiles() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if l.f != nil {
		keep(l.f.Close())
	}
	if l.idx != nil {
		keep(l.idx.Close())
	}
	if l.tiles != nil {
		keep(l.tiles.close())
	}
	l.f, l.idx = nil, nil
	return first
}

// recover checks the index and tiles against the tree file and the leaves,
// rebuilds from the leaves whatever they do not cover, and drops a torn
// last record.
func (l *Log) recover() error {
	st, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("audit: %v", err)
	}
	size := st.Size()
	magic := make([]byte, min(size, int64(len(fileMagic))))
	if _, err := l.f.ReadAt(magic, 0); err != nil {
		return fmt.Errorf("audit: %v", err)
	}
	if size < int64(len(fileMagic)) {
		if !strings.HasPrefix(fileMagic, string(magic)) {
			return fmt.Errorf("%w: not an ebsp audit log (bad magic) (in %s)", ErrCorrupt, l.f.Name())
		}
		// New file, or a crash while writing the magic: start it afresh.
		if err := l.f.Truncate(0); err != nil {
			return fmt.Errorf("audit: %v", err)
		}
		if _, err := l.f.WriteAt([]byte(fileMagic), 0); err != nil {
			return fmt.Errorf("audit: %v", err)
		}
		size = int64(len(fileMagic))
	} else if string(magic) != fileMagic {
		return fmt.Errorf("%w: not an ebsp audit log (bad magic) (in %s)", ErrCorrupt, l.f.Name())
	}

	s, ok := l.loadState(size)
	if !ok {
		s = treeState{height: l.tiles.h, end: int64(len(fileMagic))}
		l.rebuilt = true
		if err := l.tiles.reset(0, nil); err != nil {
			return err
		}
	}
	if err := l.idx.Truncate(8 * s.size); err != nil {
		return fmt.Errorf("audit: %v", err)
	}
	l.n, l.end = s.size, s.end
	l.saved = s.size
	if s.size > 0 {
		l.rootN, l.root = s.size, s.root
	}

	// Re-read the leaves the tree file does not cover: those written since
	// it was last saved, or all of them.
	var pending []byte
	r := bufio.NewReaderSize(io.NewSectionReader(l.f, s.end, size-s.end), 1<<16)
	good, torn, err := scanRecords(r, s.end, size, s.size, func(off int64, data []byte) error {
		l.scanned++
		pending = binary.BigEndian.AppendUint64(pending, uint64(off))
		if err := l.tiles.add(tlog.RecordHash(data)); err != nil {
			return err
		}
		l.n++
		l.end = off + recordHeader + int64(len(data))
		if len(pending) >= 1<<16 {
			return l.flushIndex(&pending)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w (in %s)", err, l.f.Name())
	}
	if err := l.flushIndex(&pending); err != nil {
		return err
	}
	if torn {
		if err := l.f.Truncate(good); err != nil {
			return fmt.Errorf("audit: dropping torn last record: %v", err)
		}
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("audit: %v", err)
	}
	l.durable, l.durEnd = l.n, l.end
	if l.n != l.saved || l.rebuilt {
		return l.save(l.n, l.end)
	}
	return nil
}

// loadState reads the tree file and checks it against the files: the index
// reaches the leaf it names and that leaf ends where it says, the tiles
// hold its tree and give its root, and the last full tile of each level
// matches the leaves or tiles below it. It leaves the tiles reset to that
// tree. Anything wrong means rebuilding from the leaves.
func (l *Log) loadState(size int64) (treeState, bool) {
	b, err := os.ReadFile(filepath.Join(l.dir, TreeFile))
	if err != nil {
		return treeState{}, false
	}
	s, err := parseTreeState(b)
	if err != nil || s.height != l.tiles.h || s.end > size || s.end < int64(len(fileMagic)) {
		return s, false
	}
	if s.size == 0 {
		return s, s.end == int64(len(fileMagic)) && l.tiles.reset(0, nil) == nil
	}
	st, err := l.idx.Stat()
	if err != nil || st.Size() < 8*s.size {
		return s, false
	}
	off, err := l.offset(s.size - 1)
	if err != nil {
		return s, false
	}
	if _, end, err := readRecordAt(l.f, off); err != nil || end != s.end {
		return s, false
	}
	if err := l.tiles.reset(s.size, l.leafHash); err != nil {
		return s, false
	}
	root, err := tlog.TreeHash(s.size, l.tiles.hashReader())
	if err != nil || root != s.root {
		return s, false
	}
	return s, l.tiles.check(l.leafHash) == nil
}

// offset reads leaf i's offset in the leaves file from the index.
func (l *Log) offset(i int64) (int64, error) {
	var b [8]byte
	if _, err := l.idx.ReadAt(b[:], 8*i); err != nil {
		return 0, fmt.Errorf("audit: reading the index at leaf %d: %v", i, err)
	}
	return int64(binary.BigEndian.Uint64(b[:])), nil
}

// readLeaf reads leaf i from the leaves file through the index.
func (l *Log) readLeaf(i int64) ([]byte, error) {
	off, err := l.offset(i)
	if err != nil {
		return nil, err
	}
	data, _, err := readRecordAt(l.f, off)
	if err != nil {
		return nil, fmt.Errorf("%w (leaf %d in %s)", err, i, l.f.Name())
	}
	return data, nil
}

func (l *Log) leafHash(i int64) (tlog.Hash, error) {
	b, err := l.readLeaf(i)
	if err != nil {
		return tlog.Hash{}, err
	}
	return tlog.RecordHash(b), nil
}

// flushIndex writes the pending index entries after the l.n-len/8 entries
// already written and empties pending.
func (l *Log) flushIndex(pending *[]byte) error {
	if len(*pending) == 0 {
		return nil
	}
	at := 8*l.n - int64(len(*pending))
	if _, err := l.idx.WriteAt(*pending, at); err != nil {
		return fmt.Errorf("audit: writing the index: %v", err)
	}
	*pending = (*pending)[:0]
	return nil
}

// save syncs the index and tiles and then records in the tree file that
// they cover the first n leaves, which are durable and end at offset end.
// A crash at any point leaves either the old tree file or the new one,
// each true of what is on disk.
func (l *Log) save(n, end int64) error {
	l.mu.Lock()
	idx, tiles := l.idx, l.tiles
	l.mu.Unlock()
	if idx == nil {
		return errors.New("audit: log is closed")
	}
	if err := idx.Sync(); err != nil {
		return fmt.Errorf("audit: syncing the index: %v", err)
	}
	if err := tiles.sync(); err != nil {
		return err
	}
	root, err := l.TreeHash(n)
	if err != nil {
		return err
	}
	s := treeState{height: tiles.h, size: n, end: end, root: root}
	if err := writeFileSynced(filepath.Join(l.dir, TreeFile), []byte(s.text())); err != nil {
		return err
	}
	l.mu.Lock()
	l.saved = n
	l.mu.Unlock()
	return nil
}

// writeFileSynced replaces a file atomically and durably: a temporary
// file, synced, renamed over it, and the directory synced.
func writeFileSynced(path string, b []byte) error {
	if err := durable.WriteFile(path, b); err != nil {
		return fmt.Errorf("audit: writing %s: %v", path, err)
	}
	return nil
}

// Append adds leaves to the log and returns the index of the first. It
// returns only after the records are written and fsynced, so an
// acknowledged leaf survives a crash. Concurrent appends share fsyncs
// (group commit): whoever syncs covers every record written before it.
func (l *Log) Append(leaves ...Leaf) (int64, error) {
	first, end, err := l.write(leaves)
	if err != nil {
		return 0, err
	}
	return first, l.sync(end)
}

// AppendUnsynced writes leaves without waiting for fsync and returns the
// index of the first. They become durable, and visible to Size, proofs and
// checkpoints, with the next Append (of any caller). Use it for a leaf
// that is always followed by a synced one before anything is acknowledged,
// such as a request leaf followed by its decision: one fsync then covers
// both.
func (l *Log) AppendUnsynced(leaves ...Leaf) (int64, error) {
	first, _, err := l.write(leaves)
	return first, err
}

// write encodes and writes leaves, their index entries and their hashes;
// it does not sync.
func (l *Log) write(leaves []Leaf) (first, end int64, err error) {
	if len(leaves) == 0 {
		return 0, 0, errors.New("audit: Append of no leaves")
	}
	var buf []byte
	enc := make([][]byte, len(leaves))
	for i, lf := range leaves {
		b, err := lf.Encode()
		if err != nil {
			return 0, 0, err
		}
		enc[i] = b
		buf = appendRecord(buf, b)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, 0, errors.New("audit: log is closed")
	}
	if _, err := l.f.WriteAt(buf, l.end); err != nil {
		// The write may have been partial; the next Open drops it as torn, but
		// this process must not go on appending after it.
		l.failLocked()
		return 0, 0, fmt.Errorf("audit: writing leaves (log closed): %v", err)
	}
	first = l.n
	pending := make([]byte, 0, 8*len(enc))
	off := l.end
	for _, b := range enc {
		pending = binary.BigEndian.AppendUint64(pending, uint64(off))
		off += recordHeader + int64(len(b))
	}
	if _, err := l.idx.WriteAt(pending, 8*l.n); err != nil {
		l.failLocked()
		return 0, 0, fmt.Errorf("audit: writing the index (log closed): %v", err)
	}
	for _, b := range enc {
		if err := l.tiles.add(tlog.RecordHash(b)); err != nil {
			l.failLocked()
			return 0, 0, fmt.Errorf("%v (log closed)", err)
		}
	}
	l.n += int64(len(enc))
	l.end = off
	return first, l.n, nil
}

// sync makes the first end leaves durable, sharing the fsync with
// concurrent callers, and now and then saves the index and tiles.
func (l *Log) sync(end int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if l.durable >= end {
		l.mu.Unlock()
		return nil
	}
	f, target, targetEnd := l.f, l.n, l.end
	l.mu.Unlock()
	if f == nil {
		return errors.New("audit: log closed before the leaves were synced")
	}
	err := f.Sync()
	l.mu.Lock()
	if err != nil {
		l.failLocked()
		l.mu.Unlock()
		return fmt.Errorf("audit: fsync (log closed): %v", err)
	}
	if target > l.durable {
		l.durable, l.durEnd = target, targetEnd
	}
	due := l.durable-l.saved >= l.every
	l.mu.Unlock()
	if due {
		// The leaves are durable whatever happens here: a failure only
		// means the next Open re-reads more of the leaves file.
		if err := l.save(target, targetEnd); err != nil {
			l.mu.Lock()
			l.saveErr = err
			l.mu.Unlock()
		}
	}
	return nil
}

// failLocked closes the log after a failed write or sync. Leaves that may
// not be on disk are never served (everything is bounded by durable), and
// the next Open rebuilds the index and tiles past the tree file. Callers
// hold l.mu.
func (l *Log) failLocked() {
	l.closeFiles()
}

// Size returns the number of leaves.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durable
}

// Dir returns the log's directory, which LoadExport reads as a third
// party would.
func (l *Log) Dir() string { return l.dir }

// Origin returns the log's origin line (its signer's name).
func (l *Log) Origin() string { return l.origin }

// OpenStats says what Open read: whether it rebuilt the index and tiles from
// the whole leaves file (a log from before tiles, or index or tiles that
// disagreed with the leaves), and how many leaves it read to rebuild them.
func (l *Log) OpenStats() (rebuilt bool, leavesRead int64) { return l.rebuilt, l.scanned }

// Leaf returns the encoded leaf at index i, read from disk.
func (l *Log) Leaf(i int64) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= l.durable {
		return nil, fmt.Errorf("audit: leaf %d not in log of %d", i, l.durable)
	}
	if l.f == nil {
		return nil, errors.New("audit: log is closed")
	}
	return l.readLeaf(i)
}

// Leaves returns every durable leaf, read from disk: memory in proportion
// to the log. Scan reads them one at a time.
func (l *Log) Leaves() [][]byte {
	var out [][]byte
	l.Scan(0, func(_ int64, leaf []byte) error {
		out = append(out, append([]byte(nil), leaf...))
		return nil
	})
	return out
}

// Scan calls fn with each durable leaf from index from on, in order, read
// sequentially from disk; leaf is only valid during the call. It stops at
// the first error fn returns, and returns it.
func (l *Log) Scan(from int64, fn func(i int64, leaf []byte) error) error {
	l.mu.Lock()
	n, end, f := l.durable, l.durEnd, l.f
	var off int64
	var err error
	switch {
	case f == nil:
		err = errors.New("audit: log is closed")
	case from < 0:
		err = fmt.Errorf("audit: Scan from leaf %d", from)
	case from < n:
		off, err = l.offset(from)
	}
	l.mu.Unlock()
	if err != nil || from >= n {
		return err
	}
	i := from
	r := bufio.NewReaderSize(io.NewSectionReader(f, off, end-off), 1<<16)
	_, torn, err := scanRecords(r, off, end, from, func(_ int64, data []byte) error {
		err := fn(i, data)
		i++
		return err
	})
	if err == nil && torn {
		err = fmt.Errorf("%w: leaf %d is damaged (in %s)", ErrCorrupt, i, f.Name())
	}
	return err
}

// TreeHash returns the root hash of the tree of the first n leaves.
func (l *Log) TreeHash(n int64) (tlog.Hash, error) {
	l.mu.Lock()
	if n < 0 || n > l.durable {
		defer l.mu.Unlock()
		return tlog.Hash{}, fmt.Errorf("audit: tree size %d not in log of %d", n, l.durable)
	}
	if n == l.rootN {
		defer l.mu.Unlock()
		return l.root, nil
	}
	l.mu.Unlock()
	h, err := tlog.TreeHash(n, l.tiles.hashReader())
	if err != nil {
		return h, fmt.Errorf("audit: tree hash at %d: %v", n, err)
	}
	l.mu.Lock()
	if n > l.rootN {
		l.rootN, l.root = n, h
	}
	l.mu.Unlock()
	return h, nil
}

// tree returns the durable tree, whose hash authenticates the tiles that
// proofs are read from (tlog.TileHashReader): a tile damaged on disk makes
// a proof fail rather than come out wrong.
func (l *Log) tree() (tlog.Tree, error) {
	l.mu.Lock()
	n := l.durable
	l.mu.Unlock()
	h, err := l.TreeHash(n)
	return tlog.Tree{N: n, Hash: h}, err
}

// Checkpoint signs and returns a checkpoint of the whole durable tree, and
// also returns its size. Checkpoints are cached per size; the latest is
// copied to the checkpoint file at most once a second and on Close
// (without fsync: it is a convenience copy; the proof of history is the
// copies partners hold).
func (l *Log) Checkpoint() (signed []byte, size int64, err error) {
	// Only durable leaves: a checkpoint must never commit to a leaf a
	// crash could still lose.
	t, err := l.tree()
	if err != nil {
		return nil, 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last != nil && l.lastN >= t.N {
		return l.last, l.lastN, nil
	}
	signed, err = note.Sign(&note.Note{Text: Checkpoint{Origin: l.origin, Size: t.N, Hash: t.Hash}.Text()}, l.signer)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: signing checkpoint: %v", err)
	}
	l.last, l.lastN = signed, t.N
	// The file copy is refreshed at most once a second (and on Close): it
	// is a convenience for `ebsp audit verify --log DIR`, not the record.
	if now := time.Now(); now.Sub(l.lastWrite) >= time.Second {
		l.lastWrite = now
		l.writeCheckpointLocked()
	}
	return signed, t.N, nil
}

func (l *Log) writeCheckpointLocked() {
	if l.dir == "" || l.last == nil {
		return
	}
	tmp := filepath.Join(l.dir, CheckpointFile+".tmp")
	if err := os.WriteFile(tmp, l.last, 0o600); err == nil {
		os.Rename(tmp, filepath.Join(l.dir, CheckpointFile))
	}
}

// InclusionProof proves that leaf index is in the tree of size leaves
// (RFC 6962 §2.1.1 audit path).
func (l *Log) InclusionProof(index, size int64) (tlog.RecordProof, error) {
	t, err := l.tree()
	if err != nil {
		return nil, err
	}
	if size > t.N || index < 0 || index >= size {
		return nil, fmt.Errorf("audit: no inclusion proof of leaf %d in tree %d (log has %d)", index, size, t.N)
	}
	if size == t.N {
		// The usual case, a proof in the latest tree: read the hashes
		// without authenticating each tile, then check the proof against
		// the root. A proof that checks proves its leaf hash and every hash
		// in it authentic; one that does not is rebuilt below from
		// authenticated tiles, which names the damage. About half the
		// hashing of authenticating every tile.
		r := l.tiles.hashReader()
		p, err := tlog.ProveRecord(size, index, r)
		if err == nil {
			var h []tlog.Hash
			if h, err = r.ReadHashes([]int64{tlog.StoredHashIndex(0, index)}); err == nil {
				err = tlog.CheckRecord(p, size, t.Hash, index, h[0])
			}
		}
		if err == nil {
			return p, nil
		}
	}
	return tlog.ProveRecord(size, index, tlog.TileHashReader(t, l.tiles))
}

// ConsistencyProof proves that the tree of size old is a prefix of the tree
// of size new (RFC 6962 §2.1.2).
func (l *Log) ConsistencyProof(old, new int64) (tlog.TreeProof, error) {
	t, err := l.tree()
	if err != nil {
		return nil, err
	}
	if old < 0 || old > new || new > t.N {
		return nil, fmt.Errorf("audit: no consistency proof from %d to %d (log has %d)", old, new, t.N)
	}
	if old == 0 {
		// Every tree extends the empty tree; RFC 6962 §2.1.2 defines no proof for it.
		return tlog.TreeProof{}, nil
	}
	if new == t.N {
		// As in InclusionProof: a proof that checks against the latest
		// root proves the old root it was checked with authentic.
		r := l.tiles.hashReader()
		p, err := tlog.ProveTree(new, old, r)
		if err == nil {
			var h tlog.Hash
			if h, err = tlog.TreeHash(old, r); err == nil {
				err = tlog.CheckTree(p, new, t.Hash, old, h)
			}
		}
		if err == nil {
			return p, nil
		}
	}
	return tlog.ProveTree(new, old, tlog.TileHashReader(t, l.tiles))
}

// ReadTile returns the data of a hash tile of the durable tree (see
// TilePath), as a C2SP tlog-tiles server serves it. A tile that reaches
// past the durable tree is not in the log.
func (l *Log) ReadTile(t tlog.Tile) ([]byte, error) {
	n := l.Size()
	if t.H != l.tiles.h || t.L < 0 || t.L > 63 || t.N < 0 || t.W < 1 || t.W > l.tiles.width() {
		return nil, fmt.Errorf("%w: %s is not a tile of this log", ErrNoTile, t.Path())
	}
	// Hashes at the tile's level in the durable tree: the tile needs
	// N·2^h+W of them (compared without overflow).
	nodes := n >> (uint(t.H) * uint(t.L))
	if t.N > nodes>>uint(t.H) || t.N<<uint(t.H)+int64(t.W) > nodes {
		return nil, fmt.Errorf("%w: %s reaches past the tree of %d leaves", ErrNoTile, t.Path(), n)
	}
	return l.tiles.tile(t)
}

// ErrNoTile says a tile was asked for that the log does not hold.
var ErrNoTile = errors.New("audit: no such tile")

// Close saves the index and tiles and closes the log's files.
func (l *Log) Close() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if l.f == nil {
		l.mu.Unlock()
		return nil
	}
	n, end, saved := l.durable, l.durEnd, l.saved
	l.mu.Unlock()
	err := l.saveErr
	if n != saved {
		err = l.save(n, end)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writeCheckpointLocked()
	if cerr := l.closeFiles(); err == nil {
		err = cerr
	}
	return err
}
