package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// FreshSchema makes a schema of its own, named prefix and random hex, on
// the PostgreSQL server at dsn (a URL), for a benchmark run or a test, and
// returns the URL that uses it (search_path) and a func that drops it with
// everything in it (again harmless).
func FreshSchema(ctx context.Context, dsn, prefix string) (string, func() error, error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: store URL does not parse: %w", err)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: connect to %s: %w", u.Redacted(), err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("postgres: create schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() error {
		// The caller's context may be cancelled by now; dropping must
		// still happen.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return fmt.Errorf("postgres: connect to %s: %w", u.Redacted(), err)
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		return err
	}
	return u.String(), drop, nil
}
