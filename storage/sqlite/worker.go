package sqlite

import "context"

// worker is a background goroutine of the store (the search indexer, the
// checkpointer): Open starts it, Close stops it and waits for it, and poke
// wakes it without blocking. Its loop returns when ctx is cancelled.
type worker struct {
	wake chan struct{} // buffered: one poke waits while the loop is busy
	stop context.CancelFunc
	done chan struct{}
}

// startWorker runs loop in a goroutine until halt.
func startWorker(loop func(ctx context.Context, wake <-chan struct{})) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{wake: make(chan struct{}, 1), stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		loop(ctx, w.wake)
	}()
	return w
}

// poke wakes the loop; a nil worker (an old schema's store) ignores it.
func (w *worker) poke() {
	if w == nil {
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// halt stops the loop and waits for it to return; halting again does nothing.
func (w *worker) halt() {
	if w == nil {
		return
	}
	w.stop()
	<-w.done
}
