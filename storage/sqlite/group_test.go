package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// TestGroupCommitIsolatesFailures puts SavePoll calls into one batch (the
// lead is held while they queue) and checks that the ones that fail (an
// unknown source, an invalid post, a cancelled context) store nothing, not
// even their poll state, while the others store everything.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s := storeWithSources(t, 6, "t")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	post := func(src string, i int) storage.Post {
		return storage.Post{Key: fmt.Sprintf("guid:%s-%d", src, i), GUID: fmt.Sprint(i), Title: fmt.Sprint("title ", i),
			Link: fmt.Sprintf("https://example.org/%s/%d", src, i), Content: "<p>x</p>", Published: time.Unix(1700000000+int64(i), 0)}
	}
	type call struct {
		ctx     context.Context
		source  string
		posts   []storage.Post
		wantErr error // nil: stored
	}
	calls := []call{
		{ctx, "s0", []storage.Post{post("s0", 1), post("s0", 2)}, nil},
		{ctx, "nope", []storage.Post{post("nope", 1)}, storage.ErrNotFound},
		{ctx, "s1", []storage.Post{post("s1", 1)}, nil},
		{ctx, "s2", []storage.Post{post("s2", 1), {Title: "no key"}}, errAny},
		{cancelled, "s3", []storage.Post{post("s3", 1)}, context.Canceled},
		{ctx, "s4", nil, nil}, // a 304: state only
		{ctx, "s5", []storage.Post{post("s5", 1), post("s5", 2), post("s5", 3)}, nil},
	}

	// Hold the lead, queue every call, then hand the lead to the first.
	q := &s.saves
	q.mu.Lock()
	q.leading = true
	q.mu.Unlock()
	errs := make([]error, len(calls))
	stats := make([]storage.SaveStats, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			stats[i], errs[i] = s.SavePoll(c.ctx, claimOf(s, c.source), storage.SourceState{Status: storage.StatusOK, ETag: "e-" + c.source}, c.posts)
		})
		for queued := 0; queued <= i; { // in order, so the batch is calls
			runtime.Gosched()
			q.mu.Lock()
			queued = len(q.queue)
			q.mu.Unlock()
		}
	}
	q.mu.Lock()
	head := q.queue[0]
	q.mu.Unlock()
	head.wake <- true
	wg.Wait()

	for i, c := range calls {
		switch {
		case c.wantErr == nil && errs[i] != nil:
			t.Errorf("%s: SavePoll: %v", c.source, errs[i])
		case c.wantErr == errAny && errs[i] == nil,
			c.wantErr != nil && c.wantErr != errAny && !errors.Is(errs[i], c.wantErr):
			t.Errorf("%s: SavePoll error %v, want %v", c.source, errs[i], c.wantErr)
		}
		if c.source == "nope" {
			continue
		}
		src, err := s.Source(ctx, c.source)
		if err != nil {
			t.Fatal(err)
		}
		wantPosts, wantETag := len(c.posts), "e-"+c.source
		if c.wantErr != nil {
			wantPosts, wantETag = 0, ""
		}
		if src.Posts != wantPosts || src.State.ETag != wantETag {
			t.Errorf("%s: %d posts, etag %q; want %d, %q", c.source, src.Posts, src.State.ETag, wantPosts, wantETag)
		}
		if c.wantErr == nil && stats[i].New != len(c.posts) {
			t.Errorf("%s: stats %+v, want %d new", c.source, stats[i], len(c.posts))
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.leading || len(q.queue) != 0 {
		t.Errorf("after the batch: leading %v, %d queued", q.leading, len(q.queue))
	}
}

// errAny stands for any error in TestGroupCommitIsolatesFailures.
var errAny = errors.New("any error")

// TestGroupCommitManyWriters saves from many goroutines at once and checks
// that every post is stored and every call reported its own stats.
func TestGroupCommitManyWriters(t *testing.T) {
	ctx := context.Background()
	const writers, polls, perPoll = 8, 10, 5
	s := storeWithSources(t, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			src := fmt.Sprint("s", w)
			for p := range polls {
				st, err := s.SavePoll(ctx, claimOf(s, src), storage.SourceState{Status: storage.StatusOK, ETag: fmt.Sprint(p)}, pollPosts(src, p, perPoll))
				if err != nil || st.New != perPoll {
					t.Errorf("%s poll %d: %+v, %v", src, p, st, err)
				}
			}
		})
	}
	wg.Wait()
	srcs, err := s.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range srcs {
		if src.Posts != polls*perPoll || src.State.ETag != fmt.Sprint(polls-1) {
			t.Errorf("%s: %d posts, etag %q", src.Name, src.Posts, src.State.ETag)
		}
	}
}

