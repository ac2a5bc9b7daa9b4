package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/refeed/refeed/storage"
)

var (
	_ storage.Exporter = (*Store)(nil)
	_ storage.Importer = (*Store)(nil)
)

// ExportPosts lists posts by rowid, the order they were stored in.
func (s *Store) ExportPosts(ctx context.Context, after int64, limit int) ([]storage.Record, int64, error) {
	posts, rids, err := s.queryPosts(ctx, `SELECT `+postColumns+` FROM posts p WHERE p.rid > ? ORDER BY p.rid LIMIT ?`, after, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: export posts: %w", err)
	}
	if len(posts) == 0 {
		return nil, 0, nil
	}
	index := make(map[int64]int, len(rids))
	args := make([]any, len(rids))
	for i, rid := range rids {
		index[rid], args[i] = i, rid
	}
	recs := make([]storage.Record, len(posts))
	for i, p := range posts {
		recs[i].Post = p
	}
	rows, err := s.read.QueryContext(ctx, `SELECT post_rid, source, key, hash FROM post_sources
		WHERE post_rid IN (?`+strings.Repeat(",?", len(rids)-1)+`) ORDER BY rowid`, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: export credits: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rid int64
		var c storage.Credit
		if err := rows.Scan(&rid, &c.Source, &c.Key, &c.Hash); err != nil {
			return nil, 0, fmt.Errorf("sqlite: export credits: %w", err)
		}
		r := &recs[index[rid]]
		r.Credits = append(r.Credits, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: export credits: %w", err)
	}
	next := int64(0)
	if len(posts) == limit {
		next = rids[len(rids)-1]
	}
	return recs, next, nil
}

// ExportTombstones lists every tombstone.
func (s *Store) ExportTombstones(ctx context.Context) ([]storage.Tombstone, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT source, key, pruned FROM tombstones ORDER BY source, key`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: export tombstones: %w", err)
	}
	defer rows.Close()
	var ts []storage.Tombstone
	for rows.Next() {
		var t storage.Tombstone
		var pruned int64
		if err := rows.Scan(&t.Source, &t.Key, &pruned); err != nil {
			return nil, fmt.Errorf("sqlite: export tombstones: %w", err)
		}
		t.Pruned = fromNano(pruned)
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// ImportSources stores sources with their poll state.
func (s *Store) ImportSources(ctx context.Context, srcs []storage.Source) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, src := range srcs {
			want, err := wantConfig(src.SourceConfig)
			if err != nil {
				return err
			}
			st := src.State
			if _, err := tx.ExecContext(ctx, `INSERT INTO sources (name, config_url, category, tags, interval_ns,
					url, etag, last_modified, title, site_url, last_poll, last_success, status, error_class, error,
					failures, next_poll, warning)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET config_url = excluded.config_url, category = excluded.category,
					tags = excluded.tags, interval_ns = excluded.interval_ns`,
				src.Name, want.url, want.category, want.tags, want.interval, st.URL, st.ETag, st.LastModified,
				st.Title, st.SiteURL, unixNano(st.LastPoll), unixNano(st.LastSuccess), st.Status, st.ErrorClass,
				st.Error, st.Failures, unixNano(st.NextPoll), st.Warning); err != nil {
				return fmt.Errorf("source %q: %w", src.Name, err)
			}
		}
		return bumpVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("sqlite: import sources: %w", err)
	}
	return nil
}

// ImportPosts stores records in one transaction and queues them for the
// search index.
func (s *Store) ImportPosts(ctx context.Context, recs []storage.Record) (int, error) {
	stored := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stored = 0
		var rids []int64
		for _, r := range recs {
			p := r.Post
			enc, err := storage.EncodeEnclosures(p.Enclosures)
			if err != nil {
				return err
			}
			var rid int64
			err = tx.QueryRowContext(ctx, `INSERT INTO posts
				(id, key, guid, link, title, content, summary, author, image, enclosures, published, updated, first_seen, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO NOTHING RETURNING rid`, p.ID, p.Key, p.GUID, p.Link, p.Title, p.Content, p.Summary,
				p.Author, p.Image, enc, p.Published.UnixNano(), p.Updated.UnixNano(), p.FirstSeen.UnixNano(), p.Hash).Scan(&rid)
			if err == sql.ErrNoRows {
				continue // copied before
			}
			if err != nil {
				return fmt.Errorf("post %s: %w", p.ID, err)
			}
			for _, c := range r.Credits {
				if _, err := tx.ExecContext(ctx, `INSERT INTO post_sources (post_rid, post_id, source, key, hash, published)
					VALUES (?, ?, ?, ?, ?, ?)`, rid, p.ID, c.Source, c.Key, c.Hash, p.Published.UnixNano()); err != nil {
					return fmt.Errorf("post %s: credit %q: %w", p.ID, c.Source, err)
				}
			}
			rids = append(rids, rid)
			stored++
		}
		if len(rids) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO search_queue (rid, indexed) SELECT value, 0 FROM json_each(?)
			WHERE 1 ON CONFLICT (rid) DO NOTHING`, jsonInts(rids)); err != nil {
			return fmt.Errorf("queue for search: %w", err)
		}
		return bumpVersion(ctx, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: import posts: %w", err)
	}
	if s.ix != nil {
		s.ix.poke()
	}
	return stored, nil
}

// ImportTombstones stores tombstones, skipping any stored already.
func (s *Store) ImportTombstones(ctx context.Context, ts []storage.Tombstone) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range ts {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO tombstones (source, key, pruned) VALUES (?, ?, ?)`,
				t.Source, t.Key, unixNano(t.Pruned)); err != nil {
				return fmt.Errorf("tombstone %q %q: %w", t.Source, t.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: import tombstones: %w", err)
	}
	return nil
}

// jsonInts encodes ints as a JSON array, for json_each.
func jsonInts(v []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, n)
	}
	b.WriteByte(']')
	return b.String()
}
