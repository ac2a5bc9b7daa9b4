package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// queueLen counts the posts waiting for the search index.
func queueLen(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.read.QueryRowContext(context.Background(), `SELECT count(*) FROM search_queue`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// searchTitles returns the titles a search finds.
func searchTitles(t *testing.T, s *Store, q string) []string {
	t.Helper()
	page, err := s.Posts(context.Background(), storage.Query{Search: q, Limit: 100})
	if err != nil {
		t.Fatalf("Posts(%q): %v", q, err)
	}
	var titles []string
	for _, p := range page.Posts {
		titles = append(titles, p.Title)
	}
	slices.Sort(titles)
	return titles
}

func TestSearchIndexQueue(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a"}, {Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	save := func(source string, posts ...storage.Post) {
		t.Helper()
		if _, err := s.SavePoll(ctx, claimOf(s, source), storage.SourceState{}, posts); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		do     func()
		search map[string][]string
	}{
		{"new posts", func() {
			save("a", storage.Post{Key: "1", Title: "个人所得税 alpha"}, storage.Post{Key: "2", Title: "gamma", Content: "<p>退税指南</p>"})
		}, map[string][]string{"alpha": {"个人所得税 alpha"}, "所得": {"个人所得税 alpha"}, "退税": {"gamma"}}},
		{"changed title", func() {
			save("a", storage.Post{Key: "1", Title: "beta"}, storage.Post{Key: "2", Title: "gamma", Content: "<p>退税指南</p>"})
		}, map[string][]string{"alpha": nil, "所得": nil, "beta": {"beta"}, "退税": {"gamma"}}},
		{"changed twice before indexing", func() {
			save("a", storage.Post{Key: "1", Title: "delta"})
			save("a", storage.Post{Key: "1", Title: "epsilon"})
		}, map[string][]string{"beta": nil, "delta": nil, "epsilon": {"epsilon"}}},
		{"queued and deleted", func() {
			save("b", storage.Post{Key: "3", Title: "zeta"})
			if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a"}}); err != nil { // deletes b's post
				t.Fatal(err)
			}
		}, map[string][]string{"zeta": nil, "epsilon": {"epsilon"}}},
	}
	for _, step := range steps {
		step.do()
		for q, want := range step.search {
			if got := searchTitles(t, s, q); !slices.Equal(got, want) {
				t.Errorf("%s: search %q = %q, want %q", step.name, q, got, want)
			}
		}
		if n := queueLen(t, s); n != 0 {
			t.Errorf("%s: %d posts still queued after a search", step.name, n)
		}
	}
}

// TestSearchIndexAcrossReopen: posts queued by one process (closed before
// indexing them) are indexed by the next, in the background, and found by
// search in any case.
func TestSearchIndexAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "refeed.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	var posts []storage.Post
	for i := range 3*indexBatch/2 + 1 {
		posts = append(posts, storage.Post{Key: fmt.Sprint("k", i), Title: "needle"})
	}
	if _, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, posts); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenAt(t, path)
	deadline := time.Now().Add(30 * time.Second)
	for queueLen(t, s) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := queueLen(t, s); n != 0 {
		t.Errorf("background indexer left %d posts queued", n)
	}
	page, err := s.Posts(ctx, storage.Query{Search: "needle", Limit: len(posts) + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Posts) != len(posts) {
		t.Errorf("search found %d posts, want %d", len(page.Posts), len(posts))
	}
}

// TestSearchCatchUpLargeQueue: a search indexes a queue longer than one
// batch before it runs.
func TestSearchCatchUpLargeQueue(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	s.ix.halt() // only the search indexes
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	var posts []storage.Post
	for i := range 2*indexBatch + 3 {
		posts = append(posts, storage.Post{Key: fmt.Sprint("k", i), Title: "haystack needle"})
	}
	if _, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, posts); err != nil {
		t.Fatal(err)
	}
	page, err := s.Posts(ctx, storage.Query{Search: "needle", Limit: len(posts) + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Posts) != len(posts) {
		t.Errorf("search found %d posts, want %d", len(page.Posts), len(posts))
	}
}

// A search with nothing queued for the index does not wait for the writer:
// it answers while another transaction holds it.
func TestSearchDoesNotWaitForWriter(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a", URL: "https://a.example/", Category: "c"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{{Key: "guid:1", Title: "退税 news"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Posts(ctx, storage.Query{Search: "news", Limit: 5}); err != nil { // indexes what is queued
		t.Fatal(err)
	}
	tx, err := s.write.BeginTx(ctx, nil) // the writer, held as a long batch would
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	page, err := s.Posts(sctx, storage.Query{Search: "退税", Limit: 5})
	if err != nil || len(page.Posts) != 1 {
		t.Fatalf("search while the writer is busy: %d posts, %v", len(page.Posts), err)
	}
}