// TestGroupCommitGathering checks when a batch's leader waits for more
// calls: never for calls made one after another (nobody was ahead of them),
// and under many concurrent callers, so that they share fewer, bigger
// commits.
func TestGroupCommitGathering(t *testing.T) {
	ctx := context.Background()
	const writers, polls, perPoll = 8, 6, 50
	setup := func(t *testing.T) *Store { return storeWithSources(t, writers) }
	save := func(t *testing.T, s *Store, src string, p int) {
		if st, err := s.SavePoll(ctx, claimOf(s, src), storage.SourceState{Status: storage.StatusOK}, pollPosts(src, p, perPoll)); err != nil || st.New != perPoll {
			t.Errorf("%s poll %d: %+v, %v", src, p, st, err)
		}
	}

	t.Run("one at a time", func(t *testing.T) {
		s := setup(t)
		for w := range writers {
			for p := range polls {
				save(t, s, fmt.Sprint("s", w), p)
			}
		}
		if st := queueStats(s); st.commits != writers*polls || st.gathered != 0 {
			t.Errorf("%+v: want %d commits, none gathered", st, writers*polls)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		s := setup(t)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for p := range polls {
					save(t, s, fmt.Sprint("s", w), p)
				}
			})
		}
		wg.Wait()
		st := queueStats(s)
		t.Logf("%d calls: %+v", writers*polls, st)
		if st.gathered == 0 || st.commits > writers*polls/2 {
			t.Errorf("%+v: want gathering and at most %d commits for %d calls", st, writers*polls/2, writers*polls)
		}
		srcs, err := s.Sources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range srcs {
			if src.Posts != polls*perPoll {
				t.Errorf("%s: %d posts, want %d", src.Name, src.Posts, polls*perPoll)
			}
		}
	})
}

func TestGatheredEnough(t *testing.T) {
	tests := []struct {
		posts, calls, peak int
		want               bool
	}{
		{0, 1, 1, true},                    // a lone caller: nobody else to wait for
		{50, 2, 12, false},                 // more callers were seen at once: wait
		{50, 3, 3, true},                   // everyone seen at once is queued
		{0, 3, 3, true},                    // polls answered 304, three workers
		{0, gatherRequests, 12, true},      // enough calls
		{0, gatherRequests - 1, 12, false}, // not yet
		{minBatchPosts, 2, 12, true},       // enough posts
		{minBatchPosts - 1, 7, 12, false},  // not yet
		{0, gatherRequests, gatherRequests, true},
	}
	for _, tt := range tests {
		if got := gatheredEnough(tt.posts, tt.calls, tt.peak); got != tt.want {
			t.Errorf("gatheredEnough(%d posts, %d calls, peak %d) = %v, want %v", tt.posts, tt.calls, tt.peak, got, tt.want)
		}
	}
}

// TestGroupCommitFewCallers saves poll states (no posts, as for 304s) from
// three goroutines: a batch's leader stops gathering once all three are
// queued instead of waiting for more calls than there are callers.
func TestGroupCommitFewCallers(t *testing.T) {
	ctx := context.Background()
	const writers, polls = 3, 40
	s := storeWithSources(t, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for p := range polls {
				if _, err := s.SavePoll(ctx, claimOf(s, fmt.Sprint("s", w)), storage.SourceState{Status: storage.StatusNotModified, ETag: fmt.Sprint(p)}, nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	st := queueStats(s)
	s.saves.mu.Lock()
	inflight := s.saves.inflight
	s.saves.mu.Unlock()
	t.Logf("%d calls: %+v", writers*polls, st)
	if st.gathered > 0 && st.full == 0 {
		t.Errorf("%+v: leaders gathered but never stopped for having every caller queued", st)
	}
	if inflight != 0 {
		t.Errorf("%d calls still counted in flight", inflight)
	}
	srcs, err := s.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range srcs {
		if src.State.ETag != fmt.Sprint(polls-1) {
			t.Errorf("%s: etag %q, want %q", src.Name, src.State.ETag, fmt.Sprint(polls-1))
		}
	}
}

// storeWithSources opens a store with sources s0..s(n-1) in category c.
func storeWithSources(t *testing.T, n int, tags ...string) *Store {
	t.Helper()
	s := mustOpen(t)
	var cfg []storage.SourceConfig
	for i := range n {
		cfg = append(cfg, storage.SourceConfig{Name: fmt.Sprint("s", i), URL: "https://example.org/", Category: "c", Tags: tags})
	}
	if err := s.SyncSources(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return s
}

// pollPosts is poll number p of src: perPoll new posts.
func pollPosts(src string, p, perPoll int) []storage.Post {
	posts := make([]storage.Post, perPoll)
	for k := range posts {
		n := p*perPoll + k
		posts[k] = storage.Post{Key: fmt.Sprint("guid:", n), Title: fmt.Sprint(src, " ", n), Content: "<p>x</p>",
			Published: time.Unix(1700000000+int64(n), 0)}
	}
	return posts
}

// queueStats returns what s's save queue counted.
func queueStats(s *Store) batchStats {
	s.saves.mu.Lock()
	defer s.saves.mu.Unlock()
	return s.saves.stats
}
