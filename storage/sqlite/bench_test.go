package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/storagetest"
)

func benchStore(b *testing.B, sources int) *Store {
	s := mustOpen(b)
	var cfg []storage.SourceConfig
	for i := range sources {
		cfg = append(cfg, storage.SourceConfig{Name: fmt.Sprint("s", i), Category: fmt.Sprint("c", i%10), Tags: []string{"t", fmt.Sprint("t", i%7)}})
	}
	if err := s.SyncSources(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSavePoll stores polls of 50 new posts each.
func BenchmarkSavePoll(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 100)
	const perPoll = 50
	n := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		posts := make([]storage.Post, perPoll)
		for k := range posts {
			posts[k] = storagetest.BenchPost(n)
			n++
		}
		if _, err := s.SavePoll(ctx, claimOf(s, fmt.Sprint("s", i%100)), storage.SourceState{Status: storage.StatusOK}, posts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkSavePollConcurrent stores polls of 50 new posts each from 8
// goroutines at once, as Poll's workers do: calls that wait for the writer
// share a transaction (group.go).
func BenchmarkSavePollConcurrent(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 100)
	const perPoll, workers = 50, 8
	// Text for 1,000 posts made up front, so that the benchmark measures
	// storing rather than making text.
	texts := make([]storage.Post, 1000)
	for i := range texts {
		texts[i] = storagetest.BenchPost(i)
	}
	var next atomic.Int64
	b.SetParallelism((workers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			posts := make([]storage.Post, perPoll)
			for k := range posts {
				n := i*perPoll + k
				p := texts[n%len(texts)]
				p.Key, p.GUID = fmt.Sprintf("guid:post-%d", n), fmt.Sprintf("post-%d", n)
				p.Link = fmt.Sprintf("https://example.com/article/%d.html", n)
				p.Published, p.Hash = time.Unix(1700000000+int64(n), 0), fmt.Sprintf("h%d", n)
				posts[k] = p
			}
			if _, err := s.SavePoll(ctx, claimOf(s, fmt.Sprint("s", i%100)), storage.SourceState{Status: storage.StatusOK}, posts); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(int(next.Load())*perPoll)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkSavePollUnchanged re-polls 50 posts that are already stored, the
// common case.
func BenchmarkSavePollUnchanged(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 1)
	posts := make([]storage.Post, 50)
	for k := range posts {
		posts[k] = storagetest.BenchPost(k)
	}
	if _, err := s.SavePoll(ctx, claimOf(s, "s0"), storage.SourceState{}, posts); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.SavePoll(ctx, claimOf(s, "s0"), storage.SourceState{Status: storage.StatusOK}, posts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "posts/s")
}

// bulkInsert writes n posts straight into the tables, in one transaction,
// spread over the sources of benchStore; no search index.
func bulkInsert(b *testing.B, s *Store, n, sources int) {
	ctx := context.Background()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO posts (id, key, title, content, published, updated, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		credit, err := tx.PrepareContext(ctx, `INSERT INTO post_sources (post_rid, post_id, source, key, published) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for i := range n {
			src := i % sources
			key := fmt.Sprint("guid:", i)
			id := storage.PostID(fmt.Sprint("s", src), key)
			pub := time.Unix(1700000000+int64(i/3), 0).UnixNano() // ties on published
			res, err := ins.ExecContext(ctx, id, key, fmt.Sprint("title ", i), "<p>body</p>", pub, pub, pub)
			if err != nil {
				return err
			}
			rid, err := res.LastInsertId()
			if err != nil {
				return err
			}
			// The post_sources_list trigger adds the category and tag rows.
			if _, err := credit.ExecContext(ctx, rid, id, fmt.Sprint("s", src), key, pub); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPostsCategory reads the newest 50 posts of one category (a tenth
// of 100k posts), then the page after them.
func BenchmarkPostsCategory(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 100)
	bulkInsert(b, s, 100_000, 100)
	b.ResetTimer()
	for b.Loop() {
		page, err := s.Posts(ctx, storage.Query{Category: "c3", Limit: 50})
		if err != nil || len(page.Posts) != 50 || page.Next == nil {
			b.Fatalf("%d posts, %v", len(page.Posts), err)
		}
		page, err = s.Posts(ctx, storage.Query{Category: "c3", Limit: 50, Before: page.Next})
		if err != nil || len(page.Posts) != 50 {
			b.Fatalf("%d posts, %v", len(page.Posts), err)
		}
	}
}

// BenchmarkSearch searches 5,000 stored posts for a Chinese word.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 1)
	posts := make([]storage.Post, 5000)
	for k := range posts {
		posts[k] = storagetest.BenchPost(k)
	}
	posts[4000].Title = "个人所得税汇算清缴"
	posts[10].Title = "退税"
	if _, err := s.SavePoll(ctx, claimOf(s, "s0"), storage.SourceState{}, posts); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"汇算清缴", "退税", "refeed 2025", "个人所得税汇算清缴", "税", "/"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Posts(ctx, storage.Query{Search: q, Limit: 50}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
