// Package postgres is refeed's storage.Store on PostgreSQL, through
// github.com/jackc/pgx/v5 and its pool (pgxpool): the backend for sites
// that outgrow one machine, where any number of refeed processes share one
// database.
//
// The database is the coordinator. Claims take due sources with FOR UPDATE
// SKIP LOCKED on the database's clock (refeed_now()), so two instances
// never claim one source and an instance's own clock never matters; a save
// checks its claim's fencing token under the source row's lock; the
// cross-source link dedupe is a unique constraint (posts.link_claim), so
// two instances saving the same link at once make one post. Identity,
// dedupe and search tokens are decided above the backend, in package
// storage and storage/search, exactly as for SQLite: both pass the same
// storagetest suite.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/refeed/refeed/storage"
)

// DefaultPoolSize is the default number of connections one Store (one
// refeed process) opens at most. A poll keeps up to [poll] concurrency
// saves in flight, each holding a connection for its transaction, and
// serving reads one or two at a time per request: 10 covers the default
// concurrency of 8 with room for the server. N instances open up to N ×
// pool connections: keep that under the server's max_connections (100 by
// default) or put pgbouncer in front.
const DefaultPoolSize = 10

// Store is a storage.Store on a PostgreSQL database. It is safe for
// concurrent use, and any number of Stores, in any number of processes,
// may share one database.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time // nil: the database's clock

	counts  postCounts // Sources' post counts, per version
	cleaner *cleaner   // merges the search index's pending list (cleaner.go)
}

var _ storage.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	now      func() time.Time
	poolSize int
	log      *slog.Logger
}

// WithNow replaces the database's clock with now, for tests. Without it
// every time a lease, a claim or a post's first-seen time is measured by is
// the database server's (refeed_now()), never a process's own.
func WithNow(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithPoolSize sets how many connections the Store opens at most (default
// DefaultPoolSize).
func WithPoolSize(n int) Option { return func(o *options) { o.poolSize = n } }

// WithLogger sets where Open says that it migrates the schema.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// Open connects to the database at rawURL (postgres:// or postgresql://;
// libpq's PGPASSWORD and PGPASSFILE apply, as for psql) and brings its
// schema up to date, once even when several processes start together. The
// caller must Close it.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	o := options{poolSize: DefaultPoolSize, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", Redact(rawURL), err)
	}
	if o.poolSize > 0 {
		cfg.MaxConns = int32(o.poolSize)
	}
	rp := cfg.ConnConfig.RuntimeParams
	if rp["application_name"] == "" {
		rp["application_name"] = "refeed"
	}
	// A process stopped (SIGSTOP, a VM paused) inside a transaction holds
	// its row locks; the server ends such a session after this long, so its
	// sources are claimable again and its late commit fails.
	if rp["idle_in_transaction_session_timeout"] == "" {
		rp["idle_in_transaction_session_timeout"] = "60s"
	}
	// A commit does not wait for its WAL to reach the disk: a crash of the
	// database server may lose the last fraction of a second of saves,
	// never corrupt anything, and a lost save's source is due again with
	// the validators it had, so its next poll fetches the posts again. It
	// makes a save several times cheaper (bench/ingest/backends.sh).
	if rp["synchronous_commit"] == "" {
		rp["synchronous_commit"] = "off"
	}
	if rp["timezone"] == "" {
		rp["timezone"] = "UTC"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect %s: %w", Redact(rawURL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect %s: %w", Redact(rawURL), err)
	}
	s := &Store{pool: pool, now: o.now}
	if err := migrate(ctx, pool, o.log); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate %s: %w", Redact(rawURL), err)
	}
	s.cleaner = startCleaner(pool, o.log)
	return s, nil
}

// Close stops the background work and closes the pool.
func (s *Store) Close() error {
	s.cleaner.stop()
	s.pool.Close()
	return nil
}

// IsURL reports whether a [storage] url names a PostgreSQL database.
func IsURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// Redact returns u with any password replaced by "xxxxx", for logs.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(a PostgreSQL URL)"
	}
	q := p.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		p.RawQuery = q.Encode()
	}
	return p.Redacted()
}

// clock is the test clock's now in nanoseconds, or nil: SQL reads it as
// coalesce($n::bigint, refeed_now()), the database's clock.
func (s *Store) clock() any {
	if s.now == nil {
		return nil
	}
	return s.now().UnixNano()
}

// nowSQL is the store's now in SQL, for the parameter $n holding clock().
func nowSQL(n int) string { return fmt.Sprintf("coalesce($%d::bigint, refeed_now())", n) }

// inTx runs fn in a read-committed transaction, again (up to a few times)
// when the server aborts it for a deadlock or a serialization failure,
// which two instances writing the same rows at once can cause.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || !retryable(err) || attempt == 4 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
}

// retryable reports whether err is a deadlock or a serialization failure:
// the transaction did nothing and may run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// Version returns the store-wide change counter.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'version'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: version: %w", err)
	}
	return v, nil
}

// bumpVersionSQL changes the version.
const bumpVersionSQL = `UPDATE meta SET value = value + 1 WHERE key = 'version'`

// bumpVersion changes the version in tx. Callers do it last in their
// transaction: the row's lock is held until commit, and every writer of
// listings takes it.
func bumpVersion(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, bumpVersionSQL); err != nil {
		return fmt.Errorf("bump version: %w", err)
	}
	return nil
}

// postCounts memoises every source's post count for one store version, as
// storage/sqlite does.
type postCounts struct {
	mu      sync.Mutex
	version int64
	counts  map[string]int
}

// fromNano converts stored nanoseconds to a time; 0 is the zero time.
func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// unixNano converts a time to stored nanoseconds; the zero time is 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// text makes s storable as PostgreSQL text, which cannot hold NUL or
// invalid UTF-8 (SQLite can): both become U+FFFD, on writes and lookups
// alike, so a key with them still finds itself.
func text(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
