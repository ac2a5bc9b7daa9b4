package postgres

import (
	"context"
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
//
// A save is at most six round trips: BEGIN; the token and the key lookups
// in one pipelined batch, and the new posts' link locks and lookups in
// another (prefetch); the new posts' INSERT; their credits, category and
// tag rows, the poll state and the version in a last batch (flush);
// COMMIT. A poll of posts all stored already is four.
func (s *Store) SavePoll(ctx context.Context, c storage.Claim, state storage.SourceState, posts []storage.Post) (storage.SaveStats, error) {
	var st storage.SaveStats
	source := text(c.Source)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// SavePosts fills in the posts it is given; a retry starts again
		// from the caller's.
		ps := slices.Clone(posts)
		sv := saver{ctx: ctx, tx: tx, source: source}
		now, err := sv.prefetch(c, ps, s.clock())
		if err != nil {
			return err
		}
		if st, err = storage.SavePosts(&sv, c.Source, ps, fromNano(now)); err != nil {
			return err
		}
		var b pgx.Batch
		b.Queue(`UPDATE sources SET url = $1, etag = $2, last_modified = $3, title = $4,
			site_url = $5, last_poll = $6, last_success = $7, status = $8, error_class = $9, error = $10,
			failures = $11, next_poll = $12, warning = $13, lease_owner = '', lease_until = 0
			WHERE name = $14`,
			text(state.URL), text(state.ETag), text(state.LastModified), text(state.Title), text(state.SiteURL),
			unixNano(state.LastPoll), unixNano(state.LastSuccess), state.Status, state.ErrorClass,
			text(state.Error), state.Failures, unixNano(state.NextPoll), text(state.Warning), source)
		if st.New > 0 || st.Updated > 0 {
			// Last: the version row's lock is held until the commit.
			b.Queue(bumpVersionSQL)
		}
		return sv.flush(&b)
	})
	if err != nil {
		return storage.SaveStats{}, fmt.Errorf("postgres: save %q: %w", c.Source, err)
	}
	if st.New > 0 || st.Updated > 0 {
		s.cleaner.poke()
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
// link lookups are made for the whole poll at once (prefetch: one batch
// instead of two statements per post); an answer about a post this poll
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
	credited map[int64]bool // posts this poll credited to the source (by Ref)

	// New posts and credits wait here and are written in a few
	// statements for the whole poll (flush), before any lookup that must
	// see them. A waiting post's Ref is -(its index + 1).
	pending []pendingPost
	credits []pendingCredit
}

// pendingPost is a new post waiting for flush, with its stored columns.
type pendingPost struct {
	p         *storage.Post
	enc       string
	tsv, body string
	stored    found // set by flush
}

// pendingCredit is a credit waiting for flush.
type pendingCredit struct {
	s         storage.Stored
	key, hash string
}

var _ storage.PostWriter = (*saver)(nil)

// prefetch checks the claim's token (locking the source's row) and looks up
// every key of the poll in one batch; then, for the posts without a key
// match (new to the source: the first poll, a few posts of a later one),
// it locks their links and looks them up in another. It returns the
// store's now.
func (sv *saver) prefetch(c storage.Claim, posts []storage.Post, clock any) (now int64, err error) {
	n := len(posts)
	sv.keyHit, sv.keys, sv.alone = make([]bool, n), make([]keyMatch, n), make([]bool, n)
	sv.linked, sv.linkHit, sv.links = make([]bool, n), make([]bool, n), make([]found, n)
	seen := make(map[string]bool, n)
	var keys []string
	var keyIdx []int // post index of keys[j]
	for i := range posts {
		k := text(posts[i].Key)
		if seen[k] {
			sv.alone[i] = true
		} else {
			keys, keyIdx = append(keys, k), append(keyIdx, i)
		}
		seen[k] = true
	}
	var b pgx.Batch
	b.Queue(`SELECT lease_token, `+nowSQL(2)+` FROM sources WHERE name = $1 FOR UPDATE`, sv.source, clock)
	b.Queue(`SELECT k.i, `+foundColumns+`, ps.hash, false
		FROM unnest($1::text[]) WITH ORDINALITY AS k (key, i)
		JOIN post_sources ps ON ps.source = $2 AND ps.key = k.key JOIN posts p ON p.rid = ps.post_rid
		UNION ALL
		SELECT k.i, 0, '', '', 0, 0, '', true
		FROM unnest($1::text[]) WITH ORDINALITY AS k (key, i) JOIN tombstones t ON t.source = $2 AND t.key = k.key`,
		keys, sv.source)
	if now, err = sv.readKeys(c, sv.tx.SendBatch(sv.ctx, &b), keyIdx); err != nil {
		return 0, err
	}
	return now, sv.prefetchLinks(posts)
}

