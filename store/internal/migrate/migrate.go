// Package migrate reads an engine's versioned schema migrations: SQL files
// named NNNN_what.sql (NNNN the version, from 1, without gaps), embedded in
// the engine with go:embed. The engines apply them in order, each in its own
// transaction together with its row in the schema_migrations table, so a
// crash leaves the schema at one version or the next, never in between.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string // the file name, e.g. "0001_init.sql"
	SQL     string
}

// Load returns the migrations in dir of fsys, ordered by version. It fails
// on a file whose name does not start with a version, on two files with the
// same version and on gaps, so a mistake in the migration set is found at
// the first test run and not at a customer's.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %v", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migrate: %s: name does not start with a positive version and '_'", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migrate: %v", err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: %s: expected version %d (versions run from 1 without gaps or repeats)", m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("migrate: no migrations in %s", dir)
	}
	return ms, nil
}

// Pending returns the migrations after version current. A database at a
// version newer than the last migration was written by a newer binary: this
// one does not know its schema and must not touch it.
func Pending(all []Migration, current int) ([]Migration, error) {
	if current > len(all) {
		return nil, fmt.Errorf("migrate: database schema is at version %d, newer than this binary's %d: use a newer ebsp", current, len(all))
	}
	if current < 0 {
		return nil, fmt.Errorf("migrate: database schema version %d is negative", current)
	}
	return all[current:], nil
}
