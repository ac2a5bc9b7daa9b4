package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/storage"
)

// Listing kinds.
const (
	kindSite     = "site"
	kindCategory = "category"
	kindTag      = "tag"
	kindSource   = "source"
	kindSearch   = "search"
)

// renderTimeout bounds one render, whichever request started it.
const renderTimeout = 15 * time.Second

// listing is one listable set of posts: the site, a category, a tag or a source.
type listing struct {
	kind        string
	name        string
	title       string // its own title: the category's, the tag, the source's name; the site's
	description string
	sources     []string // names of the sources behind it; nil: all
}

// path is the listing's URL path without extension ("/category/x"), or
// "/feed" for the site.
func (l listing) path(ext string) string {
	switch l.kind {
	case kindCategory, kindTag, kindSource:
		return "/" + l.kind + "/" + pathEscape(l.name) + "." + ext
	}
	if ext == "html" {
		return "/"
	}
	return "/feed." + ext
}

func (l listing) query() storage.Query {
	switch l.kind {
	case kindCategory:
		return storage.Query{Category: l.name}
	case kindTag:
		return storage.Query{Tag: l.name}
	case kindSource:
		return storage.Query{Source: l.name}
	}
	return storage.Query{}
}

// lookup finds a listing by kind and name among the configured ones.
func (s *Server) lookup(kind, name string) (listing, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch kind {
	case kindCategory:
		c, ok := s.cats[name]
		if !ok {
			return listing{}, errNotFound(fmt.Sprintf("no category %q", name))
		}
		return listing{kind: kind, name: name, title: c.Title, description: c.Description, sources: s.catSrcs[name]}, nil
	case kindTag:
		names, ok := s.tags[name]
		if !ok {
			return listing{}, errNotFound(fmt.Sprintf("no tag %q", name))
		}
		return listing{kind: kind, name: name, title: name, sources: names}, nil
	case kindSource:
		if _, ok := s.srcs[name]; !ok {
			return listing{}, errNotFound(fmt.Sprintf("no source %q", name))
		}
		return listing{kind: kind, name: name, title: name, sources: []string{name}}, nil
	}
	return listing{kind: kindSite, title: s.opts.Site.Title, description: s.opts.Site.Description}, nil
}

func (s *Server) handleSiteFeed(ext string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l, _ := s.lookup(kindSite, "")
		s.serveListing(w, r, l, ext)
	}
}

func (s *Server) handleListing(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, ext, ok := splitExt(r.PathValue("file"), "html", "rss", "atom", "json")
		if !ok {
			s.fail(w, r, errNotFound(fmt.Sprintf("no such %s page: use NAME.html, .rss, .atom or .json", kind)))
			return
		}
		l, err := s.lookup(kind, name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.serveListing(w, r, l, ext)
	}
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	l, _ := s.lookup(kindSite, "")
	l.kind = kindSearch
	s.serveListing(w, r, l, "html")
}

// serveListing serves one listing in one format from the render cache.
func (s *Server) serveListing(w http.ResponseWriter, r *http.Request, l listing, ext string) {
	opts, gen := s.snapshot()
	var query url.Values // nil: no query string, nothing to parse
	if r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	p, err := parseList(query, opts.Items, opts.MaxItems)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	version := s.currentVersion(r.Context())
	key := cacheKey{gen: gen, version: version, kind: l.kind, name: l.name, ext: ext, limit: p.limit, before: p.rawBef, q: p.q}
	e, _, err := s.cache.getOrRender(key, func() (*entity, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), renderTimeout)
		defer cancel()
		return s.renderListing(ctx, opts, l, ext, p)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.registerHot(r, key, e)
	e.write(w, r)
}

