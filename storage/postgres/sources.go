package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/refeed/refeed/storage"
)

// syncLock is the advisory lock that serialises SyncSources across
// processes: two instances starting together must not both insert a new
// source.
const syncLock = 0x7265666565640002

// SyncSources makes the stored sources match cfg, as storage/sqlite does:
// new ones are added, changed ones updated (a changed URL forgets the
// validators; a new category or tags re-list the source's posts), and
// sources not in cfg are deleted with their credits, poll state and the
// posts no other source credits.
func (s *Store) SyncSources(ctx context.Context, cfg []storage.SourceConfig) error {
	seen := make(map[string]bool, len(cfg))
	for _, c := range cfg {
		if c.Name == "" {
			return errors.New("postgres: sync sources: a source has no name")
		}
		if seen[text(c.Name)] {
			return fmt.Errorf("postgres: sync sources: source %q appears twice", c.Name)
		}
		seen[text(c.Name)] = true
	}
	// The common case, a start-up with the same config: one read.
	if old, err := loadConfigs(ctx, s.pool); err == nil && sameConfigs(cfg, old) {
		return nil
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(syncLock)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		old, err := loadConfigs(ctx, tx)
		if err != nil {
			return err
		}
		var affected []int64
		changed := false
		for _, c := range cfg {
			ch, moved, err := syncSource(ctx, tx, c, old)
			if err != nil {
				return fmt.Errorf("source %q: %w", c.Name, err)
			}
			changed = changed || ch
			if moved {
				rids, err := creditedRids(ctx, tx, text(c.Name))
				if err != nil {
					return err
				}
				affected = append(affected, rids...)
			}
		}
		kept, _, err := s.registeredNames(ctx, tx)
		if err != nil {
			return err
		}
		for name := range old {
			if seen[name] || kept[name] {
				continue
			}
			rids, err := removeSource(ctx, tx, name)
			if err != nil {
				return err
			}
			affected = append(affected, rids...)
			changed = true
		}
		if _, err := rebuildAffected(ctx, tx, affected); err != nil {
			return err
		}
		if changed {
			return bumpVersion(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: sync sources: %w", err)
	}
	return nil
}

// storedConfig is the configured part of a stored source.
type storedConfig struct {
	url, category string
	tags          []string
	interval      int64
}

func (a storedConfig) equal(b storedConfig) bool {
	return a.url == b.url && a.category == b.category && a.interval == b.interval && slices.Equal(a.tags, b.tags)
}

// wantConfig is c as stored: tags deduplicated, in order, never nil.
func wantConfig(c storage.SourceConfig) storedConfig {
	tags := []string{}
	for _, t := range c.Tags {
		tags = storage.AppendNew(tags, text(t))
	}
	return storedConfig{url: text(c.URL), category: text(c.Category), tags: tags, interval: int64(c.Interval)}
}

func sameConfigs(cfg []storage.SourceConfig, old map[string]storedConfig) bool {
	if len(cfg) != len(old) {
		return false
	}
	for _, c := range cfg {
		if have, ok := old[text(c.Name)]; !ok || !have.equal(wantConfig(c)) {
			return false
		}
	}
	return true
}

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func loadConfigs(ctx context.Context, q querier) (map[string]storedConfig, error) {
	rows, err := q.Query(ctx, `SELECT name, config_url, category, tags, interval_ns FROM sources`)
	if err != nil {
		return nil, fmt.Errorf("load sources: %w", err)
	}
	defer rows.Close()
	m := map[string]storedConfig{}
	for rows.Next() {
		var name string
		var c storedConfig
		if err := rows.Scan(&name, &c.url, &c.category, &c.tags, &c.interval); err != nil {
			return nil, fmt.Errorf("load sources: %w", err)
		}
		m[name] = c
	}
	return m, rows.Err()
}

// syncSource inserts or updates one source. It reports whether the source
// changed, and whether its posts must be re-listed (new category or tags).
func syncSource(ctx context.Context, tx pgx.Tx, c storage.SourceConfig, old map[string]storedConfig) (changed, moved bool, err error) {
	want, name := wantConfig(c), text(c.Name)
	have, ok := old[name]
	if !ok {
		_, err := tx.Exec(ctx, `INSERT INTO sources (name, config_url, category, tags, interval_ns, url)
			VALUES ($1, $2, $3, $4, $5, $2)`, name, want.url, want.category, want.tags, want.interval)
		return true, false, err
	}
	if have.equal(want) {
		return false, false, nil
	}
	if have.url != want.url {
		if _, err := tx.Exec(ctx, `UPDATE sources SET config_url = $1, url = $1, etag = '', last_modified = ''
			WHERE name = $2`, want.url, name); err != nil {
			return false, false, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE sources SET category = $1, tags = $2, interval_ns = $3 WHERE name = $4`,
		want.category, want.tags, want.interval, name); err != nil {
		return false, false, err
	}
	if want.interval < have.interval {
		if err := reschedule(ctx, tx, name, time.Duration(have.interval), time.Duration(want.interval)); err != nil {
			return false, false, err
		}
	}
	return true, have.category != want.category || !slices.Equal(have.tags, want.tags), nil
}

// reschedule moves a source's next poll after its interval was shortened
// from old to cur, by storage.Rescheduled.
func reschedule(ctx context.Context, tx pgx.Tx, name string, old, cur time.Duration) error {
	var st storage.SourceState
	var lastPoll, nextPoll int64
	if err := tx.QueryRow(ctx, `SELECT last_poll, next_poll, failures FROM sources WHERE name = $1`, name).
		Scan(&lastPoll, &nextPoll, &st.Failures); err != nil {
		return fmt.Errorf("reschedule: %w", err)
	}
	st.LastPoll, st.NextPoll = fromNano(lastPoll), fromNano(nextPoll)
	if next := storage.Rescheduled(st, old, cur); !next.Equal(st.NextPoll) {
		if _, err := tx.Exec(ctx, `UPDATE sources SET next_poll = $1 WHERE name = $2`, unixNano(next), name); err != nil {
			return fmt.Errorf("reschedule: %w", err)
		}
	}
	return nil
}

// removeSource deletes a source with its credits and poll state, and
// returns its posts, for rebuildAffected.
func removeSource(ctx context.Context, tx pgx.Tx, name string) ([]int64, error) {
	rids, err := creditedRids(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sources WHERE name = $1`, name); err != nil {
		return nil, fmt.Errorf("remove source %q: %w", name, err)
	}
	return rids, nil
}

// creditedRids lists the posts credited to source.
func creditedRids(ctx context.Context, tx pgx.Tx, source string) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT post_rid FROM post_sources WHERE source = $1`, source)
	if err != nil {
		return nil, fmt.Errorf("posts of %q: %w", source, err)
	}
	rids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("posts of %q: %w", source, err)
	}
	return rids, nil
}

// rebuildAffected deletes the posts among rids that no source credits any
// more and recomputes the category and tag rows of the others from their
// sources. It returns the number of posts deleted.
func rebuildAffected(ctx context.Context, tx pgx.Tx, rids []int64) (int, error) {
	if len(rids) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, `DELETE FROM posts p WHERE p.rid = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM post_sources ps WHERE ps.post_rid = p.rid)`, rids)
	if err != nil {
		return 0, fmt.Errorf("delete orphans: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM post_categories WHERE post_rid = ANY($1)`,
		`INSERT INTO post_categories (category, published, post_id, post_rid)
			SELECT s.category, ps.published, ps.post_id, ps.post_rid
			FROM post_sources ps JOIN sources s ON s.name = ps.source
			WHERE ps.post_rid = ANY($1) AND s.category <> ''
			ON CONFLICT DO NOTHING`,
		`DELETE FROM post_tags WHERE post_rid = ANY($1)`,
		`INSERT INTO post_tags (tag, published, post_id, post_rid)
			SELECT DISTINCT t, ps.published, ps.post_id, ps.post_rid
			FROM post_sources ps JOIN sources s ON s.name = ps.source, unnest(s.tags) t
			WHERE ps.post_rid = ANY($1) AND t <> ''
			ON CONFLICT DO NOTHING`,
	} {
		if _, err := tx.Exec(ctx, q, rids); err != nil {
			return 0, fmt.Errorf("rebuild categories and tags: %w", err)
		}
	}
	return int(tag.RowsAffected()), nil
}

