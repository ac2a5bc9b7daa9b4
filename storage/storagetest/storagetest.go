// Package storagetest is the conformance suite every storage.Store backend
// must pass. A backend's test calls Run with a function that opens a fresh,
// empty store.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call, whose clock is now (the claim and lease cases move it); Run
// closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) storage.Store) {
	tests := []struct {
		name string
		fn   func(f *fixture)
	}{
		{"Insert", testInsert},
		{"NotFound", testNotFound},
		{"UpdateInPlace", testUpdateInPlace},
		{"DedupeByGUID", testDedupeByGUID},
		{"DedupeByLinkAcrossSources", testDedupeByLink},
		{"SameLinkWithinSource", testSameLinkWithinSource},
		{"HashIdentity", testHashIdentity},
		{"Ordering", testOrdering},
		{"CursorPaging", testCursorPaging},
		{"Filters", testFilters},
		{"Search", testSearch},
		{"SearchSyntaxNeverErrors", testSearchSyntax},
		{"SearchWithFilterAndCursor", testSearchFilterCursor},
		{"Recategorise", testRecategorise},
		{"RemoveSource", testRemoveSource},
		{"PollStateRoundTrip", testPollState},
		{"URLChangeResetsValidators", testURLChange},
		{"NotModifiedKeepsPostsAndVersion", testNotModified},
		{"Version", testVersion},
		{"PruneByAge", testPruneByAge},
		{"PrunePerSource", testPrunePerSource},
		{"Stats", testStats},
		{"Backup", testBackup},
		{"Concurrent", testConcurrent},
		{"ClaimDue", testClaimDue},
		{"ClaimNamesForceGone", testClaimNames},
		{"TwoClaimersNeverShare", testClaimersNeverShare},
		{"ExpiredLeaseTakenOver", testLeaseTakeover},
		{"FencedSaveAfterTakeover", testFencedSave},
		{"Release", testRelease},
		{"NextDue", testNextDue},
		{"NamedLease", testNamedLease},
		{"ShortenedIntervalReschedules", testShortenedInterval},
		{"RegisteredConfigs", testRegisteredConfigs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{t: time.Now().UTC()}
			s := open(t, c.Now)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(&fixture{t: t, s: s, ctx: context.Background(), clock: c})
		})
	}
}

// fixture wraps a store with helpers that fail the test on error.
type fixture struct {
	t     *testing.T
	s     storage.Store
	ctx   context.Context
	clock *Clock
}

// Clock is the suite's clock: it starts at the real time, moves on by a
// microsecond at every reading, as a real one would, and jumps when told.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// base is the time the suite's posts are published around, in +0800.
func base() time.Time {
	return time.Date(2025, 3, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
}

// src is a source config in category cat with tags.
func src(name, cat string, tags ...string) storage.SourceConfig {
	return storage.SourceConfig{
		Name: name, URL: "https://" + name + ".example/feed.xml", Category: cat, Tags: tags,
		Interval: 30 * time.Minute,
	}
}

// post is a post with key guid:<key>, a link derived from key, and a
// published time minutes after base.
func post(key, title string, minutes int) storage.Post {
	return storage.Post{
		Key:       "guid:" + key,
		GUID:      key,
		Link:      "https://example.com/a/" + key,
		Title:     title,
		Content:   "<p>" + title + " body</p>",
		Published: base().Add(time.Duration(minutes) * time.Minute),
		Hash:      "h-" + title,
	}
}

func (f *fixture) sync(cfg ...storage.SourceConfig) {
	f.t.Helper()
	if err := f.s.SyncSources(f.ctx, cfg); err != nil {
		f.t.Fatalf("SyncSources: %v", err)
	}
}

// claim force-claims one source by name for the suite's owner.
func (f *fixture) claim(name string) storage.Claim {
	f.t.Helper()
	return Claim(f.t, f.s, name)
}

// Claim force-claims the source name for a test (owner "test", lease one
// hour), failing the test unless the store hands it out: the claim a
// SavePoll outside a poller needs.
func Claim(tb testing.TB, s storage.Store, name string) storage.Claim {
	tb.Helper()
	cs, err := s.Claim(context.Background(), storage.ClaimRequest{Owner: "test", Lease: time.Hour, Limit: 1,
		Names: []string{name}, Force: true})
	if err != nil || len(cs) != 1 {
		tb.Fatalf("Claim(%s): %v, %d claims", name, err, len(cs))
	}
	return cs[0]
}

// Save claims source and stores posts with state, failing the test on an
// error.
func Save(tb testing.TB, s storage.Store, source string, state storage.SourceState, posts ...storage.Post) storage.SaveStats {
	tb.Helper()
	st, err := s.SavePoll(context.Background(), Claim(tb, s, source), state, posts)
	if err != nil {
		tb.Fatalf("SavePoll(%s): %v", source, err)
	}
	return st
}

func (f *fixture) save(source string, posts ...storage.Post) storage.SaveStats {
	f.t.Helper()
	st, err := f.s.SavePoll(f.ctx, f.claim(source), storage.SourceState{Status: storage.StatusOK}, posts)
	if err != nil {
		f.t.Fatalf("SavePoll(%s): %v", source, err)
	}
	return st
}

func (f *fixture) post(id string) storage.Post {
	f.t.Helper()
	p, err := f.s.Post(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Post(%s): %v", id, err)
	}
	return p
}

func (f *fixture) page(q storage.Query) storage.Page {
	f.t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	p, err := f.s.Posts(f.ctx, q)
	if err != nil {
		f.t.Fatalf("Posts(%+v): %v", q, err)
	}
	return p
}

// titles lists the titles of all posts matching q, following cursors.
func (f *fixture) titles(q storage.Query) []string {
	f.t.Helper()
	var out []string
	for _, p := range f.all(q) {
		out = append(out, p.Title)
	}
	return out
}

// all returns all posts matching q, following cursors.
func (f *fixture) all(q storage.Query) []storage.Post {
	f.t.Helper()
	var out []storage.Post
	for range 10000 {
		p := f.page(q)
		out = append(out, p.Posts...)
		if p.Next == nil {
			return out
		}
		q.Before = p.Next
	}
	f.t.Fatalf("Posts(%+v): paging does not end", q)
	return nil
}

func (f *fixture) version() int64 {
	f.t.Helper()
	v, err := f.s.Version(f.ctx)
	if err != nil {
		f.t.Fatalf("Version: %v", err)
	}
	return v
}

func (f *fixture) source(name string) storage.Source {
	f.t.Helper()
	s, err := f.s.Source(f.ctx, name)
	if err != nil {
		f.t.Fatalf("Source(%s): %v", name, err)
	}
	return s
}

// eq fails the test if got and want differ.
func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", want); g != w {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// sameTime fails the test unless got and want are the same instant.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func isNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("%s: error %v, want one wrapping storage.ErrNotFound", what, err)
	}
}

// strs returns list, or nil when it is empty, for comparisons.
func strs(list ...string) []string {
	if len(list) == 0 {
		return nil
	}
	return slices.Clone(list)
}
