package postgres

import (
	"context"
	"embed"
	"fmt"

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

// migrate brings the schema up to date, one migration per transaction
// (PostgreSQL's DDL is transactional, so a step and its schema_migrations
// row commit together or not at all). Each transaction first takes an
// advisory lock named for the schema, so nodes starting at once against one
// database apply each step exactly once.
func (s *Store) migrate(ctx context.Context) error {
	all, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	for {
		done, err := s.migrateOne(ctx, all)
		if err != nil || done {
			return err
		}
	}
}

func (s *Store) migrateOne(ctx context.Context, all []migrate.Migration) (current bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('ebsp schema_migrations ' || current_schema()))"); err != nil {
		return false, fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return false, fmt.Errorf("migrate: create schema_migrations (is there a schema on the search_path?): %w", err)
	}
	var v int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	pending, err := migrate.Pending(all, v)
	if err != nil {
		return false, err
	}
	if len(pending) == 0 {
		return true, tx.Commit(ctx)
	}
	m := pending[0]
	// No arguments: pgx sends the file with the simple query protocol,
	// which runs several statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return false, nil
}
