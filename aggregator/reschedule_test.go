package aggregator

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

func TestRescheduled(t *testing.T) {
	last := newClock().Now()
	tests := []struct {
		name     string
		next     time.Duration // NextPoll - LastPoll
		old, cur time.Duration
		want     time.Duration // rescheduled - LastPoll
	}{
		{"shortened", 31 * time.Minute, 30 * time.Minute, 5 * time.Minute, 5 * time.Minute},
		{"shortened, jitter below", 27 * time.Minute, 30 * time.Minute, 10 * time.Minute, 10 * time.Minute},
		{"lengthened", 30 * time.Minute, 30 * time.Minute, time.Hour, 30 * time.Minute},
		{"unchanged", 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute},
		{"hint or backoff holds", 2 * time.Hour, 30 * time.Minute, 5 * time.Minute, 2 * time.Hour},
		{"already sooner", 3 * time.Minute, 30 * time.Minute, 5 * time.Minute, 3 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storage.SourceState{LastPoll: last, NextPoll: last.Add(tt.next)}
			if got := rescheduled(st, tt.old, tt.cur).Sub(last); got != tt.want {
				t.Errorf("rescheduled after %v, want %v", got, tt.want)
			}
		})
	}
	if got := rescheduled(storage.SourceState{}, time.Hour, time.Minute); !got.IsZero() {
		t.Errorf("never polled: %v, want zero (due)", got)
	}
}

// A reload that shortens a source's interval makes Run poll it at
// LastPoll + the new interval instead of the NextPoll the old one gave.
func TestRunReschedulesShortenedInterval(t *testing.T) {
	store, c := newFakeStore(), newClock()
	now := c.Now()
	withInterval := func(name string, d time.Duration) Source {
		s := src(name, "file://testdata/atom.xml")
		s.Interval = d
		return s
	}
	states := map[string]storage.SourceState{
		"short": {Status: storage.StatusOK, LastPoll: now.Add(-10 * time.Minute), NextPoll: now.Add(20 * time.Minute)},
		"hint":  {Status: storage.StatusOK, LastPoll: now.Add(-10 * time.Minute), NextPoll: now.Add(2 * time.Hour)}, // max-age
		"same":  {Status: storage.StatusOK, LastPoll: now.Add(-10 * time.Minute), NextPoll: now.Add(20 * time.Minute)},
	}
	for name, st := range states {
		store.sources[name] = storage.Source{SourceConfig: storage.SourceConfig{Name: name}, State: st}
	}
	a := newTestAggregator(t, store, c,
		withInterval("short", 30*time.Minute), withInterval("hint", 30*time.Minute), withInterval("same", 30*time.Minute))

	run := func() {
		var wg sync.WaitGroup
		a.dispatch(context.Background(), &wg, make(chan struct{}, 4))
		wg.Wait()
	}
	run()
	if len(store.saves) != 0 {
		t.Fatalf("polled before any reload: %+v", store.saves)
	}
	a.SetSources([]Source{withInterval("short", 5*time.Minute), withInterval("hint", 5*time.Minute), withInterval("same", 30*time.Minute)})
	run()
	if len(store.saves) != 1 || store.saves[0].Source != "short" {
		t.Fatalf("after shortening: polled %+v, want short only", store.saves)
	}
	// Polled, it is scheduled by its new interval, not rescheduled again.
	if next := store.state("short").NextPoll.Sub(now); next < 4*time.Minute || next > 6*time.Minute {
		t.Errorf("short: next poll in %v, want about 5m", next)
	}
	a.mu.Lock()
	_, left := a.shortened["short"]
	a.mu.Unlock()
	if left {
		t.Error("short still marked as shortened after its poll")
	}
}
