// Package sqlite is the embedded storage engine of ebsp: the store.Store
// contract on one SQLite file in the node's data directory, through
// modernc.org/sqlite (SQLite compiled to pure Go, so the binary needs no C
// toolchain and no server).
//
// Durability. Every connection runs in write-ahead-log mode with
// PRAGMA synchronous=FULL. In WAL mode a commit appends the transaction's
// pages and a commit record to the -wal file; with synchronous=FULL SQLite
// fsyncs the WAL before COMMIT returns (https://sqlite.org/pragma.html#pragma_synchronous,
// https://sqlite.org/wal.html). So when Enroll returns nil the enrolment is
// on stable storage: it survives kill -9 of the process (which needs only
// the write to reach the OS) and power loss or a kernel crash (which needs
// the fsync). The default for WAL, synchronous=NORMAL, skips that fsync
// and may lose the last commits on power loss although it survives kill -9;
// FULL costs one fsync per transaction, which is what an acknowledged
// enrolment is worth. A transaction interrupted before its commit record
// is durable is rolled back by WAL recovery at the next open, so a
// half-written enrolment is never seen.
//
// Concurrency. SQLite allows one writer at a time. The engine keeps one
// writer connection (transactions start with BEGIN IMMEDIATE, so a writer
// takes the lock at once instead of failing to upgrade later), fed by one
// goroutine that commits concurrent enrolments together (group commit, see
// Enroll), and a small pool of read-only connections; in WAL mode readers see a consistent
// snapshot and never block the writer, nor it them. A busy timeout covers
// another process holding the lock (for example a second node opened on the
// same file by mistake, or a backup).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ebsp/ebsp/store"
)

// Readers is the size of the read connection pool.
const Readers = 4

// busyTimeoutMS is how long a statement waits for another process's lock
// before failing with SQLITE_BUSY.
const busyTimeoutMS = 10000

// Store is a store.Store on a SQLite file. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // one connection: every write goes through it, one at a time
	r    *sql.DB // read-only connections

	reqs       chan *enrolReq // to the group-commit writer (groupcommit.go)
	quit       chan struct{}  // closed by Close
	writerDone chan struct{}  // closed when the writer has stopped
	closeOnce  sync.Once
	closeErr   error

	commits, enrolments atomic.Int64 // group-commit statistics
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the database file at path (its directory is created
// if missing, with mode 0700, and the file with mode 0600: it holds
// biometric data), brings its schema up to date and returns the store.
func Open(path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path (no URI, no in-memory database: readers and the writer must share the file)", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open: %v", err)
	}
	// SQLite gives the -wal and -shm files the main file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %v", err)
	}
	f.Close()

	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_synchronous=FULL", busyTimeoutMS)
	w, err := sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %v", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, w: w}
	if err := s.checkPragmas(); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	// Readers open after the writer has put the file in WAL mode (a
	// persistent property of the file), so they never see another mode.
	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %v", path, err)
	}
	r.SetMaxOpenConns(Readers)
	r.SetMaxIdleConns(Readers)
	s.r = r
	s.reqs = make(chan *enrolReq)
	s.quit = make(chan struct{})
	s.writerDone = make(chan struct{})
	go s.writer()
	return s, nil
}

// checkPragmas verifies on the writer connection that the settings the
// durability argument rests on are in force, rather than trusting the DSN.
func (s *Store) checkPragmas() error {
	var mode string
	var syncLevel, fk int
	if err := s.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: %v", s.path, err)
	}
	if err := s.w.QueryRow("PRAGMA synchronous").Scan(&syncLevel); err != nil {
		return fmt.Errorf("sqlite: open %s: %v", s.path, err)
	}
	if err := s.w.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("sqlite: open %s: %v", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") || syncLevel != 2 || fk != 1 {
		return fmt.Errorf("sqlite: open %s: journal_mode=%s synchronous=%d foreign_keys=%d, want wal, 2 (FULL), 1", s.path, mode, syncLevel, fk)
	}
	return nil
}

// CommitStats returns how many enrolment transactions the writer has
// committed and how many enrolments they carried; their ratio is the mean
// group-commit batch.
func (s *Store) CommitStats() (commits, enrolments int64) {
	return s.commits.Load(), s.enrolments.Load()
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Ping reports whether both the writer and a reader can reach the file.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %v", err)
	}
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %v", err)
	}
	return nil
}

// Close stops the writer (after the commit in progress, if any) and closes
// the connections; SQLite checkpoints the WAL into the main file when the
// last connection closes. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.writerDone
		err := s.r.Close()
		if werr := s.w.Close(); err == nil {
			err = werr
		}
		s.closeErr = err
	})
	return s.closeErr
}

// classify wraps a SQLite constraint failure in the store error it means,
// keeping SQLite's text (which names the table and column). op says what
// the store was doing.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("sqlite: %s: %w: %v", op, store.ErrFull, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// Primary result codes (the low byte): https://sqlite.org/rescode.html.
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("sqlite: %s: %w: %v", op, store.ErrFull, err)
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("sqlite: %s: %w: %v", op, store.ErrUnavailable, err)
		}
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("sqlite: %s: %w: %v", op, store.ErrDuplicate, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return fmt.Errorf("sqlite: %s: %w: %v", op, store.ErrInvalid, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
