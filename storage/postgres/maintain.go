package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/refeed/refeed/storage"
)

// pruneBatch is how many posts one Prune transaction deletes at most, so
// that retention never holds locks long while others save.
const pruneBatch = 500

// tombstoneTTL is how long Prune remembers a deleted post's key.
const tombstoneTTL = 90 * 24 * time.Hour

// Prune deletes old posts in batches, leaving tombstones, as storage/sqlite
// does.
func (s *Store) Prune(ctx context.Context, olderThan time.Time, perSource int) (int, error) {
	total := 0
	if !olderThan.IsZero() {
		for {
			n, err := s.pruneOld(ctx, olderThan)
			total += n
			if err != nil {
				return total, fmt.Errorf("postgres: prune: %w", err)
			}
			if n < pruneBatch {
				break
			}
		}
	}
	if perSource > 0 {
		rows, err := s.pool.Query(ctx, `SELECT name FROM sources ORDER BY name`)
		if err != nil {
			return total, fmt.Errorf("postgres: prune: %w", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return total, fmt.Errorf("postgres: prune: %w", err)
		}
		for _, name := range names {
			for {
				n, more, err := s.pruneSource(ctx, name, perSource)
				total += n
				if err != nil {
					return total, fmt.Errorf("postgres: prune %q: %w", name, err)
				}
				if !more {
					break
				}
			}
		}
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM tombstones WHERE pruned < `+nowSQL(1)+` - $2`,
		s.clock(), int64(tombstoneTTL)); err != nil {
		return total, fmt.Errorf("postgres: prune: expire tombstones: %w", err)
	}
	return total, nil
}

// pruneOld deletes up to pruneBatch posts published before t.
func (s *Store) pruneOld(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT rid FROM posts WHERE published < $1 ORDER BY published, id LIMIT $2
			FOR UPDATE SKIP LOCKED`, t.UnixNano(), pruneBatch)
		if err != nil {
			return fmt.Errorf("select: %w", err)
		}
		rids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(rids) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tombstones (source, key, pruned)
			SELECT ps.source, ps.key, `+nowSQL(2)+` FROM post_sources ps WHERE ps.post_rid = ANY($1)
			ON CONFLICT DO NOTHING`, rids, s.clock()); err != nil {
			return fmt.Errorf("tombstones: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM posts WHERE rid = ANY($1)`, rids)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if n = tag.RowsAffected(); n > 0 {
			return bumpVersion(ctx, tx)
		}
		return nil
	})
	return int(n), err
}

// pruneSource uncredits up to pruneBatch of source's posts past the newest
// keep, deleting those no other source credits.
func (s *Store) pruneSource(ctx context.Context, source string, keep int) (deleted int, more bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT post_rid FROM post_sources WHERE source = $1
			ORDER BY published DESC, post_id DESC LIMIT $2 OFFSET $3`, source, pruneBatch, keep)
		if err != nil {
			return fmt.Errorf("select: %w", err)
		}
		rids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(rids) == 0 {
			return err
		}
		more = len(rids) == pruneBatch
		if _, err := tx.Exec(ctx, `INSERT INTO tombstones (source, key, pruned)
			SELECT source, key, `+nowSQL(3)+` FROM post_sources WHERE source = $1 AND post_rid = ANY($2)
			ON CONFLICT DO NOTHING`, source, rids, s.clock()); err != nil {
			return fmt.Errorf("tombstones: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM post_sources WHERE source = $1 AND post_rid = ANY($2)`, source, rids); err != nil {
			return fmt.Errorf("uncredit: %w", err)
		}
		if deleted, err = rebuildAffected(ctx, tx, rids); err != nil {
			return err
		}
		return bumpVersion(ctx, tx)
	})
	return deleted, more, err
}

// Stats summarises the database in one snapshot.
func (s *Store) Stats(ctx context.Context) (storage.Stats, error) {
	var st storage.Stats
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		var n int64
		var oldest, newest *int64
		if err := tx.QueryRow(ctx, `SELECT count(*), min(published), max(published) FROM posts`).
			Scan(&n, &oldest, &newest); err != nil {
			return err
		}
		st.Posts = int(n)
		if oldest != nil {
			st.Oldest, st.Newest = fromNano(*oldest), fromNano(*newest)
		}
		if err := tx.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&st.SizeBytes); err != nil {
			return fmt.Errorf("size: %w", err)
		}
		for _, c := range []struct {
			dst   *[]storage.Count
			query string
		}{
			{&st.Categories, `SELECT category, count(*) FROM post_categories GROUP BY category
				UNION ALL SELECT DISTINCT category, 0 FROM sources WHERE category <> ''`},
			{&st.Tags, `SELECT tag, count(*) FROM post_tags GROUP BY tag
				UNION ALL SELECT DISTINCT t, 0 FROM sources s, unnest(s.tags) t WHERE t <> ''`},
			{&st.Sources, `SELECT s.name, (SELECT count(*) FROM post_sources ps WHERE ps.source = s.name) FROM sources s`},
		} {
			m, err := countsByName(ctx, tx, c.query)
			if err != nil {
				return err
			}
			*c.dst = storage.SortedCounts(m)
		}
		return nil
	})
	if err != nil {
		return storage.Stats{}, fmt.Errorf("postgres: stats: %w", err)
	}
	return st, nil
}