// readKeys reads the first batch's answers: the token, then the keys.
func (sv *saver) readKeys(c storage.Claim, br pgx.BatchResults, keyIdx []int) (now int64, err error) {
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("find by key: %w", cerr)
		}
	}()
	var token int64
	err = br.QueryRow().Scan(&token, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("source %q: %w", c.Source, storage.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("source %q: %w", c.Source, err)
	}
	if token != c.Token {
		return 0, fmt.Errorf("source %q: claim %d, claimed again since (%d): %w", c.Source, c.Token, token, storage.ErrLeaseLost)
	}
	rows, err := br.Query()
	if err != nil {
		return 0, fmt.Errorf("find by key: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var j int64
		var m keyMatch
		if err := rows.Scan(&j, &m.f.rid, &m.f.id, &m.f.hash, &m.f.published, &m.f.updated, &m.creditHash, &m.pruned); err != nil {
			return 0, fmt.Errorf("find by key: %w", err)
		}
		i := keyIdx[j-1]
		if !sv.keyHit[i] || !m.pruned { // a credit wins over a tombstone
			sv.keyHit[i], sv.keys[i] = true, m
		}
	}
	return now, rows.Err()
}

// prefetchLinks locks and looks up the links of the posts without a key
// match, in one batch. The advisory locks come first, in one order for
// every save: two instances saving the same links then queue on the first
// shared one instead of deadlocking on the unique index in the orders
// their feeds list them (which PostgreSQL resolves only after
// deadlock_timeout, 1 s, by aborting one), and the lookup after the lock
// sees the other's committed posts.
func (sv *saver) prefetchLinks(posts []storage.Post) (err error) {
	var links []string
	var linkIdx []int
	var locks []int64
	for i := range posts {
		if sv.alone[i] || sv.keyHit[i] || posts[i].Link == "" {
			continue
		}
		l := text(posts[i].Link)
		sv.linked[i] = true
		links, linkIdx = append(links, l), append(linkIdx, i)
		h := fnv.New64a()
		h.Write([]byte(l))
		locks = append(locks, int64(h.Sum64()))
	}
	if len(links) == 0 {
		return nil
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	var b pgx.Batch
	b.Queue(`SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::bigint[]) k ORDER BY k) o`, locks)
	b.Queue(`SELECT l.i, `+foundColumns+`
		FROM unnest($1::text[]) WITH ORDINALITY AS l (link, i)
		CROSS JOIN LATERAL (SELECT q.rid FROM posts q WHERE q.link = l.link AND q.link <> ''
			AND NOT EXISTS (SELECT 1 FROM post_sources ps WHERE ps.post_rid = q.rid AND ps.source = $2)
			ORDER BY q.rid LIMIT 1) f
		JOIN posts p ON p.rid = f.rid`, links, sv.source)
	br := sv.tx.SendBatch(sv.ctx, &b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("find by link: %w", cerr)
		}
	}()
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("lock links: %w", err)
	}
	rows, err := br.Query()
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
		sv.linkHit[linkIdx[j-1]], sv.links[linkIdx[j-1]] = true, f
	}
	return rows.Err()
}

