package storage

import (
	"testing"
	"time"
)

func TestRescheduled(t *testing.T) {
	last := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		next     time.Duration // NextPoll - LastPoll
		failures int
		old, cur time.Duration
		want     time.Duration // Rescheduled - LastPoll
	}{
		{"shortened", 31 * time.Minute, 0, 30 * time.Minute, 5 * time.Minute, 5 * time.Minute},
		{"shortened, spread first round", 44 * time.Minute, 0, 30 * time.Minute, 10 * time.Minute, 10 * time.Minute},
		{"shortened, spread below", 16 * time.Minute, 0, 30 * time.Minute, 10 * time.Minute, 10 * time.Minute},
		{"lengthened", 30 * time.Minute, 0, 30 * time.Minute, time.Hour, 30 * time.Minute},
		{"unchanged", 30 * time.Minute, 0, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute},
		{"hint holds", 2 * time.Hour, 0, 30 * time.Minute, 5 * time.Minute, 2 * time.Hour},
		{"backoff holds", 31 * time.Minute, 1, 30 * time.Minute, 5 * time.Minute, 31 * time.Minute},
		{"already sooner", 3 * time.Minute, 0, 30 * time.Minute, 5 * time.Minute, 3 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := SourceState{LastPoll: last, NextPoll: last.Add(tt.next), Failures: tt.failures}
			if got := Rescheduled(st, tt.old, tt.cur).Sub(last); got != tt.want {
				t.Errorf("rescheduled after %v, want %v", got, tt.want)
			}
		})
	}
	if got := Rescheduled(SourceState{}, time.Hour, time.Minute); !got.IsZero() {
		t.Errorf("never polled: %v, want zero (due)", got)
	}
}
