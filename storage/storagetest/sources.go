package storagetest

import (
	"errors"
	"time"

	"github.com/refeed/refeed/storage"
)

func testRecategorise(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "t1"), src("b", "x", "t1"))
	f.save("a", post("1", "one", 1), post("2", "two", 2))
	f.save("b", post("3", "three", 3))
	v := f.version()
	f.sync(src("a", "y", "t2", "t3"), src("b", "x", "t1"))
	if f.version() == v {
		t.Errorf("Version unchanged after a source changed category")
	}
	eq(t, "category x", f.titles(storage.Query{Category: "x"}), []string{"three"})
	eq(t, "category y", f.titles(storage.Query{Category: "y"}), []string{"two", "one"})
	eq(t, "tag t1", f.titles(storage.Query{Tag: "t1"}), []string{"three"})
	eq(t, "tag t3", f.titles(storage.Query{Tag: "t3"}), []string{"two", "one"})
	p := f.post(storage.PostID("a", "guid:1"))
	eq(t, "Categories", p.Categories, []string{"y"})
	eq(t, "Tags", p.Tags, []string{"t2", "t3"})
	s := f.source("a")
	eq(t, "Category", s.Category, "y")
	eq(t, "Tags", s.Tags, []string{"t2", "t3"})

	// New posts follow the new category too.
	f.save("a", post("4", "four", 4))
	eq(t, "category y after", f.titles(storage.Query{Category: "y"}), []string{"four", "two", "one"})
}

func testRemoveSource(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "ta"), src("b", "y", "tb"))
	own := post("own", "only a", 1)
	shared := post("shared", "both", 2)
	sharedB := shared
	sharedB.Key = "guid:b-shared"
	f.save("a", own, shared)
	f.save("b", sharedB)

	f.sync(src("b", "y", "tb"))
	srcs, err := f.s.Sources(f.ctx)
	if err != nil {
		t.Fatalf("Sources: %v", err)
	}
	if len(srcs) != 1 || srcs[0].Name != "b" {
		t.Errorf("Sources = %+v, want only b", srcs)
	}
	_, err = f.s.Source(f.ctx, "a")
	isNotFound(t, "Source(removed)", err)
	_, err = f.s.Post(f.ctx, storage.PostID("a", "guid:own"))
	isNotFound(t, "Post(only credited by the removed source)", err)

	p := f.post(storage.PostID("a", "guid:shared"))
	eq(t, "Sources", p.Sources, []string{"b"})
	eq(t, "Categories", p.Categories, []string{"y"})
	eq(t, "Tags", p.Tags, []string{"tb"})
	eq(t, "all", f.titles(storage.Query{}), []string{"both"})
	eq(t, "source a", f.titles(storage.Query{Source: "a"}), strs())
	eq(t, "category x", f.titles(storage.Query{Category: "x"}), strs())
	eq(t, "tag ta", f.titles(storage.Query{Tag: "ta"}), strs())
	eq(t, "search", f.titles(storage.Query{Search: "only a"}), strs())

	// Added back, it starts afresh.
	f.sync(src("a", "x", "ta"), src("b", "y", "tb"))
	eq(t, "re-added state", f.source("a").State.ETag, "")
	eq(t, "re-added save", f.save("a", own), storage.SaveStats{New: 1})
}

func fullState() storage.SourceState {
	at := base().Add(10 * time.Minute)
	return storage.SourceState{
		URL: "https://a.example/moved.xml", ETag: `W/"abc"`, LastModified: "Sat, 01 Mar 2025 00:10:00 GMT",
		Title: "国家税务总局", SiteURL: "https://a.example/", LastPoll: at, LastSuccess: at.Add(-time.Hour),
		Status: storage.StatusError, ErrorClass: "timeout", Error: "context deadline exceeded", Failures: 3,
		NextPoll: at.Add(40 * time.Minute), Warning: "charset: declared utf-8, decoded as gb18030",
	}
}

func sameState(f *fixture, what string, got, want storage.SourceState) {
	t := f.t
	t.Helper()
	sameTime(t, what+" LastPoll", got.LastPoll, want.LastPoll)
	sameTime(t, what+" LastSuccess", got.LastSuccess, want.LastSuccess)
	sameTime(t, what+" NextPoll", got.NextPoll, want.NextPoll)
	got.LastPoll, got.LastSuccess, got.NextPoll = time.Time{}, time.Time{}, time.Time{}
	want.LastPoll, want.LastSuccess, want.NextPoll = time.Time{}, time.Time{}, time.Time{}
	eq(t, what, got, want)
}

