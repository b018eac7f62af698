package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// File names inside a log directory.
const (
	LeavesFile     = "leaves"     // the framed leaves (see file.go)
	CheckpointFile = "checkpoint" // the latest signed checkpoint, a convenience copy
)

// Log is a durable append-only transparency log in a directory. It is safe
// for concurrent use.
//
// The leaves file is the only source of truth: the tree's stored hashes are
// recomputed from it on Open and kept in memory (two hashes per leaf on
// average, 64 bytes), which is simpler and safer than a second file that
// could disagree with the first.
type Log struct {
	mu        sync.Mutex
	dir       string
	f         *os.File
	signer    note.Signer
	origin    string
	hashes    []tlog.Hash // stored hashes, indexed as tlog.StoredHashIndex
	leaves    [][]byte    // encoded leaves, kept for proofs and statistics
	durable   int64       // leaves known to be on disk; only these are served
	syncMu    sync.Mutex  // serialises fsyncs, held without mu
	last      []byte      // latest signed checkpoint
	lastN     int64       // its tree size
	lastWrite time.Time   // when the checkpoint file was last written
}

// Open opens (creating if needed) the log in dir. Checkpoints are signed with
// signer, whose name is the log's origin (C2SP tlog-checkpoint §"Note text":
// the origin line names the log, and signers of a checkpoint use it as the
// key name). A torn last record, left by a crash during Append, is dropped
// and the file truncated to its valid prefix.
func Open(dir string, signer note.Signer) (*Log, error) {
	if signer == nil {
		return nil, errors.New("audit: Open needs a checkpoint signer")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	path := filepath.Join(dir, LeavesFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	l := &Log{dir: dir, f: f, signer: signer, origin: signer.Name()}
	if err := l.recover(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// recover reads the file, drops a torn tail and rebuilds the hashes.
func (l *Log) recover() error {
	b, err := os.ReadFile(l.f.Name())
	if err != nil {
		return fmt.Errorf("audit: %v", err)
	}
	p, err := parseLog(b)
	if err != nil {
		return fmt.Errorf("%w (in %s)", err, l.f.Name())
	}
	if len(b) < len(fileMagic) {
		// New file, or a crash while writing the magic: start it afresh.
		if err := l.f.Truncate(0); err != nil {
			return fmt.Errorf("audit: %v", err)
		}
		if _, err := l.f.WriteAt([]byte(fileMagic), 0); err != nil {
			return fmt.Errorf("audit: %v", err)
		}
		p.good = int64(len(fileMagic))
	} else if p.torn {
		if err := l.f.Truncate(p.good); err != nil {
			return fmt.Errorf("audit: dropping torn last record: %v", err)
		}
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("audit: %v", err)
	}
	if _, err := l.f.Seek(p.good, 0); err != nil {
		return fmt.Errorf("audit: %v", err)
	}
	for _, data := range p.leaves {
		// Copy: b is discarded, and leaves are kept for the log's lifetime.
		if err := l.addHashes(append([]byte(nil), data...)); err != nil {
			return err
		}
	}
	l.durable = int64(len(l.leaves))
	return nil
}

// reader reads stored hashes from memory. Callers hold l.mu.
func (l *Log) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(l.hashes)) {
				return nil, fmt.Errorf("audit: stored hash %d not in log of %d hashes", x, len(l.hashes))
			}
			out[i] = l.hashes[x]
		}
		return out, nil
	})
}

func (l *Log) addHashes(data []byte) error {
	n := int64(len(l.leaves))
	hs, err := tlog.StoredHashes(n, data, l.reader())
	if err != nil {
		return fmt.Errorf("audit: hashing leaf %d: %v", n, err)
	}
	l.hashes = append(l.hashes, hs...)
	l.leaves = append(l.leaves, data)
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

// write encodes and writes leaves and adds their hashes; it does not sync.
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
	if l.f == nil {
		l.mu.Unlock()
		return 0, 0, errors.New("audit: log is closed")
	}
	if _, err := l.f.Write(buf); err != nil {
		// The write may have been partial; the next Open drops it as torn, but
		// this process must not go on appending after it.
		l.failLocked()
		l.mu.Unlock()
		return 0, 0, fmt.Errorf("audit: writing leaves (log closed): %v", err)
	}
	first = int64(len(l.leaves))
	for _, b := range enc {
		if err := l.addHashes(b); err != nil {
			l.failLocked()
			l.mu.Unlock()
			return 0, 0, err
		}
	}
	end = int64(len(l.leaves))
	l.mu.Unlock()
	return first, end, nil
}

