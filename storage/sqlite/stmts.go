package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// writeStmts are the statements SavePoll runs per post, prepared once on the
// single writer connection. tx.StmtContext reuses them inside a transaction
// without preparing again, because the writer pool has only that connection.
type writeStmts struct {
	sourceInfo   *sql.Stmt
	byKey        *sql.Stmt
	byLink       *sql.Stmt
	byKeys       *sql.Stmt
	byLinks      *sql.Stmt
	byID         *sql.Stmt
	insertPost   *sql.Stmt
	updatePost   *sql.Stmt
	enqueue      *sql.Stmt
	insertCredit *sql.Stmt
	updateCredit *sql.Stmt
	updateSource *sql.Stmt
}

// statements pairs each field of writeStmts with its SQL.
func (w *writeStmts) statements() []struct {
	dst **sql.Stmt
	sql string
} {
	return []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.sourceInfo, `SELECT lease_token FROM sources WHERE name = ?`},
		// This source's post with this key, or else a tombstone (pruned = 1).
		{&w.byKey, `SELECT p.rid, p.id, p.hash, p.published, p.updated, ps.hash, 0
			FROM post_sources ps JOIN posts p ON p.rid = ps.post_rid
			WHERE ps.source = ?1 AND ps.key = ?2
			UNION ALL
			SELECT 0, '', '', 0, 0, '', 1 FROM tombstones WHERE source = ?1 AND key = ?2
			LIMIT 1`},
		// Another source's post with the same link. A post this source
		// already carries is not matched: feeds that give every item the
		// same link (their home page) must not collapse into one post.
		{&w.byLink, `SELECT p.rid, p.id, p.hash, p.published, p.updated
			FROM posts p
			WHERE p.link = ?1 AND p.link <> ''
			  AND NOT EXISTS (SELECT 1 FROM post_sources ps WHERE ps.post_rid = p.rid AND ps.source = ?2)
			ORDER BY p.rid LIMIT 1`},
		// byKey and byLink for many keys or links at once (prefetch.go):
		// ?1 is a JSON array of them, and each row starts with the index in
		// it of the key or link it answers. A key may have both a credit
		// and a tombstone; byKey takes the credit.
		{&w.byKeys, `SELECT j.key, p.rid, p.id, p.hash, p.published, p.updated, ps.hash, 0
			FROM json_each(?1) j CROSS JOIN post_sources ps CROSS JOIN posts p
			WHERE ps.source = ?2 AND ps.key = j.value AND p.rid = ps.post_rid
			UNION ALL
			SELECT j.key, 0, '', '', 0, 0, '', 1
			FROM json_each(?1) j CROSS JOIN tombstones t
			WHERE t.source = ?2 AND t.key = j.value`},
		{&w.byLinks, `SELECT j.key, p.rid, p.id, p.hash, p.published, p.updated
			FROM json_each(?1) j CROSS JOIN posts p
			WHERE p.rid = (SELECT q.rid FROM posts q
				WHERE q.link = j.value AND q.link <> ''
				  AND NOT EXISTS (SELECT 1 FROM post_sources ps WHERE ps.post_rid = q.rid AND ps.source = ?2)
				ORDER BY q.rid LIMIT 1)`},
		{&w.byID, `SELECT p.rid, p.id, p.hash, p.published, p.updated FROM posts p WHERE p.id = ?`},
		{&w.insertPost, `INSERT INTO posts
			(id, key, guid, link, title, content, summary, author, image, enclosures, published, updated, first_seen, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`},
		{&w.updatePost, `UPDATE posts SET title = ?, content = ?, summary = ?, author = ?, image = ?,
			enclosures = ?, updated = ?, hash = ? WHERE rid = ?`},
		// Queue posts for the search index (index.go): ?1 is a JSON array
		// of rowids, ?2 whether the index holds them already. A post
		// queued before keeps its entry: if it was not indexed yet, it
		// still is not.
		{&w.enqueue, `INSERT INTO search_queue (rid, indexed) SELECT value, ?2 FROM json_each(?1) WHERE 1
			ON CONFLICT (rid) DO NOTHING`},
		// The trigger post_sources_list adds the category and tag rows.
		{&w.insertCredit, `INSERT INTO post_sources (post_rid, post_id, source, key, hash, published) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (post_rid, source) DO UPDATE SET key = excluded.key, hash = excluded.hash`},
		{&w.updateCredit, `UPDATE post_sources SET hash = ? WHERE source = ? AND key = ?`},
		{&w.updateSource, `UPDATE sources SET url = ?, etag = ?, last_modified = ?, title = ?, site_url = ?,
			last_poll = ?, last_success = ?, status = ?, error_class = ?, error = ?, failures = ?, next_poll = ?,
			warning = ?, lease_owner = '', lease_until = 0
			WHERE name = ?`},
	}
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, s := range w.statements() {
		st, err := db.PrepareContext(ctx, s.sql)
		if err != nil {
			return fmt.Errorf("%w in %s", err, s.sql)
		}
		*s.dst = st
	}
	return nil
}

// inTx returns a copy of w bound to tx.
func (w *writeStmts) inTx(ctx context.Context, tx *sql.Tx) (*writeStmts, error) {
	if w.sourceInfo == nil {
		return nil, errors.New("statements not prepared (database opened with an old schema)")
	}
	var t writeStmts
	src, dst := w.statements(), t.statements()
	for i := range src {
		*dst[i].dst = tx.StmtContext(ctx, *src[i].dst)
	}
	return &t, nil
}

func (w *writeStmts) close() {
	for _, s := range w.statements() {
		if *s.dst != nil {
			(*s.dst).Close()
		}
	}
}
