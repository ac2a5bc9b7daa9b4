package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/search"
)

const postColumns = `p.rid, p.id, p.key, p.guid, p.link, p.title, p.content, p.summary, p.author, p.image,
	p.enclosures, p.published, p.updated, p.first_seen, p.hash`

// listing is the FROM and ORDER BY of one kind of listing. Each walks an
// index on (filter, published, post id) backwards, so the newest N posts
// before a cursor cost O(N). CROSS JOIN keeps the planner from reordering.
type listing struct {
	from    string // with a ? for the filter value, if any
	pub, id string // the columns the cursor and the order use
}

var (
	listAll      = listing{from: `posts p WHERE 1`, pub: "p.published", id: "p.id"}
	listCategory = listing{from: `post_categories x CROSS JOIN posts p ON p.rid = x.post_rid WHERE x.category = ?`, pub: "x.published", id: "x.post_id"}
	listTag      = listing{from: `post_tags x CROSS JOIN posts p ON p.rid = x.post_rid WHERE x.tag = ?`, pub: "x.published", id: "x.post_id"}
	listSource   = listing{from: `post_sources x CROSS JOIN posts p ON p.rid = x.post_rid WHERE x.source = ?`, pub: "x.published", id: "x.post_id"}
)

// postsQuery builds the SQL and arguments for q, fetching limit rows.
func postsQuery(q storage.Query, limit int) (string, []any, error) {
	l, args, set := listAll, []any(nil), 0
	for _, f := range []struct {
		value string
		l     listing
	}{{q.Category, listCategory}, {q.Tag, listTag}, {q.Source, listSource}} {
		if f.value != "" {
			l, args, set = f.l, []any{f.value}, set+1
		}
	}
	if set > 1 {
		return "", nil, errors.New("query sets more than one of category, tag and source")
	}

	var b strings.Builder
	fmt.Fprintf(&b, "SELECT %s FROM %s", postColumns, l.from)
	if q.Before != nil {
		fmt.Fprintf(&b, " AND (%s, %s) < (?, ?)", l.pub, l.id)
		args = append(args, q.Before.Published.UnixNano(), q.Before.ID)
	}
	var phrases []string
	for _, term := range search.Terms(q.Search) {
		if search.Indexable(term) {
			phrases = append(phrases, ftsPhrase(term))
			continue
		}
		pat := likePattern(term)
		if strings.ContainsAny(term, `<>&'"`) {
			b.WriteString(` AND (p.title LIKE ? ESCAPE '\' OR ` + textFunc + `(p.content, p.summary) LIKE ? ESCAPE '\')`)
			args = append(args, pat, pat)
			continue
		}
		// Text without those characters is in the stored HTML as it is
		// in its text (the sanitiser writes them, and only them, as
		// references), so a LIKE over the HTML picks the candidates and
		// the text, computed in Go, only decides for them.
		b.WriteString(` AND (p.title LIKE ? ESCAPE '\' OR ((p.content LIKE ? ESCAPE '\' OR p.summary LIKE ? ESCAPE '\')
			AND ` + textFunc + `(p.content, p.summary) LIKE ? ESCAPE '\'))`)
		args = append(args, pat, pat, pat, pat)
	}
	if len(phrases) > 0 {
		b.WriteString(` AND p.rid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)`)
		args = append(args, strings.Join(phrases, " "))
	}
	fmt.Fprintf(&b, " ORDER BY %s DESC, %s DESC LIMIT ?", l.pub, l.id)
	args = append(args, limit)
	return b.String(), args, nil
}

// usesIndex reports whether a search goes through the full-text index.
func usesIndex(text string) bool {
	for _, term := range search.Terms(text) {
		if search.Indexable(term) {
			return true
		}
	}
	return false
}

