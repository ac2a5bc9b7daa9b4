package aggregator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

// The pipeline. Poll, Poll with names or force, and Run differ only in how
// they claim and when they stop; all three hand their claims to one
// pipeline:
//
//	claim (the caller) → jobs → Concurrency workers: fetch, decode, parse,
//	normalise, sanitise → saves: one SavePoll per source, fenced by its claim
//
// A worker hands its source's posts to a save of their own and goes on with
// the next source, so that fetching goes on while the store writes. At most
// Concurrency saves wait at once (their posts are in memory), and at most
// capacity claims are outstanding (claimed and not yet saved), so a claim
// never waits long for a worker before its fetch starts.

// releaseTimeout bounds the Release of unstarted claims at shutdown.
const releaseTimeout = 5 * time.Second

// job is a claimed source on its way through the pipeline.
type job struct {
	src     Source
	claim   storage.Claim
	expires time.Time // the lease's end by the aggregator's clock
	force   bool
}

// stages is one running pipeline: its queue, workers and saves.
type stages struct {
	a       *Aggregator
	jobs    chan job
	saving  chan struct{} // saves in flight
	freed   chan struct{} // a claim left the pipeline (buffered 1)
	record  func(Result)
	workers sync.WaitGroup
	saves   sync.WaitGroup

	mu          sync.Mutex
	outstanding int             // claims in the pipeline
	unstarted   []storage.Claim // claims given back at the end
}

// capacity is how many claims may be in the pipeline at once: one per
// worker, one per waiting save and two per worker waiting for one, so that
// workers find the next claim waiting while the claimer takes a batch. A
// claim waits at most two fetches (2 × Timeout) for a worker: Options.Lease
// covers that, its own fetch and its save.
func (a *Aggregator) capacity() int { return 4 * a.opts.Concurrency }

// claimBatch is the least room worth a claim while claims are outstanding:
// claiming each slot as it frees would cost a claim (a write transaction)
// per source (bench/sched/run.sh; README, Scheduling).
func (a *Aggregator) claimBatch() int { return 2 * a.opts.Concurrency }

// startPipeline starts the workers; record (called from several goroutines)
// gets each source's result.
func (a *Aggregator) startPipeline(ctx context.Context, record func(Result)) *stages {
	p := &stages{
		a:      a,
		jobs:   make(chan job, a.capacity()),
		saving: make(chan struct{}, a.opts.Concurrency),
		freed:  make(chan struct{}, 1),
		record: record,
	}
	for range a.opts.Concurrency {
		p.workers.Go(func() { p.work(ctx) })
	}
	return p
}

// free is how many more claims the pipeline takes now: 0 while it has
// room for less than a batch and is not empty.
func (p *stages) free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.a.capacity() - p.outstanding
	if n < p.a.claimBatch() && p.outstanding > 0 {
		return 0
	}
	return n
}

// add hands claims to the workers; claims of sources not configured here
// (another instance's newer config) are left to their leases. It returns
// how many it handed on.
func (p *stages) add(claims []storage.Claim, force bool) int {
	a := p.a
	now := a.opts.Now()
	n := 0
	for _, c := range claims {
		src, ok := a.source(c.Source)
		if !ok {
			a.opts.Logger.Warn("claimed a source this config does not have; leaving it to its lease", "source", c.Source)
			continue
		}
		p.mu.Lock()
		p.outstanding++
		p.mu.Unlock()
		p.jobs <- job{src: src, claim: c, expires: now.Add(c.Until.Sub(c.Claimed)), force: force}
		n++
	}
	return n
}

// done marks one claim as out of the pipeline.
func (p *stages) done() {
	p.mu.Lock()
	p.outstanding--
	p.mu.Unlock()
	poke(p.freed)
}

// giveBack queues c for Release at the end.
func (p *stages) giveBack(c storage.Claim) {
	p.mu.Lock()
	p.unstarted = append(p.unstarted, c)
	p.mu.Unlock()
	p.done()
}

// work is one worker: it fetches and processes jobs and starts their saves.
func (p *stages) work(ctx context.Context) {
	a := p.a
	for j := range p.jobs {
		// A fetch its lease cannot cover, or one after shutdown began, is
		// not started: the source is given back, due as it was.
		if ctx.Err() != nil || !a.opts.Now().Add(a.opts.Timeout).Before(j.expires) {
			p.giveBack(j.claim)
			continue
		}
		pl := a.fetchOne(ctx, j.src, j.claim.State, j.force)
		if pl.noSave {
			p.giveBack(j.claim)
			p.record(pl.res)
			continue
		}
		p.saving <- struct{}{}
		p.saves.Go(func() {
			defer func() { <-p.saving }()
			defer p.done()
			p.record(a.finish(ctx, j.claim, pl))
		})
	}
}

// stop closes the jobs queue, waits for the workers and saves, and releases
// the claims that were not polled.
func (p *stages) stop() {
	close(p.jobs)
	p.workers.Wait()
	p.saves.Wait()
	if len(p.unstarted) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := p.a.store.Release(ctx, p.unstarted); err != nil {
		p.a.opts.Logger.Warn("release unpolled sources; they are due when their leases end", "sources", len(p.unstarted), "error", err.Error())
	}
}

// finish stores what fetchOne got with one fenced SavePoll (posts and state
// together, or state alone) and reports the result.
func (a *Aggregator) finish(ctx context.Context, c storage.Claim, p polled) Result {
	r := a.save(ctx, c, p)
	if a.opts.OnResult != nil {
		a.opts.OnResult(r)
	}
	if r.New+r.Updated > 0 {
		a.notifyChanged()
	}
	return r
}

// save stores p with one SavePoll fenced by c.
func (a *Aggregator) save(ctx context.Context, c storage.Claim, p polled) Result {
	res, log := p.res, p.log
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SaveTimeout)
	defer cancel()
	stats, serr := a.store.SavePoll(saveCtx, c, p.next, p.posts)
	switch {
	case errors.Is(serr, storage.ErrLeaseLost):
		// Stalled past the lease: another poller took the source over,
		// and its poll stands. Not the source's failure.
		log.Warn("poll not saved: the lease ran out and another poller took the source", "class", ClassBusy)
		res = Result{Source: res.Source, ErrorClass: ClassBusy, Err: serr}
	case serr != nil:
		serr = fmt.Errorf("save %d posts: %w", len(p.posts), serr)
		log.Error("poll failed", "class", ClassStore, "error", serr.Error())
		if res.Err == nil {
			res.Err, res.ErrorClass = serr, ClassStore
			res.Status = storage.StatusError
		} else {
			res.Err = errors.Join(res.Err, serr)
		}
	default:
		res.New, res.Updated = stats.New, stats.Updated
	}
	res.Took = a.opts.Now().Sub(p.start)
	return res
}
