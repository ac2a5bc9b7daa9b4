package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/search"
)

const postColumns = `p.rid, p.id, p.key, p.guid, p.link, p.title, p.content, p.summary, p.author, p.image,
	p.enclosures, p.published, p.updated, p.first_seen, p.hash`

// listing is the FROM and the ordering columns of one kind of listing; each
// walks an index on (filter, published, post id) backwards.
type listing struct {
	from    string // with $1 for the filter value, if any
	pub, id string
}

var (
	listAll      = listing{from: `posts p WHERE true`, pub: "p.published", id: "p.id"}
	listCategory = listing{from: `post_categories x JOIN posts p ON p.rid = x.post_rid WHERE x.category = $1`, pub: "x.published", id: "x.post_id"}
	listTag      = listing{from: `post_tags x JOIN posts p ON p.rid = x.post_rid WHERE x.tag = $1`, pub: "x.published", id: "x.post_id"}
	listSource   = listing{from: `post_sources x JOIN posts p ON p.rid = x.post_rid WHERE x.source = $1`, pub: "x.published", id: "x.post_id"}
)

// postsQuery builds the SQL and arguments for q, fetching limit rows.
func postsQuery(q storage.Query, limit int) (string, []any, error) {
	l, args, set := listAll, []any(nil), 0
	for _, f := range []struct {
		value string
		l     listing
	}{{q.Category, listCategory}, {q.Tag, listTag}, {q.Source, listSource}} {
		if f.value != "" {
			l, args, set = f.l, []any{text(f.value)}, set+1
		}
	}
	if set > 1 {
		return "", nil, errors.New("query sets more than one of category, tag and source")
	}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT %s FROM %s", postColumns, l.from)
	if q.Before != nil {
		fmt.Fprintf(&b, " AND (%s, %s) < (%s, %s)", l.pub, l.id, arg(q.Before.Published.UnixNano()), arg(text(q.Before.ID)))
	}
	terms := search.Terms(text(q.Search))
	for _, term := range terms {
		if search.Indexable(term) {
			continue
		}
		// As on SQLite: the title or the body's plain text holds the term.
		pat := arg(likePattern(term))
		fmt.Fprintf(&b, ` AND (p.title ILIKE %s OR p.body_text ILIKE %s)`, pat, pat)
	}
	if tq := tsquery(terms); tq != "" {
		fmt.Fprintf(&b, ` AND p.search @@ %s::tsquery`, arg(tq))
	}
	fmt.Fprintf(&b, " ORDER BY %s DESC, %s DESC LIMIT %s", l.pub, l.id, arg(limit))
	return b.String(), args, nil
}

// likePattern makes an ILIKE pattern matching term anywhere (\ escapes).
func likePattern(term string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(term) + "%"
}

// Posts returns one page of posts matching q, newest first by (Published,
// ID), with the same search rules as storage/sqlite: every term must
// match; terms the index can find go through the tsvector, the others
// (one CJK character, punctuation) match the title or the body's text.
func (s *Store) Posts(ctx context.Context, q storage.Query) (storage.Page, error) {
	if q.Limit <= 0 || q.Limit > math.MaxInt32-1 {
		return storage.Page{}, fmt.Errorf("postgres: posts: bad limit %d", q.Limit)
	}
	query, args, err := postsQuery(q, q.Limit+1)
	if err != nil {
		return storage.Page{}, fmt.Errorf("postgres: posts: %w", err)
	}
	var page storage.Page
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		posts, rids, err := queryPosts(ctx, tx, query, args...)
		if err != nil {
			return err
		}
		if len(posts) > q.Limit {
			posts, rids = posts[:q.Limit], rids[:q.Limit]
			last := posts[len(posts)-1]
			page.Next = &storage.Cursor{Published: last.Published, ID: last.ID}
		}
		page.Posts = posts
		return fillSources(ctx, tx, posts, rids)
	})
	if err != nil {
		return storage.Page{}, fmt.Errorf("postgres: posts: %w", err)
	}
	return page, nil
}

// Post returns one post by ID, or an error wrapping storage.ErrNotFound.
func (s *Store) Post(ctx context.Context, id string) (storage.Post, error) {
	var post storage.Post
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		posts, rids, err := queryPosts(ctx, tx, "SELECT "+postColumns+" FROM posts p WHERE p.id = $1", text(id))
		if err != nil {
			return err
		}
		if len(posts) == 0 {
			return storage.ErrNotFound
		}
		if err := fillSources(ctx, tx, posts, rids); err != nil {
			return err
		}
		post = posts[0]
		return nil
	})
	if err != nil {
		return storage.Post{}, fmt.Errorf("postgres: post %q: %w", id, err)
	}
	return post, nil
}

// queryPosts runs a query selecting postColumns.
func queryPosts(ctx context.Context, q querier, query string, args ...any) ([]storage.Post, []int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var posts []storage.Post
	var rids []int64
	for rows.Next() {
		var p storage.Post
		var enc string
		var rid, published, updated, firstSeen int64
		if err := rows.Scan(&rid, &p.ID, &p.Key, &p.GUID, &p.Link, &p.Title, &p.Content, &p.Summary, &p.Author,
			&p.Image, &enc, &published, &updated, &firstSeen, &p.Hash); err != nil {
			return nil, nil, err
		}
		if p.Enclosures, err = storage.DecodeEnclosures(enc); err != nil {
			return nil, nil, fmt.Errorf("post %s: %w", p.ID, err)
		}
		p.Published, p.Updated, p.FirstSeen = fromNano(published), fromNano(updated), fromNano(firstSeen)
		posts = append(posts, p)
		rids = append(rids, rid)
	}
	return posts, rids, rows.Err()
}

// fillSources sets Sources (first seen first), Categories and Tags (in the
// order of the sources, deduplicated) of posts, whose row ids are rids.
func fillSources(ctx context.Context, q querier, posts []storage.Post, rids []int64) error {
	if len(posts) == 0 {
		return nil
	}
	index := make(map[int64]int, len(posts))
	for i, rid := range rids {
		index[rid] = i
	}
	rows, err := q.Query(ctx, `SELECT ps.post_rid, ps.source, s.category, s.tags
		FROM post_sources ps JOIN sources s ON s.name = ps.source
		WHERE ps.post_rid = ANY($1) ORDER BY ps.seq`, rids)
	if err != nil {
		return fmt.Errorf("sources of posts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rid int64
		var source, category string
		var tags []string
		if err := rows.Scan(&rid, &source, &category, &tags); err != nil {
			return fmt.Errorf("sources of posts: %w", err)
		}
		p := &posts[index[rid]]
		p.AddSource(source, category, tags)
	}
	return rows.Err()
}
