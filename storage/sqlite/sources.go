package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

// SyncSources makes the stored sources match cfg. New sources are added;
// changed ones updated, and when their category or tags change their posts
// are re-listed accordingly. Poll state survives, except that a changed
// configured URL resets the fetch URL to it and forgets the validators.
// Sources not in cfg are deleted with their credits and poll state; posts
// that no other source credits are deleted too.
func (s *Store) SyncSources(ctx context.Context, cfg []storage.SourceConfig) error {
	seen := make(map[string]bool, len(cfg))
	for _, c := range cfg {
		if c.Name == "" {
			return errors.New("sqlite: sync sources: a source has no name")
		}
		if seen[c.Name] {
			return fmt.Errorf("sqlite: sync sources: source %q appears twice", c.Name)
		}
		seen[c.Name] = true
	}
	// The common case, a start-up with the same config: one read, no write
	// transaction.
	if old, err := loadConfigs(ctx, s.read); err == nil && sameConfigs(cfg, old) {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := loadConfigs(ctx, tx)
		if err != nil {
			return err
		}
		if err := resetAffected(ctx, tx); err != nil {
			return err
		}
		changed := false
		for _, c := range cfg {
			ch, err := syncSource(ctx, tx, c, old)
			if err != nil {
				return fmt.Errorf("source %q: %w", c.Name, err)
			}
			changed = changed || ch
		}
		kept, _, err := s.registeredNames(ctx, tx)
		if err != nil {
			return err
		}
		for name := range old {
			if seen[name] || kept[name] {
				continue
			}
			if err := removeSource(ctx, tx, name); err != nil {
				return err
			}
			changed = true
		}
		if _, err := rebuildAffected(ctx, tx); err != nil {
			return err
		}
		if changed {
			return bumpVersion(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: sync sources: %w", err)
	}
	return nil
}

// removeSource deletes a source, its credits and poll state, marking its
// posts for rebuildAffected.
func removeSource(ctx context.Context, tx *sql.Tx, name string) error {
	if err := markAffected(ctx, tx, name); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE name = ?`, name); err != nil {
		return fmt.Errorf("remove source %q: %w", name, err)
	}
	return nil
}

// storedConfig is the configured part of a stored source.
type storedConfig struct {
	url, category, tags string
	interval            int64
}

// sameConfigs reports whether the stored sources are exactly cfg.
func sameConfigs(cfg []storage.SourceConfig, old map[string]storedConfig) bool {
	if len(cfg) != len(old) {
		return false
	}
	for _, c := range cfg {
		want, err := wantConfig(c)
		if err != nil {
			return false
		}
		if have, ok := old[c.Name]; !ok || have != want {
			return false
		}
	}
	return true
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func loadConfigs(ctx context.Context, q querier) (map[string]storedConfig, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, config_url, category, tags, interval_ns FROM sources`)
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

// syncSource inserts or updates one source and reports whether it changed.
func syncSource(ctx context.Context, tx *sql.Tx, c storage.SourceConfig, old map[string]storedConfig) (bool, error) {
	want, err := wantConfig(c)
	if err != nil {
		return false, err
	}
	have, ok := old[c.Name]
	if !ok {
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (name, config_url, category, tags, interval_ns, url)
			VALUES (?, ?, ?, ?, ?, ?)`, c.Name, want.url, want.category, want.tags, want.interval, want.url)
		return true, err
	}
	if have == want {
		return false, nil
	}
	if have.url != want.url {
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET config_url = ?, url = ?, etag = '', last_modified = ''
			WHERE name = ?`, want.url, want.url, c.Name); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sources SET category = ?, tags = ?, interval_ns = ? WHERE name = ?`,
		want.category, want.tags, want.interval, c.Name); err != nil {
		return false, err
	}
	if want.interval < have.interval {
		if err := reschedule(ctx, tx, c.Name, time.Duration(have.interval), time.Duration(want.interval)); err != nil {
			return false, err
		}
	}
	if have.category != want.category || have.tags != want.tags {
		if err := markAffected(ctx, tx, c.Name); err != nil {
			return false, err
		}
	}
	return true, nil
}

// reschedule moves a source's next poll after its interval was shortened
// from old to cur, by storage.Rescheduled.
func reschedule(ctx context.Context, tx *sql.Tx, name string, old, cur time.Duration) error {
	var st storage.SourceState
	var lastPoll, nextPoll int64
	if err := tx.QueryRowContext(ctx, `SELECT last_poll, next_poll, failures FROM sources WHERE name = ?`, name).
		Scan(&lastPoll, &nextPoll, &st.Failures); err != nil {
		return fmt.Errorf("reschedule: %w", err)
	}
	st.LastPoll, st.NextPoll = fromNano(lastPoll), fromNano(nextPoll)
	if next := storage.Rescheduled(st, old, cur); !next.Equal(st.NextPoll) {
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET next_poll = ? WHERE name = ?`, unixNano(next), name); err != nil {
			return fmt.Errorf("reschedule: %w", err)
		}
	}
	return nil
}

