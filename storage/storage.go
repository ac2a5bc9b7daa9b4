// Package storage holds refeed's domain types and the Store contract that a
// database backend implements. It imports no driver: storage/sqlite is one
// backend, and storage/storagetest is the suite every backend must pass.
package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with context; callers test with errors.Is.
var (
	// ErrNotFound is returned when a post, source, category or tag does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrBadCursor is returned when a paging cursor cannot be decoded.
	ErrBadCursor = errors.New("storage: bad cursor")
	// ErrLeaseLost is returned by SavePoll when the claim it was given is no
	// longer the source's newest: its lease expired and another poller
	// claimed the source since. Nothing was written.
	ErrLeaseLost = errors.New("storage: lease lost")
	// ErrLeaseHeld is returned by AcquireLease when another owner holds a
	// live lease of that name.
	ErrLeaseHeld = errors.New("storage: lease held by another owner")
)

// Poll statuses recorded on a source after each attempt.
const (
	StatusNew         = ""             // never polled
	StatusOK          = "ok"           // fetched and parsed
	StatusNotModified = "not_modified" // 304
	StatusError       = "error"        // failed; see ErrorClass and Error
	StatusGone        = "gone"         // 410: polling stopped for good
)

// SourceConfig is what the config file says about a source. SyncSources makes
// the stored sources match a list of these.
type SourceConfig struct {
	Name     string
	URL      string // as configured
	Category string // category slug
	Tags     []string
	Interval time.Duration
}

// SourceState is the poll state of a source, written by the aggregator in the
// same transaction as the source's posts.
type SourceState struct {
	URL          string // current fetch URL (differs from the configured one after a 301/308)
	ETag         string
	LastModified string
	Title        string // feed title as last seen
	SiteURL      string // feed's HTML link as last seen
	LastPoll     time.Time
	LastSuccess  time.Time
	Status       string // one of the Status* constants
	ErrorClass   string // dns, connect, tls, timeout, http_status, too_large, not_a_feed, parse, charset
	Error        string
	Failures     int // consecutive failures; reset by any success or 304
	NextPoll     time.Time
	// Warning is what a successful poll found wrong with the source but
	// recovered from (its charset lies, say); "" when nothing.
	Warning string
}

// Source is a configured source with its poll state.
type Source struct {
	SourceConfig
	State SourceState
	Posts int // number of posts credited to this source
}

// Enclosure is a file attached to a post (podcast audio, image).
type Enclosure struct {
	URL    string
	Type   string
	Length int64
}

// Post is one stored article.
type Post struct {
	ID         string   // stable: derived from the first source and identity key, never changes
	Key        string   // identity key within its source: "guid:…", "link:…" or "hash:…"
	Sources    []string // names of the sources that carried it, first seen first
	GUID       string
	Link       string // the original article
	Title      string // plain text
	Content    string // sanitised HTML
	Summary    string // sanitised HTML or text
	Author     string
	Image      string // lead image URL, if any
	Enclosures []Enclosure
	Published  time.Time // display and sort date
	Updated    time.Time // last change of title or content (== Published if never changed)
	FirstSeen  time.Time
	Hash       string   // content hash of title+content, to detect changes
	Categories []string // category slugs of its sources
	Tags       []string // tags of its sources
}

// Cursor marks a position in a newest-first listing: posts strictly older
// than (Published, ID) come after it.
type Cursor struct {
	Published time.Time
	ID        string
}

// Query selects posts newest first. At most one of Category, Tag and Source
// is set; none means all posts.
type Query struct {
	Category string
	Tag      string
	Source   string
	Search   string  // full-text over title and content; any text is safe
	Before   *Cursor // nil: from the newest
	Limit    int     // > 0
}

// Page is one page of posts and the cursor of the next page (nil at the end).
type Page struct {
	Posts []Post
	Next  *Cursor
}

// SaveStats counts what SavePoll did.
type SaveStats struct {
	New       int
	Updated   int
	Unchanged int
}

// Count is a name with a number of posts.
type Count struct {
	Name  string
	Posts int
}

// Stats summarises the database.
type Stats struct {
	Posts      int
	Categories []Count // by slug, sorted by name
	Tags       []Count // sorted by name
	Sources    []Count // sorted by name
	Oldest     time.Time
	Newest     time.Time
	SizeBytes  int64
}

