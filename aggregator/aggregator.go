// Package aggregator polls the configured sources and stores their posts.
//
// Each poll is a pipeline of separate steps, one file each: claim (a lease
// on the source in the store, so that no other poller fetches it meanwhile),
// fetch (HTTP or file://, conditional GET, size and time limits), decode
// (any charset to UTF-8), parse (gofeed), normalise (gofeed items to storage
// posts), sanitise (package sanitize) and store (one SavePoll per source,
// fenced by the claim, so a validator is never saved without its posts and a
// poller that lost its lease writes nothing). Poll runs the pipeline once
// for what is due; Run keeps a scheduler claiming into it in serve mode
// (pipeline.go).
package aggregator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

// Store is what the aggregator needs from storage: claims, and fenced
// saves. It never lists all sources.
type Store interface {
	Claim(ctx context.Context, r storage.ClaimRequest) ([]storage.Claim, error)
	Release(ctx context.Context, claims []storage.Claim) error
	NextDue(ctx context.Context) (wait time.Duration, ok bool, err error)
	SavePoll(ctx context.Context, c storage.Claim, state storage.SourceState, posts []storage.Post) (storage.SaveStats, error)
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
	// Owner names this poller in its claims: unique among the processes
	// on one database (default: host name, process ID and a random part).
	Owner string
	// Lease is how long a claim holds before another poller may take the
	// source over (default 3 × Timeout + 1 minute: the wait for a worker,
	// the fetch, its processing and its save, with room to spare). A worker
	// does not start a fetch that its lease could not cover.
	Lease time.Duration
	// OnResult, if set, is called after every poll of a source, by Poll and
	// Run alike (metrics hook). It must be safe for concurrent use.
	OnResult func(Result)
	// OnClaim, if set, is called with the number of sources of each claim
	// (a progress bar's total grows by it).
	OnClaim func(n int)
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
	if o.Owner == "" {
		o.Owner = DefaultOwner()
	}
	if o.Lease <= 0 {
		o.Lease = 3*o.Timeout + time.Minute
	}
}

// DefaultOwner is a claim owner unique to this process: host name, process
// ID and a random part (a restarted process on the same host and PID is
// another owner).
func DefaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%s-%d-%08x", host, os.Getpid(), rand.Uint32())
}

// Aggregator polls sources and stores their posts. It is safe for
// concurrent use.
type Aggregator struct {
	store   Store
	opts    Options
	fetcher *fetcher
	changed chan struct{}
	wake    chan struct{} // SetSources pokes Run

	mu      sync.Mutex
	sources map[string]Source

	warned sync.Map // "what\x00source" keys already logged (warnOnce)
}

// New returns an aggregator over store for sources.
func New(store Store, sources []Source, opts Options) *Aggregator {
	opts.setDefaults()
	a := &Aggregator{
		store:   store,
		opts:    opts,
		fetcher: newFetcher(opts),
		changed: make(chan struct{}, 1),
		wake:    make(chan struct{}, 1),
	}
	a.SetSources(sources)
	return a
}

// SetSources replaces the configured sources (on SIGHUP). Polls in flight
// finish with the config they started with. The store's SyncSources moves
// the schedule of a source whose interval got shorter.
func (a *Aggregator) SetSources(sources []Source) {
	m := make(map[string]Source, len(sources))
	for _, s := range sources {
		m[s.Name] = s
	}
	a.mu.Lock()
	a.sources = m
	a.mu.Unlock()
	poke(a.wake)
}

// source returns the configured source name.
func (a *Aggregator) source(name string) (Source, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sources[name]
	return s, ok
}

// poke sends on c without blocking; c has a buffer of one, so pokes coalesce.
func poke(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Changed returns a channel that receives after any poll that stored new or
// updated posts. Sends never block: several changes may coalesce into one.
func (a *Aggregator) Changed() <-chan struct{} { return a.changed }

func (a *Aggregator) notifyChanged() { poke(a.changed) }

// Result is the outcome of polling one source.
type Result struct {
	Source       string
	Status       string // storage.Status* value
	New, Updated int
	Took         time.Duration
	ErrorClass   string // dns, connect, tls, timeout, http_status, too_large, not_a_feed, parse, charset, store, busy
	Err          error
}
