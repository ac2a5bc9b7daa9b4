package aggregator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

func newTestAggregator(t *testing.T, store *fakeStore, c *clock, sources ...Source) *Aggregator {
	t.Helper()
	store.now = c.Now
	store.sync(sources...)
	return New(store, sources, Options{Now: c.Now, Logger: testLogger(t), Location: shanghai, Timeout: 5 * time.Second})
}

func TestPollConditionalRound(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"e1"`)
		w.Write(readTestdata(t, "rss2.xml"))
	}))
	defer srv.Close()
	store, c := newFakeStore("tax"), newClock()
	a := newTestAggregator(t, store, c, src("tax", srv.URL))

	res, err := a.Poll(context.Background(), nil, false, nil)
	if err != nil || len(res) != 1 || res[0].Status != storage.StatusOK || res[0].New != 3 || res[0].Err != nil {
		t.Fatalf("first poll: %+v %v", res, err)
	}
	select {
	case <-a.Changed():
	default:
		t.Error("no Changed notification after new posts")
	}
	st := store.state("tax")
	if st.ETag != `"e1"` || st.Title != "中国税务报 & News" || st.SiteURL != "https://example.org/" || st.Failures != 0 {
		t.Errorf("state %+v", st)
	}
	// Next poll is the interval ±10%, but no sooner than <ttl>120</ttl>.
	if d := st.NextPoll.Sub(c.Now()); d != 2*time.Hour {
		t.Errorf("next poll in %v, want 2h (ttl)", d)
	}

	// Not due yet: nothing fetched.
	res, _ = a.Poll(context.Background(), nil, false, nil)
	if len(res) != 0 || hits.Load() != 1 {
		t.Fatalf("not-due poll fetched: %+v", res)
	}

	c.Add(25 * time.Hour) // past any hint the feed gave (capped at a day)
	res, _ = a.Poll(context.Background(), nil, false, nil)
	if len(res) != 1 || res[0].Status != storage.StatusNotModified || res[0].New != 0 {
		t.Fatalf("conditional poll: %+v", res)
	}
	last := store.lastSave(t, "tax")
	if len(last.Posts) != 0 || last.State.Status != storage.StatusNotModified || last.State.ETag != `"e1"` {
		t.Errorf("304 save: %+v", last)
	}
	select {
	case <-a.Changed():
		t.Error("Changed after 304")
	default:
	}

	// Force skips the schedule and the validators.
	res, _ = a.Poll(context.Background(), []string{"tax"}, true, nil)
	if len(res) != 1 || res[0].Status != storage.StatusOK || res[0].New != 0 || hits.Load() != 3 {
		t.Fatalf("forced poll: %+v hits %d", res, hits.Load())
	}
}

func TestPollOneFailingAmongGood(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(readTestdata(t, "atom.xml"))
	}))
	defer good.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write(readTestdata(t, "page.html"))
	}))
	defer bad.Close()
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c,
		src("a-good", good.URL), src("b-html", bad.URL), src("c-good", good.URL+"/2"),
		src("d-file", "file://testdata/feed.json"))
	var mu sync.Mutex
	var seen []string
	res, err := a.Poll(context.Background(), nil, false, func(r Result) {
		mu.Lock()
		seen = append(seen, r.Source)
		mu.Unlock()
	})
	if err != nil || len(res) != 4 || len(seen) != 4 {
		t.Fatalf("%+v %v seen %v", res, err, seen)
	}
	want := []struct {
		name, status, class string
		new                 int
	}{
		{"a-good", storage.StatusOK, "", 1},
		{"b-html", storage.StatusError, ClassNotAFeed, 0},
		{"c-good", storage.StatusOK, "", 1},
		{"d-file", storage.StatusOK, "", 1},
	}
	for i, w := range want {
		r := res[i]
		if r.Source != w.name || r.Status != w.status || r.ErrorClass != w.class || r.New != w.new {
			t.Errorf("result %d: %+v, want %+v", i, r, w)
		}
	}
	st := store.state("b-html")
	if st.Failures != 1 || st.ErrorClass != ClassNotAFeed || st.Error == "" {
		t.Errorf("failure state %+v", st)
	}
	// Back off: 30m·2^(failures-1) ±10%.
	if d := st.NextPoll.Sub(c.Now()); d < 27*time.Minute || d > 33*time.Minute {
		t.Errorf("first backoff %v", d)
	}
	c.Add(time.Hour)
	a.Poll(context.Background(), []string{"b-html"}, false, nil)
	st = store.state("b-html")
	if d := st.NextPoll.Sub(c.Now()); st.Failures != 2 || d < 54*time.Minute || d > 66*time.Minute {
		t.Errorf("second backoff %v failures %d", d, st.Failures)
	}
}

// A failed poll keeps the validators of the last good one, so the next poll
// asks for the body again with them, and no ETag is saved without its
// posts.
func TestPollFailureKeepsValidators(t *testing.T) {
	var broken atomic.Bool
	var mu sync.Mutex
	var sent []string // If-None-Match of each request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Header.Get("If-None-Match"))
		mu.Unlock()
		if broken.Load() {
			w.Header().Set("ETag", `"new"`)
			w.Header().Set("Content-Type", "text/html")
			w.Write(readTestdata(t, "page.html")) // an HTML page: never a feed
			return
		}
		w.Header().Set("ETag", `"old"`)
		w.Write(readTestdata(t, "rss1.xml"))
	}))
	defer srv.Close()
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c, src("s", srv.URL))
	a.Poll(context.Background(), nil, false, nil)
	broken.Store(true)
	c.Add(25 * time.Hour) // past any hint the feed gave (capped at a day)
	res, _ := a.Poll(context.Background(), nil, false, nil)
	if len(res) != 1 || res[0].Status != storage.StatusError || res[0].ErrorClass != ClassNotAFeed {
		t.Fatalf("poll of an HTML page: %+v", res)
	}
	if st := store.state("s"); st.ETag != `"old"` {
		t.Errorf("ETag %q saved without its posts", st.ETag)
	}
	c.Add(25 * time.Hour) // past any hint the feed gave (capped at a day)
	a.Poll(context.Background(), nil, false, nil)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"", `"old"`, `"old"`}; !slices.Equal(sent, want) {
		t.Errorf("If-None-Match sent: %q, want %q", sent, want)
	}
}

func TestPollGoneAndMoved(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	mux.Handle("/old", http.RedirectHandler("/new", http.StatusMovedPermanently))
	mux.Handle("/temp", http.RedirectHandler("/new", http.StatusFound))
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { w.Write(readTestdata(t, "rss1.xml")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c, src("gone", srv.URL+"/gone"), src("moved", srv.URL+"/old"), src("temp", srv.URL+"/temp"))
	a.Poll(context.Background(), nil, false, nil)
	if st := store.state("gone"); st.Status != storage.StatusGone {
		t.Errorf("gone: %+v", st)
	}
	if st := store.state("moved"); st.URL != srv.URL+"/new" {
		t.Errorf("301 not remembered: %q", st.URL)
	}
	if st := store.state("temp"); st.URL != srv.URL+"/temp" {
		t.Errorf("302 remembered: %q", st.URL)
	}
	c.Add(48 * time.Hour)
	res, _ := a.Poll(context.Background(), nil, false, nil)
	for _, r := range res {
		if r.Source == "gone" {
			t.Errorf("gone source polled again")
		}
	}
	if len(res) != 2 {
		t.Errorf("%d results", len(res))
	}
}

func TestPollRetryAfterAndHints(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7200")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c, src("s", srv.URL))
	res, _ := a.Poll(context.Background(), nil, false, nil)
	if res[0].ErrorClass != ClassHTTPStatus {
		t.Errorf("%+v", res[0])
	}
	if d := store.state("s").NextPoll.Sub(c.Now()); d != 2*time.Hour {
		t.Errorf("next poll in %v, want Retry-After 2h", d)
	}
}

func TestPollUnknownSourceAndStoreError(t *testing.T) {
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c, src("s", "file://testdata/rss1.xml"))
	if _, err := a.Poll(context.Background(), []string{"nope"}, false, nil); !errors.Is(err, ErrUnknownSource) {
		t.Errorf("unknown: %v", err)
	}
	store.failAll = true
	res, err := a.Poll(context.Background(), nil, false, nil)
	if err != nil || len(res) != 1 || res[0].ErrorClass != ClassStore || res[0].Status != storage.StatusError {
		t.Errorf("store error: %+v %v", res, err)
	}
}

func TestPollSetSources(t *testing.T) {
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c, src("one", "file://testdata/rss1.xml"))
	store.sync(src("two", "file://testdata/atom.xml")) // as SyncSources does before SetSources
	a.SetSources([]Source{src("two", "file://testdata/atom.xml")})
	res, _ := a.Poll(context.Background(), nil, false, nil)
	if len(res) != 1 || res[0].Source != "two" {
		t.Errorf("%+v", res)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.xml")
	os.WriteFile(path, readTestdata(t, "rss1.xml"), 0o644)
	store := newFakeStore()
	store.sync(src("f", "file://"+path))
	a := New(store, []Source{src("f", "file://"+path)}, Options{Logger: testLogger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not poll")
	}
	// A new source via SetSources is picked up. The aggregator learns of
	// it before the store has it, as serve's reload does: the other order
	// lets Run claim it unknown and leave it to its lease.
	a.SetSources([]Source{src("f", "file://"+path), src("g", "file://testdata/feed.json")})
	store.sync(src("g", "file://testdata/feed.json"))
	deadline := time.After(10 * time.Second)
	for store.state("g").Status != storage.StatusOK {
		select {
		case <-deadline:
			t.Fatal("SetSources source not polled")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestScheduleBackoffAndJitter(t *testing.T) {
	now := newClock().Now()
	for i := range 200 {
		name := fmt.Sprint("s", i)
		d := nextAfterSuccess(name, time.Hour, now).Sub(now)
		if d < 30*time.Minute || d >= 90*time.Minute {
			t.Fatalf("first spread wait out of [0.5, 1.5) × interval: %v", d)
		}
	}
	tests := []struct {
		failures int
		min, max time.Duration
	}{
		{1, 27 * time.Minute, 33 * time.Minute},
		{3, 108 * time.Minute, 132 * time.Minute},
		{20, 21 * time.Hour, 24 * time.Hour},
	}
	for _, tt := range tests {
		d := nextAfterFailure("s", 30*time.Minute, tt.failures, now, 0).Sub(now)
		if d < tt.min || d > tt.max {
			t.Errorf("failures %d: %v not in [%v, %v]", tt.failures, d, tt.min, tt.max)
		}
	}
	if d := nextAfterSuccess("s", time.Minute, now, 72*time.Hour).Sub(now); d != 24*time.Hour {
		t.Errorf("hint cap: %v", d)
	}
}