// ByKey finds the source's post or tombstone with p.Key.
func (sv *saver) ByKey(i int, p *storage.Post) (storage.KeyMatch, bool, error) {
	m, ok := sv.keys[i], sv.keyHit[i]
	if sv.alone[i] || (ok && !m.pruned && sv.credited[m.f.rid]) {
		if err := sv.flush(nil); err != nil {
			return storage.KeyMatch{}, false, err
		}
		m = keyMatch{}
		err := sv.tx.QueryRow(sv.ctx, `SELECT `+foundColumns+`, ps.hash, false
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
	if err := sv.flush(nil); err != nil {
		return storage.Stored{}, false, err
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

// Insert queues p for flush, which stores it. Stored.Ref is a
// placeholder until then.
func (sv *saver) Insert(p *storage.Post) (storage.Stored, error) {
	enc, err := storage.EncodeEnclosures(p.Enclosures)
	if err != nil {
		return storage.Stored{}, err
	}
	tsv, body := searchColumns(p)
	sv.pending = append(sv.pending, pendingPost{p: p, enc: enc, tsv: tsv, body: body})
	return storage.Stored{Ref: -int64(len(sv.pending)), ID: p.ID, Hash: p.Hash, Published: p.Published, Updated: p.Updated}, nil
}

// flush writes the waiting posts in one INSERT and the waiting credits,
// with their category and tag rows, in one pipelined batch. Each post
// claims its link (posts.link_claim); a post the INSERT skipped (a unique
// constraint) is stored on its own by insertOne.
//
// then, if given, is sent in the credits' batch after them (SavePoll's
// last statements); the lookups that flush before they read pass nil.
func (sv *saver) flush(then *pgx.Batch) error {
	if len(sv.pending) > 0 {
		if err := sv.flushPosts(); err != nil {
			return err
		}
	}
	if len(sv.credits) == 0 {
		if then != nil && then.Len() > 0 {
			if err := sv.tx.SendBatch(sv.ctx, then).Close(); err != nil {
				return fmt.Errorf("save state: %w", err)
			}
		}
		return nil
	}
	n := len(sv.credits)
	rids, ids, keys, hashes := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	published := make([]int64, n)
	for i, c := range sv.credits {
		s := c.s
		if s.Ref < 0 {
			s = sv.pending[-s.Ref-1].stored.stored()
		}
		rids[i], ids[i], keys[i], hashes[i], published[i] = s.Ref, s.ID, text(c.key), c.hash, unixNano(s.Published)
	}
	sv.credits, sv.pending = sv.credits[:0], sv.pending[:0]
	return credit(sv.ctx, sv.tx, sv.source, rids, ids, keys, hashes, published, then)
}

// credit credits posts (rids, ids, published) to source under keys with
// hashes, and lists them under its category and tags, in one round trip
// with the statements of then, if any, after them.
func credit(ctx context.Context, tx pgx.Tx, source string, rids []int64, ids, keys, hashes []string, published []int64, then *pgx.Batch) error {
	const rows = `unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS c (rid, id, key, hash, published)`
	var b pgx.Batch
	b.Queue(`INSERT INTO post_sources (post_rid, post_id, source, key, hash, published)
		SELECT c.rid, c.id, $6, c.key, c.hash, c.published FROM `+rows+`
		ON CONFLICT (post_rid, source) DO UPDATE SET key = excluded.key, hash = excluded.hash`,
		rids, ids, keys, hashes, published, source)
	b.Queue(`INSERT INTO post_categories (category, published, post_id, post_rid)
		SELECT s.category, c.published, c.id, c.rid FROM `+rows+`, sources s
		WHERE s.name = $6 AND s.category <> '' ON CONFLICT DO NOTHING`,
		rids, ids, keys, hashes, published, source)
	b.Queue(`INSERT INTO post_tags (tag, published, post_id, post_rid)
		SELECT DISTINCT t, c.published, c.id, c.rid FROM `+rows+`, sources s, unnest(s.tags) t
		WHERE s.name = $6 AND t <> '' ON CONFLICT DO NOTHING`,
		rids, ids, keys, hashes, published, source)
	if then != nil {
		b.QueuedQueries = append(b.QueuedQueries, then.QueuedQueries...)
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("credit: %w", err)
	}
	return nil
}

// flushPosts inserts the waiting posts and sets their stored rows.
func (sv *saver) flushPosts() error {
	n := len(sv.pending)
	cols := make([][]string, 13)
	for j := range cols {
		cols[j] = make([]string, n)
	}
	times := [3][]int64{make([]int64, n), make([]int64, n), make([]int64, n)}
	index := make(map[string]int, n)
	for i, pp := range sv.pending {
		p := pp.p
		for j, v := range []string{p.ID, text(p.Key), text(p.GUID), text(p.Link), text(p.Title), text(p.Content),
			text(p.Summary), text(p.Author), text(p.Image), pp.enc, p.Hash, pp.tsv, pp.body} {
			cols[j][i] = v
		}
		times[0][i], times[1][i], times[2][i] = p.Published.UnixNano(), p.Updated.UnixNano(), p.FirstSeen.UnixNano()
		index[p.ID] = i
	}
	rows, err := sv.tx.Query(sv.ctx, `INSERT INTO posts (id, key, guid, link, title, content, summary, author, image,
			enclosures, hash, search, body_text, published, updated, first_seen, link_claim)
		SELECT id, key, guid, link, title, content, summary, author, image, enclosures, hash, search::tsvector, body_text,
			published, updated, first_seen, nullif(link, '')
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::bigint[])
			AS t (id, key, guid, link, title, content, summary, author, image, enclosures, hash, search, body_text,
				published, updated, first_seen)
		ON CONFLICT DO NOTHING RETURNING id, rid`,
		cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9], cols[10], cols[11],
		cols[12], times[0], times[1], times[2])
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	done := make([]bool, n)
	for rows.Next() {
		var id string
		var rid int64
		if err := rows.Scan(&id, &rid); err != nil {
			rows.Close()
			return fmt.Errorf("insert: %w", err)
		}
		i := index[id]
		p := sv.pending[i].p
		sv.pending[i].stored = found{rid: rid, id: id, hash: p.Hash, published: p.Published.UnixNano(), updated: p.Updated.UnixNano()}
		done[i] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	for i := range sv.pending {
		if !done[i] {
			f, err := sv.insertOne(&sv.pending[i])
			if err != nil {
				return err
			}
			sv.pending[i].stored = f
		}
	}
	return nil
}

// insertOne stores a post the bulk INSERT skipped. If p.ID exists (the
// source carried the key before and lost its credit since), that post is
// the one credited. If another post holds the link: when it is another
// source's (stored by a concurrent save since ByLink looked), that post is
// credited instead of storing p; when it is this source's own (a feed
// that gives every item one link), p is stored without the claim.
func (sv *saver) insertOne(pp *pendingPost) (found, error) {
	p := pp.p
	var f found
	err := sv.tx.QueryRow(sv.ctx, `SELECT `+foundColumns+` FROM posts p WHERE p.id = $1`, p.ID).
		Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) || p.Link == "" {
		return f, fmt.Errorf("find by id: %w", err)
	}
	if other, ok, err := sv.byLinkExcluding(text(p.Link)); err != nil || ok {
		return other, err
	}
	f = found{id: p.ID, hash: p.Hash, published: p.Published.UnixNano(), updated: p.Updated.UnixNano()}
	err = sv.tx.QueryRow(sv.ctx, `INSERT INTO posts (id, key, guid, link, title, content, summary, author, image,
			enclosures, published, updated, first_seen, hash, search, body_text)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::tsvector, $16)
		RETURNING rid`,
		p.ID, text(p.Key), text(p.GUID), text(p.Link), text(p.Title), text(p.Content), text(p.Summary),
		text(p.Author), text(p.Image), pp.enc, f.published, f.updated, p.FirstSeen.UnixNano(), p.Hash,
		pp.tsv, pp.body).Scan(&f.rid)
	if err != nil {
		return f, fmt.Errorf("insert: %w", err)
	}
	return f, nil
}

// byLinkExcluding is byLink, also skipping the posts this poll's waiting
// credits give the source (not written yet): the ones it credits by link
// and the new ones the bulk INSERT stored.
func (sv *saver) byLinkExcluding(link string) (found, bool, error) {
	own := []int64{}
	for _, c := range sv.credits {
		if c.s.Ref > 0 {
			own = append(own, c.s.Ref)
		}
	}
	for _, pp := range sv.pending {
		if pp.stored.rid > 0 {
			own = append(own, pp.stored.rid)
		}
	}
	var f found
	err := sv.tx.QueryRow(sv.ctx, `SELECT `+foundColumns+` FROM posts p WHERE p.link = $1 AND p.link <> ''
		AND NOT EXISTS (SELECT 1 FROM post_sources ps WHERE ps.post_rid = p.rid AND ps.source = $2)
		AND p.rid <> ALL($3::bigint[])
		ORDER BY p.rid LIMIT 1`, link, sv.source, own).Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return f, false, nil
	case err != nil:
		return f, false, fmt.Errorf("find by link: %w", err)
	}
	return f, true, nil
}

// Update rewrites a stored post's content in place.
func (sv *saver) Update(s storage.Stored, p *storage.Post) error {
	enc, err := storage.EncodeEnclosures(p.Enclosures)
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

// Credit queues the credit of s to the source under key, for flush.
func (sv *saver) Credit(s storage.Stored, key, hash string) error {
	sv.credits = append(sv.credits, pendingCredit{s: s, key: key, hash: hash})
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
// title and body words, and the body's plain text.
func searchColumns(p *storage.Post) (string, string) {
	// ScanText, not Text, for the words too: the two differ only in
	// white space, which the words ignore, and ScanText skips the HTML
	// tokenizer (one pass over the content instead of two).
	body := search.ScanText(p.Content, p.Summary)
	return tsvector(p.Title, body), text(body)
}
