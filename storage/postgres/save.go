package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/search"
)

// SavePoll stores a claimed source's posts and poll state in one
// transaction. It first locks the source's row and checks the claim's
// token: a claim taken over since writes nothing (storage.ErrLeaseLost). A
// deadlock with another instance's save (both inserting the same links in
// another order) runs the whole save again, from the posts as given.
func (s *Store) SavePoll(ctx context.Context, c storage.Claim, state storage.SourceState, posts []storage.Post) (storage.SaveStats, error) {
	var st storage.SaveStats
	source := text(c.Source)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var token, now int64
		err := tx.QueryRow(ctx, `SELECT lease_token, `+nowSQL(2)+` FROM sources WHERE name = $1 FOR UPDATE`,
			source, s.clock()).Scan(&token, &now)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("source %q: %w", c.Source, storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("source %q: %w", c.Source, err)
		}
		if token != c.Token {
			return fmt.Errorf("source %q: claim %d, claimed again since (%d): %w", c.Source, c.Token, token, storage.ErrLeaseLost)
		}
		// SavePosts fills in the posts it is given; a retry starts again
		// from the caller's.
		ps := slices.Clone(posts)
		sv := saver{ctx: ctx, tx: tx, source: source}
		if err := sv.prefetch(ps); err != nil {
			return err
		}
		if st, err = storage.SavePosts(&sv, c.Source, ps, fromNano(now)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sources SET url = $1, etag = $2, last_modified = $3, title = $4,
			site_url = $5, last_poll = $6, last_success = $7, status = $8, error_class = $9, error = $10,
			failures = $11, next_poll = $12, warning = $13, lease_owner = '', lease_until = 0
			WHERE name = $14`,
			text(state.URL), text(state.ETag), text(state.LastModified), text(state.Title), text(state.SiteURL),
			unixNano(state.LastPoll), unixNano(state.LastSuccess), state.Status, state.ErrorClass,
			text(state.Error), state.Failures, unixNano(state.NextPoll), text(state.Warning), source); err != nil {
			return fmt.Errorf("update state: %w", err)
		}
		if st.New > 0 || st.Updated > 0 {
			return bumpVersion(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return storage.SaveStats{}, fmt.Errorf("postgres: save %q: %w", c.Source, err)
	}
	return st, nil
}

// found is a stored post as the lookups return it.
type found struct {
	rid       int64
	id        string
	hash      string
	published int64
	updated   int64
}

func (f found) stored() storage.Stored {
	return storage.Stored{Ref: f.rid, ID: f.id, Hash: f.hash, Published: fromNano(f.published), Updated: fromNano(f.updated)}
}

const foundColumns = `p.rid, p.id, p.hash, p.published, p.updated`

// keyMatch is what a key lookup found.
type keyMatch struct {
	f          found
	creditHash string
	pruned     bool
}

// saver is storage.PostWriter inside one SavePoll transaction. Its key and
// link lookups are made for the whole poll at once (prefetch: two
// statements instead of two per post); an answer about a post this poll
// credited already, or a key repeated within the poll, is looked up again,
// so every answer sees the writes before it.
type saver struct {
	ctx    context.Context
	tx     pgx.Tx
	source string

	keyHit   []bool
	keys     []keyMatch
	linked   []bool // post i's link was looked up
	linkHit  []bool
	links    []found
	alone    []bool         // post i is looked up on its own
	credited map[int64]bool // posts this poll credited to the source
}

var _ storage.PostWriter = (*saver)(nil)

func (sv *saver) prefetch(posts []storage.Post) error {
	n := len(posts)
	sv.keyHit, sv.keys, sv.alone = make([]bool, n), make([]keyMatch, n), make([]bool, n)
	sv.linked, sv.linkHit, sv.links = make([]bool, n), make([]bool, n), make([]found, n)
	seen := make(map[string]bool, n)
	var keys []string
	var idx []int // post index of keys[j]
	for i := range posts {
		k := text(posts[i].Key)
		if seen[k] {
			sv.alone[i] = true
		} else {
			keys, idx = append(keys, k), append(idx, i)
		}
		seen[k] = true
	}
	if len(keys) == 0 {
		return nil
	}
	rows, err := sv.tx.Query(sv.ctx, `SELECT k.i, `+foundColumns+`, ps.hash, false
		FROM unnest($1::text[]) WITH ORDINALITY AS k (key, i)
		JOIN post_sources ps ON ps.source = $2 AND ps.key = k.key JOIN posts p ON p.rid = ps.post_rid
		UNION ALL
		SELECT k.i, 0, '', '', 0, 0, '', true
		FROM unnest($1::text[]) WITH ORDINALITY AS k (key, i) JOIN tombstones t ON t.source = $2 AND t.key = k.key`,
		keys, sv.source)
	if err != nil {
		return fmt.Errorf("find by key: %w", err)
	}
	for rows.Next() {
		var j int64
		var m keyMatch
		if err := rows.Scan(&j, &m.f.rid, &m.f.id, &m.f.hash, &m.f.published, &m.f.updated, &m.creditHash, &m.pruned); err != nil {
			rows.Close()
			return fmt.Errorf("find by key: %w", err)
		}
		i := idx[j-1]
		if !sv.keyHit[i] || !m.pruned { // a credit wins over a tombstone
			sv.keyHit[i], sv.keys[i] = true, m
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find by key: %w", err)
	}

	if err := sv.lockLinks(posts); err != nil {
		return err
	}
	var links []string
	idx = idx[:0]
	for i := range posts {
		if sv.alone[i] || sv.keyHit[i] || posts[i].Link == "" {
			continue
		}
		sv.linked[i] = true
		links, idx = append(links, text(posts[i].Link)), append(idx, i)
	}
	if len(links) == 0 {
		return nil
	}
	rows, err = sv.tx.Query(sv.ctx, `SELECT l.i, `+foundColumns+`
		FROM unnest($1::text[]) WITH ORDINALITY AS l (link, i)
		CROSS JOIN LATERAL (SELECT q.rid FROM posts q WHERE q.link = l.link AND q.link <> ''
			AND NOT EXISTS (SELECT 1 FROM post_sources ps WHERE ps.post_rid = q.rid AND ps.source = $2)
			ORDER BY q.rid LIMIT 1) f
		JOIN posts p ON p.rid = f.rid`, links, sv.source)
	if err != nil {
		return fmt.Errorf("find by link: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var j int64
		var f found
		if err := rows.Scan(&j, &f.rid, &f.id, &f.hash, &f.published, &f.updated); err != nil {
			return fmt.Errorf("find by link: %w", err)
		}
		sv.linkHit[idx[j-1]], sv.links[idx[j-1]] = true, f
	}
	return rows.Err()
}

// lockLinks takes a transaction-scoped advisory lock on each link of the
// posts that may be stored or credited by link (those without a key
// match), in one order for every save. Two instances saving the same links
// then queue on the first shared one instead of deadlocking on the unique
// index in the orders their feeds list them (which PostgreSQL resolves
// only after deadlock_timeout, 1 s, by aborting one).
func (sv *saver) lockLinks(posts []storage.Post) error {
	var keys []int64
	for i := range posts {
		if (sv.keyHit[i] && !sv.alone[i]) || posts[i].Link == "" {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(text(posts[i].Link)))
		keys = append(keys, int64(h.Sum64()))
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if _, err := sv.tx.Exec(sv.ctx, `SELECT count(pg_advisory_xact_lock(k))
		FROM (SELECT k FROM unnest($1::bigint[]) k ORDER BY k) o`, keys); err != nil {
		return fmt.Errorf("lock links: %w", err)
	}
	return nil
}

// ByKey finds the source's post or tombstone with p.Key.
func (sv *saver) ByKey(i int, p *storage.Post) (storage.KeyMatch, bool, error) {
	m, ok := sv.keys[i], sv.keyHit[i]
	if sv.alone[i] || (ok && !m.pruned && sv.credited[m.f.rid]) {
		var err error
		m = keyMatch{}
		err = sv.tx.QueryRow(sv.ctx, `SELECT `+foundColumns+`, ps.hash, false
			FROM post_sources ps JOIN posts p ON p.rid = ps.post_rid WHERE ps.source = $1 AND ps.key = $2
			UNION ALL
			SELECT 0, '', '', 0, 0, '', true FROM tombstones WHERE source = $1 AND key = $2
			LIMIT 1`, sv.source, text(p.Key)).Scan(&m.f.rid, &m.f.id, &m.f.hash, &m.f.published, &m.f.updated, &m.creditHash, &m.pruned)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			ok = false
		case err != nil:
			return storage.KeyMatch{}, false, fmt.Errorf("find by key: %w", err)
		default:
			ok = true
		}
	}
	return storage.KeyMatch{Post: m.f.stored(), CreditHash: m.creditHash, Pruned: m.pruned}, ok, nil
}

// ByLink finds another source's post with p.Link.
func (sv *saver) ByLink(i int, p *storage.Post) (storage.Stored, bool, error) {
	if sv.linked[i] && !sv.alone[i] {
		f, ok := sv.links[i], sv.linkHit[i]
		if !ok || !sv.credited[f.rid] {
			return f.stored(), ok, nil
		}
	}
	f, ok, err := sv.byLink(text(p.Link))
	return f.stored(), ok, err
}

func (sv *saver) byLink(link string) (found, bool, error) {
	var f found
	err := sv.tx.QueryRow(sv.ctx, `SELECT `+foundColumns+` FROM posts p WHERE p.link = $1 AND p.link <> ''
		AND NOT EXISTS (SELECT 1 FROM post_sources ps WHERE ps.post_rid = p.rid AND ps.source = $2)
		ORDER BY p.rid LIMIT 1`, link, sv.source).Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return f, false, nil
	case err != nil:
		return f, false, fmt.Errorf("find by link: %w", err)
	}
	return f, true, nil
}

// Insert stores p. The post claims its link (posts.link_claim) unless
// another post holds it: if that post is one this source carries (a feed
// that gives every item one link), p is stored without the claim; if it is
// another source's, stored by a concurrent save since ByLink looked, p is
// not stored and that post is returned, for SavePosts to credit.
func (sv *saver) Insert(p *storage.Post) (storage.Stored, error) {
	link := text(p.Link)
	var claim any
	if link != "" {
		claim = link
	}
	for {
		f, ok, err := sv.insert(p, claim)
		if err != nil || ok {
			return f.stored(), err
		}
		// Nothing inserted: p.ID exists (the source carried the key
		// before), or another post holds the link.
		err = sv.tx.QueryRow(sv.ctx, `SELECT `+foundColumns+` FROM posts p WHERE p.id = $1`, p.ID).
			Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated)
		if err == nil {
			return f.stored(), nil
		}
		if !errors.Is(err, pgx.ErrNoRows) || claim == nil {
			return storage.Stored{}, fmt.Errorf("find by id: %w", err)
		}
		if other, ok, err := sv.byLink(link); err != nil || ok {
			return other.stored(), err
		}
		claim = nil // the link's post is this source's own
	}
}

// insert runs the INSERT; ok is false when a unique constraint (id or
// link_claim) stopped it.
func (sv *saver) insert(p *storage.Post, claim any) (found, bool, error) {
	enc, err := encodeEnclosures(p.Enclosures)
	if err != nil {
		return found{}, false, err
	}
	tsv, body := searchColumns(p)
	f := found{id: p.ID, hash: p.Hash, published: p.Published.UnixNano(), updated: p.Updated.UnixNano()}
	err = sv.tx.QueryRow(sv.ctx, `INSERT INTO posts (id, key, guid, link, title, content, summary, author, image,
			enclosures, published, updated, first_seen, hash, link_claim, search, body_text)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::tsvector, $17)
		ON CONFLICT DO NOTHING RETURNING rid`,
		p.ID, text(p.Key), text(p.GUID), text(p.Link), text(p.Title), text(p.Content), text(p.Summary),
		text(p.Author), text(p.Image), enc, f.published, f.updated, p.FirstSeen.UnixNano(), p.Hash,
		claim, tsv, body).Scan(&f.rid)
	if errors.Is(err, pgx.ErrNoRows) {
		return found{}, false, nil
	}
	if err != nil {
		return found{}, false, fmt.Errorf("insert: %w", err)
	}
	return f, true, nil
}

// Update rewrites a stored post's content in place.
func (sv *saver) Update(s storage.Stored, p *storage.Post) error {
	enc, err := encodeEnclosures(p.Enclosures)
	if err != nil {
		return err
	}
	tsv, body := searchColumns(p)
	if _, err := sv.tx.Exec(sv.ctx, `UPDATE posts SET title = $1, content = $2, summary = $3, author = $4,
		image = $5, enclosures = $6, updated = $7, hash = $8, search = $9::tsvector, body_text = $10 WHERE rid = $11`,
		text(p.Title), text(p.Content), text(p.Summary), text(p.Author), text(p.Image), enc,
		p.Updated.UnixNano(), p.Hash, tsv, body, s.Ref); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// Credit records that the source carries s under key; the trigger
// post_sources_list lists it under the source's category and tags.
func (sv *saver) Credit(s storage.Stored, key, hash string) error {
	if _, err := sv.tx.Exec(sv.ctx, `INSERT INTO post_sources (post_rid, post_id, source, key, hash, published)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (post_rid, source) DO UPDATE SET key = excluded.key, hash = excluded.hash`,
		s.Ref, s.ID, sv.source, text(key), hash, unixNano(s.Published)); err != nil {
		return fmt.Errorf("credit: %w", err)
	}
	if sv.credited == nil {
		sv.credited = make(map[int64]bool)
	}
	sv.credited[s.Ref] = true
	return nil
}

// Recredit sets the hash of the source's credit for key.
func (sv *saver) Recredit(key, hash string) error {
	if _, err := sv.tx.Exec(sv.ctx, `UPDATE post_sources SET hash = $1 WHERE source = $2 AND key = $3`,
		hash, sv.source, text(key)); err != nil {
		return fmt.Errorf("update credit: %w", err)
	}
	return nil
}

// searchColumns are a post's search index columns: the tsvector of its
// title and body tokens, and the body's plain text.
func searchColumns(p *storage.Post) (string, string) {
	return tsvector(p.Title, search.Text(p.Content, p.Summary)), text(search.ScanText(p.Content, p.Summary))
}

func encodeEnclosures(es []storage.Enclosure) (string, error) {
	if len(es) == 0 {
		return "", nil
	}
	b, err := json.Marshal(es)
	if err != nil {
		return "", fmt.Errorf("enclosures: %w", err)
	}
	return text(string(b)), nil
}

func decodeEnclosures(s string) ([]storage.Enclosure, error) {
	if s == "" {
		return nil, nil
	}
	var es []storage.Enclosure
	if err := json.Unmarshal([]byte(s), &es); err != nil {
		return nil, fmt.Errorf("enclosures: %w", err)
	}
	return es, nil
}
