package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/refeed/refeed/storage"
)

// Batch lookups. savePoll matches each incoming post by its key, then by its
// link (storage.SavePosts). Asked one post at a time, that is two queries
// per new post, whose cost is mostly database/sql's and the driver's
// per-query work, not SQLite's (BenchmarkSavePollConcurrent). So savePoll
// first looks up the keys of all its posts in one query, then the links of
// those no key matched in another; only the keys and links of this poll's
// posts are sent, never the source's stored posts.
//
// The answers are what the one-at-a-time queries would have returned if
// they ran before the poll's first post was saved. Saving a post changes
// the answer for a later post of the same poll only when
//   - the later post repeats the key of an earlier one (it would now find
//     the earlier post, or its updated credit), or
//   - the post matched was credited to this source by an earlier post of
//     the poll: a link does not match a post the source carries, and a
//     credit that existed may have been re-keyed (insertCredit's upsert).
//
// Nothing else a poll writes changes them: its new posts and credits carry
// this source's other keys, links of posts it carries do not match, and
// links, tombstones and other sources' credits do not change. So for those
// two cases, and for keys or links JSON cannot carry unchanged, save asks
// the one-at-a-time queries (prefetched.usable).

// keyMatch is what byKey finds for a key: this source's post and the hash
// its credit holds, or a tombstone (pruned).
type keyMatch struct {
	f          found
	creditHash string
	pruned     bool
}

// prefetched is one poll's batch lookups, by post index.
type prefetched struct {
	keyHit  []bool // keys[i] holds a match
	keys    []keyMatch
	linked  []bool // the link of post i was looked up
	linkHit []bool
	links   []found
	alone   []bool // post i is looked up on its own, after the posts before it are saved
}

// sendable reports whether s survives a trip through a JSON array into
// json_each unchanged: Go's encoder replaces invalid UTF-8, and SQLite's
// text stops at a NUL.
func sendable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// jsonStrings encodes ss as a JSON array of strings.
func jsonStrings(ss []string) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ss); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// prefetch runs the batch lookups for posts.
func (sv *saver) prefetch(posts []storage.Post) error {
	n := len(posts)
	pf := prefetched{keyHit: make([]bool, n), keys: make([]keyMatch, n), linked: make([]bool, n),
		linkHit: make([]bool, n), links: make([]found, n), alone: make([]bool, n)}
	sv.pre = &pf
	seen := make(map[string]bool, n)
	var keys []string
	var idx []int // post index of keys[j]
	for i := range posts {
		k := posts[i].Key
		if seen[k] || !sendable(k) {
			pf.alone[i] = true
		} else {
			keys = append(keys, k)
			idx = append(idx, i)
		}
		seen[k] = true
	}
	if len(keys) == 0 {
		return nil
	}
	arg, err := jsonStrings(keys)
	if err != nil {
		return fmt.Errorf("find by key: %w", err)
	}
	rows, err := sv.w.byKeys.QueryContext(sv.ctx, arg, sv.source)
	if err != nil {
		return fmt.Errorf("find by key: %w", err)
	}
	for rows.Next() {
		var j int
		var m keyMatch
		if err := rows.Scan(&j, &m.f.rid, &m.f.id, &m.f.hash, &m.f.published, &m.f.updated, &m.creditHash, &m.pruned); err != nil {
			rows.Close()
			return fmt.Errorf("find by key: %w", err)
		}
		if j < 0 || j >= len(idx) {
			rows.Close()
			return fmt.Errorf("find by key: index %d out of range", j)
		}
		i := idx[j]
		// byKey prefers a credit to a tombstone.
		if !pf.keyHit[i] || !m.pruned {
			pf.keyHit[i], pf.keys[i] = true, m
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("find by key: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find by key: %w", err)
	}

	// The links of the posts no key matched.
	var links []string
	idx = idx[:0]
	for i := range posts {
		l := posts[i].Link
		if pf.alone[i] || pf.keyHit[i] || l == "" || !sendable(l) {
			continue
		}
		pf.linked[i] = true
		links = append(links, l)
		idx = append(idx, i)
	}
	if len(links) == 0 {
		return nil
	}
	if arg, err = jsonStrings(links); err != nil {
		return fmt.Errorf("find by link: %w", err)
	}
	rows, err = sv.w.byLinks.QueryContext(sv.ctx, arg, sv.source)
	if err != nil {
		return fmt.Errorf("find by link: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var j int
		var f found
		if err := rows.Scan(&j, &f.rid, &f.id, &f.hash, &f.published, &f.updated); err != nil {
			return fmt.Errorf("find by link: %w", err)
		}
		if j < 0 || j >= len(idx) {
			return fmt.Errorf("find by link: index %d out of range", j)
		}
		pf.linkHit[idx[j]], pf.links[idx[j]] = true, f
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find by link: %w", err)
	}
	return rows.Close()
}

// findByKey is byKey for post i of the poll: prefetched if that answer
// still holds, else asked now. ok is false when nothing matched.
func (sv *saver) findByKey(i int, p *storage.Post) (m keyMatch, ok bool, err error) {
	if pf := sv.pre; pf != nil && !pf.alone[i] {
		m, ok = pf.keys[i], pf.keyHit[i]
		if !ok || m.pruned || !sv.credited[m.f.rid] {
			return m, ok, nil
		}
	}
	err = sv.w.byKey.QueryRowContext(sv.ctx, sv.source, p.Key).Scan(&m.f.rid, &m.f.id, &m.f.hash,
		&m.f.published, &m.f.updated, &m.creditHash, &m.pruned)
	switch {
	case err == nil:
		return m, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return m, false, nil
	}
	return m, false, fmt.Errorf("find by key: %w", err)
}

// findByLink is byLink for post i of the poll, which no key matched.
func (sv *saver) findByLink(i int, p *storage.Post) (f found, ok bool, err error) {
	if pf := sv.pre; pf != nil && !pf.alone[i] && pf.linked[i] {
		f, ok = pf.links[i], pf.linkHit[i]
		if !ok || !sv.credited[f.rid] {
			return f, ok, nil
		}
	}
	err = sv.w.byLink.QueryRowContext(sv.ctx, p.Link, sv.source).Scan(&f.rid, &f.id, &f.hash, &f.published, &f.updated)
	switch {
	case err == nil:
		return f, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return f, false, nil
	}
	return f, false, fmt.Errorf("find by link: %w", err)
}
