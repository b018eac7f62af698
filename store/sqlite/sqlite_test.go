package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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
