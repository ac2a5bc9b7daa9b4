package postgres

import (
	"context"
	"embed"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/refeed/refeed/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations lists the embedded migrations in order (storage.Migrations).
func migrations() ([]storage.Migration, error) { return storage.Migrations(migrationFS, "migrations") }

// migrateLock is the key of the advisory lock that makes one process at a
// time migrate a database (pg_advisory_xact_lock: it ends with the
// transaction, even if the process dies).
const migrateLock = 0x7265666565640001 // "refeed", 1

// migrate applies the migrations the database lacks, all in one
// transaction that first takes migrateLock. Several processes starting
// together queue on the lock; each then reads the applied versions, and
// all but the first find nothing to do.
func migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var have int
	err = pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM refeed_migrations`).Scan(&have)
	if err == nil && have >= len(ms) {
		return nil // the common case: up to date, no lock taken
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS refeed_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("migrations table: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM refeed_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("read version: %w", err)
		}
		if have > len(ms) {
			return fmt.Errorf("database schema %d is newer than this refeed's %d: upgrade refeed", have, len(ms))
		}
		for _, m := range ms[have:] {
			log.Info("migrating database schema", "migration", m.Name)
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO refeed_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
		}
		return nil
	})
}
