package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/postgres/pgtest"
)

// benchText is about n runes of Chinese-like text (Zipf-distributed words
// of one to four characters) with some ASCII, as storage/sqlite's benchmarks use.
func benchText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 42))
	z := rand.NewZipf(r, 1.07, 2, 19999)
	var b strings.Builder
	for count := 0; count < n; {
		w := z.Uint64()
		vr := rand.New(rand.NewPCG(w, 7))
		size := 1 + int(w%4)
		for range size {
			b.WriteRune(rune(0x4e00 + int(vr.ExpFloat64()*600)%20000))
		}
		count += size
		if r.IntN(12) == 0 {
			b.WriteString("，")
		}
		if r.IntN(60) == 0 {
			b.WriteString(" refeed 2025 ")
		}
	}
	return b.String()
}

func benchPost(i int) storage.Post {
	return storage.Post{
		Key:       fmt.Sprintf("guid:post-%d", i),
		GUID:      fmt.Sprintf("post-%d", i),
		Link:      fmt.Sprintf("https://example.com/article/%d.html", i),
		Title:     fmt.Sprintf("税务新闻 第%d期", i),
		Content:   "<p>" + benchText(uint64(i), 400) + `</p><p><a href="https://example.com/x">link</a></p><p>` + benchText(uint64(i)+1e9, 300) + "</p>",
		Summary:   benchText(uint64(i)+2e9, 60),
		Published: time.Unix(1700000000+int64(i), 0),
	}
}

// BenchmarkTsvector builds one post's index text.
func BenchmarkTsvector(b *testing.B) {
	p := benchPost(1)
	b.ReportAllocs()
	for b.Loop() {
		searchColumns(&p)
	}
}

// BenchmarkSavePollConcurrent stores polls of 50 new posts, 8 at once (a
// poll's concurrency), and reports posts per second.
func BenchmarkSavePollConcurrent(b *testing.B) {
	ctx := context.Background()
	s := mustOpenB(b, pgtest.URL(b))
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
		posts[i] = benchPost(i)
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

func mustOpenB(b *testing.B, url string) *Store {
	s, err := Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
