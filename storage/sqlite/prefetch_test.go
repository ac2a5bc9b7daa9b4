package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// TestBatchLookupsMatchOnePostLookups runs the same random polls, prunes and
// source changes against a store that looks posts up in batches and one that
// looks them up one at a time, and wants the same stats and the same tables
// after every step. The polls repeat keys and links within a poll and
// across sources, carry keys and links JSON cannot send as they are, and
// come back after Prune (tombstones) and after their source was removed and
// added again (the post is found by its ID).
func TestBatchLookupsMatchOnePostLookups(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			batch := mustOpen(t, WithNow(clock))
			single := mustOpen(t, WithNow(clock), withOnePostLookups())
			stores := []*Store{batch, single}

			all := []storage.SourceConfig{
				{Name: "a", Category: "x", Tags: []string{"t", "u"}},
				{Name: "b", Category: "y"},
				{Name: "c", Tags: []string{"t"}},
			}
			keys := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "键\xff", "k\x00nul", `k"<&>\`}
			links := []string{"", "", "https://e.example/1", "https://e.example/2", "https://e.example/3",
				"https://e.example/\xfe", "https://e.example/\x00"}
			r := rand.New(rand.NewPCG(seed, 99))
			pick := func(ss []string) string { return ss[r.IntN(len(ss))] }

			sources := all
			for _, s := range stores {
				if err := s.SyncSources(ctx, sources); err != nil {
					t.Fatal(err)
				}
			}
			for step := range 300 {
				now = now.Add(time.Hour)
				var what string
				var results []string
				switch n := r.IntN(20); {
				case n == 0: // remove a source, or add them all back
					sources = all
					if r.IntN(2) == 0 {
						i := r.IntN(len(all))
						sources = slices.Delete(slices.Clone(all), i, i+1)
					}
					what = fmt.Sprintf("sync %d sources", len(sources))
					for _, s := range stores {
						err := s.SyncSources(ctx, sources)
						results = append(results, fmt.Sprint(err))
					}
				case n == 1:
					what = "prune"
					for _, s := range stores {
						n, err := s.Prune(ctx, now.Add(-30*time.Hour), 3)
						results = append(results, fmt.Sprint(n, err))
					}
				default:
					src := sources[r.IntN(len(sources))].Name
					posts := make([]storage.Post, 1+r.IntN(8))
					for i := range posts {
						posts[i] = storage.Post{Key: pick(keys), Link: pick(links),
							Title: fmt.Sprint("title ", r.IntN(3)), Hash: fmt.Sprint("h", r.IntN(3))}
						if r.IntN(2) == 0 {
							posts[i].Published = now.Add(-time.Duration(r.IntN(50)) * time.Hour)
						}
					}
					var desc []string
					for _, p := range posts {
						desc = append(desc, fmt.Sprintf("%q %q %s", p.Key, p.Link, p.Hash))
					}
					what = fmt.Sprintf("poll of %s: %s", src, strings.Join(desc, ", "))
					for _, s := range stores {
						st, err := s.SavePoll(ctx, claimOf(s, src), storage.SourceState{Status: storage.StatusOK}, slices.Clone(posts))
						results = append(results, fmt.Sprintf("%+v %v", st, err))
					}
				}
				sameOutcome(t, fmt.Sprintf("step %d, %s", step, what), results, batch, single)
			}
		})
	}
}

// TestBatchLookupsAfterRekey: a source removed and added again first
// carries its old post under another key (matched by link); its old key,
// later in the same poll, finds that post by its ID and re-keys the credit
// (insertCredit's upsert). The prefetched answer for the other key, a
// later post of the poll, no longer holds.
func TestBatchLookupsAfterRekey(t *testing.T) {
	ctx := context.Background()
	batch := mustOpen(t)
	single := mustOpen(t, withOnePostLookups())
	a := storage.SourceConfig{Name: "a", Category: "x"}
	b := storage.SourceConfig{Name: "b", Category: "y"}
	for i, step := range []struct {
		sources []storage.SourceConfig
		source  string
		posts   []storage.Post
	}{
		{sources: []storage.SourceConfig{a, b}},
		{source: "a", posts: []storage.Post{{Key: "old", Link: "https://e.example/1", Hash: "h1"}}},
		{source: "b", posts: []storage.Post{{Key: "b1", Link: "https://e.example/1", Hash: "h1"}}},
		{sources: []storage.SourceConfig{b}},
		{sources: []storage.SourceConfig{a, b}},
		{source: "a", posts: []storage.Post{{Key: "new", Link: "https://e.example/1", Hash: "h1"}}},
		{source: "a", posts: []storage.Post{
			{Key: "old", Link: "https://e.example/1", Hash: "h2"},
			{Key: "new", Link: "https://e.example/1", Hash: "h3"},
		}},
	} {
		var results []string
		for _, s := range []*Store{batch, single} {
			if step.sources != nil {
				results = append(results, fmt.Sprint(s.SyncSources(ctx, step.sources)))
				continue
			}
			st, err := s.SavePoll(ctx, claimOf(s, step.source), storage.SourceState{}, step.posts)
			results = append(results, fmt.Sprintf("%+v %v", st, err))
		}
		sameOutcome(t, fmt.Sprint("step ", i), results, batch, single)
	}
}

// sameOutcome fails t unless a step had the same results and left the
// same tables in the store with batch lookups and the one without.
func sameOutcome(t *testing.T, step string, results []string, batch, single *Store) {
	t.Helper()
	if results[0] != results[1] {
		t.Fatalf("%s: batch lookups gave %s, one-post lookups %s", step, results[0], results[1])
	}
	b, s := dumpTables(t, batch), dumpTables(t, single)
	if b != s {
		t.Fatalf("%s: tables differ:\nbatch lookups:\n%s\none-post lookups:\n%s", step, b, s)
	}
}

// dumpTables prints what SavePoll writes, in a stable order.
func dumpTables(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, key, link, title, hash, published, updated, first_seen FROM posts ORDER BY rid`,
		`SELECT post_id, source, key, hash, published FROM post_sources ORDER BY rowid`,
		`SELECT category, published, post_id FROM post_categories ORDER BY 1, 2, 3`,
		`SELECT tag, published, post_id FROM post_tags ORDER BY 1, 2, 3`,
		`SELECT source, key FROM tombstones ORDER BY 1, 2`,
	} {
		rows, err := s.read.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%q\n", vals)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// TestLookupPlansUseIndexes: the batch lookups walk the array they are given
// and find each key or link through an index, whatever the store holds.
func TestLookupPlansUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	var w writeStmts
	for _, st := range w.statements() {
		if st.dst != &w.byKeys && st.dst != &w.byLinks {
			continue
		}
		plan := queryPlan(ctx, t, s, st.sql, `["k"]`, "s")
		for _, line := range plan {
			if strings.Contains(line, "TEMP B-TREE") ||
				strings.HasPrefix(line, "SCAN") && !strings.HasPrefix(line, "SCAN j VIRTUAL TABLE") {
				t.Errorf("plan of %s\nscans a table:\n%s", st.sql, strings.Join(plan, "\n"))
				break
			}
		}
	}
}
