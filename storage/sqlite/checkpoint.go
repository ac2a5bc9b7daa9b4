package sqlite

import (
	"context"
	"time"
)

// Background checkpoints. SQLite copies the WAL back into the database
// (a checkpoint) from inside the commit that takes it past
// walCheckpointPages, on the single writer, and once more when the last
// connection closes: at the end of a 25,000-post `refeed poll` that final
// copy took about 0.5 s of a 5.5 s run. The checkpointer runs a PASSIVE
// checkpoint on a read connection shortly after writes, on the other core:
// PASSIVE never blocks the writer or readers (it copies what no reader
// still needs and leaves the rest for next time), so the writer's own
// checkpoint and the one at close find little left to do. The writer keeps
// its automatic checkpoint as the bound on the WAL's size.
const checkpointEvery = 250 * time.Millisecond

// startCheckpointer starts the background checkpointer, which save
// commits poke.
func (s *Store) startCheckpointer() { s.ckpt = startWorker(s.checkpointLoop) }

// checkpointLoop checkpoints at most once per checkpointEvery while writes
// keep coming, and once after the last of them.
func (s *Store) checkpointLoop(ctx context.Context, wake <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointEvery):
		}
		// Errors (a busy lock, a closing store) only mean that this
		// checkpoint is left to the next one or to the writer.
		_, _ = s.read.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}
