package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/storage"
)

// benchStore has 60 posts of about 2.5 KB over 40 sources of one category
// ("c"), like one category of bench/serve's database.
func benchStore() *fakeStore {
	shanghai := time.FixedZone("CST", 8*3600)
	f := &fakeStore{version: 1}
	for i := range 40 {
		f.sources = append(f.sources, storage.Source{
			SourceConfig: storage.SourceConfig{Name: fmt.Sprintf("src-%02d", i), URL: fmt.Sprintf("https://s%d.example.com/feed", i),
				Category: "c", Tags: []string{"标签", fmt.Sprint("t", i%7)}, Interval: 30 * time.Minute},
			State: storage.SourceState{Title: fmt.Sprintf("来源 %d", i), SiteURL: fmt.Sprintf("https://s%d.example.com/", i), Status: storage.StatusOK},
		})
	}
	para := "<p>" + strings.Repeat("税务新闻 政策解读 market growth 增值税改革，", 20) + `<a href="https://example.org/x">link</a></p>`
	start := time.Date(2025, 6, 1, 8, 0, 0, 0, shanghai)
	for i := range 60 {
		src := f.sources[i%40]
		pub := start.Add(-time.Duration(i) * time.Minute)
		f.posts = append(f.posts, storage.Post{
			ID:         storage.PostID(src.Name, fmt.Sprintf("guid:%d", i)),
			Sources:    []string{src.Name},
			Link:       fmt.Sprintf("https://example.org/news/%d.html", i),
			Title:      fmt.Sprintf("税务新闻 %d：退税政策 update", i),
			Content:    strings.Repeat(para, 3),
			Summary:    "摘要 summary",
			Author:     "作者",
			Published:  pub,
			Updated:    pub,
			FirstSeen:  pub,
			Categories: []string{"c"},
			Tags:       src.Tags,
		})
	}
	return f
}

func benchServer(b *testing.B) *Server {
	b.Helper()
	st := benchStore()
	opts := Options{
		Site:       feeds.Site{Title: "bench", BaseURL: "http://127.0.0.1:8080", Language: "zh-CN", Location: time.UTC},
		Categories: []Category{{Slug: "c", Title: "分类"}},
		Metrics:    NewMetrics(), // as `refeed serve` runs it
	}
	for _, src := range st.sources {
		opts.Sources = append(opts.Sources, Source{Name: src.Name, Category: src.Category, Tags: src.Tags, Interval: src.Interval})
	}
	// The other 49 categories' sources of a 2,000-source config.
	for i := range 1960 {
		opts.Sources = append(opts.Sources, Source{Name: fmt.Sprintf("other-%04d", i), Category: fmt.Sprint("d", i%49),
			Tags: []string{fmt.Sprint("t", i%500)}, Interval: 30 * time.Minute})
	}
	s, err := New(st, opts)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// discardWriter is a ResponseWriter that keeps only the status, with a
// header map cleared per request as net/http's own would be new.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkCached serves a cached 50-item category feed: the hot path of a
// burst of readers.
func BenchmarkCached(b *testing.B) {
	s := benchServer(b)
	prime := httptest.NewRecorder()
	s.ServeHTTP(prime, httptest.NewRequest(http.MethodGet, "/category/c.rss", nil))
	if prime.Code != http.StatusOK {
		b.Fatalf("prime: %d", prime.Code)
	}
	etag := prime.Header().Get("ETag")
	for _, tc := range cachedVariants(etag) {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/category/c.rss", nil)
			for i := 0; i < len(tc.header); i += 2 {
				r.Header.Set(tc.header[i], tc.header[i+1])
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.status = 0
				s.ServeHTTP(w, r)
				if w.status != tc.status {
					b.Fatalf("status %d, want %d", w.status, tc.status)
				}
			}
		})
	}
}

// BenchmarkColdRender renders a 50-item category feed with an empty render
// cache: store query (here in memory), render, hash and compress.
func BenchmarkColdRender(b *testing.B) {
	s := benchServer(b)
	for _, ext := range []string{"rss", "atom", "json"} {
		b.Run(ext, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/category/c."+ext, nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				s.cache.reset(0)
				clear(w.h)
				s.ServeHTTP(w, r)
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
			b.ReportMetric(float64(w.n)/float64(b.N)/1024, "KiB/op")
		})
	}
}

// BenchmarkFast serves the cached 50-item category feed through
// FastHandler's fast path, as `refeed serve` does for a burst of readers
// (the response is built, not written to a connection).
func BenchmarkFast(b *testing.B) {
	s := benchServer(b)
	h := s.FastHandler()
	var prime fasthttp.RequestCtx
	prime.Request.SetRequestURI("/category/c.rss")
	h(&prime)
	if prime.Response.StatusCode() != http.StatusOK || s.hot.len() != 1 {
		b.Fatalf("prime: %d, hot entries %d", prime.Response.StatusCode(), s.hot.len())
	}
	etag := string(prime.Response.Header.Peek("ETag"))
	for _, tc := range cachedVariants(etag) {
		b.Run(tc.name, func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			ctx.Request.SetRequestURI("/category/c.rss")
			for i := 0; i < len(tc.header); i += 2 {
				ctx.Request.Header.Set(tc.header[i], tc.header[i+1])
			}
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Reset()
				h(&ctx)
				if ctx.Response.StatusCode() != tc.status {
					b.Fatalf("status %d, want %d", ctx.Response.StatusCode(), tc.status)
				}
			}
		})
	}
}

// cachedVariant is one way a reader asks for a cached feed.
type cachedVariant struct {
	name   string
	header []string // name, value pairs
	status int
}

// cachedVariants are the requests the cached-feed benchmarks time, as
// bench/serve's wrk runs send them: identity, gzip and a matching ETag.
func cachedVariants(etag string) []cachedVariant {
	return []cachedVariant{
		{"identity", nil, http.StatusOK},
		{"gzip", []string{"Accept-Encoding", "gzip, deflate, br"}, http.StatusOK},
		{"304", []string{"If-None-Match", etag}, http.StatusNotModified},
	}
}