const sourceColumns = `s.name, s.config_url, s.category, s.tags, s.interval_ns, s.url, s.etag, s.last_modified,
	s.title, s.site_url, s.last_poll, s.last_success, s.status, s.error_class, s.error, s.failures, s.next_poll,
	s.warning`

// Sources lists all sources sorted by name, with their poll state. Post
// counts are read once per store version.
func (s *Store) Sources(ctx context.Context) ([]storage.Source, error) {
	var srcs []storage.Source
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		var version int64
		if err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'version'`).Scan(&version); err != nil {
			return fmt.Errorf("version: %w", err)
		}
		s.counts.mu.Lock()
		counts := s.counts.counts
		if s.counts.version != version {
			counts = nil
		}
		s.counts.mu.Unlock()
		if counts == nil {
			var err error
			if counts, err = countsByName(ctx, tx, `SELECT source, count(*) FROM post_sources GROUP BY source`); err != nil {
				return fmt.Errorf("count posts: %w", err)
			}
			s.counts.mu.Lock()
			s.counts.version, s.counts.counts = version, counts
			s.counts.mu.Unlock()
		}
		var err error
		srcs, err = querySources(ctx, tx, `SELECT `+sourceColumns+`, 0 FROM sources s ORDER BY s.name`)
		for i := range srcs {
			srcs[i].Posts = counts[srcs[i].Name]
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: sources: %w", err)
	}
	return srcs, nil
}

// Source returns one source, or an error wrapping storage.ErrNotFound.
func (s *Store) Source(ctx context.Context, name string) (storage.Source, error) {
	srcs, err := querySources(ctx, s.pool, `SELECT `+sourceColumns+`,
		(SELECT count(*) FROM post_sources ps WHERE ps.source = s.name) FROM sources s WHERE s.name = $1`, text(name))
	if err != nil {
		return storage.Source{}, fmt.Errorf("postgres: source %q: %w", name, err)
	}
	if len(srcs) == 0 {
		return storage.Source{}, fmt.Errorf("postgres: source %q: %w", name, storage.ErrNotFound)
	}
	return srcs[0], nil
}

// querySources reads sources; query selects sourceColumns and a post count.
func querySources(ctx context.Context, q querier, query string, args ...any) ([]storage.Source, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var srcs []storage.Source
	for rows.Next() {
		var src storage.Source
		var interval, lastPoll, lastSuccess, nextPoll, posts int64
		st := &src.State
		if err := rows.Scan(&src.Name, &src.URL, &src.Category, &src.Tags, &interval, &st.URL, &st.ETag,
			&st.LastModified, &st.Title, &st.SiteURL, &lastPoll, &lastSuccess, &st.Status, &st.ErrorClass,
			&st.Error, &st.Failures, &nextPoll, &st.Warning, &posts); err != nil {
			return nil, err
		}
		if len(src.Tags) == 0 {
			src.Tags = nil
		}
		src.Tags = slices.Clip(src.Tags)
		src.Posts = int(posts)
		src.Interval = time.Duration(interval)
		st.LastPoll, st.LastSuccess, st.NextPoll = fromNano(lastPoll), fromNano(lastSuccess), fromNano(nextPoll)
		srcs = append(srcs, src)
	}
	return srcs, rows.Err()
}

// countsByName runs a query of (name, count) rows into a map, summing
// repeated names.
func countsByName(ctx context.Context, q querier, query string) (map[string]int, error) {
	rows, err := q.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		m[name] += int(n)
	}
	return m, rows.Err()
}
