package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/storage"
)

func pathEscape(s string) string { return url.PathEscape(s) }

func (s *Server) siteFeeds(base string) feeds.FeedLinks {
	return feeds.FeedLinks{RSS: base + "/feed.rss", Atom: base + "/feed.atom", JSON: base + "/feed.json"}
}

// homeCache holds the one current home page, outside the LRU so that a new
// render every homeFresh does not push feeds out.
type homeCache struct {
	mu  sync.Mutex
	key cacheKey
	e   *entity
}

// get returns the page rendered for key, rendering it once on a miss.
func (h *homeCache) get(group *singleflight.Group, key cacheKey, render func() (*entity, error)) (*entity, error) {
	h.mu.Lock()
	if h.e != nil && h.key == key {
		e := h.e
		h.mu.Unlock()
		return e, nil
	}
	h.mu.Unlock()
	v, err, _ := group.Do(key.String(), func() (any, error) {
		e, err := render()
		if err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.key, h.e = key, e
		h.mu.Unlock()
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*entity), nil
}

// homeFresh is how long a rendered home page may be served: it shows poll
// status, which changes without the store's version, and counting posts per
// category, tag and source is too dear to do on every request.
const homeFresh = 5 * time.Second

// handleHome serves the home page, rendered at most once per store version
// and homeFresh. With paging parameters it lists older posts of the whole site.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	if q := r.URL.Query(); q.Has("before") || q.Has("limit") {
		l, _ := s.lookup(kindSite, "")
		s.serveListing(w, r, l, "html")
		return
	}
	opts, gen := s.snapshot()
	// The key's limit holds the freshness window's number.
	key := cacheKey{gen: gen, version: s.currentVersion(r.Context()), kind: "home", limit: int(s.now().UnixNano() / int64(homeFresh))}
	e, err := s.home.get(&s.cache.group, key, func() (*entity, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), renderTimeout)
		defer cancel()
		return s.renderHome(ctx, opts)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e.write(w, r)
}

func (s *Server) renderHome(ctx context.Context, opts Options) (*entity, error) {
	base := opts.Site.BaseURL
	stats, err := s.store.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	srcs, err := s.store.Sources(ctx)
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	page, err := s.store.Posts(ctx, storage.Query{Limit: opts.Items})
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	counts := func(cs []storage.Count) map[string]int {
		m := make(map[string]int, len(cs))
		for _, c := range cs {
			m[c.Name] = c.Posts
		}
		return m
	}
	catCounts, tagCounts := counts(stats.Categories), counts(stats.Tags)
	d := feeds.HomeData{Posts: page.Posts, Feeds: s.siteFeeds(base)}
	for _, c := range opts.Categories {
		d.Categories = append(d.Categories, feeds.CountLink{Title: c.Title, URL: feeds.CategoryURL(base, c.Slug), Posts: catCounts[c.Slug]})
	}
	s.mu.RLock()
	for _, t := range sortedKeys(s.tags) {
		d.Tags = append(d.Tags, feeds.CountLink{Title: t, URL: feeds.TagURL(base, t), Posts: tagCounts[t]})
	}
	s.mu.RUnlock()
	// The page shows poll status, so it changes with every poll, not only
	// with the posts.
	lastMod := newest(page.Posts)
	byName := make(map[string]storage.Source, len(srcs)) // the poll status read above, for the post list's titles
	for _, src := range srcs {
		byName[src.Name] = src
		if src.State.LastPoll.After(lastMod) {
			lastMod = src.State.LastPoll
		}
		feedURL := src.State.URL
		if feedURL == "" {
			feedURL = src.URL
		}
		d.Sources = append(d.Sources, feeds.SourceStatus{
			Name: src.Name, Title: src.State.Title, URL: feedURL, SiteURL: src.State.SiteURL,
			Status: src.State.Status, ErrorClass: src.State.ErrorClass, Error: src.State.Error,
			LastPoll: src.State.LastPoll, NextPoll: src.State.NextPoll, Failures: src.State.Failures, Posts: src.Posts,
		})
	}
	d.SourceTitles = sourceTitles(byName, page.Posts)
	if page.Next != nil {
		d.NextURL = base + "/?before=" + page.Next.Encode()
	}
	var buf bytes.Buffer
	if err := s.currentPages().Home(&buf, d); err != nil {
		return nil, fmt.Errorf("render home: %w", err)
	}
	return s.newEntity(buf.Bytes(), ctypeHTML, lastMod, 60), nil
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	id, _, ok := splitExt(r.PathValue("file"), "html")
	if !ok || !storage.ValidPostID(id) {
		s.fail(w, r, errNotFound("no such post"))
		return
	}
	opts, gen := s.snapshot()
	key := cacheKey{gen: gen, version: s.currentVersion(r.Context()), kind: "post", name: id}
	e, _, err := s.cache.getOrRender(key, func() (*entity, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), renderTimeout)
		defer cancel()
		return s.renderPost(ctx, opts, id)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.registerHot(r, key, e)
	e.write(w, r)
}

func (s *Server) renderPost(ctx context.Context, opts Options, id string) (*entity, error) {
	p, err := s.store.Post(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", id, err)
	}
	base := opts.Site.BaseURL
	d := feeds.PostData{Post: p, CanonicalURL: feeds.PostURL(base, id), Feeds: s.siteFeeds(base)}
	s.mu.RLock()
	if len(p.Categories) > 0 {
		slug := p.Categories[0]
		d.CategoryURL = feeds.CategoryURL(base, slug)
		d.CategoryTitle = slug
		if c, ok := s.cats[slug]; ok {
			d.CategoryTitle = c.Title
		}
		d.Feeds = feeds.FeedLinks{
			RSS:  base + "/category/" + pathEscape(slug) + ".rss",
			Atom: base + "/category/" + pathEscape(slug) + ".atom",
			JSON: base + "/category/" + pathEscape(slug) + ".json",
		}
	}
	s.mu.RUnlock()
	for _, t := range p.Tags {
		d.Tags = append(d.Tags, feeds.Link{Title: t, URL: feeds.TagURL(base, t)})
	}
	for _, name := range p.Sources {
		d.Sources = append(d.Sources, feeds.Link{Title: s.sourceTitle(ctx, name), URL: feeds.SourceURL(base, name)})
	}
	var buf bytes.Buffer
	if err := s.currentPages().Post(&buf, d); err != nil {
		return nil, fmt.Errorf("render post %s: %w", id, err)
	}
	updated := p.Updated
	if updated.IsZero() {
		updated = p.Published
	}
	return s.newEntity(buf.Bytes(), ctypeHTML, updated, s.maxAge(opts, p.Sources)), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