// sync makes the first end leaves durable, sharing the fsync with
// concurrent callers.
func (l *Log) sync(end int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if l.durable >= end {
		l.mu.Unlock()
		return nil
	}
	f, target := l.f, int64(len(l.leaves))
	l.mu.Unlock()
	if f == nil {
		return errors.New("audit: log closed before the leaves were synced")
	}
	err := f.Sync()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failLocked()
		return fmt.Errorf("audit: fsync (log closed): %v", err)
	}
	if target > l.durable {
		l.durable = target
	}
	return nil
}

// failLocked closes the log after a failed write or sync and forgets the
// leaves that may not be on disk. Callers hold l.mu.
func (l *Log) failLocked() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.leaves = l.leaves[:l.durable]
	l.hashes = l.hashes[:tlog.StoredHashCount(l.durable)]
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

// Leaf returns the encoded leaf at index i.
func (l *Log) Leaf(i int64) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= l.durable {
		return nil, fmt.Errorf("audit: leaf %d not in log of %d", i, l.durable)
	}
	return l.leaves[i], nil
}

// Leaves returns the encoded leaves [0, n).
func (l *Log) Leaves() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.leaves[:l.durable]...)
}

// TreeHash returns the root hash of the tree of the first n leaves.
func (l *Log) TreeHash(n int64) (tlog.Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > l.durable {
		return tlog.Hash{}, fmt.Errorf("audit: tree size %d not in log of %d", n, l.durable)
	}
	return tlog.TreeHash(n, l.reader())
}

// Checkpoint signs and returns a checkpoint of the whole durable tree, and
// also returns its size. Checkpoints are cached per size; the latest is
// copied to the checkpoint file at most once a second and on Close
// (without fsync: it is a convenience copy; the proof of history is the
// copies partners hold).
func (l *Log) Checkpoint() (signed []byte, size int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Only durable leaves: a checkpoint must never commit to a leaf a
	// crash could still lose.
	n := l.durable
	if l.last != nil && l.lastN == n {
		return l.last, n, nil
	}
	h, err := tlog.TreeHash(n, l.reader())
	if err != nil {
		return nil, 0, fmt.Errorf("audit: tree hash: %v", err)
	}
	signed, err = note.Sign(&note.Note{Text: Checkpoint{Origin: l.origin, Size: n, Hash: h}.Text()}, l.signer)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: signing checkpoint: %v", err)
	}
	l.last, l.lastN = signed, n
	// The file copy is refreshed at most once a second (and on Close): it
	// is a convenience for `ebsp audit verify --log DIR`, not the record.
	if now := time.Now(); now.Sub(l.lastWrite) >= time.Second {
		l.lastWrite = now
		l.writeCheckpointLocked()
	}
	return signed, n, nil
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
	l.mu.Lock()
	defer l.mu.Unlock()
	if size > l.durable || index < 0 || index >= size {
		return nil, fmt.Errorf("audit: no inclusion proof of leaf %d in tree %d (log has %d)", index, size, l.durable)
	}
	return tlog.ProveRecord(size, index, l.reader())
}

// ConsistencyProof proves that the tree of size old is a prefix of the tree
// of size new (RFC 6962 §2.1.2).
func (l *Log) ConsistencyProof(old, new int64) (tlog.TreeProof, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old < 0 || old > new || new > l.durable {
		return nil, fmt.Errorf("audit: no consistency proof from %d to %d (log has %d)", old, new, l.durable)
	}
	if old == 0 {
		// Every tree extends the empty tree; RFC 6962 §2.1.2 defines no proof for it.
		return tlog.TreeProof{}, nil
	}
	return tlog.ProveTree(new, old, l.reader())
}

// Close closes the log file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	l.writeCheckpointLocked()
	err := l.f.Close()
	l.f = nil
	return err
}
