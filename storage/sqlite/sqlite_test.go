package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, now func() time.Time) storage.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "refeed.db"), WithNow(now))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestMigrateKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := Open(ctx, path, withMigrations(1))
	if err != nil {
		t.Fatalf("Open(schema 1): %v", err)
	}
	// The store's methods need the latest schema; write a source and a
	// post as schema 1 knew them.
	for _, q := range []string{
		`INSERT INTO sources (name, config_url, category, tags) VALUES ('a', 'https://a.example/', 'x', '["t"]')`,
		`INSERT INTO posts (id, key, title, published, updated, first_seen) VALUES ('00000000000000aa', 'guid:1', '旧文章', 5, 5, 5)`,
		`INSERT INTO post_sources (post_id, source, key, published) VALUES ('00000000000000aa', 'a', 'guid:1', 5)`, // lists it in x
	} {
		if _, err := old.write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(latest): %v", err)
	}
	defer s.Close()
	var v int
	if err := s.read.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	if v != len(ms) || v < 2 {
		t.Errorf("user_version = %d, want %d (>= 2)", v, len(ms))
	}
	page, err := s.Posts(ctx, storage.Query{Category: "x", Limit: 10})
	if err != nil || len(page.Posts) != 1 || page.Posts[0].Title != "旧文章" {
		t.Fatalf("Posts after migration = %+v, %v", page, err)
	}
	if _, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{{Key: "guid:2", Title: "新", Published: time.Now()}}); err != nil {
		t.Errorf("SavePoll after migration: %v", err)
	}
	if _, err := s.Prune(ctx, time.Unix(0, 10), 0); err != nil { // uses tombstones, from migration 2
		t.Errorf("Prune after migration: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening an up-to-date database again is a no-op.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	s2.Close()
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	s := mustOpenAt(t, path)
	if _, err := s.write.ExecContext(ctx, `PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open(newer schema) error = %v", err)
	}
}

func TestQueryPlansUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	cursor := &storage.Cursor{Published: time.Now(), ID: "0123456789abcdef"}
	for _, q := range []storage.Query{
		{}, {Category: "c"}, {Tag: "t"}, {Source: "s"},
		{Before: cursor}, {Category: "c", Before: cursor}, {Tag: "t", Before: cursor}, {Source: "s", Before: cursor},
	} {
		query, args, err := postsQuery(q, 51)
		if err != nil {
			t.Fatal(err)
		}
		plan := queryPlan(ctx, t, s, query, args...)
		text := strings.Join(plan, "\n")
		bad := strings.Contains(text, "TEMP B-TREE")
		for _, line := range plan {
			// A SCAN is fine only along an index (the newest-first walk).
			if strings.HasPrefix(line, "SCAN") && !strings.Contains(line, "INDEX") {
				bad = true
			}
		}
		if bad {
			t.Errorf("%+v: plan does not walk an index:\n%s", q, text)
		}
		if testing.Verbose() {
			t.Logf("%+v:\n%s", q, text)
		}
	}
}

// Finding due sources walks the index sources_due: a scheduling pass costs
// what is due, not the number of sources.
func TestDuePlansUseIndex(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	for _, tc := range []struct {
		query string
		args  []any
	}{
		{pickDueSQL, []any{time.Now().UnixNano(), 10}},
		{nextDueSQL, nil},
	} {
		plan := strings.Join(queryPlan(ctx, t, s, tc.query, tc.args...), "\n")
		if !strings.Contains(plan, "sources_due") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s:\nplan does not walk sources_due:\n%s", tc.query, plan)
		}
	}
}

func TestTombstoneKeepsPrunedPostAway(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := mustOpen(t, WithNow(clock))
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a", Category: "x"}}); err != nil {
		t.Fatal(err)
	}
	old := storage.Post{Key: "guid:old", Title: "old", Published: now.AddDate(-2, 0, 0)}
	if _, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{old}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Prune(ctx, now.AddDate(-1, 0, 0), 0); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	st, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{old})
	if err != nil || st.New != 0 {
		t.Errorf("SavePoll of a pruned post = %+v, %v; want it skipped", st, err)
	}
	// After the tombstone expires the post may come back.
	now = now.Add(tombstoneTTL + time.Hour)
	if _, err := s.Prune(ctx, time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	st, err = s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{old})
	if err != nil || st.New != 1 {
		t.Errorf("SavePoll after expiry = %+v, %v; want it new", st, err)
	}
}

func TestBackupOpens(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a", Category: "x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{{Key: "guid:1", Title: "备份测试", Published: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	b := mustOpenAt(t, path)
	page, err := b.Posts(ctx, storage.Query{Search: "备份测试", Limit: 5})
	if err != nil || len(page.Posts) != 1 {
		t.Errorf("backup Posts = %+v, %v", page, err)
	}
	if err := s.Backup(ctx, filepath.Join(t.TempDir(), "missing", "dir", "b.db")); err == nil {
		t.Errorf("Backup into a missing directory: no error")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, ""); err == nil {
		t.Errorf("Open(\"\"): no error")
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")); err == nil {
		t.Errorf("Open(missing dir): no error")
	}
	s := mustOpen(t)
	if _, err := s.Posts(ctx, storage.Query{}); err == nil {
		t.Errorf("Posts(limit 0): no error")
	}
	if _, err := s.Posts(ctx, storage.Query{Category: "a", Tag: "b", Limit: 1}); err == nil {
		t.Errorf("Posts(category and tag): no error")
	}
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a"}, {Name: "a"}}); err == nil {
		t.Errorf("SyncSources(duplicate): no error")
	}
	if _, err := s.Source(ctx, "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("failed SyncSources left a source: %v", err)
	}
}

func mustOpenAt(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// queryPlan returns the detail lines of EXPLAIN QUERY PLAN for query.
func queryPlan(ctx context.Context, t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// Several processes starting on one new database at once all open it: the
// switch to WAL, which does not wait on busy_timeout, is retried.
func TestOpenNewDatabaseConcurrently(t *testing.T) {
	for round := range 10 {
		path := filepath.Join(t.TempDir(), "refeed.db")
		const n = 6
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				s, err := Open(context.Background(), path)
				if err == nil {
					err = s.SyncSources(context.Background(), []storage.SourceConfig{{Name: "a", URL: "https://a.example/", Category: "c"}})
					s.Close()
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
