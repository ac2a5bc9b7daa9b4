package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

// Group commit. SQLite has one writer, and what a commit costs is mostly
// the pages it writes to the WAL, a leaf of every random-keyed index for
// nearly every post: committing each source's poll on its own wrote those
// pages again for every source. So SavePoll calls that arrive while the
// writer is busy queue up, and the next one to write takes the whole queue
// into one transaction. No caller returns before the commit that holds its
// posts and poll state (or with its error), and a request that fails does
// not take the others down with it (commitBatch). With one caller at a time
// nothing changes. (bench/ingest/run.sh; README, Ingest.)
const (
	maxBatchRequests = 64   // SavePoll calls per transaction
	maxBatchPosts    = 4000 // posts per transaction, beyond the first request
)

// Gathering. Taking only what is queued makes small batches under a steady
// stream of calls, so a call that had to wait for a batch (calls come
// faster than the writer takes them) waits up to maxLinger before it leads,
// for the queue to hold minBatchPosts posts, or gatherRequests calls (polls
// answered 304 bring no posts), or as many calls as were ever in SavePoll at
// once since the writer was last idle (a poller with fewer workers can
// never queue more). A lone caller never waits, since nobody was ahead of
// it. (bench/ingest/run.sh; README, Ingest.)
const (
	minBatchPosts  = 400
	gatherRequests = 8
	maxLinger      = 20 * time.Millisecond
)

// saveReq is one SavePoll call waiting for, or in, a batch.
type saveReq struct {
	ctx   context.Context
	claim storage.Claim
	state storage.SourceState
	posts []storage.Post
	stats storage.SaveStats
	err   error
	wake  chan bool // true: lead the next batch; false: done
}

// saveQueue is the queue of SavePoll calls. At most one caller leads (runs
// a batch) at a time; when it is done it hands the lead to the oldest
// waiting call, so no caller runs batches for others for long.
type saveQueue struct {
	mu       sync.Mutex
	queue    []*saveReq
	leading  bool
	arrived  chan struct{} // a request joined the queue (buffered 1; set by Open, never changed)
	inflight int           // calls in SavePoll now
	peak     int           // most calls in SavePoll at once since the writer was last idle
	stats    batchStats
}

// batchStats counts what the queue did, for tests.
type batchStats struct {
	commits  int // batches run
	gathered int // batches whose leader gathered first
	full     int // gatherings that ended because everyone seen at once was queued
}

// gathered reports whether a leader has gathered enough: posts posts in
// calls calls queued, when at most peak calls have been in SavePoll at once.
func gatheredEnough(posts, calls, peak int) bool {
	return posts >= minBatchPosts || calls >= min(gatherRequests, peak)
}

// SavePoll stores a claimed source's posts and its new poll state in one
// transaction, fenced by the claim: either both are written or neither is.
// Calls from several goroutines share transactions (group commit, above)
// but each succeeds or fails on its own. The version changes only when
// posts changed.
func (s *Store) SavePoll(ctx context.Context, c storage.Claim, state storage.SourceState, posts []storage.Post) (storage.SaveStats, error) {
	if s.ix != nil {
		s.ix.writeBegins()
		defer s.ix.writeEnds()
	}
	r := &saveReq{ctx: ctx, claim: c, state: state, posts: posts, wake: make(chan bool, 1)}
	q := &s.saves
	q.mu.Lock()
	q.queue = append(q.queue, r)
	q.inflight++
	q.peak = max(q.peak, q.inflight)
	lead := !q.leading
	q.leading = true
	q.mu.Unlock()
	select {
	case q.arrived <- struct{}{}:
	default:
	}
	busy := false // waited for a batch: calls come faster than one at a time
	if !lead {
		lead = <-r.wake
		busy = true
	}
	if lead {
		s.leadBatch(r, busy)
	}
	q.mu.Lock()
	q.inflight--
	q.mu.Unlock()
	if r.err != nil {
		return storage.SaveStats{}, fmt.Errorf("sqlite: save poll of %q: %w", c.Source, r.err)
	}
	return r.stats, nil
}

