package audit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ScanExport reads a log directory (as Log writes it) or a bare leaves
// file one leaf at a time, as LoadExport reads it whole, and calls fn with
// each leaf (a buffer reused for the next one). It returns whether the file
// ends in a torn record (dropped) and the directory's checkpoint file, if
// any. Memory does not grow with the log.
func ScanExport(path string, fn func(i int64, leaf []byte) error) (torn bool, checkpoint []byte, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, nil, fmt.Errorf("audit: %v", err)
	}
	file := path
	if st.IsDir() {
		file = filepath.Join(path, LeavesFile)
		if b, err := os.ReadFile(filepath.Join(path, CheckpointFile)); err == nil {
			checkpoint = b
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return false, nil, fmt.Errorf("audit: %v", err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return false, nil, fmt.Errorf("audit: %v", err)
	}
	r := bufio.NewReaderSize(f, 1<<16)
	magic := make([]byte, len(fileMagic))
	n, _ := io.ReadFull(r, magic)
	if string(magic[:n]) != fileMagic[:n] {
		return false, nil, fmt.Errorf("%w: not an ebsp audit log (bad magic) (in %s)", ErrCorrupt, file)
	}
	if n < len(fileMagic) {
		return n > 0, checkpoint, nil // a crash while writing the magic: no leaves
	}
	i := int64(0)
	_, torn, err = scanRecords(r, int64(len(fileMagic)), st.Size(), 0, func(_ int64, data []byte) error {
		err := fn(i, data)
		i++
		return err
	})
	if err != nil {
		return false, nil, fmt.Errorf("%w (in %s)", err, file)
	}
	return torn, checkpoint, nil
}

// maxLeafProblems bounds the leaves VerifyPath names one by one.
const maxLeafProblems = 1000

// VerifyPath checks a log directory or an exported leaves file as
// Export.VerifyKeys checks one loaded whole (the directory's checkpoint
// file ahead of the kept checkpoints, a torn last record a problem), but
// reads the leaves one at a time and keeps the tree it builds from them as
// tiles in a temporary directory (about 32 bytes a leaf on disk): memory
// stays bounded whatever the log's size. It is what `ebsp audit verify
// --log` and the console's "verify now" run. The error is for a log that
// cannot be read, or is damaged other than in its last record.
func VerifyPath(path string, keys []note.Verifier, kept []SignedCheckpoint) (*Report, error) {
	r := &Report{}
	if len(keys) == 0 {
		r.problem("no log key given")
		return r, nil
	}
	r.Origin = keys[0].Name()
	ring, err := NewKeyRingOf(keys...)
	if err != nil {
		r.problem("keys: %v", err)
		return r, nil
	}
	tmp, err := os.MkdirTemp("", "ebsp-verify-")
	if err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	defer os.RemoveAll(tmp)
	tiles, err := openTiles(tmp, TileHeight)
	if err != nil {
		return nil, err
	}
	defer tiles.close()
	if err := tiles.reset(0, nil); err != nil {
		return nil, err
	}
	bad := 0
	leafProblem := func(i int64, err error) {
		if bad++; bad <= maxLeafProblems {
			r.problem("leaf %d: %v", i, err)
		}
	}
	torn, cp, err := ScanExport(path, func(i int64, b []byte) error {
		if _, err := DecodeLeaf(b); err != nil {
			leafProblem(i, err)
		}
		if err := ring.addLeaf(i, b); err != nil {
			leafProblem(i, err)
		}
		r.Leaves++
		return tiles.add(tlog.RecordHash(b))
	})
	if err != nil {
		return nil, err
	}
	if bad > maxLeafProblems {
		r.problem("and %d more problems with leaves", bad-maxLeafProblems)
	}
	r.Keys = ring.Keys()
	reader := tiles.hashReader()
	root, err := tlog.TreeHash(r.Leaves, reader)
	if err != nil {
		return nil, fmt.Errorf("audit: tree hash: %v", err)
	}
	r.Root = fmt.Sprint(root)
	if cp != nil {
		kept = append([]SignedCheckpoint{{Source: filepath.Join(path, CheckpointFile), Signed: cp}}, kept...)
	}
	checkKept(r, r.Leaves, reader, ring, kept)
	if torn {
		r.Problems = append(r.Problems, "the log file ends in a torn record (a crash during a write); it was not counted")
	}
	return r, nil
}
