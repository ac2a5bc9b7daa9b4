package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/storage"
)

// Retention timings in serve.
const (
	// pruneEvery is how often serve prunes.
	pruneEvery = time.Hour
	// pruneSettle is how long serve waits after start, after a reload, or
	// after posts last changed in its first poll round before it prunes, so
	// that the first prune runs right after that round, not in its middle.
	pruneSettle = 2 * time.Second
)

// pruner deletes posts beyond [storage] keep and keep_per_source, under the
// named lease that keeps retention to one process at a time.
type pruner interface {
	Prune(ctx context.Context, olderThan time.Time, perSource int) (int, error)
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (storage.Lease, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Retention's named lease: one process prunes at a time (serve, several
// serves, or a `refeed poll` from cron beside them).
const (
	retentionLease    = "retention"
	retentionLeaseTTL = 10 * time.Minute
)

// prune applies cfg's retention limits once, if any is set and no other
// process is pruning, and returns the number of posts deleted.
func prune(ctx context.Context, log *slog.Logger, st pruner, owner string, cfg *config.Config, now time.Time) int {
	keep, perSource := cfg.Storage.Keep, cfg.Storage.KeepPerSource
	if keep <= 0 && perSource <= 0 {
		return 0
	}
	var before time.Time
	if keep > 0 {
		before = now.Add(-keep)
	}
	if _, err := st.AcquireLease(ctx, retentionLease, owner, retentionLeaseTTL); err != nil {
		if errors.Is(err, storage.ErrLeaseHeld) {
			log.Debug("prune skipped: another process is pruning")
		} else if ctx.Err() == nil {
			log.Error("prune", "error", err)
		}
		return 0
	}
	defer func() {
		if err := st.ReleaseLease(context.WithoutCancel(ctx), retentionLease, owner); err != nil {
			log.Warn("prune: release the retention lease; it ends by itself", "error", err)
		}
	}()
	n, err := st.Prune(ctx, before, perSource)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			log.Error("prune", "error", err)
		}
	case n > 0:
		log.Info("pruned old posts", "posts", n, "keep", keep.String(), "keep_per_source", perSource)
	}
	return n
}

// retention is serve's background pruning. It prunes pruneSettle after
// start; then, until it has pruned after a poll stored posts, pruneSettle
// after the last change seen on changed (so the first poll round's posts are
// pruned as soon as the round is over); pruneSettle after every reload
// (received on reloaded), so tightened limits apply at once; and every
// pruneEvery. pruned is called after a prune that deleted posts.
func retention(ctx context.Context, log *slog.Logger, st pruner, owner string, cfg func() *config.Config,
	changed, reloaded <-chan struct{}, pruned func()) {
	settle := time.NewTimer(pruneSettle)
	defer settle.Stop()
	every := time.NewTimer(pruneEvery)
	defer every.Stop()
	sawChange, prunedAfterChange := false, false
	run := func() {
		if prune(ctx, log, st, owner, cfg(), time.Now()) > 0 && pruned != nil {
			pruned()
		}
		prunedAfterChange = prunedAfterChange || sawChange
		settle.Stop()
		every.Reset(pruneEvery)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			if !prunedAfterChange {
				sawChange = true
				settle.Reset(pruneSettle)
			}
		case <-reloaded:
			settle.Reset(pruneSettle)
		case <-settle.C:
			run()
		case <-every.C:
			run()
		}
	}
}
