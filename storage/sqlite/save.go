package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/refeed/refeed/storage"
)

// found is an existing post matched by an incoming one.
type found struct {
	rid       int64
	id        string
	hash      string
	published int64
	updated   int64
}

// SavePoll stores a source's posts and its new poll state in one
// transaction: either both are written or neither is.
//
// Each incoming post is matched, in order, by its key within the source, by
// a tombstone left by Prune (then it is skipped), by its link among other
// sources' posts, and by the ID it would get; otherwise it is inserted. A
// matched post whose content changed (by this source's hash) is updated in
// place: same ID and Published, new Updated. A post first credited to this
// source counts as New even if another source already carried it.
// The version changes only when posts changed.
func (s *Store) SavePoll(ctx context.Context, source string, state storage.SourceState, posts []storage.Post) (storage.SaveStats, error) {
	var st storage.SaveStats
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st = storage.SaveStats{}
		w, err := s.stmts.inTx(ctx, tx)
		if err != nil {
			return err
		}
		var one int
		err = w.sourceInfo.QueryRowContext(ctx, source).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("source %q: %w", source, storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("source %q: %w", source, err)
		}
		sv := saver{ctx: ctx, w: w, source: source, now: s.now().UTC()}
		for i := range posts {
			if err := sv.save(&posts[i], &st); err != nil {
				return fmt.Errorf("post %q: %w", posts[i].Key, err)
			}
		}
		if err := sv.index(); err != nil {
			return err
		}
		if _, err := w.updateSource.ExecContext(ctx,
			state.URL, state.ETag, state.LastModified, state.Title, state.SiteURL,
			unixNano(state.LastPoll), unixNano(state.LastSuccess), state.Status, state.ErrorClass,
			state.Error, state.Failures, unixNano(state.NextPoll), source); err != nil {
			return fmt.Errorf("update state: %w", err)
		}
		if st.New+st.Updated > 0 {
			return bumpVersion(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return storage.SaveStats{}, fmt.Errorf("sqlite: save poll of %q: %w", source, err)
	}
	return st, nil
}

// saver holds what SavePoll needs for each post of one source.
type saver struct {
	ctx    context.Context
	w      *writeStmts
	source string
	now    time.Time
	fts    []ftsDoc // search index writes, done last
}

// ftsDoc is a post to (re)index.
type ftsDoc struct {
	rid                     int64
	update                  bool
	title, content, summary string
}

// index writes the search index entries of the poll's new and changed posts.
// They are written after every other statement of the transaction, in rowid
// order: FTS5 flushes its in-memory index to a new segment whenever a
// statement opens a savepoint (any statement with a trigger does) or rowids
// go backwards, and one segment per post would make every poll pay for
// merges.
func (sv *saver) index() error {
	ctx, w := sv.ctx, sv.w
	sort.SliceStable(sv.fts, func(i, j int) bool { return sv.fts[i].rid < sv.fts[j].rid })
	for i := 0; i < len(sv.fts); i++ {
		d := sv.fts[i]
		// A post changed twice in one poll: index its last text; delete the
		// old entry only if it was indexed before this poll.
		for i+1 < len(sv.fts) && sv.fts[i+1].rid == d.rid {
			i++
			d.title, d.content, d.summary = sv.fts[i].title, sv.fts[i].content, sv.fts[i].summary
		}
		if d.update {
			if _, err := w.deleteFTS.ExecContext(ctx, d.rid); err != nil {
				return fmt.Errorf("unindex: %w", err)
			}
		}
		if _, err := w.insertFTS.ExecContext(ctx, d.rid, bigrams(d.title), searchText(d.content, d.summary)); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return nil
}

func (sv *saver) save(p *storage.Post, st *storage.SaveStats) error {
	ctx, w := sv.ctx, sv.w
	if p.Key == "" {
		return errors.New("empty identity key")
	}
	hash := p.Hash
	if hash == "" {
		hash = contentHash(p.Title, p.Content)
	}

	// This source's own post, or one Prune deleted?
	var f found
	var creditHash string
	var pruned bool
	err := w.byKey.QueryRowContext(ctx, sv.source, p.Key).Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated, &creditHash, &pruned)
	switch {
	case err == nil && pruned:
		st.Unchanged++ // do not bring it back
		return nil
	case err == nil:
		if hash == creditHash {
			st.Unchanged++
			return nil
		}
		if _, err := w.updateCredit.ExecContext(ctx, hash, sv.source, p.Key); err != nil {
			return fmt.Errorf("update credit: %w", err)
		}
		if hash == f.hash {
			st.Unchanged++
			return nil
		}
		if err := sv.update(f, p, hash); err != nil {
			return err
		}
		st.Updated++
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("find by key: %w", err)
	}

	// Another source's post with the same link?
	if p.Link != "" {
		err = w.byLink.QueryRowContext(ctx, p.Link, sv.source).Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated)
		if err == nil {
			st.New++
			return sv.credit(f.id, p.Key, hash, f.published)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find by link: %w", err)
		}
	}

	// A new post.
	firstSeen := p.FirstSeen
	if firstSeen.IsZero() {
		firstSeen = sv.now
	}
	published := p.Published
	if published.IsZero() {
		published = firstSeen
	}
	updated := p.Updated
	if updated.IsZero() || updated.Before(published) {
		updated = published
	}
	enc, err := encodeEnclosures(p.Enclosures)
	if err != nil {
		return err
	}
	id := storage.PostID(sv.source, p.Key)
	res, err := w.insertPost.ExecContext(ctx, id, p.Key, p.GUID, p.Link, p.Title, p.Content, p.Summary,
		p.Author, p.Image, enc, published.UnixNano(), updated.UnixNano(), firstSeen.UnixNano(), hash)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("insert: %w", err)
	} else if n == 0 {
		// The ID exists: this source carried the key before (its credit
		// was removed since). Credit it again.
		if err := w.byID.QueryRowContext(ctx, id).Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated); err != nil {
			return fmt.Errorf("find by id: %w", err)
		}
		st.New++
		return sv.credit(f.id, p.Key, hash, f.published)
	}
	rid, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	sv.fts = append(sv.fts, ftsDoc{rid: rid, title: p.Title, content: p.Content, summary: p.Summary})
	st.New++
	return sv.credit(id, p.Key, hash, published.UnixNano())
}

