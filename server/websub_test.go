package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
)

func TestPingHub(t *testing.T) {
	var mu sync.Mutex
	var got url.Values
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = r.PostForm
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hub.Close()
	s := newTestServer(t, testStore())
	opts := s.options()
	opts.Site.Hub = hub.URL
	s.SetOptions(opts)
	if err := s.PingHub(context.Background(), hub.Client()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Get("hub.mode") != "publish" {
		t.Errorf("hub.mode %q", got.Get("hub.mode"))
	}
	want := map[string]bool{
		"http://news.example.org/feed.atom":                                  true,
		"http://news.example.org/category/zhongguoshuiwubao.rss":             true,
		"http://news.example.org/tag/" + url.PathEscape("中国税务报新闻") + ".json": true,
		"http://news.example.org/source/markets.atom":                        true,
	}
	for _, u := range got["hub.url"] {
		delete(want, u)
	}
	if len(want) > 0 {
		t.Errorf("topics not pinged: %v (got %v)", want, got["hub.url"])
	}
	// The feeds advertise the hub.
	rec := get(t, s, "GET", "/feed.atom")
	if !regexp.MustCompile(`<link[^>]+rel="hub"`).MatchString(rec.Body.String()) {
		t.Errorf("feed does not advertise the hub")
	}

	// No hub: no request, no error.
	opts.Site.Hub = ""
	s.SetOptions(opts)
	if err := s.PingHub(context.Background(), hub.Client()); err != nil {
		t.Error(err)
	}
	// A failing hub is an error.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 500) }))
	defer bad.Close()
	opts.Site.Hub = bad.URL
	s.SetOptions(opts)
	if err := s.PingHub(context.Background(), bad.Client()); err == nil {
		t.Error("no error from a failing hub")
	}
}
