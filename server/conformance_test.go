package server

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/internal/conformance"
	"github.com/refeed/refeed/storage"
)

// liveServer serves the test store over real HTTP as `refeed serve` does
// (fasthttp, with the fast path), with base_url set to its own address so
// feed links resolve.
func liveServer(t *testing.T, st *fakeStore) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, st)
	opts := s.options()
	opts.Site.BaseURL = "http://" + ln.Addr().String()
	s.SetOptions(opts)
	srv := s.FastServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
		<-done
	})
	return opts.Site.BaseURL
}

// TestCheckFeed runs the shared validator over HTTP on every kind of feed:
// schema, format rules, caching headers and 304s, HTML safety, feedparser.
func TestCheckFeed(t *testing.T) {
	checker := conformance.CheckFeed(t)
	base := liveServer(t, testStore())
	tag := url.PathEscape("中国税务报新闻")
	for _, path := range []string{"/feed", "/category/zhongguoshuiwubao", "/tag/" + tag, "/source/markets"} {
		for _, ext := range []string{"rss", "atom", "json"} {
			target := base + path + "." + ext + "?limit=4"
			t.Run(path+"."+ext, func(t *testing.T) {
				out, err := exec.Command(checker, target, "--expect-format", ext, "--min-items", "1").CombinedOutput()
				if err != nil || !strings.Contains(string(out), " 0 errors, 0 warnings") {
					t.Errorf("check-feed %s: %v\n%s", target, err, out)
				}
			})
		}
	}
}

// TestNewsboat subscribes a real feed reader to the RSS and Atom feeds.
func TestNewsboat(t *testing.T) {
	reader := conformance.NewsboatRead(t)
	st := testStore()
	base := liveServer(t, st)
	for _, ext := range []string{"rss", "atom"} {
		out, err := exec.Command(reader, base+"/category/zhongguoshuiwubao."+ext).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "newsboat-read: 5 items stored") {
			t.Errorf("newsboat-read %s: %v\n%s", ext, err, out)
		}
		if !strings.Contains(string(out), st.posts[0].Title) {
			t.Errorf("newsboat did not store %q:\n%s", st.posts[0].Title, out)
		}
	}
}

const feedparserScript = `
import calendar, json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({"bozo": int(bool(d.bozo)), "entries": [{
    "id": e.get("id"), "title": e.get("title"), "link": e.get("link"),
    "published": calendar.timegm(e.published_parsed) if e.get("published_parsed") else None,
    "tags": [t.get("label") or t.get("term") for t in e.get("tags", [])],
} for e in d.entries]}))
`

// TestFeedparser reads the RSS and Atom feeds with Python's feedparser, as
// many readers do, and checks every item's id, title, link, date and
// categories.
func TestFeedparser(t *testing.T) {
	python := conformance.Feedparser(t)
	st := testStore()
	base := liveServer(t, st)
	page, err := st.Posts(t.Context(), storage.Query{Category: "zhongguoshuiwubao", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"rss", "atom"} {
		out, err := exec.Command(python, "-c", feedparserScript, base+"/category/zhongguoshuiwubao."+ext).Output()
		if err != nil {
			t.Fatalf("feedparser %s: %v", ext, err)
		}
		var got struct {
			Bozo    int `json:"bozo"`
			Entries []struct {
				ID, Title, Link string
				Published       int64
				Tags            []string
			} `json:"entries"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v\n%s", ext, err, out)
		}
		if got.Bozo != 0 || len(got.Entries) != len(page.Posts) {
			t.Fatalf("%s: bozo %d, %d entries, want 0 and %d", ext, got.Bozo, len(got.Entries), len(page.Posts))
		}
		for i, e := range got.Entries {
			p := page.Posts[i]
			if e.ID != feeds.PostURL(base, p.ID) || e.Title != p.Title || e.Link != p.Link {
				t.Errorf("%s entry %d: id %q title %q link %q; want %q %q %q", ext, i, e.ID, e.Title, e.Link, feeds.PostURL(base, p.ID), p.Title, p.Link)
			}
			if !time.Unix(e.Published, 0).Equal(p.Published) {
				t.Errorf("%s entry %d: published %v, want %v", ext, i, time.Unix(e.Published, 0).UTC(), p.Published.UTC())
			}
			if !slices.Contains(e.Tags, "中国税务报新闻") {
				t.Errorf("%s entry %d: categories %q lack the category/tag", ext, i, e.Tags)
			}
		}
	}
}
