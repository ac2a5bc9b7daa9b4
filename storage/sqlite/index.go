package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/refeed/refeed/storage/search"
	"sync/atomic"
	"time"
)

// Search indexing is kept out of SavePoll: full-text indexing (bigram text,
// FTS5 tokenising, segment flushes and merges) cost about as much as all the
// rest of storing a poll, and SQLite has one writer. SavePoll only queues
// the rowids of new and changed posts in search_queue, in the same
// transaction as the posts; the store indexes them in batches, each in a
// short write transaction of its own:
//
//   - in the background, by a goroutine started by Open and stopped by
//     Close, once no other write has run for indexIdle (so that a poll in
//     progress is never held up by it, and a short-lived command does not
//     start work it would abandon);
//   - synchronously before any search that uses the index, until the queue
//     is empty, so a search never misses a post committed before it began.
//
// Close does not wait for the queue to drain: it cancels the batch in
// flight (rolled back, nothing lost) and leaves the rest in search_queue for
// the next process that opens the database — `refeed serve` catches up in
// the background, and its first search catches up in any case. A process
// that only polls (cron) thus leaves the indexing to serve.
const (
	// indexBatch is how many posts one indexing transaction takes. Larger
	// batches make larger FTS5 segments (fewer merges) but hold the writer
	// longer.
	indexBatch = 1000
	// indexIdle is how long the writer must have been idle before the
	// background indexer takes it.
	indexIdle = 500 * time.Millisecond
	// indexRecheck is how often the background indexer looks for posts
	// queued by another process (`refeed poll` next to `refeed serve`).
	indexRecheck = 15 * time.Second
)

// indexer is the state of the background indexer.
type indexer struct {
	*worker                // poked when posts were queued
	writers   atomic.Int32 // write transactions running or waiting, other than the indexer's
	lastWrite atomic.Int64 // monotonic nanoseconds since start when the last one ended
	start     time.Time
}

// startIndexer starts the background indexer.
func (s *Store) startIndexer() {
	s.ix = &indexer{start: time.Now()}
	s.ix.lastWrite.Store(int64(time.Since(s.ix.start)))
	s.ix.worker = startWorker(s.indexLoop)
	s.ix.poke() // whatever a previous process left
}

// writeBegins and writeEnds bracket every write transaction except the
// indexer's own.
func (ix *indexer) writeBegins() { ix.writers.Add(1) }
func (ix *indexer) writeEnds() {
	ix.lastWrite.Store(int64(time.Since(ix.start)))
	ix.writers.Add(-1)
}

// idleFor reports how much longer the writer must stay idle before the
// background indexer may take it (0: now).
func (ix *indexer) idleFor() time.Duration {
	if ix.writers.Load() > 0 {
		return indexIdle
	}
	since := time.Since(ix.start) - time.Duration(ix.lastWrite.Load())
	return max(indexIdle-since, 0)
}

func (s *Store) indexLoop(ctx context.Context, wake <-chan struct{}) {
	recheck := time.NewTicker(indexRecheck)
	defer recheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-recheck.C:
		}
		for {
			for wait := s.ix.idleFor(); wait > 0; wait = s.ix.idleFor() {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			n, err := s.indexQueued(ctx, indexBatch)
			if err != nil || n < indexBatch {
				// An error is retried on the next wake-up and surfaces
				// in the next search, which catches up itself.
				break
			}
		}
	}
}

// catchUp indexes every queued post; searches call it first. Whether
// anything is queued is read on a read connection, so that a search with
// nothing to index never waits for the writer (a poll's batch may hold it
// for a while).
func (s *Store) catchUp(ctx context.Context) error {
	var queued bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM search_queue)`).Scan(&queued); err != nil {
		return fmt.Errorf("search queue: %w", err)
	}
	if !queued {
		return nil
	}
	for {
		n, err := s.indexQueued(ctx, indexBatch)
		if err != nil {
			return fmt.Errorf("index queued posts: %w", err)
		}
		if n < indexBatch {
			return nil
		}
	}
}

// queued is a post taken from search_queue.
type queued struct {
	rid                     int64
	indexed                 bool
	title, content, summary string
}

// indexQueued indexes up to limit queued posts, lowest rowid first, in one
// write transaction, and returns how many it took from the queue.
func (s *Store) indexQueued(ctx context.Context, limit int) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT q.rid, q.indexed, p.title, p.content, p.summary
			FROM search_queue q JOIN posts p ON p.rid = q.rid ORDER BY q.rid LIMIT ?`, limit)
		if err != nil {
			return err
		}
		var batch []queued
		for rows.Next() {
			var q queued
			if err := rows.Scan(&q.rid, &q.indexed, &q.title, &q.content, &q.summary); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, q)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		n = len(batch)
		if n == 0 {
			return nil
		}
		// Old entries out first, then new ones in rowid order: FTS5
		// keeps appending to one in-memory segment while rowids ascend.
		for _, q := range batch {
			if q.indexed {
				if _, err := tx.ExecContext(ctx, `DELETE FROM posts_fts WHERE rowid = ?`, q.rid); err != nil {
					return fmt.Errorf("unindex: %w", err)
				}
			}
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO posts_fts (rowid, title, body) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, q := range batch {
			if _, err := ins.ExecContext(ctx, q.rid, search.Title(q.title), search.Body(q.content, q.summary)); err != nil {
				return fmt.Errorf("index: %w", err)
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM search_queue WHERE rid BETWEEN ? AND ?`, batch[0].rid, batch[n-1].rid)
		return err
	})
	return n, err
}
