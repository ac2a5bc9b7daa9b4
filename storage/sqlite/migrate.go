package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/refeed/refeed/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations lists the embedded migrations in order (storage.Migrations).
func migrations() ([]storage.Migration, error) { return storage.Migrations(migrationFS, "migrations") }

// migrate applies the migrations newer than the database's user_version,
// each in its own transaction together with the new user_version. The
// version is read inside the (immediate) transaction, so two processes
// opening a new database at once do not both apply a migration. upto > 0
// stops after that version (to build old schemas in tests).
func migrate(ctx context.Context, db *sql.DB, upto int, log *slog.Logger) (err error) {
	ms, err := migrations()
	if err != nil {
		return err
	}
	// A migration that rebuilds tables sorts their rows for the new
	// indexes; with temp_store(MEMORY) those sorts, spilled, stay in memory
	// (about 400 MB at a million posts). Spill them to temp files instead.
	// db has one connection, so the pragmas apply to the migrations.
	if _, err := db.ExecContext(ctx, `PRAGMA temp_store = FILE`); err != nil {
		return fmt.Errorf("temp_store: %w", err)
	}
	defer func() {
		if _, rerr := db.ExecContext(context.WithoutCancel(ctx), `PRAGMA temp_store = MEMORY`); rerr != nil && err == nil {
			err = fmt.Errorf("temp_store: %w", rerr)
		}
	}()
	// A new database (version 0) is created, not upgraded: nothing to say.
	var start int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&start); err != nil {
		return fmt.Errorf("read user_version: %w", err)
	}
	if start == 0 {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		done, err := migrateOne(ctx, db, ms, upto, log)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration, if any.
func migrateOne(ctx context.Context, db *sql.DB, ms []storage.Migration, upto int, log *slog.Logger) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil || done {
			_ = tx.Rollback()
		}
	}()
	var cur int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&cur); err != nil {
		return false, fmt.Errorf("read user_version: %w", err)
	}
	if cur > len(ms) {
		return false, fmt.Errorf("database schema version %d is newer than this program's (%d)", cur, len(ms))
	}
	if cur == len(ms) || (upto > 0 && cur >= upto) {
		return true, nil
	}
	m := ms[cur]
	start := time.Now()
	// Say why opening an existing database may take a while.
	log.Info("upgrading the database schema; this can take a minute on a large database",
		"from", cur, "to", m.Version, "migration", m.Name)
	defer func() {
		if err == nil {
			log.Info("database schema upgraded", "to", m.Version, "took", time.Since(start).Round(time.Millisecond))
		}
	}()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("%s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.Version)); err != nil {
		return false, fmt.Errorf("%s: set user_version: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("%s: commit: %w", m.Name, err)
	}
	return false, nil
}
