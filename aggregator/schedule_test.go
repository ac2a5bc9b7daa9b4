package aggregator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// busiest returns the most polls in any window of width w of a steady
// interval (the times taken modulo the interval, as they repeat every
// round), and the mean per window.
func busiest(times []time.Time, interval, w time.Duration) (peak int, mean float64) {
	buckets := make([]int, int(interval/time.Second))
	for _, t := range times {
		buckets[int(time.Duration(t.UnixNano()%int64(interval))/time.Second)]++
	}
	width := int(w / time.Second)
	for i := range buckets {
		sum := 0
		for j := range width {
			sum += buckets[(i+j)%len(buckets)]
		}
		peak = max(peak, sum)
	}
	return peak, float64(len(times)) * float64(width) / float64(len(buckets))
}

// 10,000 sources first polled at one instant spread over their interval
// after one round, and stay spread: the busiest 10 s of a steady 60 s
// interval holds at most 1.2 × the mean (target 2×). A source polled on time
// is next due one interval later.
func TestSpreadOverTenThousandSources(t *testing.T) {
	const n, interval = 10000, time.Minute
	start := newClock().Now()
	next := make([]time.Time, n)
	for i := range n {
		next[i] = nextAfterSuccess(fmt.Sprint("source-", i), interval, start)
		if d := next[i].Sub(start); d < interval/2 || d >= interval*3/2 {
			t.Fatalf("first round: next poll in %v, want [30s, 90s)", d)
		}
	}
	// Rounds: each source is polled when due, plus a latency of up to 2 s.
	for round := range 5 {
		for i := range n {
			polled := next[i].Add(time.Duration(i%2000) * time.Millisecond)
			next[i] = nextAfterSuccess(fmt.Sprint("source-", i), interval, polled)
			if round > 0 {
				if d := next[i].Sub(polled); d > interval || d < interval-3*time.Second {
					t.Fatalf("round %d: on-time poll next due in %v, want about one interval", round, d)
				}
			}
		}
	}
	peak, mean := busiest(next, interval, 10*time.Second)
	t.Logf("busiest 10 s: %d polls, mean %.0f (%.2f×)", peak, mean, float64(peak)/mean)
	if float64(peak) > 1.2*mean {
		t.Errorf("busiest 10 s holds %d polls, %.2f× the mean %.0f", peak, float64(peak)/mean, mean)
	}
}

// A scheduling pass reads what is due and nothing else: with 1,000 sources
// of which 10 are due it claims those 10, fetches them, and asks the store
// for nothing more than the next due time and the claims.
func TestRunPassReadsOnlyDue(t *testing.T) {
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	store, c := newFakeStore(), newClock()
	now := c.Now()
	var srcs []Source
	for i := range 1000 {
		s := src(fmt.Sprintf("s%04d", i), srv.URL+"/"+fmt.Sprint(i))
		srcs = append(srcs, s)
		st := storage.SourceState{Status: storage.StatusOK, LastPoll: now.Add(-time.Minute), NextPoll: now.Add(time.Duration(i) * time.Minute)}
		if i < 10 {
			st.NextPoll = now.Add(-time.Second)
		}
		store.sources[s.Name] = storage.Source{SourceConfig: s.SourceConfig, State: st}
	}
	a := newTestAggregator(t, store, c, srcs...)
	p := a.startPipeline(context.Background(), func(Result) {})
	sleep := a.dispatch(context.Background(), p)
	p.stop()
	if store.claimedTotal != 10 || fetches.Load() != 10 {
		t.Errorf("claimed %d, fetched %d; want the 10 due", store.claimedTotal, fetches.Load())
	}
	if store.claimCalls != 1 || store.nextDueCalls != 2 {
		t.Errorf("a pass made %d claims and %d next-due reads, want 1 and 2", store.claimCalls, store.nextDueCalls)
	}
	if sleep <= 0 || sleep > maxSleep {
		t.Errorf("sleep %v after the pass", sleep)
	}
	for i := range 10 {
		if st := store.state(fmt.Sprintf("s%04d", i)); st.Status != storage.StatusNotModified || !st.NextPoll.After(now) {
			t.Errorf("s%04d after the pass: %+v", i, st)
		}
	}
}

// A poller that stalls past its lease writes nothing when it resumes: the
// source was claimed by another poller meanwhile, and that poll stands.
func TestLostLeaseWritesNothing(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		w.Write(readTestdata(t, "atom.xml"))
	}))
	defer srv.Close()
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c, src("slow", srv.URL))

	done := make(chan []Result)
	go func() {
		res, _ := a.Poll(context.Background(), nil, false, nil)
		done <- res
	}()
	<-started
	c.Add(a.opts.Lease + time.Second) // the lease runs out while the fetch hangs
	other, err := store.Claim(context.Background(), storage.ClaimRequest{Owner: "other", Lease: time.Hour, Limit: 1})
	if err != nil || len(other) != 1 {
		t.Fatalf("takeover claim: %v, %d", err, len(other))
	}
	theirs := storage.SourceState{Status: storage.StatusNotModified, ETag: `"theirs"`, LastPoll: c.Now()}
	if _, err := store.SavePoll(context.Background(), other[0], theirs, nil); err != nil {
		t.Fatal(err)
	}
	close(release)
	res := <-done
	if len(res) != 1 || res[0].ErrorClass != ClassBusy || !errors.Is(res[0].Err, storage.ErrLeaseLost) || res[0].New != 0 {
		t.Fatalf("stale poll result: %+v", res)
	}
	if len(store.saves) != 1 || store.state("slow").ETag != `"theirs"` || len(store.posts["slow"]) != 0 {
		t.Errorf("the stale poll wrote: saves %+v, state %+v", store.saves, store.state("slow"))
	}
}

