package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// fakeStore is an in-memory Store: posts by source and key, states and
// leases by source, on a clock of its own (nil: time.Now). It counts the
// calls a scheduler makes, so tests can tell what a pass read.
type fakeStore struct {
	mu      sync.Mutex
	now     func() time.Time
	sources map[string]storage.Source
	leases  map[string]fakeLease
	token   int64
	posts   map[string]map[string]storage.Post // source → key → post
	saves   []savedPoll
	failAll bool // SavePoll fails

	claimCalls, nextDueCalls int
	claimedTotal             int // sources handed out by Claim
}

type fakeLease struct {
	owner string
	until time.Time
	token int64
}

type savedPoll struct {
	Source string
	State  storage.SourceState
	Posts  []storage.Post
}

func newFakeStore(names ...string) *fakeStore {
	s := &fakeStore{sources: map[string]storage.Source{}, posts: map[string]map[string]storage.Post{},
		leases: map[string]fakeLease{}}
	for _, n := range names {
		s.sources[n] = storage.Source{SourceConfig: storage.SourceConfig{Name: n}}
	}
	return s
}

// sync adds the sources the store lacks, as SyncSources would.
func (s *fakeStore) sync(srcs ...Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, src := range srcs {
		if _, ok := s.sources[src.Name]; !ok {
			s.sources[src.Name] = storage.Source{SourceConfig: src.SourceConfig}
		}
	}
}

func (s *fakeStore) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// claimable is when a source can be claimed: max(NextPoll, lease end).
func (s *fakeStore) claimable(name string) time.Time {
	t := s.sources[name].State.NextPoll
	if l := s.leases[name]; l.until.After(t) {
		t = l.until
	}
	return t
}

func (s *fakeStore) Claim(ctx context.Context, r storage.ClaimRequest) ([]storage.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claimCalls++
	now := s.clock()
	dueBy := now
	if !r.DueBy.IsZero() && r.DueBy.Before(now) {
		dueBy = r.DueBy
	}
	var names []string
	for n := range s.sources {
		if r.Names != nil && !slices.Contains(r.Names, n) {
			continue
		}
		if r.Force && r.Names == nil && n <= r.After {
			continue
		}
		st := s.sources[n].State
		if s.leases[n].until.After(now) {
			continue
		}
		if !r.Force && (st.Status == storage.StatusGone || st.NextPoll.After(dueBy)) {
			continue
		}
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := s.claimable(a).Compare(s.claimable(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if len(names) > r.Limit {
		names = names[:r.Limit]
	}
	if len(names) == 0 {
		return nil, nil
	}
	s.token++
	var out []storage.Claim
	for _, n := range names {
		s.leases[n] = fakeLease{owner: r.Owner, until: now.Add(r.Lease), token: s.token}
		out = append(out, storage.Claim{Source: n, Token: s.token, Claimed: now, Until: now.Add(r.Lease), State: s.sources[n].State})
	}
	s.claimedTotal += len(out)
	return out, nil
}

func (s *fakeStore) Release(ctx context.Context, claims []storage.Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range claims {
		if s.leases[c.Source].token == c.Token {
			delete(s.leases, c.Source)
		}
	}
	return nil
}

func (s *fakeStore) NextDue(ctx context.Context) (time.Duration, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextDueCalls++
	var first time.Time
	found := false
	for n, src := range s.sources {
		if src.State.Status == storage.StatusGone {
			continue
		}
		if t := s.claimable(n); !found || t.Before(first) {
			first, found = t, true
		}
	}
	if !found {
		return 0, false, nil
	}
	return max(0, first.Sub(s.clock())), true, nil
}

func (s *fakeStore) SavePoll(ctx context.Context, c storage.Claim, state storage.SourceState, posts []storage.Post) (storage.SaveStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAll {
		return storage.SaveStats{}, errors.New("disk full")
	}
	if l, ok := s.leases[c.Source]; !ok || l.token != c.Token {
		return storage.SaveStats{}, fmt.Errorf("save %s: %w", c.Source, storage.ErrLeaseLost)
	}
	delete(s.leases, c.Source)
	source := c.Source
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