// wantConfig is c as stored.
func wantConfig(c storage.SourceConfig) (storedConfig, error) {
	var tags []string
	for _, t := range c.Tags {
		tags = storage.AppendNew(tags, t)
	}
	if tags == nil {
		tags = []string{}
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return storedConfig{}, err
	}
	return storedConfig{url: c.URL, category: c.Category, tags: string(b), interval: int64(c.Interval)}, nil
}

// resetAffected prepares temp.affected, the posts whose categories and tags
// must be recomputed at the end of the transaction.
func resetAffected(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS affected (post_rid INTEGER PRIMARY KEY)`); err != nil {
		return fmt.Errorf("affected: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM temp.affected`); err != nil {
		return fmt.Errorf("affected: %w", err)
	}
	return nil
}

// markAffected adds the posts credited to source to temp.affected.
func markAffected(ctx context.Context, tx *sql.Tx, source string) error {
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO temp.affected (post_rid)
		SELECT post_rid FROM post_sources WHERE source = ?`, source); err != nil {
		return fmt.Errorf("affected by %q: %w", source, err)
	}
	return nil
}

// rebuildAffected deletes the affected posts no source credits any more and
// recomputes the category and tag rows of the others from their sources. It
// returns the number of posts deleted.
func rebuildAffected(ctx context.Context, tx *sql.Tx) (int, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM posts WHERE rid IN (SELECT post_rid FROM temp.affected)
		AND NOT EXISTS (SELECT 1 FROM post_sources ps WHERE ps.post_rid = posts.rid)`)
	if err != nil {
		return 0, fmt.Errorf("delete orphans: %w", err)
	}
	deleted, _ := res.RowsAffected()
	for _, q := range []string{
		`DELETE FROM post_categories WHERE post_rid IN (SELECT post_rid FROM temp.affected)`,
		`INSERT OR IGNORE INTO post_categories (category, published, post_id, post_rid)
			SELECT s.category, ps.published, ps.post_id, ps.post_rid
			FROM temp.affected a JOIN post_sources ps ON ps.post_rid = a.post_rid JOIN sources s ON s.name = ps.source
			WHERE s.category <> ''`,
		`DELETE FROM post_tags WHERE post_rid IN (SELECT post_rid FROM temp.affected)`,
		`INSERT OR IGNORE INTO post_tags (tag, published, post_id, post_rid)
			SELECT j.value, ps.published, ps.post_id, ps.post_rid
			FROM temp.affected a JOIN post_sources ps ON ps.post_rid = a.post_rid JOIN sources s ON s.name = ps.source,
				json_each(s.tags) j
			WHERE j.value <> ''`,
		`DELETE FROM temp.affected`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("rebuild categories and tags: %w", err)
		}
	}
	return int(deleted), nil
}

