package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestCopyPrefixWhileAppending copies a log while leaves are appended to
// it: every copy opens as a log whose leaves are a prefix of the source's,
// at least as long as the source was when the copy began, and whose
// checkpoint (read before the leaves) verifies against it. A half-written
// last record in the source is left out of the copy.
func TestCopyPrefixWhileAppending(t *testing.T) {
	dir := t.TempDir()
	signer, verifier := testKeys(t, "example.org/copy")
	src := filepath.Join(dir, "src")
	l, err := Open(src, signer)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fill(t, l, 50)
	if _, _, err := l.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				if _, err := l.Append(leafN(int(l.Size()))); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	var copies []int64
	for i := range 5 {
		before := l.Size()
		dst := filepath.Join(dir, "copy", string(rune('a'+i)))
		n, err := CopyPrefix(src, dst)
		if err != nil {
			t.Fatal(err)
		}
		if n < before {
			t.Fatalf("copy %d: %d leaves, the log had %d when it began", i, n, before)
		}
		copies = append(copies, n)
	}
	close(stop)
	wg.Wait()
	all := l.Leaves()
	for i, n := range copies {
		dst := filepath.Join(dir, "copy", string(rune('a'+i)))
		e, err := LoadExport(dst)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(e.Leaves)) != n || e.Torn {
			t.Fatalf("copy %d: %d leaves (torn %v), CopyPrefix said %d", i, len(e.Leaves), e.Torn, n)
		}
		for j, leaf := range e.Leaves {
			if !bytes.Equal(leaf, all[j]) {
				t.Fatalf("copy %d: leaf %d differs from the source's", i, j)
			}
		}
		if rep := e.Verify("copy", verifier, nil); !rep.OK() {
			t.Fatalf("copy %d: %v", i, rep.Problems)
		}
		c, err := Open(dst, signer)
		if err != nil {
			t.Fatalf("copy %d does not open as a log: %v", i, err)
		}
		if c.Size() != n {
			t.Fatalf("copy %d opens with %d leaves, want %d", i, c.Size(), n)
		}
		c.Close()
	}

	// A record cut short at the end of the source.
	l.Close()
	f, err := os.OpenFile(filepath.Join(src, LeavesFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(appendRecord(nil, []byte(`{"half":`))[:10])
	f.Close()
	n, err := CopyPrefix(src, filepath.Join(dir, "torn"))
	if err != nil || n != int64(len(all)) {
		t.Fatalf("copy of a log with a torn tail: %d leaves, %v; want %d", n, err, len(all))
	}
}
