package server

import (
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/feeds"
)

func newTestServer(t *testing.T, st *fakeStore) *Server {
	t.Helper()
	s, err := New(st, Options{
		Site: feeds.Site{Title: "finews", BaseURL: "http://news.example.org", Language: "zh-CN",
			Location: time.FixedZone("CST", 8*3600)},
		Categories: []Category{{Slug: "zhongguoshuiwubao", Title: "中国税务报新闻"}, {Slug: "markets", Title: "Markets"}},
		Sources: []Source{
			{Name: "chinatax", Category: "zhongguoshuiwubao", Tags: []string{"中国税务报新闻"}, Interval: 15 * time.Minute},
			{Name: "markets", Category: "markets", Tags: []string{"Markets"}, Interval: time.Hour},
		},
		Items: 5, MaxItems: 10,
		Metrics: NewMetrics(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRoutes(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	post := st.posts[0].ID
	tests := []struct {
		method, target string
		status         int
		ctype          string
	}{
		{"GET", "/", 200, ctypeHTML},
		{"GET", "/feed.rss", 200, ctypeRSS},
		{"GET", "/feed.atom", 200, ctypeAtom},
		{"GET", "/feed.json", 200, ctypeJSON},
		{"GET", "/category/zhongguoshuiwubao.html", 200, ctypeHTML},
		{"GET", "/category/zhongguoshuiwubao.rss", 200, ctypeRSS},
		{"GET", "/category/zhongguoshuiwubao.atom", 200, ctypeAtom},
		{"GET", "/category/zhongguoshuiwubao.json", 200, ctypeJSON},
		{"GET", "/tag/" + url.PathEscape("中国税务报新闻") + ".rss", 200, ctypeRSS},
		{"GET", "/tag/" + url.PathEscape("中国税务报新闻") + ".html", 200, ctypeHTML},
		{"GET", "/source/chinatax.atom", 200, ctypeAtom},
		{"GET", "/source/markets.json", 200, ctypeJSON},
		{"GET", "/post/" + post + ".html", 200, ctypeHTML},
		{"GET", "/search?q=" + url.QueryEscape("退税"), 200, ctypeHTML},
		{"GET", "/search", 200, ctypeHTML},
		{"GET", "/feed.atom?q=" + url.QueryEscape("退税"), 200, ctypeAtom},
		{"GET", "/sources.opml", 200, ctypeOPML},
		{"GET", "/healthz", 200, "application/json; charset=utf-8"},
		{"GET", "/metrics", 200, ""},
		{"GET", "/static/style.css", 200, "text/css; charset=utf-8"},
		{"HEAD", "/feed.rss", 200, ctypeRSS},
		{"GET", "/category/nope.rss", 404, ctypeText},
		{"GET", "/category/zhongguoshuiwubao.xml", 404, ctypeText},
		{"GET", "/category/zhongguoshuiwubao", 404, ctypeText},
		{"GET", "/tag/nope.atom", 404, ctypeText},
		{"GET", "/source/nope.json", 404, ctypeText},
		{"GET", "/post/0123456789abcdef.html", 404, ctypeText},
		{"GET", "/post/../../etc/passwd", 307, ""}, // the mux cleans the path…
		{"GET", "/etc/passwd", 404, ""},            // …and the clean path is not served
		{"GET", "/config.toml", 404, ""},
		{"GET", "/refeed.db", 404, ""},
		{"GET", "/post/not-an-id.html", 404, ctypeText},
		{"GET", "/static/../config.toml", 307, ""},
		{"GET", "/static/%2e%2e%2fconfig.toml", 404, ctypeText},
		{"GET", "/static/nope.css", 404, ctypeText},
		{"GET", "/nope", 404, ""},
		{"GET", "/feed.rss?limit=0", 400, ctypeText},
		{"GET", "/feed.rss?limit=11", 400, ctypeText},
		{"GET", "/feed.rss?limit=abc", 400, ctypeText},
		{"GET", "/feed.rss?limit=10", 200, ctypeRSS},
		{"GET", "/feed.atom?before=garbage", 400, ctypeText},
		{"GET", "/feed.atom?q=" + strings.Repeat("x", 300), 400, ctypeText},
		{"GET", "/?before=%00", 400, ctypeText},
		{"POST", "/feed.rss", 405, ""},
		{"DELETE", "/category/zhongguoshuiwubao.atom", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			rec := get(t, s, tc.method, tc.target)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
			if tc.ctype != "" && rec.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tc.ctype)
			}
			body := rec.Body.String()
			if tc.status >= 400 && strings.Count(strings.TrimSpace(body), "\n") > 0 {
				t.Errorf("error body is more than one line: %q", body)
			}
			if tc.method == "HEAD" && body != "" {
				t.Errorf("HEAD has a body of %d bytes", len(body))
			}
			if tc.status == 200 && tc.method == "GET" && rec.Header().Get("ETag") == "" && tc.target != "/healthz" && tc.target != "/metrics" {
				t.Error("no ETag")
			}
		})
	}
}

func TestConditional(t *testing.T) {
	s := newTestServer(t, testStore())
	first := get(t, s, "GET", "/category/zhongguoshuiwubao.atom")
	etag, lastMod := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("ETag %q, Last-Modified %q", etag, lastMod)
	}
	lm, _ := http.ParseTime(lastMod)
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"no validators", nil, 200},
		{"matching etag", []string{"If-None-Match", etag}, 304},
		{"etag in a list", []string{"If-None-Match", `"aaa", ` + etag + `, "bbb"`}, 304},
		{"weak etag", []string{"If-None-Match", "W/" + etag}, 304},
		{"star", []string{"If-None-Match", "*"}, 304},
		{"other etag", []string{"If-None-Match", `"deadbeef"`}, 200},
		{"since last modified", []string{"If-Modified-Since", lastMod}, 304},
		{"since later", []string{"If-Modified-Since", lm.Add(time.Hour).Format(http.TimeFormat)}, 304},
		{"since earlier", []string{"If-Modified-Since", lm.Add(-time.Second).Format(http.TimeFormat)}, 200},
		{"garbage date", []string{"If-Modified-Since", "yesterday"}, 200},
		{"etag wins over date", []string{"If-None-Match", `"deadbeef"`, "If-Modified-Since", lastMod}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, s, "GET", "/category/zhongguoshuiwubao.atom", tc.header...)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status == 304 {
				if rec.Body.Len() != 0 {
					t.Error("304 with a body")
				}
				if rec.Header().Get("ETag") != etag {
					t.Errorf("304 ETag %q, want %q", rec.Header().Get("ETag"), etag)
				}
			}
		})
	}
}

