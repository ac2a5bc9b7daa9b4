package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/storage"
)

// freshSource writes samples/fresh.xml into dir, with one post from an hour
// ago and one from 2021, and returns the [[source]] block that polls it.
func freshSource(t *testing.T, dir string) string {
	t.Helper()
	recent := time.Now().Add(-time.Hour).Format(time.RFC1123Z)
	feed := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Fresh</title><link>https://fresh.example.com/</link>
<item><title>Recent news</title><link>https://fresh.example.com/recent</link><guid>fresh-recent</guid>
<pubDate>%s</pubDate><description>new</description></item>
<item><title>Old news</title><link>https://fresh.example.com/old</link><guid>fresh-old</guid>
<pubDate>Fri, 01 Jan 2021 08:00:00 +0800</pubDate><description>old</description></item>
</channel></rss>`, recent)
	if err := os.WriteFile(filepath.Join(dir, "samples", "fresh.xml"), []byte(feed), 0o644); err != nil {
		t.Fatal(err)
	}
	return "\n[[source]]\nname = \"fresh\"\nurl = \"file://samples/fresh.xml\"\ncategory = \"markets\"\n"
}

// withStorage returns extra config that sets [storage] keys; it goes after
// the [[source]] blocks, so the table header is repeated as a dotted key.
func withStorage(keys ...string) string {
	var b strings.Builder
	b.WriteString("\n[storage]\n")
	for _, k := range keys {
		b.WriteString(k + "\n")
	}
	return b.String()
}

// feedItems returns the titles and post URLs of a served JSON feed.
func feedItems(t *testing.T, s *serveProc, path string) (titles, ids []string) {
	t.Helper()
	body, code := s.get(t, path)
	if code != 200 {
		t.Fatalf("GET %s: %d", path, code)
	}
	var f struct {
		Items []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	for _, it := range f.Items {
		titles = append(titles, it.Title)
		ids = append(ids, it.ID)
	}
	return titles, ids
}

// waitItems waits until the JSON feed at path has n items.
func waitItems(t *testing.T, s *serveProc, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var titles []string
	for time.Now().Before(deadline) {
		if titles, _ = feedItems(t, s, path); len(titles) == n {
			return titles
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %d items %q, want %d\n%s", path, len(titles), titles, n, s.logText())
	return nil
}

// The cron path: `refeed poll` applies keep_per_source itself, pruned posts
// leave the export, and a forced re-poll does not bring them back.
func TestRetentionPoll(t *testing.T) {
	dir, cfg := siteDir(t, 8080, withStorage("keep_per_source = 1"))
	r := runRefeed(t, "poll", "-c", cfg)
	if r.code != exitOK || !strings.Contains(r.stdout, "10 new") || !strings.Contains(r.stdout, "7 old posts pruned") {
		t.Fatalf("poll: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "pruned old posts") {
		t.Errorf("no prune log line:\n%s", r.stderr)
	}
	r = runRefeed(t, "stats", "-c", cfg)
	counts := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			counts[f[0]] = f[1]
		}
	}
	for _, name := range []string{"chinatax", "shuiwu-policy", "markets"} {
		if counts[name] != "1" {
			t.Errorf("stats: %s has %q posts, want 1:\n%s", name, counts[name], r.stdout)
		}
	}
	if counts["posts"] != "3" {
		t.Errorf("stats: %q posts, want 3:\n%s", counts["posts"], r.stdout)
	}
	r = runRefeed(t, "poll", "-c", cfg, "-force")
	if r.code != exitOK || !strings.Contains(r.stdout, "0 new") || strings.Contains(r.stdout, "pruned") {
		t.Errorf("re-poll brought pruned posts back:\n%s%s", r.stdout, r.stderr)
	}
	out := filepath.Join(dir, "site")
	r = runRefeed(t, "export", "jekyll", "-c", cfg, "-out", out)
	posts, _ := filepath.Glob(filepath.Join(out, "_posts", "*.md"))
	if r.code != exitOK || len(posts) != 3 {
		t.Errorf("export after prune: exit %d, %d posts, want 3\n%s", r.code, len(posts), r.stderr)
	}
	for _, p := range posts {
		// The newest of each source: 6 May 2022.
		if !strings.Contains(filepath.Base(p), "2022-05-06-") {
			t.Errorf("export kept %s, not the newest post of its source", filepath.Base(p))
		}
	}
}

// serve prunes right after its first poll round.
func TestRetentionServeFirstRound(t *testing.T) {
	port := freePort(t)
	_, cfg := siteDir(t, port, withStorage("keep_per_source = 1"))
	s := startServe(t, cfg, port)
	for _, tc := range []struct{ source, newest string }{
		{"chinatax", "国家税务总局"},
		{"shuiwu-policy", ""},
		{"markets", "VAT credit refunds"},
	} {
		titles := waitItems(t, s, "/source/"+tc.source+".json", 1)
		if !strings.Contains(titles[0], tc.newest) {
			t.Errorf("%s kept %q, want its newest post", tc.source, titles[0])
		}
	}
	waitItems(t, s, "/feed.json", 3)
	if !strings.Contains(s.logText(), "pruned old posts") {
		t.Errorf("no prune log line:\n%s", s.logText())
	}
}

// A reload that sets keep prunes at once: old posts leave every feed and
// their pages answer 404; recent ones stay.
func TestRetentionServeReload(t *testing.T) {
	port := freePort(t)
	dir, cfg := siteDir(t, port, "")
	fresh := freshSource(t, dir)
	writeConfig(t, cfg, port, fresh)
	s := startServe(t, cfg, port)
	titles, ids := feedItems(t, s, "/feed.json")
	if len(titles) != 12 {
		t.Fatalf("before keep: %d posts %q, want 12", len(titles), titles)
	}
	var oldPage string
	for i, title := range titles {
		if title == "Old news" {
			oldPage = strings.TrimPrefix(ids[i], s.base)
		}
	}
	if _, code := s.get(t, oldPage); code != 200 {
		t.Fatalf("GET %s before prune: %d", oldPage, code)
	}
	const search = "/search?q=Old+news"
	if body, _ := s.get(t, search); !strings.Contains(body, oldPage) {
		t.Fatalf("GET %s before prune does not find %s", search, oldPage)
	}

	writeConfig(t, cfg, port, fresh+withStorage(`keep = "1d"`))
	s.cmd.Process.Signal(syscall.SIGHUP)
	titles = waitItems(t, s, "/feed.json", 1)
	if titles[0] != "Recent news" {
		t.Errorf("kept %q, want the recent post", titles[0])
	}
	for _, path := range []string{"/category/zhongguoshuiwubao.json", "/source/chinatax.json", "/tag/%E6%94%BF%E7%AD%96%E8%A7%A3%E8%AF%BB.json"} {
		if titles, _ := feedItems(t, s, path); len(titles) != 0 {
			t.Errorf("GET %s after prune: %q", path, titles)
		}
	}
	if _, code := s.get(t, oldPage); code != 404 {
		t.Errorf("GET %s after prune: %d, want 404", oldPage, code)
	}
	if body, _ := s.get(t, search); strings.Contains(body, oldPage) {
		t.Errorf("GET %s after prune still finds %s", search, oldPage)
	}
	if body, _ := s.get(t, "/"); strings.Contains(body, "国家税务总局") && strings.Contains(body, "留抵退税") {
		t.Errorf("home page still lists pruned posts")
	}
}

// fakePruner records what prune asked for.
type fakePruner struct {
	calls     int
	olderThan time.Time
	perSource int
	heldBy    string
}

func (f *fakePruner) AcquireLease(_ context.Context, name, owner string, ttl time.Duration) (storage.Lease, error) {
	if f.heldBy != "" && f.heldBy != owner {
		return storage.Lease{}, storage.ErrLeaseHeld
	}
	f.heldBy = owner
	return storage.Lease{Name: name, Owner: owner, Token: 1}, nil
}

func (f *fakePruner) ReleaseLease(_ context.Context, name, owner string) error {
	if f.heldBy == owner {
		f.heldBy = ""
	}
	return nil
}

func (f *fakePruner) Prune(_ context.Context, olderThan time.Time, perSource int) (int, error) {
	f.calls++
	f.olderThan, f.perSource = olderThan, perSource
	return 2, nil
}

func TestPruneLimits(t *testing.T) {
	now := time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name          string
		keep          time.Duration
		perSource     int
		heldBy        string // another process holds the retention lease
		wantCalls     int
		wantOlderThan time.Time
	}{
		{"no limits", 0, 0, "", 0, time.Time{}},
		{"age", 24 * time.Hour, 0, "", 1, now.Add(-24 * time.Hour)},
		{"count", 0, 5, "", 1, time.Time{}},
		{"both", 365 * 24 * time.Hour, 5000, "", 1, now.Add(-365 * 24 * time.Hour)},
		{"another process prunes", 24 * time.Hour, 0, "other", 0, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg config.Config
			cfg.Storage.Keep, cfg.Storage.KeepPerSource = tc.keep, tc.perSource
			f := &fakePruner{heldBy: tc.heldBy}
			n := prune(context.Background(), log, f, "me", &cfg, now)
			if f.calls != tc.wantCalls || !f.olderThan.Equal(tc.wantOlderThan) || (tc.wantCalls > 0 && f.perSource != tc.perSource) {
				t.Errorf("Prune called %d times with (%v, %d); want %d with (%v, %d)",
					f.calls, f.olderThan, f.perSource, tc.wantCalls, tc.wantOlderThan, tc.perSource)
			}
			if want := 2 * tc.wantCalls; n != want {
				t.Errorf("prune = %d, want %d", n, want)
			}
			if f.heldBy != tc.heldBy {
				t.Errorf("retention lease held by %q after prune, want %q", f.heldBy, tc.heldBy)
			}
		})
	}
}