// update rewrites a post's content in place, keeping its ID and Published.
func (sv *saver) update(f found, p *storage.Post, hash string) error {
	ctx, w := sv.ctx, sv.w
	updated := p.Updated
	if updated.UnixNano() <= f.updated {
		updated = sv.now
	}
	if updated.UnixNano() <= f.updated { // clock behind a stored date
		updated = fromNano(f.updated + int64(time.Millisecond))
	}
	enc, err := encodeEnclosures(p.Enclosures)
	if err != nil {
		return err
	}
	if _, err := w.updatePost.ExecContext(ctx, p.Title, p.Content, p.Summary, p.Author, p.Image, enc,
		updated.UnixNano(), hash, f.rid); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	sv.fts = append(sv.fts, ftsDoc{rid: f.rid, update: true, title: p.Title, content: p.Content, summary: p.Summary})
	return nil
}

// credit records that this source carries post id; a trigger lists the post
// under the source's category and tags.
func (sv *saver) credit(id, key, hash string, published int64) error {
	ctx, w := sv.ctx, sv.w
	if _, err := w.insertCredit.ExecContext(ctx, id, sv.source, key, hash, published); err != nil {
		return fmt.Errorf("credit: %w", err)
	}
	return nil
}

// contentHash stands in for a Post.Hash the caller left empty.
func contentHash(title, content string) string {
	sum := sha256.Sum256([]byte(title + "\x00" + content))
	return hex.EncodeToString(sum[:8])
}

func encodeEnclosures(es []storage.Enclosure) (string, error) {
	if len(es) == 0 {
		return "", nil
	}
	b, err := json.Marshal(es)
	if err != nil {
		return "", fmt.Errorf("enclosures: %w", err)
	}
	return string(b), nil
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
