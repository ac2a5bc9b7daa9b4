package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/sqlite/sqlitetest"
	"github.com/refeed/refeed/storage/storagetest"
)

// Two instances' pingers on one database: only the websub lease's holder
// pings, once per change of the version (or fewer, coalesced), whichever
// instance saved it, and a hub's failure is retried with backoff.
func TestPingerOneInstancePings(t *testing.T) {
	st := sqlitetest.MustOpen(t)
	ctx := context.Background()
	if err := st.SyncSources(ctx, []storage.SourceConfig{{Name: "a", URL: "https://a.example/", Category: "x", Interval: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var pings []string // owner@version
	failures := 2      // the hub fails the first two pings
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, owner := range []string{"one", "two"} {
		p := &pinger{st: st, owner: owner, log: slog.New(slog.DiscardHandler), now: time.Now,
			hub: func() string { return "https://hub.example/" },
			ping: func(ctx context.Context) error {
				v, _ := st.Version(ctx)
				mu.Lock()
				defer mu.Unlock()
				if failures > 0 {
					failures--
					return errors.New("hub answered 503")
				}
				pings = append(pings, fmt.Sprintf("%s@%d", owner, v))
				return nil
			}}
		wg.Go(func() { p.run(runCtx, make(chan struct{})) })
	}
	time.Sleep(1500 * time.Millisecond) // both start: nothing changed yet, no ping
	mu.Lock()
	if len(pings) > 0 || failures != 2 {
		t.Errorf("pinged before any change: %v", pings)
	}
	mu.Unlock()
	for i := range 3 {
		storagetest.Save(t, st, "a", storage.SourceState{Status: storage.StatusOK},
			storage.Post{Key: fmt.Sprintf("guid:%d", i), GUID: fmt.Sprint(i), Title: "t", Published: time.Unix(int64(i+1), 0)})
		time.Sleep(1200 * time.Millisecond)
	}
	v, _ := st.Version(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n, last := len(pings), ""
		if n > 0 {
			last = pings[n-1]
		}
		mu.Unlock()
		if len(last) > 0 && last[len(last)-len(fmt.Sprint(v)):] == fmt.Sprint(v) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last change (version %d) was never pinged: %v", v, pings)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if failures != 0 {
		t.Errorf("the failed pings were not retried (%d left)", failures)
	}
	owners := map[string]bool{}
	for _, p := range pings {
		owners[p[:3]] = true
	}
	if len(owners) != 1 || len(pings) > 3 {
		t.Errorf("pings %v: want at most one per change, all from the lease's holder", pings)
	}
	t.Logf("pings: %v", pings)
}