const sourceColumns = `s.name, s.config_url, s.category, s.tags, s.interval_ns, s.url, s.etag, s.last_modified,
	s.title, s.site_url, s.last_poll, s.last_success, s.status, s.error_class, s.error, s.failures, s.next_poll,
	s.warning`

// postCounts memoises every source's post count for one store version:
// counting them steps through every row of post_sources (about 110 ms at a
// million posts), and Sources is read by every render of the home page,
// /sources.opml and /healthz. The version changes whenever posts do.
type postCounts struct {
	mu      sync.Mutex
	version int64
	counts  map[string]int // nil: none memoised
}

// Sources lists all sources sorted by name, with their poll state. Post
// counts are read once per store version.
func (s *Store) Sources(ctx context.Context) ([]storage.Source, error) {
	// One read transaction: the version, the counts and the sources are
	// of one snapshot.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: sources: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // read only
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'version'`).Scan(&version); err != nil {
		return nil, fmt.Errorf("sqlite: sources: version: %w", err)
	}
	s.counts.mu.Lock()
	counts := s.counts.counts
	if s.counts.version != version {
		counts = nil
	}
	s.counts.mu.Unlock()
	if counts == nil {
		if counts, err = countPosts(ctx, tx); err != nil {
			return nil, fmt.Errorf("sqlite: sources: %w", err)
		}
		s.counts.mu.Lock()
		s.counts.version, s.counts.counts = version, counts
		s.counts.mu.Unlock()
	}
	srcs, err := querySources(ctx, tx, `SELECT `+sourceColumns+`, 0 FROM sources s ORDER BY s.name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sources: %w", err)
	}
	for i := range srcs {
		srcs[i].Posts = counts[srcs[i].Name]
	}
	return srcs, nil
}

// countPosts counts every source's posts in one pass over post_sources.
func countPosts(ctx context.Context, tx *sql.Tx) (map[string]int, error) {
	m, err := countsByName(ctx, tx, `SELECT source, count(*) FROM post_sources GROUP BY source`)
	if err != nil {
		return nil, fmt.Errorf("count posts: %w", err)
	}
	return m, nil
}

// Source returns one source, or an error wrapping storage.ErrNotFound.
func (s *Store) Source(ctx context.Context, name string) (storage.Source, error) {
	srcs, err := querySources(ctx, s.read, `SELECT `+sourceColumns+`,
		(SELECT count(*) FROM post_sources ps WHERE ps.source = s.name) FROM sources s WHERE s.name = ?`, name)
	if err != nil {
		return storage.Source{}, fmt.Errorf("sqlite: source %q: %w", name, err)
	}
	if len(srcs) == 0 {
		return storage.Source{}, fmt.Errorf("sqlite: source %q: %w", name, storage.ErrNotFound)
	}
	return srcs[0], nil
}

// queryer is a read pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// querySources reads sources; query selects sourceColumns and a post count.
func querySources(ctx context.Context, q queryer, query string, args ...any) ([]storage.Source, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var srcs []storage.Source
	for rows.Next() {
		var src storage.Source
		var tags string
		var interval, lastPoll, lastSuccess, nextPoll int64
		st := &src.State
		if err := rows.Scan(&src.Name, &src.URL, &src.Category, &tags, &interval, &st.URL, &st.ETag,
			&st.LastModified, &st.Title, &st.SiteURL, &lastPoll, &lastSuccess, &st.Status, &st.ErrorClass,
			&st.Error, &st.Failures, &nextPoll, &st.Warning, &src.Posts); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(tags), &src.Tags); err != nil {
			return nil, fmt.Errorf("tags of %q: %w", src.Name, err)
		}
		if len(src.Tags) == 0 {
			src.Tags = nil
		}
		src.Tags = slices.Clip(src.Tags)
		src.Interval = time.Duration(interval)
		st.LastPoll, st.LastSuccess, st.NextPoll = fromNano(lastPoll), fromNano(lastSuccess), fromNano(nextPoll)
		srcs = append(srcs, src)
	}
	return srcs, rows.Err()
}
