// Package aggregator polls the configured sources and stores their posts.
//
// Each poll is a pipeline of separate steps, one file each: fetch (HTTP or
// file://, conditional GET, size and time limits), decode (any charset to
// UTF-8), parse (gofeed), normalise (gofeed items to storage posts), sanitise
// (package sanitize) and store (one SavePoll call per source, so a validator
// is never saved without its posts). Poll runs it once for the due sources;
// Run keeps a scheduler going in serve mode.
package aggregator

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

// Store is what the aggregator needs from storage.
type Store interface {
	Sources(ctx context.Context) ([]storage.Source, error)
	SavePoll(ctx context.Context, source string, state storage.SourceState, posts []storage.Post) (storage.SaveStats, error)
}

// Source is a source's config plus its filters.
type Source struct {
	storage.SourceConfig
	Include, Exclude *regexp.Regexp // nil: none
}

// Options tune the aggregator. Zero values get the defaults noted.
type Options struct {
	Concurrency int               // sources fetched at once (default 8)
	PerHost     int               // requests in flight per host (default 2)
	Timeout     time.Duration     // whole request incl. body (default 30s)
	MaxBody     int64             // bytes (default 10 MiB)
	UserAgent   string            // default "refeed/0.1"; the caller builds "refeed/VERSION (+base_url)"
	Location    *time.Location    // zone for dates without one (default UTC)
	Logger      *slog.Logger      // default: discard
	Now         func() time.Time  // default time.Now
	Transport   http.RoundTripper // nil: a tuned *http.Transport with Proxy: http.ProxyFromEnvironment
	// OnResult, if set, is called after every poll of a source, by Poll and
	// Run alike (metrics hook). It must be safe for concurrent use.
	OnResult func(Result)
}

// Defaults.
const (
	DefaultConcurrency = 8
	DefaultPerHost     = 2
	DefaultTimeout     = 30 * time.Second
	DefaultMaxBody     = 10 << 20
	DefaultUserAgent   = "refeed/0.1"
	// DefaultInterval is used for a source configured without one.
	DefaultInterval = 30 * time.Minute
	// MaxItems is how many items of one poll are kept (the first ones).
	MaxItems = 1000
)

func (o *Options) setDefaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Aggregator polls sources and stores their posts. It is safe for
// concurrent use.
type Aggregator struct {
	store   Store
	opts    Options
	fetcher *fetcher
	changed chan struct{}
	wake    chan struct{} // SetSources pokes Run

	mu        sync.Mutex
	sources   map[string]Source
	running   map[string]bool          // sources being polled now, by Poll or Run
	planned   map[string]time.Time     // NextPoll last computed, in case saving it failed
	shortened map[string]time.Duration // old interval of sources a reload shortened, until Run polls them
}

// New returns an aggregator over store for sources.
func New(store Store, sources []Source, opts Options) *Aggregator {
	opts.setDefaults()
	a := &Aggregator{
		store:     store,
		opts:      opts,
		fetcher:   newFetcher(opts),
		changed:   make(chan struct{}, 1),
		wake:      make(chan struct{}, 1),
		running:   make(map[string]bool),
		planned:   make(map[string]time.Time),
		shortened: make(map[string]time.Duration),
	}
	a.SetSources(sources)
	return a
}

// SetSources replaces the configured sources (on SIGHUP). Polls in flight
// finish with the config they started with. In Run, a source whose interval
// got shorter is due at min(NextPoll, LastPoll + new interval) rather than
// at the NextPoll its old interval gave.
func (a *Aggregator) SetSources(sources []Source) {
	m := make(map[string]Source, len(sources))
	for _, s := range sources {
		m[s.Name] = s
	}
	a.mu.Lock()
	for name, s := range m {
		// A shortened interval reschedules the source (Run, rescheduled);
		// against the interval its NextPoll was computed with, if it was
		// shortened before and not polled since.
		if prev, ok := a.sources[name]; ok && interval(s) < interval(prev) {
			if _, ok := a.shortened[name]; !ok {
				a.shortened[name] = interval(prev)
			}
		}
	}
	a.sources = m
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Changed returns a channel that receives after any poll that stored new or
// updated posts. Sends never block: several changes may coalesce into one.
func (a *Aggregator) Changed() <-chan struct{} { return a.changed }

func (a *Aggregator) notifyChanged() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// Result is the outcome of polling one source.
type Result struct {
	Source       string
	Status       string // storage.Status* value
	New, Updated int
	Took         time.Duration
	ErrorClass   string // dns, connect, tls, timeout, http_status, too_large, not_a_feed, parse, charset, store
	Err          error
}

// claim marks name as being polled and reports whether it was free.
func (a *Aggregator) claim(name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running[name] {
		return false
	}
	a.running[name] = true
	return true
}

func (a *Aggregator) release(name string) {
	a.mu.Lock()
	delete(a.running, name)
	a.mu.Unlock()
}

// plan records when a source is next due, as computed by its last poll.
func (a *Aggregator) plan(name string, next time.Time) {
	a.mu.Lock()
	a.planned[name] = next
	a.mu.Unlock()
}