// Posts returns one page of posts matching q, newest first by (Published,
// ID). Next is set when a further page exists.
//
// Search splits q.Search at white space; a post must match every term, in
// its title or content text. A term with letters or digits and no lone CJK
// character goes through the full-text index: CJK strings of two or more
// characters match as substrings, other words as words or word prefixes
// ("fox" finds "foxes"). Other terms (one CJK character, punctuation only)
// fall back to a LIKE scan of the title and the body's text
// (search.ScanText, through the SQL function textFunc): markup never
// matches. No input is a syntax error.
func (s *Store) Posts(ctx context.Context, q storage.Query) (storage.Page, error) {
	if q.Limit <= 0 || q.Limit > math.MaxInt32-1 {
		return storage.Page{}, fmt.Errorf("sqlite: posts: bad limit %d", q.Limit)
	}
	query, args, err := postsQuery(q, q.Limit+1)
	if err != nil {
		return storage.Page{}, fmt.Errorf("sqlite: posts: %w", err)
	}
	if s.ix != nil && usesIndex(q.Search) {
		// Posts saved before this search began must be found.
		if err := s.catchUp(ctx); err != nil {
			return storage.Page{}, fmt.Errorf("sqlite: posts: %w", err)
		}
	}
	posts, rids, err := s.queryPosts(ctx, query, args...)
	if err != nil {
		return storage.Page{}, fmt.Errorf("sqlite: posts: %w", err)
	}
	var page storage.Page
	if len(posts) > q.Limit {
		posts, rids = posts[:q.Limit], rids[:q.Limit]
		last := posts[len(posts)-1]
		page.Next = &storage.Cursor{Published: last.Published, ID: last.ID}
	}
	if err := s.fillSources(ctx, posts, rids); err != nil {
		return storage.Page{}, fmt.Errorf("sqlite: posts: %w", err)
	}
	page.Posts = posts
	return page, nil
}

// Post returns one post by ID, or an error wrapping storage.ErrNotFound.
func (s *Store) Post(ctx context.Context, id string) (storage.Post, error) {
	posts, rids, err := s.queryPosts(ctx, "SELECT "+postColumns+" FROM posts p WHERE p.id = ?", id)
	if err != nil {
		return storage.Post{}, fmt.Errorf("sqlite: post %q: %w", id, err)
	}
	if len(posts) == 0 {
		return storage.Post{}, fmt.Errorf("sqlite: post %q: %w", id, storage.ErrNotFound)
	}
	if err := s.fillSources(ctx, posts, rids); err != nil {
		return storage.Post{}, fmt.Errorf("sqlite: post %q: %w", id, err)
	}
	return posts[0], nil
}

// queryPosts runs a query selecting postColumns; it returns the posts and
// their rowids.
func (s *Store) queryPosts(ctx context.Context, query string, args ...any) ([]storage.Post, []int64, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
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
// order of the sources, deduplicated) of posts, whose rowids are rids.
func (s *Store) fillSources(ctx context.Context, posts []storage.Post, rids []int64) error {
	if len(posts) == 0 {
		return nil
	}
	index := make(map[int64]int, len(posts))
	args := make([]any, len(posts))
	for i, rid := range rids {
		index[rid] = i
		args[i] = rid
	}
	query := `SELECT ps.post_rid, ps.source, s.category, s.tags
		FROM post_sources ps JOIN sources s ON s.name = ps.source
		WHERE ps.post_rid IN (?` + strings.Repeat(",?", len(posts)-1) + `)
		ORDER BY ps.rowid`
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sources of posts: %w", err)
	}
	defer rows.Close()
	tagCache := map[string][]string{}
	for rows.Next() {
		var rid int64
		var source, category, tagsJSON string
		if err := rows.Scan(&rid, &source, &category, &tagsJSON); err != nil {
			return fmt.Errorf("sources of posts: %w", err)
		}
		tags, ok := tagCache[tagsJSON]
		if !ok {
			if err := json.Unmarshal([]byte(tagsJSON), &tags); err != nil {
				return fmt.Errorf("tags of source %q: %w", source, err)
			}
			tagCache[tagsJSON] = tags
		}
		p := &posts[index[rid]]
		p.AddSource(source, category, tags)
	}
	return rows.Err()
}
