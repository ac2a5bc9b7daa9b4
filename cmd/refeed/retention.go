package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/refeed/refeed/config"
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

// pruner deletes posts beyond [storage] keep and keep_per_source.
type pruner interface {
	Prune(ctx context.Context, olderThan time.Time, perSource int) (int, error)
}

// prune applies cfg's retention limits once, if any is set, and returns the
// number of posts deleted.
func prune(ctx context.Context, log *slog.Logger, st pruner, cfg *config.Config, now time.Time) int {
	keep, perSource := cfg.Storage.Keep, cfg.Storage.KeepPerSource
	if keep <= 0 && perSource <= 0 {
		return 0
	}
	var before time.Time
	if keep > 0 {
		before = now.Add(-keep)
	}
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
func retention(ctx context.Context, log *slog.Logger, st pruner, cfg func() *config.Config,
	changed, reloaded <-chan struct{}, pruned func()) {
	settle := time.NewTimer(pruneSettle)
	defer settle.Stop()
	every := time.NewTimer(pruneEvery)
	defer every.Stop()
	sawChange, prunedAfterChange := false, false
	run := func() {
		if prune(ctx, log, st, cfg(), time.Now()) > 0 && pruned != nil {
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
