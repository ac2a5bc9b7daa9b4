package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/postgres/pgtest"
	"github.com/refeed/refeed/storage/storagetest"
)

// BenchmarkTsvector builds one post's index text.
func BenchmarkTsvector(b *testing.B) {
	p := storagetest.BenchPost(1)
	b.ReportAllocs()
	for b.Loop() {
		searchColumns(&p)
	}
}

// BenchmarkSavePollConcurrent stores polls of 50 new posts, 8 at once (a
// poll's concurrency), and reports posts per second.
func BenchmarkSavePollConcurrent(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, pgtest.URL(b))
	const sources, perPoll, workers = 64, 50, 8
	var cfg []storage.SourceConfig
	for i := range sources {
		cfg = append(cfg, storage.SourceConfig{Name: fmt.Sprint("s", i), Category: fmt.Sprint("c", i%10), Tags: []string{"t", fmt.Sprint("t", i%7)}})
	}
	if err := s.SyncSources(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	posts := make([]storage.Post, b.N*perPoll)
	for i := range posts {
		posts[i] = storagetest.BenchPost(i)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				name := fmt.Sprint("s", (i*workers+w)%sources)
				cs, err := s.Claim(ctx, storage.ClaimRequest{Owner: "bench", Lease: time.Minute, Limit: 1, Names: []string{name}, Force: true})
				if err != nil || len(cs) == 0 {
					b.Errorf("claim %s: %v", name, err)
					return
				}
				if _, err := s.SavePoll(ctx, cs[0], storage.SourceState{Status: storage.StatusOK}, posts[i*perPoll:(i+1)*perPoll]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*perPoll)/time.Since(start).Seconds(), "posts/s")
}
