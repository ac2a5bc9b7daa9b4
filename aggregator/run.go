package aggregator

import (
	"context"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

// Scheduler timings for Run.
const (
	// maxSleep bounds how long the scheduler sleeps, so sources added to the
	// store behind its back are noticed.
	maxSleep = time.Minute
	// retryList is the wait after the store failed to list sources.
	retryList = 30 * time.Second
)

// Run polls due sources until ctx is done (serve mode). A scheduler loop
// lists the sources, starts the due ones on at most Concurrency workers, and
// sleeps until the earliest NextPoll, a SetSources call or a finished poll.
// On exit it waits for polls in flight; their fetches are cancelled with ctx
// but a SavePoll already running completes. It returns nil after ctx is done.
func (a *Aggregator) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, a.opts.Concurrency)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-a.wake:
		}
		sleep := a.dispatch(ctx, &wg, sem)
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(sleep)
	}
}

// dispatch starts every due source that is not already being polled and
// returns how long to sleep until the next one is due.
func (a *Aggregator) dispatch(ctx context.Context, wg *sync.WaitGroup, sem chan struct{}) time.Duration {
	stored, err := a.store.Sources(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.opts.Logger.Error("list sources", "error", err.Error())
		}
		return retryList
	}
	states := make(map[string]storage.SourceState, len(stored))
	for _, s := range stored {
		states[s.Name] = s.State
	}
	a.mu.Lock()
	srcs := make([]Source, 0, len(a.sources))
	for _, s := range a.sources {
		if a.running[s.Name] {
			continue
		}
		srcs = append(srcs, s)
		if p, ok := a.planned[s.Name]; ok && p.After(states[s.Name].NextPoll) {
			st := states[s.Name]
			st.NextPoll = p // saving it failed: do not hammer the source
			states[s.Name] = st
		}
		if old, ok := a.shortened[s.Name]; ok {
			st := states[s.Name]
			st.NextPoll = rescheduled(st, old, interval(s))
			states[s.Name] = st
		}
	}
	a.mu.Unlock()

	now := a.opts.Now()
	sleep := maxSleep
	for _, s := range srcs {
		st := states[s.Name]
		if st.Status == storage.StatusGone {
			continue
		}
		if !due(st, now) {
			sleep = min(sleep, st.NextPoll.Sub(now))
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return 0
		}
		a.mu.Lock()
		delete(a.shortened, s.Name) // its next NextPoll comes from the new interval
		a.mu.Unlock()
		wg.Go(func() {
			defer func() { <-sem }()
			a.pollSource(ctx, s, st, false)
			select {
			case a.wake <- struct{}{}:
			default:
			}
		})
	}
	return max(sleep, 10*time.Millisecond)
}
