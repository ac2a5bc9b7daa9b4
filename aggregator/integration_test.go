package aggregator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/refeed/refeed/aggregator"
	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/sqlite/sqlitetest"
)

// TestWithSQLite runs two polls (200, then 304) against the real backend.
func TestWithSQLite(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "rss2.xml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"x"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"x"`)
		w.Write(body)
	}))
	defer srv.Close()
	ctx := context.Background()
	store := sqlitetest.MustOpen(t)
	cfg := storage.SourceConfig{Name: "tax", URL: srv.URL, Category: "news", Tags: []string{"税务"}, Interval: time.Minute}
	if err := store.SyncSources(ctx, []storage.SourceConfig{cfg}); err != nil {
		t.Fatal(err)
	}
	a := aggregator.New(store, []aggregator.Source{{SourceConfig: cfg}}, aggregator.Options{})
	res, err := a.Poll(ctx, nil, false, nil)
	if err != nil || len(res) != 1 || res[0].New != 3 || res[0].Err != nil {
		t.Fatalf("first poll: %+v %v", res, err)
	}
	res, err = a.Poll(ctx, nil, true, nil)
	if err != nil || len(res) != 1 || res[0].New != 0 || res[0].Updated != 0 {
		t.Fatalf("forced re-poll: %+v %v", res, err)
	}
	page, err := store.Posts(ctx, storage.Query{Source: "tax", Limit: 10})
	if err != nil || len(page.Posts) != 3 {
		t.Fatalf("posts: %d %v", len(page.Posts), err)
	}
	src, err := store.Source(ctx, "tax")
	if err != nil || src.State.ETag != `"x"` || src.State.Status != storage.StatusOK {
		t.Fatalf("state %+v %v", src.State, err)
	}
}
