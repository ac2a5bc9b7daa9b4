package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"
)

// Credit is one source's claim on a post: the identity key it carries the
// post under and the content hash it last delivered.
type Credit struct {
	Source string
	Key    string
	Hash   string
}

// Record is a post as a copy moves it: the post, and its credits in the
// order the sources first carried it. Post.Sources, Categories and Tags
// are derived from the credits and ignored by Import.
type Record struct {
	Post    Post
	Credits []Credit
}

// Tombstone is what Prune left of a deleted post: its source's key, kept so
// that the post is not stored again while still in its feed.
type Tombstone struct {
	Source string
	Key    string
	Pruned time.Time
}

// Exporter is a Store that can list everything it holds, for a copy into
// another backend (refeed migrate-db).
type Exporter interface {
	Store
	// ExportPosts returns up to limit posts after the position after (0:
	// from the start) in the order they were stored, and the position of
	// the last one (0 when there are no more).
	ExportPosts(ctx context.Context, after int64, limit int) ([]Record, int64, error)
	// ExportTombstones returns every tombstone.
	ExportTombstones(ctx context.Context) ([]Tombstone, error)
}

// Importer is a Store that can take what an Exporter lists, as it is: ids,
// keys, hashes, times and poll state kept, nothing decided again.
type Importer interface {
	Store
	// ImportSources stores sources with their poll state (leases are not
	// copied), replacing the configured part of any with the same name.
	ImportSources(ctx context.Context, srcs []Source) error
	// ImportPosts stores records in one transaction, in order, with their
	// credits and their search index; a post whose ID is stored already
	// is skipped (a resumed copy). It returns how many it stored.
	ImportPosts(ctx context.Context, recs []Record) (int, error)
	// ImportTombstones stores tombstones, skipping any stored already.
	ImportTombstones(ctx context.Context, ts []Tombstone) error
}

// CopyOptions tune Copy.
type CopyOptions struct {
	Batch int // posts per transaction (default 500)
	// Resume copies into a target that holds data already (a copy that
	// was interrupted): what it holds is kept. Without it Copy refuses a
	// target with any source or post.
	Resume bool
	// Progress, if set, hears the posts copied so far and the total.
	Progress func(done, total int)
	// Sample is how many posts Verify compares field by field (default 200).
	Sample int
}

// ErrTargetNotEmpty is returned by Copy for a target with data, without
// CopyOptions.Resume.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// Copy copies every source with its poll state, every post with its
// credits, and every tombstone from one store into another, in batches,
// then verifies the copy (Verify). Categories, tags and the search index
// are rebuilt by the target from the credits. Nothing should write to
// from while it runs (stop refeed first): posts saved meanwhile may be
// missed, and a resumed copy does not refresh posts it copied already.
func Copy(ctx context.Context, from Exporter, to Importer, o CopyOptions) (CopyReport, error) {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	var rep CopyReport
	if !o.Resume {
		st, err := to.Stats(ctx)
		if err != nil {
			return rep, fmt.Errorf("target: %w", err)
		}
		if st.Posts > 0 || len(st.Sources) > 0 {
			return rep, fmt.Errorf("%w (%d sources, %d posts)", ErrTargetNotEmpty, len(st.Sources), st.Posts)
		}
	}
	fromStats, err := from.Stats(ctx)
	if err != nil {
		return rep, fmt.Errorf("source: %w", err)
	}
	srcs, err := from.Sources(ctx)
	if err != nil {
		return rep, fmt.Errorf("source: %w", err)
	}
	if err := to.ImportSources(ctx, srcs); err != nil {
		return rep, fmt.Errorf("copy sources: %w", err)
	}
	rep.Sources = len(srcs)
	var after int64
	done := 0
	for {
		recs, next, err := from.ExportPosts(ctx, after, o.Batch)
		if err != nil {
			return rep, fmt.Errorf("read posts: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		n, err := to.ImportPosts(ctx, recs)
		if err != nil {
			return rep, fmt.Errorf("copy posts: %w", err)
		}
		rep.Posts += n
		rep.Skipped += len(recs) - n
		done += len(recs)
		if o.Progress != nil {
			o.Progress(done, fromStats.Posts)
		}
		if next == 0 {
			break
		}
		after = next
	}
	ts, err := from.ExportTombstones(ctx)
	if err != nil {
		return rep, fmt.Errorf("read tombstones: %w", err)
	}
	if err := to.ImportTombstones(ctx, ts); err != nil {
		return rep, fmt.Errorf("copy tombstones: %w", err)
	}
	rep.Tombstones = len(ts)
	rep.Sampled, err = Verify(ctx, from, to, o.Sample)
	return rep, err
}

// CopyReport says what Copy did.
type CopyReport struct {
	Sources    int
	Posts      int // stored in the target
	Skipped    int // in the target already (a resumed copy)
	Tombstones int
	Sampled    int // posts Verify compared field by field
}

// Verify checks that to holds what from holds: the same counts of posts
// per category, tag and source, and, for a sample of posts spread over the
// whole history (every post when there are fewer), the same post in every
// field. It returns how many posts it compared.
func Verify(ctx context.Context, from, to Store, sample int) (int, error) {
	if sample <= 0 {
		sample = 200
	}
	a, err := from.Stats(ctx)
	if err != nil {
		return 0, fmt.Errorf("verify: %w", err)
	}
	b, err := to.Stats(ctx)
	if err != nil {
		return 0, fmt.Errorf("verify: %w", err)
	}
	if a.Posts != b.Posts {
		return 0, fmt.Errorf("verify: %d posts, the copy has %d", a.Posts, b.Posts)
	}
	for _, c := range []struct {
		what string
		a, b []Count
	}{{"categories", a.Categories, b.Categories}, {"tags", a.Tags, b.Tags}, {"sources", a.Sources, b.Sources}} {
		if !slices.Equal(c.a, c.b) {
			return 0, fmt.Errorf("verify: posts per %s differ: %v, the copy %v", c.what, c.a, c.b)
		}
	}
	as, err := from.Sources(ctx)
	if err != nil {
		return 0, fmt.Errorf("verify: %w", err)
	}
	bs, err := to.Sources(ctx)
	if err != nil {
		return 0, fmt.Errorf("verify: %w", err)
	}
	if len(as) != len(bs) {
		return 0, fmt.Errorf("verify: %d sources, the copy has %d", len(as), len(bs))
	}
	for i := range as {
		if !reflect.DeepEqual(as[i], bs[i]) {
			return 0, fmt.Errorf("verify: source %q differs in the copy", as[i].Name)
		}
	}
	if a.Posts == 0 {
		return 0, nil
	}
	// Every step-th post of the newest-first listing.
	step := max(1, a.Posts/sample)
	compared := 0
	var cur *Cursor
	for i := 0; ; {
		page, err := from.Posts(ctx, Query{Before: cur, Limit: 500})
		if err != nil {
			return compared, fmt.Errorf("verify: %w", err)
		}
		for _, p := range page.Posts {
			if i%step == 0 {
				q, err := to.Post(ctx, p.ID)
				if err != nil {
					return compared, fmt.Errorf("verify: post %s: %w", p.ID, err)
				}
				if !reflect.DeepEqual(p, q) {
					return compared, fmt.Errorf("verify: post %s differs in the copy", p.ID)
				}
				compared++
			}
			i++
		}
		if page.Next == nil {
			return compared, nil
		}
		cur = page.Next
	}
}