func testPollState(f *fixture) {
	t := f.t
	cfg := src("a", "x", "t")
	f.sync(cfg)
	s := f.source("a")
	eq(t, "config", s.SourceConfig, cfg)
	eq(t, "new state URL", s.State.URL, cfg.URL)
	eq(t, "new state status", s.State.Status, storage.StatusNew)
	if !s.State.LastPoll.IsZero() || !s.State.NextPoll.IsZero() {
		t.Errorf("new source has times: %+v", s.State)
	}

	want := fullState()
	if _, err := f.s.SavePoll(f.ctx, f.claim("a"), want, nil); err != nil {
		t.Fatalf("SavePoll: %v", err)
	}
	sameState(f, "state", f.source("a").State, want)

	// An unchanged config keeps the state; so does a changed interval.
	f.sync(cfg)
	sameState(f, "after sync", f.source("a").State, want)
	cfg.Interval = time.Hour
	f.sync(cfg)
	sameState(f, "after interval change", f.source("a").State, want)
	eq(t, "interval", f.source("a").Interval, time.Hour)

	srcs, err := f.s.Sources(f.ctx)
	if err != nil || len(srcs) != 1 {
		t.Fatalf("Sources = %v, %v", srcs, err)
	}
	sameState(f, "Sources()", srcs[0].State, want)
}

func testURLChange(f *fixture) {
	t := f.t
	cfg := src("a", "x")
	f.sync(cfg)
	st := fullState()
	if _, err := f.s.SavePoll(f.ctx, f.claim("a"), st, nil); err != nil {
		t.Fatalf("SavePoll: %v", err)
	}
	cfg.URL = "https://new.example/rss"
	f.sync(cfg)
	got := f.source("a")
	eq(t, "configured URL", got.URL, cfg.URL)
	want := st
	want.URL, want.ETag, want.LastModified = cfg.URL, "", ""
	sameState(f, "state", got.State, want)
}

func testNotModified(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	f.save("a", post("1", "one", 1), post("2", "two", 2))
	v := f.version()

	st := storage.SourceState{Status: storage.StatusNotModified, ETag: `"e2"`, LastPoll: base().Add(time.Hour)}
	got, err := f.s.SavePoll(f.ctx, f.claim("a"), st, nil)
	if err != nil {
		t.Fatalf("SavePoll(304): %v", err)
	}
	eq(t, "stats", got, storage.SaveStats{})
	eq(t, "posts", f.titles(storage.Query{}), []string{"two", "one"})
	if f.version() != v {
		t.Errorf("Version changed by a 304")
	}
	s := f.source("a")
	eq(t, "Status", s.State.Status, storage.StatusNotModified)
	eq(t, "ETag", s.State.ETag, `"e2"`)
	sameTime(t, "LastPoll", s.State.LastPoll, st.LastPoll)

	// Unchanged posts do not change the version either.
	f.save("a", post("1", "one", 1), post("2", "two", 2))
	if f.version() != v {
		t.Errorf("Version changed by a poll of unchanged posts")
	}
}

func testVersion(f *fixture) {
	t := f.t
	v0 := f.version()
	f.sync(src("a", "x"))
	v1 := f.version()
	if v1 == v0 {
		t.Errorf("Version unchanged after adding a source")
	}
	f.sync(src("a", "x"))
	if f.version() != v1 {
		t.Errorf("Version changed by an identical sync")
	}
	f.save("a", post("1", "one", 1))
	v2 := f.version()
	if v2 == v1 {
		t.Errorf("Version unchanged after a new post")
	}
	p := post("1", "one, edited", 1)
	f.save("a", p)
	if f.version() == v2 {
		t.Errorf("Version unchanged after an edited post")
	}
	// A failed SavePoll changes nothing.
	v3 := f.version()
	bad := post("", "no key", 1)
	bad.Key = ""
	if _, err := f.s.SavePoll(f.ctx, f.claim("a"), storage.SourceState{ETag: "new"}, []storage.Post{post("9", "nine", 9), bad}); err == nil {
		t.Errorf("SavePoll of a post without a key: no error")
	} else if errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SavePoll of a post without a key: %v", err)
	}
	if f.version() != v3 {
		t.Errorf("Version changed by a failed SavePoll")
	}
	eq(t, "ETag after failed SavePoll", f.source("a").State.ETag, "")
	eq(t, "posts after failed SavePoll", f.titles(storage.Query{}), []string{"one, edited"})
}
