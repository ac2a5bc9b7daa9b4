package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

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

func (f found) stored() storage.Stored {
	return storage.Stored{Ref: f.rid, ID: f.id, Hash: f.hash, Published: fromNano(f.published), Updated: fromNano(f.updated)}
}

// errNothingWritten marks a savePoll error raised before the request wrote
// anything (lease lost, no such source): the batch it is in goes on without
// a rollback.
type errNothingWritten struct{ err error }

func (e errNothingWritten) Error() string { return e.err.Error() }
func (e errNothingWritten) Unwrap() error { return e.err }

// savePoll stores one SavePoll request inside the batch transaction whose
// statements are w (see group.go): the source's posts, matched by
// storage.SavePosts' rules, then its poll state, which ends its lease. The
// request's claim must still be the source's newest (the fence). The key
// and link lookups of all the poll's posts are made up front, in two
// queries (prefetch.go), with the same answers.
func (s *Store) savePoll(ctx context.Context, w *writeStmts, r *saveReq) (storage.SaveStats, error) {
	var st storage.SaveStats
	var token int64
	err := w.sourceInfo.QueryRowContext(ctx, r.claim.Source).Scan(&token)
	if errors.Is(err, sql.ErrNoRows) {
		return st, errNothingWritten{fmt.Errorf("source %q: %w", r.claim.Source, storage.ErrNotFound)}
	}
	if err != nil {
		return st, fmt.Errorf("source %q: %w", r.claim.Source, err)
	}
	if token != r.claim.Token {
		return st, errNothingWritten{fmt.Errorf("source %q: claim %d, claimed again since (%d): %w",
			r.claim.Source, r.claim.Token, token, storage.ErrLeaseLost)}
	}
	sv := saver{ctx: ctx, w: w, source: r.claim.Source}
	if !s.onePostLookups {
		if err := sv.prefetch(r.posts); err != nil {
			return st, err
		}
	}
	if st, err = storage.SavePosts(&sv, r.claim.Source, r.posts, s.now().UTC()); err != nil {
		return st, err
	}
	if err := sv.enqueue(); err != nil {
		return st, err
	}
	state := r.state
	if _, err := w.updateSource.ExecContext(ctx,
		state.URL, state.ETag, state.LastModified, state.Title, state.SiteURL,
		unixNano(state.LastPoll), unixNano(state.LastSuccess), state.Status, state.ErrorClass,
		state.Error, state.Failures, unixNano(state.NextPoll), state.Warning, r.claim.Source); err != nil {
		return st, fmt.Errorf("update state: %w", err)
	}
	return st, nil
}

// saver is storage.PostWriter for one source's posts in one transaction.
type saver struct {
	ctx     context.Context
	w       *writeStmts
	source  string
	added   []int64 // rowids of new posts, for the search index
	changed []int64 // rowids of updated posts

	pre      *prefetched    // batch lookups (prefetch.go)
	credited map[int64]bool // rowids of the posts this poll credited to the source
}

var _ storage.PostWriter = (*saver)(nil)

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

// ByKey is findByKey as storage.SavePosts asks it.
func (sv *saver) ByKey(i int, p *storage.Post) (storage.KeyMatch, bool, error) {
	m, ok, err := sv.findByKey(i, p)
	return storage.KeyMatch{Post: m.f.stored(), CreditHash: m.creditHash, Pruned: m.pruned}, ok, err
}

// ByLink is findByLink as storage.SavePosts asks it.
func (sv *saver) ByLink(i int, p *storage.Post) (storage.Stored, bool, error) {
	f, ok, err := sv.findByLink(i, p)
	return f.stored(), ok, err
}

// Insert stores a new post, or finds the one with its ID.
func (sv *saver) Insert(p *storage.Post) (storage.Stored, error) {
	ctx, w := sv.ctx, sv.w
	enc, err := storage.EncodeEnclosures(p.Enclosures)
	if err != nil {
		return storage.Stored{}, err
	}
	res, err := w.insertPost.ExecContext(ctx, p.ID, p.Key, p.GUID, p.Link, p.Title, p.Content, p.Summary,
		p.Author, p.Image, enc, p.Published.UnixNano(), p.Updated.UnixNano(), p.FirstSeen.UnixNano(), p.Hash)
	if err != nil {
		return storage.Stored{}, fmt.Errorf("insert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return storage.Stored{}, fmt.Errorf("insert: %w", err)
	} else if n == 0 {
		var f found
		if err := w.byID.QueryRowContext(ctx, p.ID).Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated); err != nil {
			return storage.Stored{}, fmt.Errorf("find by id: %w", err)
		}
		return f.stored(), nil
	}
	rid, err := res.LastInsertId()
	if err != nil {
		return storage.Stored{}, fmt.Errorf("insert: %w", err)
	}
	sv.added = append(sv.added, rid)
	return storage.Stored{Ref: rid, ID: p.ID, Hash: p.Hash, Published: p.Published, Updated: p.Updated}, nil
}

// Update rewrites a post's content in place, keeping its ID and Published.
func (sv *saver) Update(s storage.Stored, p *storage.Post) error {
	enc, err := storage.EncodeEnclosures(p.Enclosures)
	if err != nil {
		return err
	}
	if _, err := sv.w.updatePost.ExecContext(sv.ctx, p.Title, p.Content, p.Summary, p.Author, p.Image, enc,
		p.Updated.UnixNano(), p.Hash, s.Ref); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	sv.changed = append(sv.changed, s.Ref)
	return nil
}

// Credit records that this source carries s; a trigger lists the post under
// the source's category and tags.
func (sv *saver) Credit(s storage.Stored, key, hash string) error {
	if _, err := sv.w.insertCredit.ExecContext(sv.ctx, s.Ref, s.ID, sv.source, key, hash, unixNano(s.Published)); err != nil {
		return fmt.Errorf("credit: %w", err)
	}
	if sv.credited == nil {
		sv.credited = make(map[int64]bool)
	}
	sv.credited[s.Ref] = true
	return nil
}

// Recredit sets the hash of this source's credit for key.
func (sv *saver) Recredit(key, hash string) error {
	if _, err := sv.w.updateCredit.ExecContext(sv.ctx, hash, sv.source, key); err != nil {
		return fmt.Errorf("update credit: %w", err)
	}
	return nil
}
