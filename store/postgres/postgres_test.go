package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"github.com/ebsp/ebsp/internal/testneed"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/store/storetest"
)

// testDSN returns the test database's DSN; without one the test skips, or fails under testneed.Required.
func testDSN(tb testing.TB) string {
	dsn := os.Getenv("EBSP_TEST_POSTGRES")
	if dsn == "" {
		testneed.Missing(tb, "PostgreSQL not available: set EBSP_TEST_POSTGRES (test.sh does)")
	}
	return dsn
}

// withSearchPath returns dsn with the search_path set to schema, for a URL
// or a key=value DSN.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("EBSP_TEST_POSTGRES does not parse as a URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// freshSchema creates a schema of its own for one test and drops it, with
// everything in it, when the test ends: runs are repeatable and tests do
// not see each other's rows. It returns the DSN that uses it.
func freshSchema(tb testing.TB) string {
	dsn := testDSN(tb)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "ebsp_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to EBSP_TEST_POSTGRES: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(tb, dsn, schema)
}

// open is the suite's Opener.
func open(tb testing.TB) store.Store {
	dsn := freshSchema(tb)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() }) // runs before the schema is dropped
	return s
}

func TestConformance(t *testing.T) {
	testDSN(t) // skip once, not in every subtest
	storetest.Run(t, open)
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	e := storetest.SampleEnrolment()
	if err := s.Enroll(ctx, e); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, dsn)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if _, err := s.Identity(ctx, e.Identity.ID); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	var n, v int
	if err := s.pool.QueryRow(ctx, "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion() || v != SchemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to version %d, want %d", n, v, SchemaVersion())
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database at a newer schema version")
	}
	if !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open: %v, want a refusal naming the newer schema", err)
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	stores := make(chan *Store, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := Open(ctx, dsn)
			errs <- err
			stores <- s
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
		if s := <-stores; s != nil {
			defer s.Close()
		}
	}
}

func TestDurabilitySettings(t *testing.T) {
	s := open(t).(*Store)
	var sc string
	if err := s.pool.QueryRow(context.Background(), "SHOW synchronous_commit").Scan(&sc); err != nil {
		t.Fatal(err)
	}
	if sc != "on" {
		t.Errorf("synchronous_commit = %s, want on", sc)
	}
	if n := s.pool.Config().MaxConns; n != DefaultMaxConns {
		t.Errorf("pool of %d connections, want DefaultMaxConns = %d", n, DefaultMaxConns)
	}
	dsn := freshSchema(t)
	if strings.HasPrefix(dsn, "postgres") {
		dsn += "&synchronous_commit=off"
	} else {
		dsn += " synchronous_commit=off"
	}
	if s, err := Open(context.Background(), dsn); err == nil {
		s.Close()
		t.Fatal("Open accepted synchronous_commit=off")
	}
}

func TestOpenBadDSNHidesPassword(t *testing.T) {
	_, err := Open(context.Background(), "postgres://u:s3cret@[::1")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open(bad DSN) = %v; want an error without the password", err)
	}
}

func BenchmarkEnroll(b *testing.B)          { storetest.BenchEnroll(b, open, 1) }
func BenchmarkEnrollParallel8(b *testing.B) { storetest.BenchEnroll(b, open, 8) }
func BenchmarkGalleryLoad(b *testing.B)     { storetest.BenchGalleryLoad(b, open) }

// TestKill9 kills a client process in the middle of enrolments and checks
// that every acknowledged enrolment is in the database and none is
// half-written (the server rolls back the killed client's open
// transaction).
func TestKill9(t *testing.T) {
	dsn := os.Getenv("EBSP_STORETEST_CRASH_ARG")
	if dsn == "" {
		dsn = freshSchema(t)
	}
	storetest.Kill9(t, "TestKill9", dsn, func(d string) (store.Store, error) { return Open(context.Background(), d) })
}

func FuzzEnroll(f *testing.F) {
	testDSN(f)
	storetest.FuzzEnroll(f, open)
}

// TestLostServerIsErrUnavailable: when the server ends the node's
// connections (as a restart or failover does), the next call fails with
// store.ErrUnavailable, which the node answers 503 with Retry-After.
func TestLostServerIsErrUnavailable(t *testing.T) {
	dsn := freshSchema(t)
	app := "ebsp_unavail_" + strings.ReplaceAll(t.Name(), "/", "_")
	if strings.Contains(dsn, "://") {
		dsn += "&application_name=" + app
	} else {
		dsn += " application_name=" + app
	}
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Counts(ctx); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Counts(ctx)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("after the server ended the connection: %v, want store.ErrUnavailable", err)
	}
}
