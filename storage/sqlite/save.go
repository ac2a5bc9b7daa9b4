package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// savePoll stores one SavePoll request inside the batch transaction whose
// statements are w (see group.go): the source's posts, then its poll state.
//
// Each incoming post is matched, in order, by its key within the source, by
// a tombstone left by Prune (then it is skipped), by its link among other
// sources' posts, and by the ID it would get; otherwise it is inserted. A
// matched post whose content changed (by this source's hash) is updated in
// place: same ID and Published, new Updated. A post first credited to this
// source counts as New even if another source already carried it. The key
// and link lookups of all the poll's posts are made up front, in two
// queries (prefetch.go), with the same answers.
func (s *Store) savePoll(ctx context.Context, w *writeStmts, r *saveReq) (storage.SaveStats, error) {
	var st storage.SaveStats
	var one int
	err := w.sourceInfo.QueryRowContext(ctx, r.source).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("source %q: %w", r.source, storage.ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("source %q: %w", r.source, err)
	}
	sv := saver{ctx: ctx, w: w, source: r.source, now: s.now().UTC()}
	if !s.onePostLookups {
		if err := sv.prefetch(r.posts); err != nil {
			return st, err
		}
	}
	for i := range r.posts {
		if err := sv.save(i, &r.posts[i], &st); err != nil {
			return st, fmt.Errorf("post %q: %w", r.posts[i].Key, err)
		}
	}
	if err := sv.enqueue(); err != nil {
		return st, err
	}
	state := r.state
	if _, err := w.updateSource.ExecContext(ctx,
		state.URL, state.ETag, state.LastModified, state.Title, state.SiteURL,
		unixNano(state.LastPoll), unixNano(state.LastSuccess), state.Status, state.ErrorClass,
		state.Error, state.Failures, unixNano(state.NextPoll), r.source); err != nil {
		return st, fmt.Errorf("update state: %w", err)
	}
	return st, nil
}

// saver holds what SavePoll needs for each post of one source.
type saver struct {
	ctx     context.Context
	w       *writeStmts
	source  string
	now     time.Time
	added   []int64 // rowids of new posts, for the search index
	changed []int64 // rowids of updated posts

	pre      *prefetched    // batch lookups (prefetch.go)
	credited map[int64]bool // rowids of the posts this poll credited to the source
}

// enqueue queues the poll's new and changed posts for the search index,
// which the store builds outside SavePoll (index.go).
func (sv *saver) enqueue() error {
	for _, q := range []struct {
		rids    []int64
		indexed bool
	}{{sv.added, false}, {sv.changed, true}} {
		if len(q.rids) == 0 {
			continue
		}
		b, err := json.Marshal(q.rids)
		if err != nil {
			return fmt.Errorf("queue for search: %w", err)
		}
		if _, err := sv.w.enqueue.ExecContext(sv.ctx, string(b), q.indexed); err != nil {
			return fmt.Errorf("queue for search: %w", err)
		}
	}
	return nil
}

// save stores posts[i] of the poll.
func (sv *saver) save(i int, p *storage.Post, st *storage.SaveStats) error {
	ctx, w := sv.ctx, sv.w
	if p.Key == "" {
		return errors.New("empty identity key")
	}
	hash := p.Hash
	if hash == "" {
		hash = contentHash(p.Title, p.Content)
	}

	// This source's own post, or one Prune deleted?
	m, ok, err := sv.findByKey(i, p)
	if err != nil {
		return err
	}
	switch {
	case ok && m.pruned:
		st.Unchanged++ // do not bring it back
		return nil
	case ok:
		if hash == m.creditHash {
			st.Unchanged++
			return nil
		}
		if _, err := w.updateCredit.ExecContext(ctx, hash, sv.source, p.Key); err != nil {
			return fmt.Errorf("update credit: %w", err)
		}
		if hash == m.f.hash {
			st.Unchanged++
			return nil
		}
		if err := sv.update(m.f, p, hash); err != nil {
			return err
		}
		st.Updated++
		return nil
	}

	// Another source's post with the same link?
	if p.Link != "" {
		f, ok, err := sv.findByLink(i, p)
		if err != nil {
			return err
		}
		if ok {
			st.New++
			return sv.credit(f.rid, f.id, p.Key, hash, f.published)
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
		var f found
		if err := w.byID.QueryRowContext(ctx, id).Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated); err != nil {
			return fmt.Errorf("find by id: %w", err)
		}
		st.New++
		return sv.credit(f.rid, f.id, p.Key, hash, f.published)
	}
	rid, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	sv.added = append(sv.added, rid)
	st.New++
	return sv.credit(rid, id, p.Key, hash, published.UnixNano())
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
	sv.changed = append(sv.changed, f.rid)
	return nil
}

// credit records that this source carries the post with rowid rid and ID
// id; a trigger lists the post under the source's category and tags.
func (sv *saver) credit(rid int64, id, key, hash string, published int64) error {
	ctx, w := sv.ctx, sv.w
	if _, err := w.insertCredit.ExecContext(ctx, rid, id, sv.source, key, hash, published); err != nil {
		return fmt.Errorf("credit: %w", err)
	}
	if sv.credited == nil {
		sv.credited = make(map[int64]bool)
	}
	sv.credited[rid] = true
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
