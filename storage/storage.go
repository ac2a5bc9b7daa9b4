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
// context and is safe for concurrent use.
type Store interface {
	// SyncSources makes the stored sources match cfg: new ones are added,
	// changed ones updated (their posts' categories and tags follow), and
	// sources not in cfg are removed from listings (their posts stay only
	// while another source credits them).
	SyncSources(ctx context.Context, cfg []SourceConfig) error
	// Sources lists all sources sorted by name.
	Sources(ctx context.Context) ([]Source, error)
	// Source returns one source or ErrNotFound.
	Source(ctx context.Context, name string) (Source, error)
	// SavePoll stores a source's posts and its new poll state in one
	// transaction. posts may be empty (304, failure).
	SavePoll(ctx context.Context, source string, state SourceState, posts []Post) (SaveStats, error)
	// Posts returns one page of posts matching q, newest first.
	Posts(ctx context.Context, q Query) (Page, error)
	// Post returns one post by ID or ErrNotFound.
	Post(ctx context.Context, id string) (Post, error)
	// Version is a number that changes whenever posts or sources change;
	// caches key on it.
	Version(ctx context.Context) (int64, error)
	// Stats summarises the database.
	Stats(ctx context.Context) (Stats, error)
	// Prune deletes posts published before olderThan (zero: no age limit) and
	// all but the newest perSource posts of each source (0: no limit).
	Prune(ctx context.Context, olderThan time.Time, perSource int) (int, error)
	// Backup writes a consistent copy of the database to path.
	Backup(ctx context.Context, path string) error
	// Close releases the database.
	Close() error
}
