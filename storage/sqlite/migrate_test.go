package sqlite

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// TestMigrateRidKeys builds a schema-3 database (join tables keyed by post
// id) and checks that migration 4 (keyed by rid as well) keeps every
// listing, its order and cursors, each post's sources in first-seen order,
// and the cascades.
func TestMigrateRidKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := Open(ctx, path, withMigrations(3))
	if err != nil {
		t.Fatalf("Open(schema 3): %v", err)
	}
	// Posts 1-3 share a published time, so the listings order them by ID;
	// the ids are not in rid order. b credits post 2 before a does.
	for _, q := range []string{
		`INSERT INTO sources (name, config_url, category, tags) VALUES ('a', 'https://a.example/', 'x', '["t","u"]')`,
		`INSERT INTO sources (name, config_url, category, tags) VALUES ('b', 'https://b.example/', 'y', '["t"]')`,
		`INSERT INTO posts (rid, id, key, title, published, updated, first_seen) VALUES
			(1, '00000000000000cc', 'k1', '一', 5, 5, 5),
			(2, '00000000000000aa', 'k2', '二', 5, 5, 5),
			(3, '00000000000000bb', 'k3', '三', 5, 5, 5),
			(4, '0000000000000001', 'k4', '四', 9, 9, 9)`,
		`INSERT INTO post_sources (post_id, source, key, published) VALUES
			('00000000000000cc', 'a', 'k1', 5),
			('00000000000000aa', 'b', 'k2', 5),
			('00000000000000aa', 'a', 'k2', 5),
			('00000000000000bb', 'b', 'k3', 5),
			('0000000000000001', 'a', 'k4', 9)`,
	} {
		if _, err := old.write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s := mustOpenAt(t, path)
	for _, tc := range []struct {
		q    storage.Query
		want []string
	}{
		{storage.Query{}, []string{"0000000000000001", "00000000000000cc", "00000000000000bb", "00000000000000aa"}},
		{storage.Query{Category: "x"}, []string{"0000000000000001", "00000000000000cc", "00000000000000aa"}},
		{storage.Query{Category: "y"}, []string{"00000000000000bb", "00000000000000aa"}},
		{storage.Query{Tag: "t"}, []string{"0000000000000001", "00000000000000cc", "00000000000000bb", "00000000000000aa"}},
		{storage.Query{Tag: "u"}, []string{"0000000000000001", "00000000000000cc", "00000000000000aa"}},
		{storage.Query{Source: "b"}, []string{"00000000000000bb", "00000000000000aa"}},
	} {
		// One post a page: every step goes through a cursor.
		var got []string
		q := tc.q
		q.Limit = 1
		for {
			page, err := s.Posts(ctx, q)
			if err != nil {
				t.Fatalf("Posts(%+v): %v", q, err)
			}
			for _, p := range page.Posts {
				got = append(got, p.ID)
			}
			if page.Next == nil {
				break
			}
			q.Before = page.Next
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Posts(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}

	p, err := s.Post(ctx, "00000000000000aa")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Sources, []string{"b", "a"}) || !slices.Equal(p.Categories, []string{"y", "x"}) ||
		!slices.Equal(p.Tags, []string{"t", "u"}) {
		t.Errorf("post aa: sources %v categories %v tags %v, want [b a] [y x] [t u]", p.Sources, p.Categories, p.Tags)
	}

	// Known keys stay known; a new post is listed through the new trigger.
	st, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{
		{Key: "k1", Title: "一"}, {Key: "k5", Title: "五", Published: time.Unix(0, 7)},
	})
	if err != nil || st.New != 1 {
		t.Fatalf("SavePoll = %+v, %v; want 1 new", st, err)
	}
	page, err := s.Posts(ctx, storage.Query{Tag: "u", Limit: 2})
	if err != nil || len(page.Posts) != 2 || page.Posts[1].Title != "五" {
		t.Errorf("tag u after SavePoll = %+v, %v", page.Posts, err)
	}

	// Removing b deletes the post only b carried and unlists aa from y.
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a", URL: "https://a.example/", Category: "x", Tags: []string{"t", "u"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, "00000000000000bb"); err == nil {
		t.Error("post bb survived its only source")
	}
	for _, table := range []string{"post_sources", "post_categories", "post_tags"} {
		var n int
		if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` x
			WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.rid = x.post_rid AND p.id = x.post_id)`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows whose post_rid and post_id disagree (%v)", table, n, err)
		}
	}
	page, err = s.Posts(ctx, storage.Query{Category: "y", Limit: 10})
	if err != nil || len(page.Posts) != 0 {
		t.Errorf("category y after removing b = %+v, %v", page.Posts, err)
	}
	// Migrations spill sorts to files; the store's own work keeps them in memory.
	var tempStore int
	if err := s.write.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&tempStore); err != nil || tempStore != 2 {
		t.Errorf("temp_store after migrating = %d, %v; want 2 (MEMORY)", tempStore, err)
	}
	var check string
	if err := s.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	rows, err := s.read.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("foreign_key_check reports violations")
	}
	rows.Close()
}

// Upgrading an existing database says so (it can take a minute on a large
// one); creating a new one says nothing.
func TestMigrateLogsUpgrades(t *testing.T) {
	ctx := context.Background()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		from    int // 0: a new database
		upgrade int // upgrade lines wanted
	}{
		{"new database", 0, 0},
		{"from schema 2", 2, len(ms) - 2},
		{"up to date", -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "refeed.db")
			if tc.from != 0 {
				opts := []Option{}
				if tc.from > 0 {
					opts = append(opts, withMigrations(tc.from))
				}
				old, err := Open(ctx, path, opts...)
				if err != nil {
					t.Fatal(err)
				}
				old.Close()
			}
			var logs bytes.Buffer
			s, err := Open(ctx, path, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if got := strings.Count(logs.String(), "upgrading the database schema"); got != tc.upgrade {
				t.Errorf("%d upgrade lines, want %d:\n%s", got, tc.upgrade, logs.String())
			}
			if got := strings.Count(logs.String(), "database schema upgraded"); got != tc.upgrade {
				t.Errorf("%d upgraded lines, want %d:\n%s", got, tc.upgrade, logs.String())
			}
		})
	}
}
