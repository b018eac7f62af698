package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CopyPrefix copies the log in directory src, which a running node may be
// appending to, into the new directory dst: its checkpoint file, then every
// complete leaf of its leaves file. The leaves file is append-only and its
// records framed, so the copy is a prefix of the log whatever the node
// writes meanwhile; a record the node is in the middle of writing is left
// out. The checkpoint is read first, so that it never names more leaves
// than the copy holds. dst gets only those two files: Open rebuilds the
// index and tiles from the leaves. It returns how many leaves were copied.
// Memory is bounded by one leaf.
func CopyPrefix(src, dst string) (int64, error) {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return 0, fmt.Errorf("audit: %v", err)
	}
	cp, err := os.ReadFile(filepath.Join(src, CheckpointFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("audit: %v", err)
	}
	in, err := os.Open(filepath.Join(src, LeavesFile))
	if err != nil {
		return 0, fmt.Errorf("audit: %v", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return 0, fmt.Errorf("audit: %v", err)
	}
	size := st.Size()
	magic := make([]byte, len(fileMagic))
	if size < int64(len(fileMagic)) {
		size = 0 // a log not yet written, or its magic torn: no leaves
	} else if _, err := io.ReadFull(in, magic); err != nil || string(magic) != fileMagic {
		return 0, fmt.Errorf("%w: %s: not an ebsp audit log (bad magic)", ErrCorrupt, in.Name())
	}
	out, err := os.OpenFile(filepath.Join(dst, LeavesFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("audit: %v", err)
	}
	defer out.Close()
	w := bufio.NewWriterSize(out, 1<<16)
	w.WriteString(fileMagic)
	var n int64
	var rec []byte
	if size > 0 {
		_, _, err = scanRecords(bufio.NewReaderSize(in, 1<<16), int64(len(fileMagic)), size, 0, func(_ int64, data []byte) error {
			rec = appendRecord(rec[:0], data)
			_, err := w.Write(rec)
			n++
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("audit: copying %s: %w", in.Name(), err)
		}
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("audit: %v", err)
	}
	if err := out.Sync(); err != nil {
		return 0, fmt.Errorf("audit: %v", err)
	}
	if cp != nil {
		// A signed note is its text, a blank line, its signatures.
		text, _, _ := strings.Cut(string(cp), "\n\n")
		c, err := ParseCheckpoint(text + "\n")
		if err != nil {
			return 0, fmt.Errorf("audit: %s: %v", filepath.Join(src, CheckpointFile), err)
		}
		if c.Size > n {
			return 0, fmt.Errorf("audit: %s: the checkpoint names %d leaves, the leaves file holds %d", src, c.Size, n)
		}
		if err := writeFileSynced(filepath.Join(dst, CheckpointFile), cp); err != nil {
			return 0, err
		}
	}
	return n, nil
}
