package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/refeed/refeed/storage"
)

// WebSub pings with several instances: one process at a time, the holder
// of the "websub" named lease, pings the hub, for every change of the
// store's version, whichever process saved it. So a hub hears of each
// change once (coalesced: at most one ping per pingEvery), not once per
// instance, and a ping is not lost when the instance that saved the change
// has no hub client of its own running.
const (
	websubLease    = "websub"
	websubLeaseTTL = 30 * time.Second
	// pingEvery is how often the holder looks at the version (and the
	// soonest it pings again).
	pingEvery = time.Second
	// pingBackoffMax caps the wait after a hub's failures.
	pingBackoffMax = 5 * time.Minute
)

// versionLeaser is what the pinger needs of the store.
type versionLeaser interface {
	Version(ctx context.Context) (int64, error)
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (storage.Lease, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// pinger pings a hub after the store's version changes, while it holds
// the websub lease.
type pinger struct {
	st    versionLeaser
	owner string
	log   *slog.Logger
	hub   func() string                   // the configured hub, "" for none
	ping  func(ctx context.Context) error // one publish ping
	now   func() time.Time
}

// run pings until ctx ends; changed (this process's own saves) makes it
// look at once instead of at the next tick.
func (p *pinger) run(ctx context.Context, changed <-chan struct{}) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	var held time.Time    // when the lease was last renewed; zero: not held
	var pinged int64 = -1 // the version last pinged (or seen at start)
	var retryAt time.Time
	backoff := time.Duration(0)
	if v, err := p.st.Version(ctx); err == nil {
		pinged = v
	}
	defer func() {
		if !held.IsZero() {
			_ = p.st.ReleaseLease(context.WithoutCancel(ctx), websubLease, p.owner)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-changed:
		}
		if p.hub() == "" {
			continue
		}
		now := p.now()
		if held.IsZero() || now.Sub(held) > websubLeaseTTL/3 {
			_, err := p.st.AcquireLease(ctx, websubLease, p.owner, websubLeaseTTL)
			if err != nil {
				if !errors.Is(err, storage.ErrLeaseHeld) && ctx.Err() == nil {
					p.log.Warn("websub: lease", "error", err)
				}
				held = time.Time{}
				continue
			}
			held = now
		}
		if now.Before(retryAt) {
			continue
		}
		v, err := p.st.Version(ctx)
		if err != nil || v == pinged {
			continue
		}
		if err := p.ping(ctx); err != nil {
			backoff = min(max(2*backoff, pingEvery), pingBackoffMax)
			retryAt = now.Add(backoff)
			p.log.Warn("websub ping failed", "error", err, "retry_in", backoff.String())
			continue
		}
		pinged, backoff, retryAt = v, 0, time.Time{}
	}
}
