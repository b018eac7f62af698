package audit

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// appendUntilKilled is the child of TestAppendSurvivesKill9: it appends
// leaf after leaf (some unsynced, then a synced one) and prints the index
// of the last leaf of every acknowledged Append, until it is killed.
func appendUntilKilled(dir string) {
	skey, _, err := GenerateKey("ebsp.test/us/audit")
	var s note.Signer
	if err == nil {
		s, err = note.NewSigner(skey)
	}
	var l *Log
	if err == nil {
		l, err = openLog(dir, s, 2, 64)
	}
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; {
		if i%5 == 0 {
			if _, err := l.AppendUnsynced(leafN(i), leafN(i+1)); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			i += 2
		}
		last, err := l.Append(leafN(i))
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		i++
		fmt.Fprintln(w, last)
		w.Flush()
	}
}

// TestAppendSurvivesKill9 kills a process appending to a log with SIGKILL
// and reopens the log: every acknowledged leaf is there, the index, tiles
// and tree agree with the leaves (checked against the all-in-memory tree),
// and Open re-read only the leaves past the last tree file.
func TestAppendSurvivesKill9(t *testing.T) {
	if dir := os.Getenv("EBSP_AUDIT_KILL_DIR"); dir != "" {
		appendUntilKilled(dir)
		return
	}
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestAppendSurvivesKill9$")
		cmd.Env = append(os.Environ(), "EBSP_AUDIT_KILL_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := int64(-1)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			i, err := strconv.ParseInt(sc.Text(), 10, 64)
			if err != nil {
				t.Fatalf("child: %s", sc.Text())
			}
			acked = i
			if i >= int64(400+150*round) {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if acked < 0 {
			t.Fatal("child acknowledged nothing")
		}

		s, _ := testKeys(t, "ebsp.test/us/audit")
		l, err := openLog(dir, s, 2, 64)
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		n := l.Size()
		if n <= acked {
			t.Fatalf("round %d: %d leaves after kill -9, leaf %d was acknowledged", round, n, acked)
		}
		if rebuilt, read := l.OpenStats(); rebuilt || read > 64+3+int64(n-acked) {
			t.Errorf("round %d: reopen rebuilt=%v read %d leaves; the tree file is saved every 64", round, rebuilt, read)
		}
		ref := &refTree{}
		i := int64(0)
		if err := l.Scan(0, func(j int64, leaf []byte) error {
			lf, err := DecodeLeaf(leaf)
			if err != nil || lf.Case != fmt.Sprintf("case-%d", j) {
				return fmt.Errorf("leaf %d: %q %v", j, leaf, err)
			}
			ref.add(t, j, leaf)
			i++
			return nil
		}); err != nil || i != n {
			t.Fatalf("round %d: %d leaves read: %v", round, i, err)
		}
		checkAgainst(t, l, ref, n)
		checkAgainst(t, l, ref, acked+1)
		l.Close()
	}
}
