package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/refeed/refeed/storage"
)

// pruneBatch is how many posts one Prune transaction deletes, so that a
// big prune never holds the write lock for long.
const pruneBatch = 500

// tombstoneTTL is how long Prune remembers a deleted post's key. A post
// still in its feed after that is stored again (and pruned again).
const tombstoneTTL = 90 * 24 * time.Hour

// Prune deletes posts published before olderThan (zero: no age limit) and,
// for each source, all but its newest perSource posts (0: no limit); a post
// another source still keeps among its newest only loses that source's
// credit. The keys of pruned posts are remembered for a while, so that
// SavePoll does not bring back a post its feed still carries. It returns the
// number of posts deleted.
func (s *Store) Prune(ctx context.Context, olderThan time.Time, perSource int) (int, error) {
	total := 0
	if !olderThan.IsZero() {
		for {
			n, err := s.pruneOld(ctx, olderThan)
			total += n
			if err != nil {
				return total, fmt.Errorf("sqlite: prune: %w", err)
			}
			if n < pruneBatch {
				break
			}
		}
	}
	if perSource > 0 {
		names, err := s.sourceNames(ctx)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune: %w", err)
		}
		for _, name := range names {
			for {
				n, more, err := s.pruneSource(ctx, name, perSource)
				total += n
				if err != nil {
					return total, fmt.Errorf("sqlite: prune %q: %w", name, err)
				}
				if !more {
					break
				}
			}
		}
	}
	expire := s.now().Add(-tombstoneTTL).UnixNano()
	if _, err := s.write.ExecContext(ctx, `DELETE FROM tombstones WHERE pruned < ?`, expire); err != nil {
		return total, fmt.Errorf("sqlite: prune: expire tombstones: %w", err)
	}
	return total, nil
}

// pruneOld deletes up to pruneBatch posts published before t, oldest first.
func (s *Store) pruneOld(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		const batch = `SELECT rid FROM posts WHERE published < ?1 ORDER BY published, id LIMIT ?2`
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO tombstones (source, key, pruned)
			SELECT ps.source, ps.key, ?3 FROM post_sources ps WHERE ps.post_rid IN (`+batch+`)`,
			t.UnixNano(), pruneBatch, s.now().UnixNano()); err != nil {
			return fmt.Errorf("tombstones: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM posts WHERE rid IN (`+batch+`)`, t.UnixNano(), pruneBatch)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if n, _ = res.RowsAffected(); n > 0 {
			return bumpVersion(ctx, tx)
		}
		return nil
	})
	return int(n), err
}

// pruneSource takes up to pruneBatch posts beyond the newest keep away from
// source, deleting those no other source credits. more reports whether there
// may be further posts to take.
func (s *Store) pruneSource(ctx context.Context, source string, keep int) (deleted int, more bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := resetAffected(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO temp.affected (post_rid)
			SELECT post_rid FROM post_sources WHERE source = ?
			ORDER BY published DESC, post_id DESC LIMIT ? OFFSET ?`, source, pruneBatch, keep)
		if err != nil {
			return fmt.Errorf("select: %w", err)
		}
		n, _ := res.RowsAffected()
		if n == 0 {
			return nil
		}
		more = n == pruneBatch
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO tombstones (source, key, pruned)
			SELECT source, key, ? FROM post_sources
			WHERE source = ? AND post_rid IN (SELECT post_rid FROM temp.affected)`, s.now().UnixNano(), source); err != nil {
			return fmt.Errorf("tombstones: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM post_sources
			WHERE source = ? AND post_rid IN (SELECT post_rid FROM temp.affected)`, source); err != nil {
			return fmt.Errorf("uncredit: %w", err)
		}
		if deleted, err = rebuildAffected(ctx, tx); err != nil {
			return err
		}
		return bumpVersion(ctx, tx)
	})
	return deleted, more, err
}

func (s *Store) sourceNames(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name FROM sources ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// Stats summarises the database in one read transaction. Categories and
// tags of configured sources are listed even when they have no posts.
func (s *Store) Stats(ctx context.Context) (storage.Stats, error) {
	var st storage.Stats
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("sqlite: stats: %w", err)
	}
	defer tx.Rollback()
	var oldest, newest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT count(*), min(published), max(published) FROM posts`).
		Scan(&st.Posts, &oldest, &newest); err != nil {
		return st, fmt.Errorf("sqlite: stats: %w", err)
	}
	st.Oldest, st.Newest = fromNano(oldest.Int64), fromNano(newest.Int64)
	if err := tx.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).
		Scan(&st.SizeBytes); err != nil {
		return st, fmt.Errorf("sqlite: stats: size: %w", err)
	}
	for _, c := range []struct {
		dst   *[]storage.Count
		query string
	}{
		{&st.Categories, `SELECT category, count(*) FROM post_categories GROUP BY category
			UNION ALL SELECT DISTINCT category, 0 FROM sources WHERE category <> ''`},
		{&st.Tags, `SELECT tag, count(*) FROM post_tags GROUP BY tag
			UNION ALL SELECT DISTINCT j.value, 0 FROM sources s, json_each(s.tags) j WHERE j.value <> ''`},
		{&st.Sources, `SELECT s.name, (SELECT count(*) FROM post_sources ps WHERE ps.source = s.name) FROM sources s`},
	} {
		if *c.dst, err = counts(ctx, tx, c.query); err != nil {
			return st, fmt.Errorf("sqlite: stats: %w", err)
		}
	}
	return st, nil
}

// counts runs a query of (name, posts) rows and merges them by name, sorted.
func counts(ctx context.Context, tx *sql.Tx, query string) ([]storage.Count, error) {
	m, err := countsByName(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return storage.SortedCounts(m), nil
}

// countsByName runs a query of (name, posts) rows and sums them by name.
func countsByName(ctx context.Context, tx *sql.Tx, query string) (map[string]int, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		m[name] += n
	}
	return m, rows.Err()
}

// Backup writes a consistent, compacted copy of the database to path with
// VACUUM INTO, through a temporary file in the same directory that is then
// renamed, so path is replaced atomically and never left half-written.
// Writers are not blocked while it runs.
func (s *Store) Backup(ctx context.Context, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	name := tmp.Name()
	// VACUUM INTO needs an empty or missing file.
	if err := errors.Join(tmp.Close(), os.Remove(name)); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := s.read.ExecContext(ctx, `VACUUM INTO ?`, name); err != nil {
		os.Remove(name)
		return fmt.Errorf("sqlite: backup to %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}