// Store is the contract every backend implements. Every method takes a
// context and is safe for concurrent use, from several goroutines and (where
// the backend allows several processes on one database) several processes.
//
// A backend stores; it does not decide. Which incoming post is which stored
// one (SavePosts), what search finds (package storage/search), the content
// hash and the plain text of HTML (package storage/htmltext) are decided
// here and beside this package, once for every backend.
type Store interface {
	// SyncSources makes the stored sources match cfg: new ones are added,
	// changed ones updated (their posts' categories and tags follow; a
	// shortened interval moves NextPoll as Rescheduled says), and sources
	// not in cfg are removed from listings (their posts stay only while
	// another source credits them) — unless a live registration
	// (RegisterConfig) names them: another process runs a config that
	// still has them. Poll state and leases survive.
	SyncSources(ctx context.Context, cfg []SourceConfig) error
	// RegisterConfig records that owner runs a config naming these
	// sources, until ttl from the store's now; calling it again replaces
	// and renews the registration. While it is live, no SyncSources
	// removes those sources, so that an instance still on an older config
	// mid-rollout keeps the sources it polls, and one already on a newer
	// config does not lose the ones it added to the older one's sync.
	RegisterConfig(ctx context.Context, owner string, names []string, ttl time.Duration) error
	// UnregisterConfig ends owner's registration, if any.
	UnregisterConfig(ctx context.Context, owner string) error
	// RemoveUnnamed removes, as SyncSources would, the stored sources
	// that no live registration names, and returns how many. With no
	// live registration at all it removes nothing.
	RemoveUnnamed(ctx context.Context) (int, error)
	// Sources lists all sources sorted by name, with their post counts.
	// It is a presentation listing (pages, /healthz, OPML): polling never
	// needs it.
	Sources(ctx context.Context) ([]Source, error)
	// Source returns one source or ErrNotFound.
	Source(ctx context.Context, name string) (Source, error)

	// Claim leases up to r.Limit sources to r.Owner for r.Lease, by the
	// store's own clock, and returns them with their poll state: the due
	// ones (NextPoll at or before the store's now, or r.DueBy when set;
	// not gone; no live lease), earliest due first; or with r.Names only
	// those; or with r.Force those names whether due or gone. A source
	// whose lease is live is never claimed, whoever holds it; one whose
	// lease expired is claimed as if it had none. Every call that claims
	// anything hands out a fencing token larger than any before it.
	Claim(ctx context.Context, r ClaimRequest) ([]Claim, error)
	// Release gives claimed sources back without polling them: their
	// leases end (if still theirs) and they are due again at their old
	// NextPoll.
	Release(ctx context.Context, claims []Claim) error
	// NextDue returns how long, by the store's clock, until the next
	// source becomes claimable by Claim without Names (0: one is now),
	// read from an index; ok is false when no source ever will be (none,
	// or all gone).
	NextDue(ctx context.Context) (wait time.Duration, ok bool, err error)
	// SavePoll stores a claimed source's posts and its new poll state in
	// one transaction, and ends the claim's lease. posts may be empty
	// (304, failure). It is fenced: if the source was claimed again since
	// c (c's lease expired and another poller took it), it writes nothing
	// and returns an error wrapping ErrLeaseLost, and what the new holder
	// saves stands. Incoming posts are matched to stored ones by
	// SavePosts' rules.
	SavePoll(ctx context.Context, c Claim, state SourceState, posts []Post) (SaveStats, error)

	// AcquireLease takes, or renews, the named lease for singleton work
	// (retention, config sync) for owner until ttl from the store's now.
	// It succeeds when the lease is free, expired or owner's own, and
	// fails with ErrLeaseHeld otherwise. The token grows whenever the
	// lease changes hands.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (Lease, error)
	// ReleaseLease ends owner's lease of that name, if owner holds it.
	ReleaseLease(ctx context.Context, name, owner string) error

	// Posts returns one page of posts matching q, newest first.
	Posts(ctx context.Context, q Query) (Page, error)
	// Post returns one post by ID or ErrNotFound.
	Post(ctx context.Context, id string) (Post, error)
	// Version is a number that changes in the same transaction as any
	// change of what a listing shows: posts stored, updated or deleted
	// (SavePoll with New or Updated > 0, Prune deleting any) and sources
	// added, removed or recategorised (SyncSources). It does not change
	// for poll state alone (a 304, a failure, a claim), so caches keyed on
	// it survive polls that bring nothing new. It never decreases.
	Version(ctx context.Context) (int64, error)
	// Stats summarises the database.
	Stats(ctx context.Context) (Stats, error)
	// Prune deletes posts published before olderThan (zero: no age limit) and
	// all but the newest perSource posts of each source (0: no limit).
	Prune(ctx context.Context, olderThan time.Time, perSource int) (int, error)
	// Close releases the database.
	Close() error
}

// Backuper is a Store that can write a consistent copy of its database to a
// file while it is in use (SQLite's VACUUM INTO). Backends without one
// (PostgreSQL: use pg_dump) do not implement it.
type Backuper interface {
	Backup(ctx context.Context, path string) error
}
