package postgres

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The search index (GIN, posts_search) takes new entries into a pending
// list, which a save appends to cheaply; merging the list into the index
// is the expensive part of indexing, and cheapest in bulk. The cleaner
// merges it once this store's saves have paused for cleanAfter, and every
// cleanEvery in any case (other instances' saves), so that it runs between
// polls, not inside them. Several instances' cleaners may run at once: the
// server lets one merge at a time.
const (
	cleanAfter = 2 * time.Second
	cleanEvery = time.Minute
)

type cleaner struct {
	pool   *pgxpool.Pool
	log    *slog.Logger
	saved  chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startCleaner(pool *pgxpool.Pool, log *slog.Logger) *cleaner {
	ctx, cancel := context.WithCancel(context.Background())
	c := &cleaner{pool: pool, log: log, saved: make(chan struct{}, 1), cancel: cancel}
	c.wg.Go(func() { c.loop(ctx) })
	return c
}

// poke says that this store saved posts.
func (c *cleaner) poke() {
	select {
	case c.saved <- struct{}{}:
	default:
	}
}

func (c *cleaner) loop(ctx context.Context) {
	idle := time.NewTimer(cleanAfter)
	idle.Stop()
	every := time.NewTicker(cleanEvery)
	defer every.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.saved:
			idle.Reset(cleanAfter)
			continue
		case <-idle.C:
		case <-every.C:
		}
		c.clean(ctx)
	}
}

// clean merges the pending list now.
func (c *cleaner) clean(ctx context.Context) {
	start := time.Now()
	var pages int64
	if err := c.pool.QueryRow(ctx, `SELECT gin_clean_pending_list('posts_search'::regclass)`).Scan(&pages); err != nil {
		if ctx.Err() == nil {
			c.log.Warn("postgres: merge the search index's pending list", "error", err)
		}
		return
	}
	if pages > 0 {
		c.log.Debug("postgres: merged the search index's pending list", "pages", pages, "took", time.Since(start).String())
	}
}

// stop ends the loop; a merge in progress is cancelled (the server rolls it
// back, nothing is lost).
func (c *cleaner) stop() {
	c.cancel()
	c.wg.Wait()
}
