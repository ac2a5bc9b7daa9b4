package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Stored is a stored post as a backend finds it for SavePosts.
type Stored struct {
	Ref       int64 // the backend's own handle for the row (a rowid); opaque here
	ID        string
	Hash      string // the post's content hash
	Published time.Time
	Updated   time.Time
}

// KeyMatch is what a backend finds for a post's identity key within one
// source: that source's post with the hash its credit holds, or a
// tombstone Prune left (Pruned).
type KeyMatch struct {
	Post       Stored
	CreditHash string
	Pruned     bool
}

// PostWriter is what a backend gives SavePosts: lookups and writes for one
// source's posts inside the backend's transaction. Each answer must see the
// writes made before it in the same SavePosts call.
type PostWriter interface {
	// ByKey finds the source's post (or tombstone) with p.Key; i is p's
	// index in the poll, for backends that looked up many at once.
	ByKey(i int, p *Post) (KeyMatch, bool, error)
	// ByLink finds another source's post with link p.Link (p.Link != ""):
	// the first stored, and never one this source carries already (feeds
	// that give every item their home page as link must not collapse).
	ByLink(i int, p *Post) (Stored, bool, error)
	// Insert stores p as a new post with ID, Published, Updated, FirstSeen
	// and Hash set. If a post with p.ID exists already (this source carried
	// the key before and lost its credit since), it stores nothing and
	// returns that post.
	Insert(p *Post) (Stored, error)
	// Update rewrites s's title, content, summary, author, image,
	// enclosures, Updated and Hash from p, keeping its ID and Published.
	Update(s Stored, p *Post) error
	// Credit records that the source carries s under key with the content
	// hash it delivered; the post is listed under the source's category and
	// tags.
	Credit(s Stored, key, hash string) error
	// Recredit sets the hash of the source's existing credit for key.
	Recredit(key, hash string) error
}

// SavePosts is refeed's identity and dedupe rule, the same on every
// backend. Each incoming post is matched, in order:
//
//  1. by its key within the source (GUID, else link, else hash: see the
//     normaliser): if Prune left a tombstone there, it is skipped, so a
//     post still in its feed does not come back; if its content (by this
//     source's last delivered hash) changed, it is updated in place: same
//     ID and Published, a new Updated;
//  2. by its link among other sources' posts: the source is credited with
//     that post (one post in both sources' categories and tags);
//  3. otherwise it is inserted with the ID PostID(source, key) — or, if
//     that ID exists (the source carried it before), credited again.
//
// A post first credited to this source counts as New even if another source
// carried it already. now is the store's clock, for FirstSeen and Updated.
// SavePosts fills in the Hash, and for new posts the ID and times, of the
// posts it is given.
func SavePosts(w PostWriter, source string, posts []Post, now time.Time) (SaveStats, error) {
	var st SaveStats
	for i := range posts {
		if err := savePost(w, source, i, &posts[i], now, &st); err != nil {
			return st, fmt.Errorf("post %q: %w", posts[i].Key, err)
		}
	}
	return st, nil
}

func savePost(w PostWriter, source string, i int, p *Post, now time.Time, st *SaveStats) error {
	if p.Key == "" {
		return errors.New("empty identity key")
	}
	if p.Hash == "" {
		p.Hash = ContentHash(p.Title, p.Content)
	}
	m, ok, err := w.ByKey(i, p)
	if err != nil {
		return err
	}
	switch {
	case ok && m.Pruned:
		st.Unchanged++
		return nil
	case ok:
		if p.Hash == m.CreditHash {
			st.Unchanged++
			return nil
		}
		if err := w.Recredit(p.Key, p.Hash); err != nil {
			return err
		}
		if p.Hash == m.Post.Hash { // another source's copy of it changed it back
			st.Unchanged++
			return nil
		}
		p.Updated = UpdatedTime(p.Updated, m.Post.Updated, now)
		if err := w.Update(m.Post, p); err != nil {
			return err
		}
		st.Updated++
		return nil
	}
	if p.Link != "" {
		s, ok, err := w.ByLink(i, p)
		if err != nil {
			return err
		}
		if ok {
			st.New++
			return w.Credit(s, p.Key, p.Hash)
		}
	}
	NewPostTimes(p, now)
	p.ID = PostID(source, p.Key)
	s, err := w.Insert(p)
	if err != nil {
		return err
	}
	st.New++
	return w.Credit(s, p.Key, p.Hash)
}

// NewPostTimes fills in a new post's times: FirstSeen is now unless set,
// Published is FirstSeen unless set, Updated is Published unless it is set
// and not before it.
func NewPostTimes(p *Post, now time.Time) {
	if p.FirstSeen.IsZero() {
		p.FirstSeen = now
	}
	if p.Published.IsZero() {
		p.Published = p.FirstSeen
	}
	if p.Updated.IsZero() || p.Updated.Before(p.Published) {
		p.Updated = p.Published
	}
}

// UpdatedTime is a changed post's new Updated: the feed's own date if it is
// later than the stored one, else now, and never at or before the stored
// one (a clock behind a stored date moves it by a millisecond), so readers
// that compare dates see the change.
func UpdatedTime(incoming, stored, now time.Time) time.Time {
	t := incoming
	if !t.After(stored) {
		t = now
	}
	if !t.After(stored) {
		t = stored.Add(time.Millisecond)
	}
	return t
}

// ContentHash is a post's content hash: the hex SHA-256 of its title, a NUL
// and its content, which SavePosts compares to tell a changed post. It is
// hashed without concatenating the strings first (articles are long).
func ContentHash(title, content string) string {
	h := sha256.New()
	var buf [4096]byte // the strings go through it: io.WriteString would copy each whole
	for _, s := range []string{title, "\x00", content} {
		for len(s) > 0 {
			n := copy(buf[:], s)
			h.Write(buf[:n])
			s = s[n:]
		}
	}
	return hex.EncodeToString(h.Sum(make([]byte, 0, sha256.Size)))
}
