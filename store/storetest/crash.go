package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// Environment of the child process of Kill9.
const (
	envCrashChild = "EBSP_STORETEST_CRASH_CHILD"
	envCrashArg   = "EBSP_STORETEST_CRASH_ARG"
)

// Kill9 checks the durability half of the contract: a child process (this
// test binary, re-run with only testName selected) enrols from several
// goroutines and reports each enrolment on stdout once Enroll has returned
// nil; the parent kills it with SIGKILL mid-stream (after 100 acknowledgements), reopens the store and
// requires every reported enrolment to be there in full, and every
// enrolment that is there (reported or not: the kill may fall between a
// commit and its report) to be whole. arg tells open which store to open
// (a file path, a DSN); the child opens the same one.
//
// Call it from a test named testName; in the child it runs the enrolment
// loop and never returns.
func Kill9(t *testing.T, testName, arg string, open func(arg string) (store.Store, error)) {
	if os.Getenv(envCrashChild) != "" {
		crashChild(open)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+testName+"$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), envCrashChild+"=1", envCrashArg+"="+arg)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	const target = 100
	for len(acked) < target && time.Now().Before(deadline) && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked[id] = true
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatalf("kill child: %v", err)
	}
	// Reports written before the kill but not yet read are acknowledged
	// too.
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked[id] = true
		}
	}
	cmd.Wait()
	if len(acked) < 10 {
		t.Fatalf("child acknowledged only %d enrolments before the kill", len(acked))
	}

	s, err := open(arg)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	for id := range acked {
		rec, err := s.Identity(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged enrolment of %s lost after kill -9: %v", id, err)
		}
		checkWhole(t, rec)
	}
	identities, templates, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if identities < len(acked) || templates != 3*identities {
		t.Fatalf("after kill -9: %d identities, %d templates; want at least the %d acknowledged, 3 templates each", identities, templates, len(acked))
	}
	// Enrolments committed but not reported must be whole too.
	seen := map[string]bool{}
	err = s.Gallery(ctx, biometric.Face, func(g store.GalleryEntry) error {
		seen[g.IdentityID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range seen {
		if !acked[id] {
			rec, err := s.Identity(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			checkWhole(t, rec)
		}
	}
	if len(seen) != identities {
		t.Fatalf("after kill -9: %d identities but %d with a face template", identities, len(seen))
	}
	t.Logf("kill -9 after %d acknowledged enrolments: %d identities on reopen, all whole", len(acked), identities)
}

// checkWhole fails unless rec is one whole enrolment of the crash child.
func checkWhole(t *testing.T, rec store.IdentityRecord) {
	t.Helper()
	if len(rec.Encounters) != 1 || len(rec.Samples) != 3 || len(rec.Flags) != 1 {
		t.Fatalf("identity %s half-written after kill -9: %d encounters, %d samples, %d flags; want 1, 3, 1",
			rec.Identity.ID, len(rec.Encounters), len(rec.Samples), len(rec.Flags))
	}
}

// crashChild enrols until killed, reporting each acknowledged enrolment.
func crashChild(open func(string) (store.Store, error)) {
	s, err := open(os.Getenv(envCrashArg))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	// A child the parent failed to kill must not run forever.
	time.AfterFunc(60*time.Second, func() { os.Exit(4) })
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			f := newFixture(uint64(w))
			for i := 0; ; i++ {
				e := f.enrolmentSized(fingers2, true, 1024, 256)
				e.Identity.ID = fmt.Sprintf("crash-%d-%d-%d", os.Getpid(), w, i)
				e.Flags = []store.Flag{{ID: e.Identity.ID + "-flag", Category: "wanted", Source: "NCIC"}}
				if err := s.Enroll(context.Background(), e); err != nil {
					fmt.Fprintln(os.Stderr, "crash child: enroll:", err)
					os.Exit(5)
				}
				mu.Lock()
				// Unbuffered: the line is in the pipe when Write returns.
				fmt.Fprintf(os.Stdout, "acked %s\n", e.Identity.ID)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
}
