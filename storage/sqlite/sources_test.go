package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// TestSourcesCountsFollowChanges: Sources memoises post counts per store
// version; every change to posts must show in the next call.
func TestSourcesCountsFollowChanges(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	s := mustOpen(t, WithNow(func() time.Time { return now }))
	cfg := []storage.SourceConfig{{Name: "a", Category: "x"}, {Name: "b", Category: "x"}}
	if err := s.SyncSources(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	post := func(key string, age time.Duration) storage.Post {
		return storage.Post{Key: key, Title: key, Published: now.Add(-age)}
	}
	for _, step := range []struct {
		name   string
		change func() error
		a, b   int
	}{
		{"empty", func() error { return nil }, 0, 0},
		{"save to a", func() error {
			_, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{post("guid:1", time.Hour), post("guid:2", 2*365*24*time.Hour)})
			return err
		}, 2, 0},
		{"unchanged", func() error { return nil }, 2, 0},
		{"save to b", func() error {
			_, err := s.SavePoll(ctx, claimOf(s, "b"), storage.SourceState{}, []storage.Post{post("guid:3", time.Hour)})
			return err
		}, 2, 1},
		{"prune", func() error {
			_, err := s.Prune(ctx, now.AddDate(-1, 0, 0), 0)
			return err
		}, 1, 1},
		{"remove b", func() error { return s.SyncSources(ctx, cfg[:1]) }, 1, -1},
	} {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		srcs, err := s.Sources(ctx)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got := map[string]int{}
		for _, src := range srcs {
			got[src.Name] = src.Posts
		}
		if n, ok := got["a"]; !ok || n != step.a {
			t.Errorf("%s: a has %d posts (listed %v), want %d", step.name, n, ok, step.a)
		}
		if n, ok := got["b"]; step.b < 0 && ok || step.b >= 0 && n != step.b {
			t.Errorf("%s: b has %d posts (listed %v), want %d", step.name, n, ok, step.b)
		}
		if one, err := s.Source(ctx, "a"); err != nil || one.Posts != step.a {
			t.Errorf("%s: Source(a) = %d posts, %v; want %d", step.name, one.Posts, err, step.a)
		}
	}
}
