// Package postgres is the server storage engine of ebsp: the store.Store
// contract on PostgreSQL through github.com/jackc/pgx/v5 (pgxpool), for
// nodes whose records outgrow one file or that run beside an operated
// database.
//
// Durability. A COMMIT that returns is durable when the server flushes its
// write-ahead log before acknowledging it: synchronous_commit on (or local,
// remote_write, remote_apply) and fsync on
// (https://www.postgresql.org/docs/15/wal-async-commit.html,
// https://www.postgresql.org/docs/15/runtime-config-wal.html). Open sets
// synchronous_commit=on for its sessions unless the DSN names a level, and
// refuses a server or DSN with fsync or synchronous_commit off: with those
// an acknowledged enrolment could vanish in a crash, which the contract
// forbids. Each Enroll is one transaction, so a crash before COMMIT leaves
// nothing of it.
//
// Schema. Tables live in the connection's current schema (search_path), so
// one database can hold several nodes or test runs side by side.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ebsp/ebsp/store"
)

// DefaultMaxConns is the pool size when the DSN does not set
// pool_max_conns.
const DefaultMaxConns = 16

// Store is a store.Store on a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as pgx accepts; pool_max_conns and other pgxpool
// settings may be given in it), checks that commits are durable, brings the
// schema up to date and returns the store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: say less.
		return nil, errors.New("postgres: open: the DSN does not parse (expected postgres://user:password@host:port/db?... or key=value pairs)")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool's default is max(4, GOMAXPROCS). A connection is held
		// for the whole of an enrolment's commit, so the pool bounds how
		// many commits can share one WAL flush on the server, and a
		// gallery load holds one for its whole walk; the node's request
		// handlers want more than four.
		cfg.MaxConns = DefaultMaxConns
	}
	rp := cfg.ConnConfig.RuntimeParams
	if _, set := rp["synchronous_commit"]; !set {
		rp["synchronous_commit"] = "on"
	}
	if _, set := rp["application_name"]; !set {
		rp["application_name"] = "ebsp"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %v", where(cfg), err)
	}
	s := &Store{pool: pool}
	if err := s.checkDurable(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where(cfg), err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where(cfg), err)
	}
	return s, nil
}

// where names the server and database for error messages, never the
// password.
func where(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// checkDurable refuses settings under which a returned COMMIT may not be
// on disk.
func (s *Store) checkDurable(ctx context.Context) error {
	var fsync, syncCommit string
	if err := s.pool.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &syncCommit); err != nil {
		return err
	}
	if fsync != "on" {
		return fmt.Errorf("server has fsync=%s: acknowledged enrolments would not survive a crash; turn fsync on", fsync)
	}
	if syncCommit == "off" {
		return errors.New("synchronous_commit=off: acknowledged enrolments could be lost in a crash; use on (the default)")
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return classify("ping", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// PostgreSQL error codes (https://www.postgresql.org/docs/15/errcodes-appendix.html).
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeNotNullViolation    = "23502"
	codeCheckViolation      = "23514"
	codeStringTooLong       = "22001"
	codeDiskFull            = "53100"
)

// classify wraps a constraint failure in the store error it means,
// keeping the server's message (which names the constraint).
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Classes 53 (insufficient resources, 53100 disk full), 08
		// (connection exception), 57P (operator intervention: the server
		// shuts down) and 58 (system error, I/O):
		// https://www.postgresql.org/docs/15/errcodes-appendix.html.
		switch {
		case pe.Code == codeDiskFull:
			return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrFull, pe.Message)
		case strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"), strings.HasPrefix(pe.Code, "58"):
			return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrUnavailable, pe.Message)
		}
		switch pe.Code {
		case codeUniqueViolation:
			return fmt.Errorf("postgres: %s: %w: %s (%s)", op, store.ErrDuplicate, pe.Message, pe.Detail)
		case codeForeignKeyViolation, codeNotNullViolation, codeCheckViolation, codeStringTooLong:
			return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrInvalid, pe.Message)
		}
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		// The server cannot be reached or dropped the connection.
		return fmt.Errorf("postgres: %s: %w: %v", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}
