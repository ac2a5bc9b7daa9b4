// Package server is refeed's HTTP side: the feeds, pages, health and metrics
// routes, with HTTP caching and a render cache in front of the store.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/storage"
)

// Store is what the server needs from storage.
type Store interface {
	Sources(ctx context.Context) ([]storage.Source, error)
	Posts(ctx context.Context, q storage.Query) (storage.Page, error)
	Post(ctx context.Context, id string) (storage.Post, error)
	Version(ctx context.Context) (int64, error)
	Stats(ctx context.Context) (storage.Stats, error)
}

// Category is a configured category.
type Category struct {
	Slug, Title, Description string
}

// Source is a configured source, as far as routing and caching need it.
type Source struct {
	Name     string
	Category string
	Tags     []string
	Interval time.Duration
}

// Options configures a Server. Zero values get defaults.
type Options struct {
	Site       feeds.Site
	Categories []Category
	Sources    []Source
	Items      int   // default items per feed (50)
	MaxItems   int   // upper bound for ?limit= (500)
	CacheBytes int64 // render cache size (64 MiB)
	Logger     *slog.Logger
	Now        func() time.Time
	Metrics    *Metrics // nil: no /metrics route
}

// Server serves refeed's HTTP routes. Its config can be swapped at runtime
// with SetOptions (SIGHUP).
type Server struct {
	store   Store
	pages   *feeds.Pages
	cache   *renderCache
	sources sourceCache
	gzPool  gzipPool
	assets  map[string]*entity
	log     *slog.Logger
	now     func() time.Time
	home    homeCache
	hot     hotMap // URIs the fast path may answer from the render cache
	mux     *http.ServeMux
	handler http.Handler

	mu      sync.RWMutex
	opts    Options
	cats    map[string]Category
	srcs    map[string]Source
	tags    map[string][]string // tag → source names
	catSrcs map[string][]string // category → source names (shared: read only)

	version      atomic.Int64
	versionCheck atomic.Int64  // unix nanos of the last store check
	gen          atomic.Uint64 // config generation: SetOptions raises it, and cache keys carry it
}

// New builds a Server.
func New(store Store, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pages, err := feeds.NewPages(opts.Site)
	if err != nil {
		return nil, err
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{store: store, pages: pages, assets: assets, log: opts.Logger, now: opts.Now}
	s.cache = newRenderCache(0)
	s.SetOptions(opts)
	s.routes()
	if opts.Metrics != nil {
		opts.Metrics.registerCache(s.cache)
	}
	s.handler = s.recoverer(opts.Metrics.instrument(s.mux))
	return s, nil
}

// SetOptions applies a new configuration (categories, sources, limits) and
// drops every cached render.
func (s *Server) SetOptions(opts Options) {
	if opts.Items <= 0 {
		opts.Items = 50
	}
	if opts.MaxItems <= 0 {
		opts.MaxItems = 500
	}
	if opts.Items > opts.MaxItems {
		opts.Items = opts.MaxItems
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 64 << 20
	}
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	if opts.Now == nil {
		opts.Now = s.now
	}
	cats := make(map[string]Category, len(opts.Categories))
	catSrcs := make(map[string][]string, len(opts.Categories))
	for _, c := range opts.Categories {
		cats[c.Slug] = c
	}
	srcs := make(map[string]Source, len(opts.Sources))
	tags := map[string][]string{}
	for _, src := range opts.Sources {
		srcs[src.Name] = src
		for _, t := range src.Tags {
			tags[t] = append(tags[t], src.Name)
		}
		catSrcs[src.Category] = append(catSrcs[src.Category], src.Name)
	}
	pages, err := feeds.NewPages(opts.Site)
	s.mu.Lock()
	s.opts, s.cats, s.srcs, s.tags, s.catSrcs = opts, cats, srcs, tags, catSrcs
	if err == nil {
		s.pages = pages
	}
	// A render that began with the old options stores its entity under the
	// old generation, where no request looks any more.
	s.gen.Add(1)
	s.mu.Unlock()
	s.cache.reset(opts.CacheBytes)
	s.hot.reset()
	s.home.mu.Lock()
	s.home.e = nil
	s.home.mu.Unlock()
	s.sources.reset()
}

func (s *Server) options() Options {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.opts
}

// snapshot returns the options in force and their generation, together:
// a render keyed by the generation renders with those options.
func (s *Server) snapshot() (Options, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.opts, s.gen.Load()
}

// Invalidate tells the server that posts may have changed, so the next
// request checks the store's version at once instead of within a second.
func (s *Server) Invalidate() { s.versionCheck.Store(0) }

// currentVersion returns the store's change counter, asking the store at most
// once a second (another process, such as `refeed poll` from cron, may write).
func (s *Server) currentVersion(ctx context.Context) int64 {
	now := s.now().UnixNano()
	last := s.versionCheck.Load()
	if last != 0 && now-last < int64(time.Second) && now >= last {
		return s.version.Load()
	}
	v, err := s.store.Version(ctx)
	if err != nil {
		s.log.Warn("store version", "error", err)
		return s.version.Load()
	}
	if old := s.version.Swap(v); old != v {
		s.cache.reset(0)
		s.hot.reset()
		s.sources.reset()
	}
	s.versionCheck.Store(now)
	return v
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// recoverer turns a panic into a one-line 500 and a log line: a client never
// sees a stack trace.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
