package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

// saveTimeout bounds a SavePoll that runs on after shutdown began, so the
// transaction in flight finishes but cannot hang the exit.
const saveTimeout = 30 * time.Second

// Poll polls the named sources (all when names is empty) that are due, or
// all of them when force is true (force also skips validators and polls gone
// sources again). It calls progress (may be nil) after each source, one call
// at a time, and returns every result sorted by source name. The error is
// only for failures that stop the whole run: ctx, listing the store, or a
// name that is not configured (ErrUnknownSource).
func (a *Aggregator) Poll(ctx context.Context, names []string, force bool, progress func(Result)) ([]Result, error) {
	stored, err := a.store.Sources(ctx)
	if err != nil {
		return nil, fmt.Errorf("aggregator: list sources: %w", err)
	}
	states := make(map[string]storage.SourceState, len(stored))
	for _, s := range stored {
		states[s.Name] = s.State
	}

	a.mu.Lock()
	var todo []Source
	if len(names) == 0 {
		for _, s := range a.sources {
			todo = append(todo, s)
		}
	} else {
		for _, n := range names {
			s, ok := a.sources[n]
			if !ok {
				a.mu.Unlock()
				return nil, fmt.Errorf("%w: %q", ErrUnknownSource, n)
			}
			todo = append(todo, s)
		}
	}
	a.mu.Unlock()
	now := a.opts.Now()
	todo = slices.DeleteFunc(todo, func(s Source) bool { return !force && !due(states[s.Name], now) })
	slices.SortFunc(todo, func(x, y Source) int { return strings.Compare(x.Name, y.Name) })
	todo = slices.CompactFunc(todo, func(x, y Source) bool { return x.Name == y.Name })

	var (
		mu      sync.Mutex
		results = make([]Result, 0, len(todo))
		wg      sync.WaitGroup // workers
		saves   sync.WaitGroup // their SavePoll calls
		jobs    = make(chan Source)
		// A worker hands its source's posts to a SavePoll of their own
		// and goes on with the next source, so that fetching and parsing
		// go on while the single writer commits, and so that the store
		// can commit many sources in one transaction (group commit),
		// which costs far less than one each. Bounded, since the posts
		// wait in memory.
		saving = make(chan struct{}, pendingSaves(a.opts.Concurrency))
	)
	record := func(r Result) {
		mu.Lock()
		results = append(results, r)
		if progress != nil {
			progress(r)
		}
		mu.Unlock()
	}
	for range min(a.opts.Concurrency, len(todo)) {
		wg.Go(func() {
			for s := range jobs {
				if !a.claim(s.Name) {
					continue
				}
				p := a.fetchOne(ctx, s, states[s.Name], force)
				saving <- struct{}{}
				saves.Go(func() {
					defer func() { <-saving }()
					defer a.release(s.Name)
					record(a.finish(ctx, p))
				})
			}
		})
	}
feed:
	for _, s := range todo {
		select {
		case jobs <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	saves.Wait()
	slices.SortFunc(results, func(x, y Result) int { return strings.Compare(x.Source, y.Source) })
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("aggregator: poll: %w", err)
	}
	return results, nil
}

// pollSource polls one source unless it is being polled already (ok false).
func (a *Aggregator) pollSource(ctx context.Context, src Source, st storage.SourceState, force bool) (Result, bool) {
	if !a.claim(src.Name) {
		return Result{}, false
	}
	defer a.release(src.Name)
	return a.finish(ctx, a.fetchOne(ctx, src, st, force)), true
}

// pendingSaves is how many SavePoll calls Poll lets wait for the writer,
// with their posts in memory, while its workers go on: one and a half times
// as many as workers. More waiting calls make bigger batches, which rewrite
// the random-keyed index pages less often, and the store now waits for a
// batch of several sources to gather when calls come in faster than it
// commits them (storage/sqlite/group.go), which needs room for them: in
// bench/ingest (8 workers) 6 waiting calls and no gathering took 4.7 s and
// 169 commits, 12 with gathering 4.4 s and 67 commits, at 59 MiB peak RSS
// either way (under the 64 MiB target; before the GC floor, 12 waiting
// calls without gathering peaked at 64-66 MiB).
func pendingSaves(workers int) int { return max(1, workers*3/2) }

// polled is a source fetched and processed, waiting to be stored.
type polled struct {
	src    Source
	next   storage.SourceState // the poll state to store
	posts  []storage.Post
	res    Result
	start  time.Time
	log    *slog.Logger
	noSave bool // cancelled: record nothing
}

// finish stores what fetchOne got with one SavePoll (posts and state
// together, or state alone) and reports the result.
func (a *Aggregator) finish(ctx context.Context, p polled) Result {
	r := p.res
	if !p.noSave {
		r = a.save(ctx, p)
	}
	if a.opts.OnResult != nil {
		a.opts.OnResult(r)
	}
	if r.New+r.Updated > 0 {
		a.notifyChanged()
	}
	return r
}

// fetchOne runs the pipeline for one source up to storing: fetch, decode,
// parse, normalise, and the poll state to store. A failure keeps the old
// validators, so the next poll fetches the body again.
func (a *Aggregator) fetchOne(ctx context.Context, src Source, st storage.SourceState, force bool) polled {
	start := a.opts.Now()
	res := Result{Source: src.Name}
	fetchURL := st.URL
	if fetchURL == "" {
		fetchURL = src.URL
	}
	log := a.opts.Logger.With("source", src.Name, "url", fetchURL)

	fr, err := a.fetcher.fetch(ctx, fetchRequest{URL: fetchURL, ETag: st.ETag, LastModified: st.LastModified, Force: force})
	if err != nil && ctx.Err() != nil {
		// Shutting down or cancelled: not the source's fault, record nothing.
		res.Status, res.Err, res.ErrorClass = storage.StatusError, ctx.Err(), ClassTimeout
		res.Took = a.opts.Now().Sub(start)
		return polled{res: res, noSave: true}
	}
	now := a.opts.Now()
	next := st
	next.URL = fetchURL
	next.LastPoll = now
	var posts []storage.Post
	var hint time.Duration
	if err == nil {
		switch fr.Code {
		case http.StatusNotModified:
			next.Status = storage.StatusNotModified
		case http.StatusGone:
			next.Status = storage.StatusGone
			next.ErrorClass, next.Error = ClassHTTPStatus, "410 Gone: polling stopped"
			next.NextPoll = time.Time{}
			log.Warn("source gone, polling stopped", "class", ClassHTTPStatus, "error", next.Error)
		default:
			var feedHintD time.Duration
			posts, feedHintD, err = a.process(fr, src, &next, now)
			hint = feedHintD
		}
	}
	if err != nil {
		res.ErrorClass = classify(err)
		res.Err = err
		next.Status = storage.StatusError
		next.ErrorClass, next.Error = res.ErrorClass, err.Error()
		next.Failures = st.Failures + 1
		next.ETag, next.LastModified, next.URL = st.ETag, st.LastModified, fetchURL
		next.NextPoll = nextAfterFailure(src.Name, interval(src), next.Failures, now, fr.RetryAfter)
		posts = nil
		log.Warn("poll failed", "class", res.ErrorClass, "error", err.Error(), "failures", next.Failures)
	} else if next.Status != storage.StatusGone {
		next.Failures = 0
		next.ErrorClass, next.Error = "", ""
		next.LastSuccess = now
		if next.Status == storage.StatusNotModified {
			next.ETag = cmpOr(fr.ETag, st.ETag)
			next.LastModified = cmpOr(fr.LastModified, st.LastModified)
		}
		next.NextPoll = nextAfterSuccess(src.Name, interval(src), now, fr.MaxAge, fr.RetryAfter, hint)
		if fr.Moved {
			log.Info("source moved permanently, remembering the new url", "new_url", fr.URL)
		}
	}
	res.Status = next.Status
	a.plan(src.Name, next.NextPoll)
	return polled{src: src, next: next, posts: posts, res: res, start: start, log: log}
}

// save stores p with one SavePoll.
func (a *Aggregator) save(ctx context.Context, p polled) Result {
	res, log := p.res, p.log
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	stats, serr := a.store.SavePoll(saveCtx, p.src.Name, p.next, p.posts)
	if serr != nil {
		serr = fmt.Errorf("save %d posts: %w", len(p.posts), serr)
		log.Error("poll failed", "class", ClassStore, "error", serr.Error())
		if res.Err == nil {
			res.Err, res.ErrorClass = serr, ClassStore
			res.Status = storage.StatusError
		} else {
			res.Err = errors.Join(res.Err, serr)
		}
	} else {
		res.New, res.Updated = stats.New, stats.Updated
	}
	res.Took = a.opts.Now().Sub(p.start)
	return res
}

// process runs decode, parse and normalise (which sanitises) over a fetched
// body and fills in what the feed says about itself.
func (a *Aggregator) process(fr fetchResult, src Source, next *storage.SourceState, now time.Time) ([]storage.Post, time.Duration, error) {
	body, err := toUTF8(fr.Body, fr.ContentType)
	if err != nil {
		return nil, 0, err
	}
	feed, err := parse(body)
	if err != nil {
		return nil, 0, err
	}
	posts := normalise(feed, src, fr.URL, now, a.opts.Location)
	next.Status = storage.StatusOK
	next.URL = fr.URL
	next.ETag, next.LastModified = fr.ETag, fr.LastModified
	next.Title = truncateRunes(plainTitle(feed.Title), 200)
	n := normaliser{now: now}
	if u, perr := parseAbs(fr.URL); perr == nil {
		n.base = u
	}
	next.SiteURL = n.absolute(feed.Link, n.base, false)
	return posts, feedHint(feed), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
