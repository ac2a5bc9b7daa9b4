package aggregator

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// fakeStore is an in-memory Store: posts by source and key, states by source.
type fakeStore struct {
	mu      sync.Mutex
	sources map[string]storage.Source
	posts   map[string]map[string]storage.Post // source → key → post
	saves   []savedPoll
	failAll bool // SavePoll fails
}

type savedPoll struct {
	Source string
	State  storage.SourceState
	Posts  []storage.Post
}

func newFakeStore(names ...string) *fakeStore {
	s := &fakeStore{sources: map[string]storage.Source{}, posts: map[string]map[string]storage.Post{}}
	for _, n := range names {
		s.sources[n] = storage.Source{SourceConfig: storage.SourceConfig{Name: n}}
	}
	return s
}

func (s *fakeStore) Sources(ctx context.Context) ([]storage.Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.Source, 0, len(s.sources))
	for _, src := range s.sources {
		out = append(out, src)
	}
	slices.SortFunc(out, func(a, b storage.Source) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *fakeStore) SavePoll(ctx context.Context, source string, state storage.SourceState, posts []storage.Post) (storage.SaveStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAll {
		return storage.SaveStats{}, errors.New("disk full")
	}
	s.saves = append(s.saves, savedPoll{source, state, posts})
	src := s.sources[source]
	src.Name = source
	src.State = state
	s.sources[source] = src
	m := s.posts[source]
	if m == nil {
		m = map[string]storage.Post{}
		s.posts[source] = m
	}
	var st storage.SaveStats
	for _, p := range posts {
		old, ok := m[p.Key]
		switch {
		case !ok:
			st.New++
		case old.Hash != p.Hash:
			st.Updated++
		default:
			st.Unchanged++
		}
		m[p.Key] = p
	}
	return st, nil
}

func (s *fakeStore) state(name string) storage.SourceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sources[name].State
}

func (s *fakeStore) lastSave(t *testing.T, name string) savedPoll {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.saves) - 1; i >= 0; i-- {
		if s.saves[i].Source == name {
			return s.saves[i]
		}
	}
	t.Fatalf("no SavePoll for %s", name)
	return savedPoll{}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testLogger sends slog output to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// src is a Source with a name and URL.
func src(name, url string) Source {
	return Source{SourceConfig: storage.SourceConfig{Name: name, URL: url, Interval: 30 * time.Minute}}
}

func readMem(m *runtime.MemStats) {
	runtime.GC()
	runtime.ReadMemStats(m)
}