// A worker does not start a fetch that the claim's lease could not cover:
// the source is given back, due as it was.
func TestNoFetchPastLease(t *testing.T) {
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
	}))
	defer srv.Close()
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c, src("s", srv.URL))
	cs, err := store.Claim(context.Background(), storage.ClaimRequest{Owner: a.opts.Owner, Lease: a.opts.Timeout / 2, Limit: 1})
	if err != nil || len(cs) != 1 {
		t.Fatal(err)
	}
	p := a.startPipeline(context.Background(), func(Result) {})
	p.add(cs, false)
	p.stop()
	if fetches.Load() != 0 {
		t.Errorf("fetched with a lease shorter than the timeout")
	}
	if again, _ := store.Claim(context.Background(), storage.ClaimRequest{Owner: "x", Lease: time.Minute, Limit: 1}); len(again) != 1 {
		t.Errorf("the unstarted claim was not given back")
	}
}

// Two pollers on one store (serve's scheduler and a `refeed poll` beside
// it) never fetch one source twice: each due source is fetched once.
func TestTwoPollersFetchEachSourceOnce(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		time.Sleep(time.Millisecond)
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	store, c := newFakeStore(), newClock()
	var srcs []Source
	for i := range 200 {
		srcs = append(srcs, src(fmt.Sprint("s", i), srv.URL+"/"+fmt.Sprint(i)))
	}
	serve := newTestAggregator(t, store, c, srcs...)
	cron := newTestAggregator(t, store, c, srcs...)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error)
	go func() { runDone <- serve.Run(ctx) }()
	res, err := cron.Poll(context.Background(), nil, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(hits)
		mu.Unlock()
		if n == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-runDone
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 200 {
		t.Errorf("%d of 200 sources fetched", len(hits))
	}
	var twice []string
	for path, n := range hits {
		if n != 1 {
			twice = append(twice, fmt.Sprintf("%s×%d", path, n))
		}
	}
	if len(twice) > 0 {
		t.Errorf("fetched more than once: %s", strings.Join(twice, " "))
	}
	t.Logf("refeed poll polled %d, serve the other %d", len(res), 200-len(res))
}

// A forced poll polls every source another poller does not hold, and
// reports those it holds as busy, not as failures.
func TestForcedPollSkipsHeldSources(t *testing.T) {
	store, c := newFakeStore(), newClock()
	var srcs []Source
	for i := range 30 {
		srcs = append(srcs, src(fmt.Sprintf("s%02d", i), "file://testdata/atom.xml"))
	}
	a := newTestAggregator(t, store, c, srcs...)
	held, err := store.Claim(context.Background(), storage.ClaimRequest{Owner: "serve", Lease: time.Hour, Limit: 1,
		Names: []string{"s17"}, Force: true})
	if err != nil || len(held) != 1 {
		t.Fatal(err)
	}
	for _, names := range [][]string{nil, {"s03", "s17"}} {
		res, err := a.Poll(context.Background(), names, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := len(names)
		if names == nil {
			want = 30
		}
		if len(res) != want {
			t.Fatalf("forced poll of %v: %d results, want %d", names, len(res), want)
		}
		for _, r := range res {
			busy := r.Source == "s17"
			if busy != (r.ErrorClass == ClassBusy) || busy == (r.Status == storage.StatusOK) {
				t.Errorf("forced poll of %v: %+v", names, r)
			}
		}
	}
}

// slowStore is a fakeStore whose SavePoll blocks until release is closed.
type slowStore struct {
	*fakeStore
	entered chan struct{}
	release chan struct{}
}

func (s *slowStore) SavePoll(ctx context.Context, c storage.Claim, st storage.SourceState, posts []storage.Post) (storage.SaveStats, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.fakeStore.SavePoll(ctx, c, st, posts)
}

// Run returns only after a save in flight at shutdown has finished: the
// caller may close the store then.
func TestRunWaitsForSaveOnShutdown(t *testing.T) {
	fs, c := newFakeStore(), newClock()
	store := &slowStore{fakeStore: fs, entered: make(chan struct{}, 1), release: make(chan struct{})}
	fs.now = c.Now
	s := src("s", "file://testdata/atom.xml")
	fs.sync(s)
	a := New(store, []Source{s}, Options{Now: c.Now, Logger: testLogger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	<-store.entered
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while its save was still running")
	case <-time.After(100 * time.Millisecond):
	}
	close(store.release)
	<-done
	if len(fs.saves) != 1 || fs.state("s").Status != storage.StatusOK {
		t.Errorf("the save in flight at shutdown: %+v", fs.saves)
	}
}
