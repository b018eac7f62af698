package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/store/postgres"
	"github.com/ebsp/ebsp/store/sqlite"
)

// OpenStore opens the store a configuration names: "sqlite" is the file
// ebsp.db in the data directory (made if missing); a postgres:// or
// postgresql:// URL is a PostgreSQL server.
func OpenStore(ctx context.Context, cfg *Config) (store.Store, error) {
	switch {
	case cfg.Store == "" || cfg.Store == "sqlite":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("node: data directory: %w", err)
		}
		return sqlite.Open(filepath.Join(cfg.DataDir, "ebsp.db"))
	case strings.HasPrefix(cfg.Store, "postgres://") || strings.HasPrefix(cfg.Store, "postgresql://"):
		return postgres.Open(ctx, cfg.Store)
	}
	return nil, fmt.Errorf("node: store %q: want sqlite or a postgres:// URL", cfg.Store)
}
