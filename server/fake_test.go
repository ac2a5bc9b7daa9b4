package server

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/refeed/refeed/storage"
)

// fakeStore is an in-memory Store for server tests: the real backends are
// tested by storage/storagetest.
type fakeStore struct {
	mu       sync.Mutex
	posts    []storage.Post // any order
	sources  []storage.Source
	version  int64
	postCall atomic.Int64
	statCall atomic.Int64
	delay    time.Duration
	gate     chan struct{} // if set, Posts waits until it is closed
	entered  chan struct{} // if set, Posts signals it before waiting at gate
}

func (f *fakeStore) Sources(ctx context.Context) ([]storage.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]storage.Source(nil), f.sources...), nil
}

func (f *fakeStore) Posts(ctx context.Context, q storage.Query) (storage.Page, error) {
	f.postCall.Add(1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.gate != nil {
		if f.entered != nil {
			f.entered <- struct{}{}
		}
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var match []storage.Post
	for _, p := range f.posts {
		switch {
		case q.Category != "" && !slices.Contains(p.Categories, q.Category),
			q.Tag != "" && !slices.Contains(p.Tags, q.Tag),
			q.Source != "" && !slices.Contains(p.Sources, q.Source),
			q.Search != "" && !strings.Contains(p.Title+p.Content, q.Search):
			continue
		}
		if q.Before != nil && !older(p, *q.Before) {
			continue
		}
		match = append(match, p)
	}
	sort.Slice(match, func(i, j int) bool {
		return older(match[j], storage.Cursor{Published: match[i].Published, ID: match[i].ID})
	})
	page := storage.Page{Posts: match}
	if len(match) > q.Limit {
		page.Posts = match[:q.Limit]
		last := page.Posts[q.Limit-1]
		page.Next = &storage.Cursor{Published: last.Published, ID: last.ID}
	}
	return page, nil
}

// older reports whether p sorts after the cursor position.
func older(p storage.Post, c storage.Cursor) bool {
	if !p.Published.Equal(c.Published) {
		return p.Published.Before(c.Published)
	}
	return p.ID < c.ID
}

func (f *fakeStore) Post(ctx context.Context, id string) (storage.Post, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.posts {
		if p.ID == id {
			return p, nil
		}
	}
	return storage.Post{}, fmt.Errorf("post %s: %w", id, storage.ErrNotFound)
}

func (f *fakeStore) Version(ctx context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, nil
}

func (f *fakeStore) Stats(ctx context.Context) (storage.Stats, error) {
	f.statCall.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	cats, tags := map[string]int{}, map[string]int{}
	for _, p := range f.posts {
		for _, c := range p.Categories {
			cats[c]++
		}
		for _, t := range p.Tags {
			tags[t]++
		}
	}
	st := storage.Stats{Posts: len(f.posts)}
	for _, k := range sortedKeys(cats) {
		st.Categories = append(st.Categories, storage.Count{Name: k, Posts: cats[k]})
	}
	for _, k := range sortedKeys(tags) {
		st.Tags = append(st.Tags, storage.Count{Name: k, Posts: tags[k]})
	}
	return st, nil
}

func (f *fakeStore) add(p storage.Post) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts = append(f.posts, p)
	f.version++
}

// testStore has 12 posts over two categories, one a day from 2022-05-06 08:53 +0800 back.
func testStore() *fakeStore {
	shanghai := time.FixedZone("CST", 8*3600)
	f := &fakeStore{version: 1}
	f.sources = []storage.Source{
		{SourceConfig: storage.SourceConfig{Name: "chinatax", URL: "https://www.chinatax.gov.cn/rss.xml", Category: "zhongguoshuiwubao", Tags: []string{"中国税务报新闻"}},
			State: storage.SourceState{Title: "中国税务报", Status: storage.StatusOK, LastPoll: time.Date(2022, 5, 6, 9, 0, 0, 0, shanghai)}},
		{SourceConfig: storage.SourceConfig{Name: "markets", URL: "https://markets.example.net/feed.json", Category: "markets", Tags: []string{"Markets"}},
			State: storage.SourceState{Status: storage.StatusError, ErrorClass: "timeout", Error: "deadline exceeded", Failures: 2}},
	}
	start := time.Date(2022, 5, 6, 8, 53, 0, 0, shanghai)
	for i := range 12 {
		src, cat, tag := "chinatax", "zhongguoshuiwubao", "中国税务报新闻"
		if i%3 == 2 {
			src, cat, tag = "markets", "markets", "Markets"
		}
		pub := start.Add(-time.Duration(i) * 24 * time.Hour)
		f.posts = append(f.posts, storage.Post{
			ID:         storage.PostID(src, fmt.Sprintf("guid:%d", i)),
			Sources:    []string{src},
			Link:       fmt.Sprintf("https://example.org/news/%d.html", i),
			Title:      fmt.Sprintf("税务新闻 %d：退税政策", i),
			Content:    fmt.Sprintf("<p>第 %d 条新闻的正文。</p>", i),
			Published:  pub,
			Updated:    pub,
			FirstSeen:  pub,
			Categories: []string{cat},
			Tags:       []string{tag},
		})
	}
	return f
}
