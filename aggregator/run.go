package aggregator

import (
	"context"
	"time"

	"github.com/refeed/refeed/storage"
)

// Scheduler timings for Run.
const (
	// maxSleep bounds how long the scheduler sleeps, so sources added to the
	// store behind its back are noticed.
	maxSleep = time.Minute
	// retryStore is the wait after the store failed to answer.
	retryStore = 30 * time.Second
	// raceSleep is the wait after a claim found nothing although NextDue
	// said a source was due: another poller claimed it in between.
	raceSleep = 10 * time.Millisecond
	// passEvery is the shortest sleep until sources come due: the
	// scheduler claims what came due in the meantime in one batch, rather
	// than one source at a time as each comes due (a claim and a save of
	// their own each). A source is polled at most this late.
	passEvery = 500 * time.Millisecond
)

// Run polls due sources until ctx is done (serve mode). Its scheduler asks
// the store how long until the next source is due (one indexed read), claims
// as many due sources as the pipeline has room for, and sleeps until the
// next one is due (at least passEvery), a SetSources call or a finished
// poll. A pass costs what
// is due, never a listing of all sources. On exit it waits for polls in
// flight (their fetches are cancelled with ctx, but a SavePoll already
// running completes) and gives back the claims not started. It returns nil
// after ctx is done.
func (a *Aggregator) Run(ctx context.Context) error {
	p := a.startPipeline(ctx, func(Result) {})
	defer p.stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-a.wake:
		case <-p.freed:
		}
		sleep := a.dispatch(ctx, p)
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(sleep)
	}
}

// dispatch claims due sources while the pipeline has room and returns how
// long to sleep.
func (a *Aggregator) dispatch(ctx context.Context, p *stages) time.Duration {
	log := a.opts.Logger
	for {
		free := p.free()
		if free == 0 {
			return maxSleep // a finished poll wakes Run
		}
		wait, ok, err := a.store.NextDue(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("scheduler: next due source", "error", err.Error())
			}
			return retryStore
		}
		if !ok {
			return maxSleep
		}
		if wait > 0 {
			return min(max(wait, passEvery), maxSleep)
		}
		claims, err := a.store.Claim(ctx, storage.ClaimRequest{Owner: a.opts.Owner, Lease: a.opts.Lease, Limit: free})
		if err != nil {
			if ctx.Err() == nil {
				log.Error("scheduler: claim", "error", err.Error())
			}
			return retryStore
		}
		if len(claims) == 0 {
			return raceSleep
		}
		a.claimed(len(claims))
		p.add(claims, false)
	}
}
