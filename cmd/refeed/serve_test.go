package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// serve's shutdown waits for background work (a save in flight) beyond the
// HTTP server's budget, up to its own bound, before the store is closed.
func TestServeStopWaitsForBackground(t *testing.T) {
	for _, tc := range []struct {
		name   string
		work   time.Duration
		bound  time.Duration
		inTime bool
	}{
		{"slow save within the bound", 300 * time.Millisecond, 5 * time.Second, true},
		{"past the bound", 2 * time.Second, 100 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &serveApp{e: &env{log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
			a.bg, a.stopBG = context.WithCancel(context.Background())
			finished := make(chan struct{})
			a.wg.Go(func() {
				<-a.bg.Done()
				time.Sleep(tc.work) // a save that runs on after the cancel
				close(finished)
			})
			if got := a.stop(tc.bound); got != tc.inTime {
				t.Fatalf("stop = %v, want %v", got, tc.inTime)
			}
			if tc.inTime {
				select {
				case <-finished:
				default:
					t.Error("stop returned before the background work finished")
				}
			}
			<-finished
		})
	}
	if backgroundStop <= shutdownTimeout || backgroundStop < 30*time.Second {
		t.Errorf("background budget %v does not cover a save (30 s) beyond the HTTP budget %v", backgroundStop, shutdownTimeout)
	}
}
