// Package sqlite is refeed's storage.Store on SQLite, through the pure-Go
// driver modernc.org/sqlite (no cgo).
//
// Concurrency: SQLite lets one connection write at a time. The Store keeps
// two pools on the same file: a writer pool of exactly one connection, whose
// transactions start with BEGIN IMMEDIATE, and a read pool of several. Inside
// one process, writers therefore queue in database/sql instead of racing for
// the lock (so concurrent pollers never see "database is locked"); in WAL
// mode readers are never blocked by the writer; and busy_timeout covers
// another process (e.g. `refeed poll` next to `refeed serve`) holding the
// write lock for a moment.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"time"

	"github.com/refeed/refeed/storage"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a storage.Store backed by one SQLite file. It is safe for
// concurrent use.
type Store struct {
	path  string
	write *sql.DB // one connection: all writes
	read  *sql.DB // several connections: all reads
	now   func() time.Time
	stmts writeStmts
	ix    *indexer // background search indexing; nil for an old schema
	ckpt  *worker  // background WAL checkpoints (checkpoint.go); nil for an old schema

	onePostLookups bool // SavePoll without batch lookups (tests)

	counts postCounts // Sources' post counts, per version
	saves  saveQueue  // SavePoll calls waiting for the writer (group.go)
}

var _ storage.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	now         func() time.Time
	readConns   int
	busyTimeout time.Duration
	log         *slog.Logger
	migrations  int // apply only the first n migrations; 0: all (tests)

	onePostLookups bool // no batch lookups (tests)
}

// WithNow sets the clock used for first-seen and updated times and for
// expiring tombstones. The default is time.Now.
func WithNow(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithReadConns sets the size of the read pool (default: 2 × GOMAXPROCS, at
// least 4).
func WithReadConns(n int) Option { return func(o *options) { o.readConns = n } }

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process before failing (default 10s).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithLogger sets where Open says that it is upgrading an existing
// database's schema, which can take a while on a large one (about 75 s at a
// million posts for migration 0004). Default: no log.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// Open opens or creates the database at path and brings its schema up to
// date. The caller must Close it.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, readConns: max(4, 2*runtime.GOMAXPROCS(0)), busyTimeout: 10 * time.Second,
		log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if err := registerTextFunc(); err != nil {
		return nil, fmt.Errorf("sqlite: register %s: %w", textFunc, err)
	}
	s := &Store{path: path, now: o.now, onePostLookups: o.onePostLookups,
		saves: saveQueue{arrived: make(chan struct{}, 1)}}

	var err error
	s.write, err = openDB(ctx, path, o.busyTimeout, "immediate", writeCacheKiB)
	if err != nil {
		return nil, err
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	s.write.SetConnMaxIdleTime(0)
	if err := migrate(ctx, s.write, o.migrations, o.log); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}

	s.read, err = openDB(ctx, path, o.busyTimeout, "deferred", readCacheKiB)
	if err != nil {
		s.write.Close()
		return nil, err
	}
	s.read.SetMaxOpenConns(o.readConns)
	s.read.SetMaxIdleConns(o.readConns)

	if o.migrations == 0 {
		if err := s.stmts.prepare(ctx, s.write); err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: prepare %s: %w", path, err)
		}
		s.startIndexer()
		s.startCheckpointer()
	}
	return s, nil
}

// Page cache per connection: the writer mostly appends and needs little
// more than the indexes' upper levels, so a small cache buys peak RSS for
// the poll (bench/ingest/run.sh; the figures are in the README, Ingest);
// readers keep more, for serving.
const (
	writeCacheKiB = 4000
	readCacheKiB  = 16000
)

// walCheckpointPages is how long the WAL grows (in 4 KiB pages, about 160
// MB) before a commit copies it into the database: each checkpoint rewrites
// every index page written since the last one, so fewer of them make a
// large poll's writer much cheaper (BenchmarkSavePollConcurrent,
// bench/ingest/run.sh; README, Ingest). walSizeLimit truncates the WAL file
// after a checkpoint, so that it does not keep its largest size.
const (
	walCheckpointPages = 40000
	walSizeLimit       = 32 << 20
)

// openDB opens a pool on path with refeed's pragmas and pings it.
func openDB(ctx context.Context, path string, busy time.Duration, txlock string, cacheKiB int) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointPages))
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
	q.Set("_txlock", txlock)
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Switching a new database to WAL takes an exclusive lock without
	// waiting on busy_timeout: a second process opening the same new file
	// at that moment gets SQLITE_BUSY at once. Retry that, within the busy
	// timeout.
	deadline := time.Now().Add(busy)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err = db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().Add(wait).After(deadline) {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			err = ctx.Err()
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (5), or an extended
// code of it.
func isBusy(err error) bool {
	var e interface{ Code() int }
	return errors.As(err, &e) && e.Code()&0xff == 5
}

// Close releases the database. It checkpoints the WAL via the last
// connection's close. Posts still queued for the search index stay queued
// for the next Open (see index.go).
func (s *Store) Close() error {
	if s.ix != nil {
		s.ix.halt()
	}
	s.ckpt.halt()
	s.stmts.close()
	var errs []error
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}

// Version returns a number that changes whenever posts or sources change.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'version'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: version: %w", err)
	}
	return v, nil
}

// bumpVersion increments the version counter inside tx.
func bumpVersion(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'version'`); err != nil {
		return fmt.Errorf("bump version: %w", err)
	}
	return nil
}

// inTx runs fn in a write transaction and commits it, or rolls back if fn
// fails. The background indexer waits while such transactions run.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.ix != nil {
		s.ix.writeBegins()
		defer s.ix.writeEnds()
	}
	return s.tx(ctx, fn)
}

// tx is inTx without telling the background indexer.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// unixNano stores t as unix nanoseconds; the zero time is 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNano is the inverse of unixNano, in UTC.
func fromNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// withMigrations stops the schema at version n, to test migrations from
// older databases. A store opened so can only sync sources and read.
func withMigrations(n int) Option { return func(o *options) { o.migrations = n } }

// withOnePostLookups makes SavePoll look up each post with its own queries,
// without the batch lookups of prefetch.go: the reference its tests compare
// them with.
func withOnePostLookups() Option { return func(o *options) { o.onePostLookups = true } }
