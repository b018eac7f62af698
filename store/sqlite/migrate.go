package sqlite

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/ebsp/ebsp/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// SchemaVersion is the schema version this binary writes: the number of its
// migrations.
func SchemaVersion() int {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate brings the schema up to date. Each migration runs in its own
// IMMEDIATE transaction with its schema_migrations row, and the current
// version is read inside that transaction, so two processes opening the
// same file at once apply each step exactly once, and a crash leaves the
// schema at a whole version.
func (s *Store) migrate(ctx context.Context) error {
	all, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %v", err)
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: %s: create schema_migrations: %v", s.path, err)
	}
	for {
		done, err := s.migrateOne(ctx, all)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateOne applies the next pending migration, if any, and reports
// whether the schema was already current.
func (s *Store) migrateOne(ctx context.Context, all []migrate.Migration) (current bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: %s: migrate: %v", s.path, err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return false, fmt.Errorf("sqlite: %s: migrate: %v", s.path, err)
	}
	pending, err := migrate.Pending(all, v)
	if err != nil {
		return false, fmt.Errorf("sqlite: %s: %v", s.path, err)
	}
	if len(pending) == 0 {
		return true, nil
	}
	m := pending[0]
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("sqlite: %s: migration %s: %v", s.path, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return false, fmt.Errorf("sqlite: %s: migration %s: %v", s.path, m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: %s: migration %s: commit: %v", s.path, m.Name, err)
	}
	return false, nil
}
