package aggregator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refeed/refeed/aggregator"
	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/sqlite"
	"github.com/refeed/refeed/storage/sqlite/sqlitetest"
)

// TestWithSQLite runs two polls against the real backend: a 200, then, once
// the source is due again, a conditional request answered 304.
func TestWithSQLite(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "rss2.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var conditional, notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			conditional.Add(1)
		}
		if r.Header.Get("If-None-Match") == `"x"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"x"`)
		w.Write(body)
	}))
	defer srv.Close()
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	store := sqlitetest.MustOpen(t, sqlite.WithNow(clock))
	cfg := storage.SourceConfig{Name: "tax", URL: srv.URL, Category: "news", Tags: []string{"税务"}, Interval: time.Minute}
	if err := store.SyncSources(ctx, []storage.SourceConfig{cfg}); err != nil {
		t.Fatal(err)
	}
	a := aggregator.New(store, []aggregator.Source{{SourceConfig: cfg}}, aggregator.Options{Now: clock})
	res, err := a.Poll(ctx, nil, false, nil)
	if err != nil || len(res) != 1 || res[0].New != 3 || res[0].Err != nil {
		t.Fatalf("first poll: %+v %v", res, err)
	}
	if res, _ := a.Poll(ctx, nil, false, nil); len(res) != 0 {
		t.Fatalf("poll before the source is due: %+v", res)
	}
	mu.Lock()
	now = now.Add(3 * time.Hour) // past the feed's <ttl> of two hours
	mu.Unlock()
	res, err = a.Poll(ctx, nil, false, nil)
	if err != nil || len(res) != 1 || res[0].Status != storage.StatusNotModified || res[0].New != 0 || res[0].Updated != 0 {
		t.Fatalf("second poll: %+v %v", res, err)
	}
	if conditional.Load() != 1 || notModified.Load() != 1 {
		t.Errorf("second poll: %d conditional requests, %d answered 304; want 1 and 1", conditional.Load(), notModified.Load())
	}
	page, err := store.Posts(ctx, storage.Query{Source: "tax", Limit: 10})
	if err != nil || len(page.Posts) != 3 {
		t.Fatalf("posts: %d %v", len(page.Posts), err)
	}
	src, err := store.Source(ctx, "tax")
	if err != nil || src.State.ETag != `"x"` || src.State.Status != storage.StatusNotModified {
		t.Fatalf("state %+v %v", src.State, err)
	}
}