func TestGzip(t *testing.T) {
	s := newTestServer(t, testStore())
	plain := get(t, s, "GET", "/feed.atom")
	tests := []struct {
		accept string
		gzip   bool
	}{
		{"gzip", true}, {"gzip, deflate, br", true}, {"br;q=1, gzip;q=0.5", true},
		{"gzip;q=0", false}, {"", false}, {"identity", false}, {"*", true},
	}
	for _, tc := range tests {
		rec := get(t, s, "GET", "/feed.atom", "Accept-Encoding", tc.accept)
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.accept, got, tc.gzip)
			continue
		}
		if rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, rec.Header().Get("Vary"))
		}
		if !tc.gzip {
			continue
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		if string(body) != plain.Body.String() {
			t.Error("gzip body differs from identity body")
		}
		// The gzip ETag validates too.
		again := get(t, s, "GET", "/feed.atom", "Accept-Encoding", tc.accept, "If-None-Match", rec.Header().Get("ETag"))
		if again.Code != 304 {
			t.Errorf("gzip ETag revalidation: %d", again.Code)
		}
	}
}

func TestRenderOncePerChange(t *testing.T) {
	st := testStore()
	st.delay = 20 * time.Millisecond
	s := newTestServer(t, st)
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if rec := get(t, s, "GET", "/category/markets.rss"); rec.Code != 200 {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	wg.Wait()
	if n := st.postCall.Load(); n != 1 {
		t.Errorf("200 concurrent requests rendered %d times, want 1", n)
	}
	// A change behind the feed renders it again, once.
	p := st.posts[2]
	p.ID, p.Title = "00000000000000ff", "new post"
	p.Published = p.Published.Add(365 * 24 * time.Hour)
	st.add(p)
	s.Invalidate()
	for range 5 {
		rec := get(t, s, "GET", "/category/markets.rss")
		if !strings.Contains(rec.Body.String(), "new post") {
			t.Fatal("changed post not in the feed")
		}
	}
	if n := st.postCall.Load(); n != 2 {
		t.Errorf("after one change: %d renders, want 2", n)
	}
}

func TestPagingLinks(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	seen := map[string]bool{}
	next := "http://news.example.org/feed.atom?limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		u, _ := url.Parse(next)
		rec := get(t, s, "GET", u.RequestURI())
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", next, rec.Code, rec.Body.String())
		}
		var doc struct {
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Entries []struct {
				ID string `xml:"id"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		next = ""
		self := ""
		for _, l := range doc.Links {
			switch l.Rel {
			case "next":
				next = l.Href
			case "self":
				self = l.Href
			}
		}
		if self != u.String() {
			t.Errorf("rel=self %q, want %q", self, u.String())
		}
		for _, e := range doc.Entries {
			if seen[e.ID] {
				t.Errorf("entry %s seen twice", e.ID)
			}
			seen[e.ID] = true
		}
	}
	if len(seen) != len(st.posts) {
		t.Errorf("paged through %d entries, want %d", len(seen), len(st.posts))
	}
}

func TestAutodiscovery(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	for _, target := range []string{"/", "/category/zhongguoshuiwubao.html", "/tag/Markets.html", "/source/chinatax.html", "/post/" + st.posts[0].ID + ".html", "/search?q=x"} {
		body := get(t, s, "GET", target).Body.String()
		for _, typ := range []string{"application/rss+xml", "application/atom+xml", "application/feed+json"} {
			re := regexp.MustCompile(`<link[^>]+rel="alternate"[^>]+type="` + regexp.QuoteMeta(typ) + `"`)
			if !re.MatchString(body) {
				t.Errorf("%s: no autodiscovery link for %s", target, typ)
			}
		}
		if !strings.Contains(body, `rel="canonical"`) {
			t.Errorf("%s: no canonical link", target)
		}
	}
}

func TestHealthz(t *testing.T) {
	s := newTestServer(t, testStore())
	rec := get(t, s, "GET", "/healthz")
	var h struct {
		OK      bool `json:"ok"`
		Sources []struct {
			Name       string `json:"name"`
			Status     string `json:"status"`
			ErrorClass string `json:"error_class"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
		t.Fatal(err)
	}
	if !h.OK || len(h.Sources) != 2 {
		t.Fatalf("healthz: %s", rec.Body.String())
	}
	if h.Sources[1].Name != "markets" || h.Sources[1].ErrorClass != "timeout" || h.Sources[1].Status != "error" {
		t.Errorf("healthz lacks the failing source's class: %s", rec.Body.String())
	}
}

func TestLastModifiedOnEmptyResponses(t *testing.T) {
	s := newTestServer(t, &fakeStore{version: 1})
	for _, target := range []string{"/", "/feed.atom", "/category/markets.rss", "/search?q=x", "/sources.opml"} {
		rec := get(t, s, "GET", target)
		lm := rec.Header().Get("Last-Modified")
		if rec.Code != 200 || lm == "" {
			t.Errorf("%s: status %d, Last-Modified %q", target, rec.Code, lm)
			continue
		}
		if again := get(t, s, "GET", target, "If-Modified-Since", lm); again.Code != 304 {
			t.Errorf("%s: If-Modified-Since its own Last-Modified: %d", target, again.Code)
		}
	}
}

// TestCacheControl: max-age is the shortest poll interval of the sources
// behind a feed, at most an hour.
func TestCacheControl(t *testing.T) {
	s := newTestServer(t, testStore())
	tests := []struct {
		target, want string
	}{
		{"/feed.rss", "public, max-age=900"},
		{"/category/zhongguoshuiwubao.atom", "public, max-age=900"},
		{"/category/markets.rss", "public, max-age=3600"},
		{"/tag/Markets.json", "public, max-age=3600"},
		{"/source/chinatax.html", "public, max-age=900"},
	}
	for _, tc := range tests {
		if got := get(t, s, "GET", tc.target).Header().Get("Cache-Control"); got != tc.want {
			t.Errorf("%s: Cache-Control %q, want %q", tc.target, got, tc.want)
		}
	}
}

// TestHomeRenderedOnce: the home page's counts are read once per store
// version and freshness window, not per request; a change shows at once.
func TestHomeRenderedOnce(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	fixed := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return fixed } // one freshness window throughout
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if rec := get(t, s, "GET", "/"); rec.Code != 200 {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	wg.Wait()
	if n := st.statCall.Load(); n != 1 {
		t.Errorf("50 requests read the stats %d times, want 1", n)
	}
	p := st.posts[0]
	p.ID, p.Title = "00000000000000fe", "首页新文章"
	p.Published = p.Published.Add(24 * time.Hour)
	st.add(p)
	s.Invalidate()
	if body := get(t, s, "GET", "/").Body.String(); !strings.Contains(body, "首页新文章") {
		t.Error("home page does not show a new post after a change")
	}
}

// Post lists name each post's source by its feed title when the source has
// one (chinatax: 中国税务报) and by its name otherwise (markets: no title).
func TestPostListsNameSourcesByTitle(t *testing.T) {
	s := newTestServer(t, testStore())
	seen := map[string]bool{}
	for _, target := range []string{"/", "/category/zhongguoshuiwubao.html", "/category/markets.html", "/search?q=" + url.QueryEscape("退税")} {
		body := get(t, s, "GET", target).Body.String()
		for _, src := range []struct{ name, shown string }{{"chinatax", "中国税务报"}, {"markets", "markets"}} {
			link := `href="http://news.example.org/source/` + src.name + `.html">`
			if !strings.Contains(body, link) {
				continue // not listed on this page
			}
			seen[src.name] = true
			if want := link + src.shown + "</a>"; !strings.Contains(body, want) {
				t.Errorf("%s: source %s not shown as %q", target, src.name, src.shown)
			}
		}
		if !strings.Contains(body, `class="source"`) {
			t.Errorf("%s: no post names its source", target)
		}
	}
	if len(seen) != 2 {
		t.Errorf("sources linked from the post lists: %v, want chinatax and markets", seen)
	}
}

// A render that began before a reload (SIGHUP → SetOptions) is neither
// cached nor served after it: the next request renders with the new config.
func TestReloadDuringRender(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	st.gate, st.entered = make(chan struct{}), make(chan struct{}, 1)
	old := make(chan string)
	go func() { old <- get(t, s, "GET", "/feed.atom").Body.String() }()
	<-st.entered // the render is under way with the old options
	opts := s.options()
	opts.Site.Title = "reloaded title"
	s.SetOptions(opts)
	close(st.gate)
	if body := <-old; strings.Contains(body, "reloaded title") {
		t.Fatalf("the render begun before the reload has the new title")
	}
	st.entered = nil
	for _, target := range []string{"/feed.atom", "/feed.atom"} { // the second one from the cache / fast path
		if body := get(t, s, "GET", target).Body.String(); !strings.Contains(body, "reloaded title") {
			t.Fatalf("after the reload, %s still serves the old render:\n%.300s", target, body)
		}
	}
}

// A post that arrives late, dated before the listing's newest, moves the
// listing's Last-Modified (to when it was first seen): a client revalidating
// with If-Modified-Since alone gets the new body, not a 304.
func TestLastModifiedFollowsLatePost(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	first := get(t, s, "GET", "/source/markets.atom")
	lm := first.Header().Get("Last-Modified")
	lmTime, err := http.ParseTime(lm)
	if err != nil {
		t.Fatalf("Last-Modified %q: %v", lm, err)
	}
	st.mu.Lock()
	late := st.posts[2] // a markets post
	late.ID = "0123456789abcdef"
	late.Title = "迟到的新闻"
	late.Published = lmTime.Add(-30 * 24 * time.Hour) // dated a month before the newest
	late.Updated = late.Published
	late.FirstSeen = lmTime.Add(time.Hour)
	st.posts = append(st.posts, late)
	st.version++
	st.mu.Unlock()
	s.Invalidate()
	again := get(t, s, "GET", "/source/markets.atom", "If-Modified-Since", lm)
	if again.Code != http.StatusOK || !strings.Contains(again.Body.String(), "迟到的新闻") {
		t.Fatalf("revalidation after a late post: %d\n%.200s", again.Code, again.Body.String())
	}
	if got, _ := http.ParseTime(again.Header().Get("Last-Modified")); !got.After(lmTime) {
		t.Errorf("Last-Modified %v did not move past %v", got, lmTime)
	}
}

// /healthz says what a source's successful polls recovered from.
func TestHealthShowsWarning(t *testing.T) {
	st := testStore()
	st.sources[0].State.Warning = "charset: declared utf-8, decoded as gb18030"
	s := newTestServer(t, st)
	body := get(t, s, "GET", "/healthz").Body.String()
	if !strings.Contains(body, `"warning": "charset: declared utf-8, decoded as gb18030"`) && !strings.Contains(body, `"warning":"charset: declared utf-8, decoded as gb18030"`) {
		t.Errorf("/healthz lacks the warning:\n%s", body)
	}
}
