package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func testKeys(t testing.TB, origin string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func leafN(i int) Leaf {
	return Leaf{Time: t0.Add(time.Duration(i) * time.Minute), Kind: KindRequest, Partner: "GB",
		Purpose: "border_screening", SearchType: "tenprint", Case: fmt.Sprintf("case-%d", i)}
}

func fill(t testing.TB, l *Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		idx, err := l.Append(leafN(int(l.Size())))
		if err != nil {
			t.Fatal(err)
		}
		if idx != l.Size()-1 {
			t.Fatalf("Append returned %d, size now %d", idx, l.Size())
		}
	}
}

func TestLogAppendProveReopen(t *testing.T) {
	dir := t.TempDir()
	s, v := testKeys(t, "ebsp.test/us/audit")
	l, err := Open(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 13)
	signed, size, err := l.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenCheckpoint(signed, v)
	if err != nil {
		t.Fatal(err)
	}
	if c.Size != 13 || size != 13 {
		t.Fatalf("checkpoint size %d/%d, want 13", c.Size, size)
	}
	for i := int64(0); i < 13; i++ {
		p, err := l.InclusionProof(i, 13)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := l.Leaf(i)
		if err := CheckInclusion(c, i, leaf, p); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		// The proof must not prove a different leaf.
		other, _ := l.Leaf((i + 1) % 13)
		if CheckInclusion(c, i, other, p) == nil {
			t.Fatalf("proof of leaf %d accepted leaf %d", i, (i+1)%13)
		}
	}
	old, _ := OpenCheckpoint(signed, v)
	fill(t, l, 7)
	signed2, _, _ := l.Checkpoint()
	c2, err := OpenCheckpoint(signed2, v)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := l.ConsistencyProof(old.Size, c2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckConsistency(old, c2, tp); err != nil {
		t.Fatal(err)
	}
	root, _ := l.TreeHash(20)
	l.Close()

	l2, err := Open(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l2.Size() != 20 {
		t.Fatalf("reopened size %d, want 20", l2.Size())
	}
	root2, _ := l2.TreeHash(20)
	if root != root2 {
		t.Fatal("root changed across reopen")
	}
	if _, err := l2.Append(leafN(20)); err != nil {
		t.Fatal(err)
	}
	if l2.Size() != 21 {
		t.Fatal("append after reopen")
	}
	if b, err := os.ReadFile(filepath.Join(dir, CheckpointFile)); err != nil || !bytes.Equal(b, signed2) {
		t.Fatalf("checkpoint file not the latest checkpoint: %v", err)
	}
}

func TestLogTornLastRecordDropped(t *testing.T) {
	s, _ := testKeys(t, "ebsp.test/us/audit")
	for _, cut := range []int{1, 4, 8, 9, 20} {
		dir := t.TempDir()
		l, err := Open(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		fill(t, l, 5)
		root4, _ := l.TreeHash(4)
		l.Close()
		path := filepath.Join(dir, LeavesFile)
		b, _ := os.ReadFile(path)
		// Find the start of record 4 (the last) and cut inside it.
		p, _ := parseLog(b)
		lastLen := len(p.leaves[4]) + recordHeader
		start := len(b) - lastLen
		if err := os.WriteFile(path, b[:start+cut], 0o600); err != nil {
			t.Fatal(err)
		}
		l, err = Open(dir, s)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if l.Size() != 4 {
			t.Fatalf("cut %d: size %d after torn record, want 4", cut, l.Size())
		}
		if r, _ := l.TreeHash(4); r != root4 {
			t.Fatalf("cut %d: root changed", cut)
		}
		if _, err := l.Append(leafN(4)); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l, err = Open(dir, s)
		if err != nil || l.Size() != 5 {
			t.Fatalf("cut %d: after repair and append: size %d, %v", cut, l.Size(), err)
		}
		l.Close()
	}
}

func TestLogTornChecksumAtEndDroppedButMidFileCorruptionRefused(t *testing.T) {
	s, _ := testKeys(t, "ebsp.test/us/audit")
	dir := t.TempDir()
	l, _ := Open(dir, s)
	fill(t, l, 3)
	l.Close()
	path := filepath.Join(dir, LeavesFile)
	good, _ := os.ReadFile(path)

	// Last byte flipped: a torn write (e.g. a zero-filled block) at the end.
	b := bytes.Clone(good)
	b[len(b)-1] ^= 0xff
	os.WriteFile(path, b, 0o600)
	l, err := Open(dir, s)
	if err != nil || l.Size() != 2 {
		t.Fatalf("damaged last record: size %v, err %v; want 2 leaves", l, err)
	}
	l.Close()

	// A byte flipped in the first record, with records after it: no crash
	// does that, so Open refuses rather than guessing.
	b = bytes.Clone(good)
	b[len(fileMagic)+recordHeader+3] ^= 0xff
	os.WriteFile(path, b, 0o600)
	if _, err := Open(dir, s); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("mid-file damage: err %v, want ErrCorrupt", err)
	}
}

func TestLeafValidation(t *testing.T) {
	bad := []Leaf{
		{Kind: KindRequest},                           // no time
		{Time: t0, Kind: "adopt"},                     // unknown kind
		{Time: t0, Kind: KindRequest, Actor: "é"},     // non-ASCII
		{Time: t0, Kind: KindRequest, Reason: "a\nb"}, // control byte
		{Time: t0, Kind: KindRequest, Case: string(make([]byte, 300))},
		{Time: t0, Kind: KindRetention, Count: -1},
	}
	for i, l := range bad {
		if _, err := l.Encode(); err == nil {
			t.Errorf("leaf %d accepted: %+v", i, l)
		}
	}
	good := leafN(1)
	b, err := good.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeLeaf(b)
	if err != nil || !back.Time.Equal(good.Time) || back.Case != good.Case {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	if _, err := DecodeLeaf(append(b[:len(b)-1:len(b)-1], []byte(`,"biometric":"x"}`)...)); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestCheckpointText(t *testing.T) {
	c := Checkpoint{Origin: "ebsp.test/gb/audit", Size: 42, Extensions: []string{"x-ext"}}
	c.Hash[0] = 7
	back, err := ParseCheckpoint(c.Text())
	if err != nil || back.Size != 42 || back.Hash != c.Hash || back.Origin != c.Origin || len(back.Extensions) != 1 {
		t.Fatalf("round trip %+v %v", back, err)
	}
	for _, bad := range []string{"", "o\n1\n", "o\n01\nAAAA\n", "o\n-1\n" + c.Text()[len("ebsp.test/gb/audit\n42\n"):],
		"o\n1\nnotbase64\n", "\n1\n" + c.Text()[len("ebsp.test/gb/audit\n42\n"):]} {
		if _, err := ParseCheckpoint(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestLogConcurrentAppendsGroupCommit(t *testing.T) {
	dir := t.TempDir()
	s, v := testKeys(t, "ebsp.test/us/audit")
	l, err := Open(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	seen := make(chan int64, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				idx, err := l.Append(leafN(w*1000 + i))
				if err != nil {
					t.Error(err)
					return
				}
				// The acknowledged leaf is already covered by a checkpoint.
				cp, size, err := l.Checkpoint()
				if err != nil || size <= idx {
					t.Errorf("checkpoint size %d does not cover acknowledged leaf %d: %v", size, idx, err)
					return
				}
				c, _ := OpenCheckpoint(cp, v)
				p, err := l.InclusionProof(idx, size)
				leaf, _ := l.Leaf(idx)
				if err != nil || CheckInclusion(c, idx, leaf, p) != nil {
					t.Errorf("leaf %d not provable: %v", idx, err)
				}
				seen <- idx
			}
		}(w)
	}
	wg.Wait()
	close(seen)
	idx := map[int64]bool{}
	for i := range seen {
		idx[i] = true
	}
	if len(idx) != workers*each || l.Size() != workers*each {
		t.Fatalf("%d distinct indexes, size %d", len(idx), l.Size())
	}
	root, _ := l.TreeHash(l.Size())
	l.Close()
	l2, err := Open(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if r2, _ := l2.TreeHash(workers * each); r2 != root {
		t.Fatal("root differs after reopen")
	}
}

func TestLogAppendUnsyncedBecomesDurableWithNextAppend(t *testing.T) {
	dir := t.TempDir()
	s, _ := testKeys(t, "ebsp.test/us/audit")
	l, _ := Open(dir, s)
	defer l.Close()
	i0, err := l.AppendUnsynced(leafN(0))
	if err != nil || i0 != 0 {
		t.Fatal(i0, err)
	}
	if l.Size() != 0 {
		t.Fatal("unsynced leaf visible")
	}
	if _, size, _ := l.Checkpoint(); size != 0 {
		t.Fatal("checkpoint covers an unsynced leaf")
	}
	i1, err := l.Append(leafN(1))
	if err != nil || i1 != 1 || l.Size() != 2 {
		t.Fatal(i1, err, l.Size())
	}
}