// renderListing fetches one page of posts and renders it.
func (s *Server) renderListing(ctx context.Context, opts Options, l listing, ext string, p listParams) (*entity, error) {
	q := l.query()
	q.Limit, q.Before, q.Search = p.limit, p.before, p.q
	var page storage.Page
	if l.kind != kindSearch || p.q != "" {
		var err error
		if page, err = s.store.Posts(ctx, q); err != nil {
			return nil, fmt.Errorf("list %s %q: %w", l.kind, l.name, err)
		}
	}
	base := opts.Site.BaseURL
	next := ""
	if page.Next != nil {
		next = page.Next.Encode()
	}
	feedPath := l.path
	if l.kind == kindSearch {
		feedPath = func(ext string) string { return listing{kind: kindSite}.path(ext) }
	}
	links := feeds.FeedLinks{
		RSS:  base + feedPath("rss") + p.query(""),
		Atom: base + feedPath("atom") + p.query(""),
		JSON: base + feedPath("json") + p.query(""),
	}
	updated := newest(page.Posts)
	maxAge := s.maxAge(opts, l.sources)
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	var err error
	switch ext {
	case "html":
		pagePath := l.path("html")
		if l.kind == kindSearch {
			pagePath = "/search"
		}
		nextURL := ""
		if next != "" {
			nextURL = base + pagePath + p.query(next)
		}
		title := l.title
		if l.kind == kindSource {
			title = s.sourceTitle(ctx, l.name)
		}
		byName, _ := s.sourcesByName(ctx) // without it, sources show by name
		err = s.currentPages().List(&buf, feeds.ListData{
			Kind: l.kind, Title: title, Description: l.description, Query: p.q,
			Posts: page.Posts, Feeds: links, CanonicalURL: base + pagePath + p.query(""), NextURL: nextURL,
			SourceTitles: sourceTitles(byName, page.Posts),
		})
		if err == nil {
			return s.newEntity(buf.Bytes(), ctypeHTML, updated, maxAge), nil
		}
	default:
		f, ferr := s.feedFor(ctx, opts, l, ext, p, next, page.Posts)
		if ferr != nil {
			return nil, ferr
		}
		f.Updated = updated
		ctype := ctypeAtom
		switch ext {
		case "rss":
			ctype, err = ctypeRSS, feeds.RSS(&buf, f)
		case "atom":
			err = feeds.Atom(&buf, f)
		case "json":
			ctype, err = ctypeJSON, feeds.JSON(&buf, f)
		}
		if err == nil {
			return s.newEntity(buf.Bytes(), ctype, updated, maxAge), nil
		}
	}
	return nil, fmt.Errorf("render %s %q as %s: %w", l.kind, l.name, ext, err)
}

// feedFor assembles what a feed renderer needs.
func (s *Server) feedFor(ctx context.Context, opts Options, l listing, ext string, p listParams, next string, posts []storage.Post) (feeds.Feed, error) {
	base := opts.Site.BaseURL
	byName, err := s.sourcesByName(ctx)
	if err != nil {
		return feeds.Feed{}, fmt.Errorf("sources: %w", err)
	}
	cats := make(map[string]string, len(opts.Categories))
	for _, c := range opts.Categories {
		cats[c.Slug] = c.Title
	}
	title := l.title
	if l.kind == kindSource {
		if src, ok := byName[l.name]; ok && src.State.Title != "" {
			title = src.State.Title
		}
	}
	if l.kind != kindSite {
		title = opts.Site.Title + " · " + title
	}
	if p.q != "" {
		title += " · " + p.q
	}
	f := feeds.Feed{
		Site:        opts.Site,
		Title:       title,
		Description: l.description,
		SelfURL:     base + l.path(ext) + p.query(""),
		HTMLURL:     base + l.path("html") + p.query(""),
		Posts:       posts,
		Sources:     byName,
		Categories:  cats,
	}
	if p.q != "" && l.kind == kindSite {
		f.HTMLURL = base + "/search" + listParams{q: p.q}.query("")
	}
	if next != "" {
		f.NextURL = base + l.path(ext) + p.query(next)
	}
	return f, nil
}

// maxAge is the Cache-Control max-age of a listing: the shortest poll
// interval behind it, at most an hour.
func (s *Server) maxAge(opts Options, names []string) int {
	shortest := time.Hour
	for _, src := range opts.Sources {
		if names != nil && !slices.Contains(names, src.Name) {
			continue
		}
		if src.Interval > 0 && src.Interval < shortest {
			shortest = src.Interval
		}
	}
	return int(shortest / time.Second)
}

// newest is the latest change among posts, or zero.
func newest(posts []storage.Post) time.Time {
	var t time.Time
	for i := range posts {
		u := posts[i].Updated
		if u.IsZero() {
			u = posts[i].Published
		}
		// A post that arrives late, dated before the others, still changes
		// the listing now: when it was first seen counts too, so that a
		// client revalidating with If-Modified-Since alone sees it.
		u = later(u, posts[i].FirstSeen)
		if u.After(t) {
			t = u
		}
	}
	return t
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (s *Server) currentPages() *feeds.Pages {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pages
}

// sourceTitles maps the first source of each of posts (the one a post list
// names) to its feed title as last polled, from byName; sources without a
// title are left out, and the pages show their names.
func sourceTitles(byName map[string]storage.Source, posts []storage.Post) map[string]string {
	titles := make(map[string]string)
	for _, p := range posts {
		if len(p.Sources) == 0 {
			continue
		}
		if src, ok := byName[p.Sources[0]]; ok && src.State.Title != "" {
			titles[src.Name] = src.State.Title
		}
	}
	return titles
}

// sourceTitle is a source's feed title as last polled, or its name.
func (s *Server) sourceTitle(ctx context.Context, name string) string {
	byName, err := s.sourcesByName(ctx)
	if err != nil {
		return name
	}
	if src, ok := byName[name]; ok && src.State.Title != "" {
		return src.State.Title
	}
	return name
}
