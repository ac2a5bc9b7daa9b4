package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/refeed/refeed/storage"
)

var (
	_ storage.Exporter = (*Store)(nil)
	_ storage.Importer = (*Store)(nil)
)

// ExportPosts lists posts by rid, the order they were stored in.
func (s *Store) ExportPosts(ctx context.Context, after int64, limit int) ([]storage.Record, int64, error) {
	var recs []storage.Record
	var next int64
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		posts, rids, err := queryPosts(ctx, tx, `SELECT `+postColumns+` FROM posts p WHERE p.rid > $1 ORDER BY p.rid LIMIT $2`, after, limit)
		if err != nil || len(posts) == 0 {
			return err
		}
		index := make(map[int64]int, len(rids))
		for i, rid := range rids {
			index[rid] = i
		}
		recs = make([]storage.Record, len(posts))
		for i, p := range posts {
			recs[i].Post = p
		}
		rows, err := tx.Query(ctx, `SELECT post_rid, source, key, hash FROM post_sources
			WHERE post_rid = ANY($1) ORDER BY seq`, rids)
		if err != nil {
			return fmt.Errorf("credits: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var rid int64
			var c storage.Credit
			if err := rows.Scan(&rid, &c.Source, &c.Key, &c.Hash); err != nil {
				return fmt.Errorf("credits: %w", err)
			}
			r := &recs[index[rid]]
			r.Credits = append(r.Credits, c)
		}
		if len(posts) == limit {
			next = rids[len(rids)-1]
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: export posts: %w", err)
	}
	return recs, next, nil
}

// ExportTombstones lists every tombstone.
func (s *Store) ExportTombstones(ctx context.Context) ([]storage.Tombstone, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, key, pruned FROM tombstones ORDER BY source, key`)
	if err != nil {
		return nil, fmt.Errorf("postgres: export tombstones: %w", err)
	}
	defer rows.Close()
	var ts []storage.Tombstone
	for rows.Next() {
		var t storage.Tombstone
		var pruned int64
		if err := rows.Scan(&t.Source, &t.Key, &pruned); err != nil {
			return nil, fmt.Errorf("postgres: export tombstones: %w", err)
		}
		t.Pruned = fromNano(pruned)
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// ImportSources stores sources with their poll state.
func (s *Store) ImportSources(ctx context.Context, srcs []storage.Source) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		for _, src := range srcs {
			want, st := wantConfig(src.SourceConfig), src.State
			if _, err := tx.Exec(ctx, `INSERT INTO sources (name, config_url, category, tags, interval_ns,
					url, etag, last_modified, title, site_url, last_poll, last_success, status, error_class, error,
					failures, next_poll, warning)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
				ON CONFLICT (name) DO UPDATE SET config_url = excluded.config_url, category = excluded.category,
					tags = excluded.tags, interval_ns = excluded.interval_ns`,
				text(src.Name), want.url, want.category, want.tags, want.interval, text(st.URL), text(st.ETag),
				text(st.LastModified), text(st.Title), text(st.SiteURL), unixNano(st.LastPoll), unixNano(st.LastSuccess),
				st.Status, st.ErrorClass, text(st.Error), st.Failures, unixNano(st.NextPoll), text(st.Warning)); err != nil {
				return fmt.Errorf("source %q: %w", src.Name, err)
			}
		}
		return bumpVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("postgres: import sources: %w", err)
	}
	return nil
}

// ImportPosts stores records in one transaction, building their search
// index. The first post stored with a link claims it, as a save would.
func (s *Store) ImportPosts(ctx context.Context, recs []storage.Record) (int, error) {
	stored := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		stored = 0
		var cs creditSet
		for _, r := range recs {
			p := r.Post
			enc, err := storage.EncodeEnclosures(p.Enclosures)
			if err != nil {
				return err
			}
			tsv, body := searchColumns(&p)
			var rid int64
			err = tx.QueryRow(ctx, `INSERT INTO posts (id, key, guid, link, title, content, summary, author, image,
					enclosures, published, updated, first_seen, hash, link_claim, search, body_text)
				SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
					CASE WHEN $4 <> '' AND NOT EXISTS (SELECT 1 FROM posts WHERE link_claim = $4) THEN $4 END,
					$15::tsvector, $16
				ON CONFLICT (id) DO NOTHING RETURNING rid`,
				text(p.ID), text(p.Key), text(p.GUID), text(p.Link), text(p.Title), text(p.Content), text(p.Summary),
				text(p.Author), text(p.Image), enc, p.Published.UnixNano(), p.Updated.UnixNano(), p.FirstSeen.UnixNano(),
				p.Hash, tsv, body).Scan(&rid)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // copied before
			}
			if err != nil {
				return fmt.Errorf("post %s: %w", p.ID, err)
			}
			for rank, c := range r.Credits {
				cs.add(rank, text(c.Source), rid, text(p.ID), text(c.Key), c.Hash, p.Published.UnixNano())
			}
			stored++
		}
		if stored == 0 {
			return nil
		}
		if err := cs.write(ctx, tx); err != nil {
			return err
		}
		return bumpVersion(ctx, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: import posts: %w", err)
	}
	return stored, nil
}

// ImportTombstones stores tombstones, skipping any stored already.
func (s *Store) ImportTombstones(ctx context.Context, ts []storage.Tombstone) error {
	if len(ts) == 0 {
		return nil
	}
	sources, keys, pruned := make([]string, len(ts)), make([]string, len(ts)), make([]int64, len(ts))
	for i, t := range ts {
		sources[i], keys[i], pruned[i] = text(t.Source), text(t.Key), unixNano(t.Pruned)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO tombstones (source, key, pruned)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`, sources, keys, pruned); err != nil {
		return fmt.Errorf("postgres: import tombstones: %w", err)
	}
	return nil
}

// creditSet gathers imported credits for credit(), one call per source and
// rank: a post's first credits are written before its second ones, so each
// keeps its sources' order (post_sources.seq) across the calls.
type creditSet struct {
	ranks []map[string]*creditRows
	order [][]string // sources of each rank, first seen first
}

type creditRows struct {
	rids      []int64
	ids, keys []string
	hashes    []string
	published []int64
}

func (cs *creditSet) add(rank int, source string, rid int64, id, key, hash string, published int64) {
	for len(cs.ranks) <= rank {
		cs.ranks, cs.order = append(cs.ranks, map[string]*creditRows{}), append(cs.order, nil)
	}
	r := cs.ranks[rank][source]
	if r == nil {
		r = &creditRows{}
		cs.ranks[rank][source] = r
		cs.order[rank] = append(cs.order[rank], source)
	}
	r.rids, r.ids, r.keys = append(r.rids, rid), append(r.ids, id), append(r.keys, key)
	r.hashes, r.published = append(r.hashes, hash), append(r.published, published)
}

func (cs *creditSet) write(ctx context.Context, tx pgx.Tx) error {
	for rank, sources := range cs.order {
		for _, source := range sources {
			r := cs.ranks[rank][source]
			if err := credit(ctx, tx, source, r.rids, r.ids, r.keys, r.hashes, r.published, nil); err != nil {
				return fmt.Errorf("source %q: %w", source, err)
			}
		}
	}
	return nil
}
