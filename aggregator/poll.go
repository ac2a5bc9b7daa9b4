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

// SaveTimeout bounds a SavePoll that runs on after shutdown began, so the
// transaction in flight finishes but cannot hang the exit. A caller that
// waits for Run to return after cancelling it waits at most about this long
// (plus the release of unstarted claims).
const SaveTimeout = 30 * time.Second

// ClassBusy is the result class of a source that another poller holds: a
// forced poll that could not claim it, or a save whose lease ran out and
// was taken over. It is not a failure of the source.
const ClassBusy = "busy"

// Poll polls, once, the named sources (all when names is empty) that are
// due when it starts, or with force all of them whether due or not (force
// also skips validators and polls gone sources again). It claims them in
// batches as the pipeline has room, so a source that another poller (serve,
// another `refeed poll`) is polling is not polled twice; with force, such a
// source is reported as skipped (ErrorClass busy). It calls progress (may
// be nil) after each source, one call at a time, and returns every result
// sorted by source name. The error is only for failures that stop the whole
// run: ctx, a claim the store refused, or a name that is not configured
// (ErrUnknownSource).
func (a *Aggregator) Poll(ctx context.Context, names []string, force bool, progress func(Result)) ([]Result, error) {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	a.mu.Lock()
	for _, n := range names {
		if _, ok := a.sources[n]; !ok {
			a.mu.Unlock()
			return nil, fmt.Errorf("%w: %q", ErrUnknownSource, n)
		}
	}
	named := len(names) > 0
	if force && !named {
		for n := range a.sources {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	a.mu.Unlock()

	var (
		mu      sync.Mutex
		results []Result
	)
	record := func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		results = append(results, r)
		if progress != nil {
			progress(r)
		}
	}
	p := a.startPipeline(ctx, record)
	var claimNames []string // nil: all (with force, by a cursor over names)
	if named {
		claimNames = slices.Clone(names) // claimAll removes what it claimed
	}
	err := a.claimAll(ctx, p, claimNames, force)
	p.stop()
	if force && err == nil && ctx.Err() == nil {
		// What a forced run did not poll, another poller holds.
		polled := make(map[string]bool, len(results))
		for _, r := range results {
			polled[r.Source] = true
		}
		for _, n := range names {
			if !polled[n] {
				record(Result{Source: n, ErrorClass: ClassBusy, Err: errBusy})
			}
		}
	}
	slices.SortFunc(results, func(x, y Result) int { return strings.Compare(x.Source, y.Source) })
	if err != nil {
		return results, err
	}
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("aggregator: poll: %w", err)
	}
	return results, nil
}

// errBusy is the result of a forced source that another poller holds.
var errBusy = errors.New("being polled by another poller; try again when it is done")

// claimAll claims, as the pipeline has room, every source that is due when
// it starts (of names, if not nil), or with force every one of names (all
// when nil), and hands them to p.
func (a *Aggregator) claimAll(ctx context.Context, p *stages, names []string, force bool) error {
	req := storage.ClaimRequest{Owner: a.opts.Owner, Lease: a.opts.Lease, Force: force, Names: names}
	for {
		free := p.free()
		if free == 0 {
			select {
			case <-p.freed:
				continue
			case <-ctx.Done():
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		req.Limit = free
		claims, err := a.store.Claim(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("aggregator: claim: %w", err)
		}
		if len(claims) == 0 {
			return nil
		}
		if req.DueBy.IsZero() {
			req.DueBy = claims[0].Claimed // what was due when the run began, not what came due since
		}
		for _, c := range claims {
			if req.Names != nil && force {
				req.Names = slices.DeleteFunc(req.Names, func(n string) bool { return n == c.Source })
			}
			req.After = max(req.After, c.Source)
		}
		a.claimed(len(claims))
		p.add(claims, force)
		if req.Names != nil && len(req.Names) == 0 {
			return nil
		}
	}
}

// claimed tells Options.OnClaim about n claimed sources.
func (a *Aggregator) claimed(n int) {
	if a.opts.OnClaim != nil {
		a.opts.OnClaim(n)
	}
}

// polled is a source fetched and processed, waiting to be stored.
type polled struct {
	src    Source
	next   storage.SourceState // the poll state to store
	posts  []storage.Post
	res    Result
	start  time.Time
	log    *slog.Logger
	noSave bool // cancelled: store nothing, give the claim back
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
	return polled{src: src, next: next, posts: posts, res: res, start: start, log: log}
}

// process runs decode, parse and normalise (which sanitises) over a fetched
// body and fills in what the feed says about itself.
func (a *Aggregator) process(fr fetchResult, src Source, next *storage.SourceState, now time.Time) ([]storage.Post, time.Duration, error) {
	body, mislabelled, err := decodeBody(fr.Body, fr.ContentType)
	if err != nil {
		return nil, 0, err
	}
	next.Warning = ""
	if mislabelled != "" {
		next.Warning = "charset: " + mislabelled
		a.warnOnce(src.Name, "the source mislabels its charset; decoding it as detected", "url", fr.URL, "charset", mislabelled)
	}
	feed, err := parse(body)
	if err != nil {
		return nil, 0, err
	}
	posts, byLink := normalise(feed, src, fr.URL, now, a.opts.Location)
	if byLink {
		a.warnOnce(src.Name, "the feed's items share GUIDs; identifying them by link instead", "url", fr.URL)
	}
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

// warnOnce logs msg for source the first time this process sees it: a
// source that keeps doing the same recoverable thing is logged once, not on
// every poll.
func (a *Aggregator) warnOnce(source, msg string, args ...any) {
	if _, seen := a.warned.LoadOrStore(msg+"\x00"+source, true); !seen {
		a.opts.Logger.Warn(msg, append([]any{"source", source}, args...)...)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