// leadBatch takes a batch from the head of the queue (me first), commits
// it, wakes its requests and hands the lead on. If me had to wait for the
// batch before, it gathers first.
func (s *Store) leadBatch(me *saveReq, gather bool) {
	q := &s.saves
	if gather {
		s.gather(me.ctx)
	}
	q.mu.Lock()
	q.stats.commits++
	if gather {
		q.stats.gathered++
	}
	n, posts := 0, 0
	for n < len(q.queue) && n < maxBatchRequests && (n == 0 || posts+len(q.queue[n].posts) <= maxBatchPosts) {
		posts += len(q.queue[n].posts)
		n++
	}
	batch := make([]*saveReq, n)
	copy(batch, q.queue)
	q.queue = q.queue[n:]
	q.mu.Unlock()

	s.commitBatch(batch)

	q.mu.Lock()
	var next *saveReq
	if len(q.queue) > 0 {
		next = q.queue[0]
	} else {
		q.leading = false
		q.queue = nil // let the backing array go
		q.peak = q.inflight
	}
	q.mu.Unlock()
	for _, r := range batch {
		if r != me {
			r.wake <- false
		}
	}
	if next != nil {
		next.wake <- true
	}
}

// gather waits until the queue holds enough (gatheredEnough), at most
// maxLinger or until ctx is done.
func (s *Store) gather(ctx context.Context) {
	q := &s.saves
	timer := time.NewTimer(maxLinger)
	defer timer.Stop()
	for {
		q.mu.Lock()
		posts, calls, peak := 0, len(q.queue), q.peak
		for _, r := range q.queue {
			posts += len(r.posts)
		}
		if posts < minBatchPosts && calls < gatherRequests && calls >= peak {
			q.stats.full++
		}
		q.mu.Unlock()
		if gatheredEnough(posts, calls, peak) {
			return
		}
		select {
		case <-q.arrived:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// commitBatch runs the requests of batch in one transaction and sets their
// stats or errors. A request whose context is done by its turn is not run.
// A request that fails rolls the transaction back, and the others run again
// without it: errors are rare, and a savepoint per request would cost every
// batch a copy of each page it touches (SQLite's sub-journal). If the
// transaction as a whole fails, every request in it fails.
func (s *Store) commitBatch(batch []*saveReq) {
	for {
		run := make([]*saveReq, 0, len(batch))
		for _, r := range batch {
			if r.err == nil {
				if err := r.ctx.Err(); err != nil {
					r.err = err
					continue
				}
				run = append(run, r)
			}
		}
		if len(run) == 0 {
			return
		}
		failed, err := s.tryBatch(run)
		switch {
		case err == nil:
			return
		case failed != nil:
			failed.err = err // the others run again
		default:
			for _, r := range run {
				r.stats, r.err = storage.SaveStats{}, err
			}
			return
		}
	}
}

// tryBatch runs the requests in one transaction. On success it sets their
// stats. If one request fails it rolls back and returns that request and
// its error; if the transaction fails otherwise, only the error.
func (s *Store) tryBatch(run []*saveReq) (failed *saveReq, err error) {
	// The transaction outlives any one caller's cancellation: the others'
	// posts must not be rolled back by it.
	ctx := context.WithoutCancel(run[0].ctx)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	w, err := s.stmts.inTx(ctx, tx)
	if err != nil {
		return nil, err
	}
	stats := make([]storage.SaveStats, len(run))
	changed := false
	for i, r := range run {
		if stats[i], err = s.savePoll(ctx, w, r); err != nil {
			var nw errNothingWritten
			if errors.As(err, &nw) {
				r.err, err = nw.err, nil // the others' writes stand
				continue
			}
			return r, err
		}
		changed = changed || stats[i].New+stats[i].Updated > 0
	}
	if changed {
		if err := bumpVersion(ctx, tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	for i, r := range run {
		if r.err == nil {
			r.stats = stats[i]
		}
	}
	if changed && s.ix != nil {
		s.ix.poke()
	}
	s.ckpt.poke()
	return nil, nil
}
