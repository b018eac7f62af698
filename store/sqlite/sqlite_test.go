package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/store/storetest"
)

// open is the suite's Opener: a fresh database file in a temporary
// directory that the test removes.
func open(tb testing.TB) store.Store {
	s, err := Open(filepath.Join(tb.TempDir(), "ebsp.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "ebsp.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e := storetest.SampleEnrolment()
	if err := s.Enroll(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if _, err := s.Identity(ctx, e.Identity.ID); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	var n, v int
	if err := s.r.QueryRow("SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion() || v != SchemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to version %d, want %d", n, v, SchemaVersion())
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ebsp.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	newer := SchemaVersion() + 1
	if _, err := s.w.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)", newer); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database at a newer schema version")
	}
	if !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open: %v, want a refusal naming the newer schema", err)
	}
}

func TestDurabilitySettings(t *testing.T) {
	s := open(t).(*Store)
	check := func(name string, q func(string) (string, error), pragma, want string) {
		got, err := q("PRAGMA " + pragma)
		if err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", name, pragma, err)
		}
		if !strings.EqualFold(got, want) {
			t.Errorf("%s: PRAGMA %s = %s, want %s", name, pragma, got, want)
		}
	}
	for name, db := range map[string]func(string) (string, error){
		"writer": func(q string) (v string, err error) { err = s.w.QueryRow(q).Scan(&v); return },
		"reader": func(q string) (v string, err error) { err = s.r.QueryRow(q).Scan(&v); return },
	} {
		check(name, db, "journal_mode", "wal")
		check(name, db, "synchronous", "2")
		check(name, db, "foreign_keys", "1")
		check(name, db, "busy_timeout", "10000")
	}
	var ro string
	if err := s.r.QueryRow("PRAGMA query_only").Scan(&ro); err != nil || ro != "1" {
		t.Errorf("reader: query_only = %q, %v; want 1", ro, err)
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=memory"} {
		if s, err := Open(p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func BenchmarkEnroll(b *testing.B)          { storetest.BenchEnroll(b, open, 1) }
func BenchmarkEnrollParallel8(b *testing.B) { storetest.BenchEnroll(b, open, 8) }
func BenchmarkGalleryLoad(b *testing.B)     { storetest.BenchGalleryLoad(b, open) }

// TestKill9 kills a process enrolling into a database file and checks that
// every acknowledged enrolment survives and none is half-written.
func TestKill9(t *testing.T) {
	path := os.Getenv("EBSP_STORETEST_CRASH_ARG")
	if path == "" {
		path = filepath.Join(t.TempDir(), "crash.db")
	}
	storetest.Kill9(t, "TestKill9", path, func(p string) (store.Store, error) { return Open(p) })
}

// TestGroupCommit enrols from many goroutines at once, a third of them
// reusing another's encounter id, and checks that commits were shared,
// that each duplicate failed alone and every other enrolment is whole.
func TestGroupCommit(t *testing.T) {
	s := open(t).(*Store)
	ctx := context.Background()
	const n = 48
	es := make([]store.Enrolment, n)
	for i := range es {
		es[i] = storetest.SampleEnrolment()
		if i%3 == 2 {
			es[i].Encounter.ID = es[i-1].Encounter.ID
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range es {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Enroll(ctx, es[i])
		}(i)
	}
	wg.Wait()
	ok := 0
	for i := 0; i < n; i += 3 {
		if errs[i] != nil {
			t.Fatalf("enrolment %d: %v", i, errs[i])
		}
		// Of each pair sharing an encounter id exactly one wins.
		a, b := errs[i+1], errs[i+2]
		if (a == nil) == (b == nil) || !errors.Is(a, store.ErrDuplicate) && !errors.Is(b, store.ErrDuplicate) {
			t.Fatalf("enrolments %d and %d share an encounter id: %v, %v", i+1, i+2, a, b)
		}
		ok += 2
	}
	ids, tmpls, err := s.Counts(ctx)
	if err != nil || ids != ok || tmpls != 3*ok {
		t.Fatalf("Counts = %d, %d, %v; want %d, %d", ids, tmpls, err, ok, 3*ok)
	}
	for i, e := range es {
		_, err := s.Identity(ctx, e.Identity.ID)
		if (errs[i] == nil) != (err == nil) {
			t.Fatalf("enrolment %d returned %v but Identity says %v", i, errs[i], err)
		}
	}
	commits, enrolled := s.CommitStats()
	t.Logf("%d enrolments in %d commits", enrolled, commits)
	if enrolled != int64(ok) || commits >= enrolled {
		t.Errorf("CommitStats = %d commits, %d enrolments; want %d enrolments in fewer commits", commits, enrolled, ok)
	}
}

func FuzzEnroll(f *testing.F) { storetest.FuzzEnroll(f, open) }

// TestFullIsErrFull: a database that cannot grow (SQLite's page limit, as a
// full disk would) refuses an enrolment with store.ErrFull and keeps
// nothing of it; reads still work.
func TestFullIsErrFull(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "ebsp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var pages int
	if err := s.w.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	e := storetest.SampleEnrolment()
	for i := range e.Samples {
		e.Samples[i].Data = make([]byte, 64<<10) // more than the pages left
	}
	err = s.Enroll(ctx, e)
	if !errors.Is(err, store.ErrFull) {
		t.Fatalf("Enroll on a full database: %v, want store.ErrFull", err)
	}
	if _, err := s.Identity(ctx, e.Identity.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the refused enrolment: %v, want ErrNotFound", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
}
