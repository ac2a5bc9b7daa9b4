// Package storagetest is the conformance suite every storage.Store backend
// must pass. A backend's test calls Run with a function that opens a fresh,
// empty store.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(&fixture{t: t, s: s, ctx: context.Background()})
		})
	}
}

// fixture wraps a store with helpers that fail the test on error.
type fixture struct {
	t   *testing.T
	s   storage.Store
	ctx context.Context
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

func (f *fixture) save(source string, posts ...storage.Post) storage.SaveStats {
	f.t.Helper()
	st, err := f.s.SavePoll(f.ctx, source, storage.SourceState{Status: storage.StatusOK}, posts)
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
