package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/refeed/refeed/storage"
)

// fastServer serves s with FastServer on an in-memory listener; the client
// sends requests as they are given (no Accept-Encoding of its own, no
// decompression, no redirects).
type fastServer struct {
	ln     *fasthttputil.InmemoryListener
	client *http.Client
}

func startFast(t *testing.T, s *Server) *fastServer {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	srv := s.FastServer()
	srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = 5*time.Second, 5*time.Second, 5*time.Second
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.ShutdownWithContext(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	tr := &http.Transport{
		DialContext:        func(ctx context.Context, _, _ string) (net.Conn, error) { return ln.Dial() },
		DisableCompression: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &fastServer{ln: ln, client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a client sees of one response.
type response struct {
	status int
	header http.Header
	body   string
}

func (f *fastServer) do(t *testing.T, method, target string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, "http://refeed.test"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}

// raw sends bytes as they are and reads one response.
func (f *fastServer) raw(t *testing.T, request string) response {
	t.Helper()
	c, err := f.ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", request, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(body)}
}

// netHTTP is the same request through net/http's server and the handlers.
func netHTTP(t *testing.T, ts *httptest.Server, method, target string, header ...string) response {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(body)}
}

// sameResponse reports how b differs from a, Date aside.
func sameResponse(a, b response) string {
	if a.status != b.status {
		return fmt.Sprintf("status %d vs %d", a.status, b.status)
	}
	if a.body != b.body {
		return fmt.Sprintf("bodies differ (%d vs %d bytes)", len(a.body), len(b.body))
	}
	for _, h := range []http.Header{a.header, b.header} {
		for k := range h {
			if k == "Date" {
				continue
			}
			if !slices.Equal(a.header[k], b.header[k]) {
				return fmt.Sprintf("header %s: %q vs %q", k, a.header[k], b.header[k])
			}
		}
	}
	return ""
}

// TestFastMatchesNetHTTP: for a matrix of conditional, HEAD and gzip
// requests, net/http's server, the fasthttp slow path (adaptor) and the fast
// path (hot map) answer with the same status, headers and body.
func TestFastMatchesNetHTTP(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	ts := httptest.NewServer(s)
	defer ts.Close()
	fs := startFast(t, s)
	targets := []string{
		"/category/zhongguoshuiwubao.atom",
		"/tag/" + url.PathEscape("中国税务报新闻") + ".rss",
		"/feed.json?limit=3",
		"/source/markets.html",
		"/post/" + st.posts[0].ID + ".html",
	}
	for _, target := range targets {
		first := netHTTP(t, ts, "GET", target)
		gz := netHTTP(t, ts, "GET", target, "Accept-Encoding", "gzip")
		etag, gzETag, lastMod := first.header.Get("ETag"), gz.header.Get("ETag"), first.header.Get("Last-Modified")
		lm, err := http.ParseTime(lastMod)
		if first.status != 200 || etag == "" || err != nil {
			t.Fatalf("%s: %d, ETag %q, Last-Modified %q", target, first.status, etag, lastMod)
		}
		validators := map[string][]string{
			"none":              nil,
			"inm match":         {"If-None-Match", etag},
			"inm gzip tag":      {"If-None-Match", gzETag},
			"inm mismatch":      {"If-None-Match", `"deadbeef"`},
			"inm list":          {"If-None-Match", `"a", ` + etag + `,"b"`},
			"inm weak":          {"If-None-Match", "W/" + etag},
			"inm star":          {"If-None-Match", "*"},
			"ims equal":         {"If-Modified-Since", lastMod},
			"ims earlier":       {"If-Modified-Since", lm.Add(-time.Hour).Format(http.TimeFormat)},
			"ims garbage":       {"If-Modified-Since", "yesterday"},
			"inm wins over ims": {"If-None-Match", `"deadbeef"`, "If-Modified-Since", lastMod},
		}
		for _, method := range []string{"GET", "HEAD"} {
			for _, accept := range []string{"", "gzip, deflate, br", "gzip;q=0"} {
				for name, v := range validators {
					header := append([]string{"Accept-Encoding", accept}, v...)
					t.Run(fmt.Sprintf("%s %s %q %s", method, target, accept, name), func(t *testing.T) {
						want := netHTTP(t, ts, method, target, header...)
						s.hot.reset()
						slow := fs.do(t, method, target, header...)
						if s.hot.getString(target) == nil {
							t.Fatal("the slow path did not make the URI hot")
						}
						hits, _, _ := s.cache.stats()
						fast := fs.do(t, method, target, header...)
						if h, _, _ := s.cache.stats(); h != hits+1 {
							t.Errorf("fast path: render cache hits %d -> %d, want one more", hits, h)
						}
						if d := sameResponse(want, slow); d != "" {
							t.Errorf("adaptor vs net/http: %s", d)
						}
						if d := sameResponse(want, fast); d != "" {
							t.Errorf("fast path vs net/http: %s", d)
						}
						if method == "HEAD" && want.status == 200 && fast.header.Get("Content-Length") == "" {
							t.Error("HEAD without Content-Length")
						}
					})
				}
			}
		}
	}
}

// TestFastNewVersion: after a poll changes the posts, the fast path stops
// serving the old bytes at once; after a config reload it serves nothing
// until the net/http path answered again.
func TestFastNewVersion(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	fs := startFast(t, s)
	const target = "/category/markets.rss"
	old := fs.do(t, "GET", target)
	if again := fs.do(t, "GET", target); again.body != old.body || s.hot.len() != 1 {
		t.Fatalf("second request: same body %v, hot entries %d", again.body == old.body, s.hot.len())
	}
	p := st.posts[2]
	p.ID, p.Title = "00000000000000ff", "新版本的文章"
	p.Published = p.Published.Add(365 * 24 * time.Hour)
	st.add(p)
	s.Invalidate()
	for i := range 3 {
		got := fs.do(t, "GET", target, "If-None-Match", old.header.Get("ETag"))
		if got.status != 200 || !strings.Contains(got.body, "新版本的文章") {
			t.Fatalf("request %d after the change: %d, new post in body %v", i, got.status, strings.Contains(got.body, "新版本的文章"))
		}
	}
	s.SetOptions(s.options())
	if s.hot.len() != 0 {
		t.Error("SetOptions kept hot entries")
	}
	if got := fs.do(t, "GET", target); got.status != 200 || !strings.Contains(got.body, "新版本的文章") {
		t.Errorf("after reload: %d", got.status)
	}
}

// TestFastConnectionReuse: strings of one request outlive it in the caches
// (render-cache and hot-map keys) although fasthttp reuses a connection's
// buffers: URIs of the same length, one after the other on one connection,
// each get their own feed.
func TestFastConnectionReuse(t *testing.T) {
	s := newTestServer(t, testStore())
	fs := startFast(t, s)
	tag := "/tag/" + url.PathEscape("中国税务报新闻")
	want := map[string]string{
		"/source/markets.json": ctypeJSON, "/source/markets.atom": ctypeAtom,
		tag + ".json?limit=4": ctypeJSON, tag + ".atom?limit=4": ctypeAtom, tag + ".html?limit=4": ctypeHTML,
		"/source/chinatax.rss?limit=3": ctypeRSS, "/source/chinatax.rss?limit=4": ctypeRSS,
	}
	targets := slices.Sorted(maps.Keys(want))
	bodies := map[string]string{}
	for round := range 2 * len(targets) {
		for i := range targets {
			target := targets[(i*(round+1)+round)%len(targets)] // a different order each round
			r := fs.do(t, "GET", target)
			if ct := r.header.Get("Content-Type"); ct != want[target] {
				t.Fatalf("round %d: %s: Content-Type %q, want %q", round, target, ct, want[target])
			}
			if b, ok := bodies[target]; ok && b != r.body {
				t.Fatalf("round %d: %s: body changed between requests", round, target)
			}
			bodies[target] = r.body
		}
	}
	if bodies["/source/chinatax.rss?limit=3"] == bodies["/source/chinatax.rss?limit=4"] {
		t.Error("limit=3 and limit=4 got the same feed")
	}
}

// TestHotMapBounded: distinct query strings and long URIs do not grow the
// hot map past its bounds.
func TestHotMapBounded(t *testing.T) {
	s := newTestServer(t, testStore())
	for i := range hotMaxEntries + 500 {
		if rec := get(t, s, "GET", fmt.Sprintf("/feed.rss?x=%d", i)); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if n := s.hot.len(); n > hotMaxEntries {
		t.Errorf("hot map holds %d entries, bound %d", n, hotMaxEntries)
	}
	s.hot.reset()
	long := "/feed.rss?x=" + strings.Repeat("y", hotMaxURI)
	get(t, s, "GET", long)
	if s.hot.len() != 0 {
		t.Error("a URI longer than hotMaxURI was registered")
	}
	// A response the render cache did not keep is not hot either.
	s.SetOptions(Options{Site: s.options().Site, Categories: s.options().Categories, Sources: s.options().Sources, CacheBytes: 1024})
	get(t, s, "GET", "/feed.atom")
	if s.hot.len() != 0 {
		t.Error("an entity the render cache refused was registered")
	}
}

// TestFastWire: what fasthttp and its adaptor change about the wire, request
// by request: every client error is a 4xx with one line, never a 5xx.
func TestFastWire(t *testing.T) {
	st := testStore()
	s := newTestServer(t, st)
	fs := startFast(t, s)
	tag := "/tag/" + url.PathEscape("中国税务报新闻") + ".rss"
	tests := []struct {
		name, method, target string
		header               []string
		status               int
		check                func(t *testing.T, r response)
	}{
		{"Chinese tag", "GET", tag, nil, 200, func(t *testing.T, r response) {
			if !strings.Contains(r.body, "中国税务报新闻") {
				t.Error("tag feed without its tag")
			}
		}},
		{"search query", "GET", "/search?q=" + url.QueryEscape("退税"), nil, 200, nil},
		{"feed search", "GET", "/feed.atom?q=" + url.QueryEscape("退税") + "&limit=2", nil, 200, nil},
		{"bad limit", "GET", "/feed.rss?limit=0", nil, 400, nil},
		{"bad cursor", "GET", "/feed.atom?before=garbage", nil, 400, nil},
		{"unknown category", "GET", "/category/nope.rss", nil, 404, nil},
		{"HEAD 404 has no body", "HEAD", "/category/nope.rss", nil, 404, func(t *testing.T, r response) {
			if r.body != "" {
				t.Errorf("body %q", r.body)
			}
		}},
		{"405 with Allow", "POST", "/feed.rss", nil, 405, func(t *testing.T, r response) {
			if allow := r.header.Get("Allow"); allow != "GET, HEAD" {
				t.Errorf("Allow %q", allow)
			}
		}},
		{"DELETE 405", "DELETE", "/category/zhongguoshuiwubao.atom", nil, 405, nil},
		{"traversal is cleaned", "GET", "/post/../../etc/passwd", nil, 307, func(t *testing.T, r response) {
			if loc := r.header.Get("Location"); loc != "/etc/passwd" {
				t.Errorf("Location %q", loc)
			}
		}},
		{"encoded traversal", "GET", "/static/%2e%2e%2fconfig.toml", nil, 404, nil},
		{"clean path not served", "GET", "/etc/passwd", nil, 404, nil},
		{"huge header", "GET", "/feed.rss", []string{"X-Big", strings.Repeat("a", MaxHeaderBytes+1024)}, 431, nil},
		{"healthz", "GET", "/healthz", nil, 200, nil},
		{"healthz HEAD", "HEAD", "/healthz", nil, 200, func(t *testing.T, r response) {
			if r.body != "" {
				t.Error("HEAD with a body")
			}
		}},
		{"no Server header", "GET", "/feed.rss", nil, 200, func(t *testing.T, r response) {
			if r.header.Get("Server") != "" || r.header.Get("Date") == "" {
				t.Errorf("Server %q, Date %q", r.header.Get("Server"), r.header.Get("Date"))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fs.do(t, tc.method, tc.target, tc.header...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %q", r.status, tc.status, r.body)
			}
			if r.status >= 400 {
				if strings.Count(strings.TrimSuffix(r.body, "\n"), "\n") > 0 {
					t.Errorf("error body is more than one line: %q", r.body)
				}
				if tc.method != "HEAD" && r.body == "" {
					t.Error("error without a reason")
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}

	raw := []struct {
		name, request string
		status        int
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", 400},
		{"bad percent-encoding", "GET /feed.rss%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"bad header line", "GET /feed.rss HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400},
		{"body too large", fmt.Sprintf("POST /feed.rss HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", maxRequestBody+1), 413},
	}
	if r := fs.raw(t, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"); r.status != 200 || r.body != "" {
		t.Errorf("OPTIONS *: %d %q, want an empty 200 as from net/http", r.status, r.body)
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			r := fs.raw(t, tc.request)
			t.Logf("%d %q", r.status, r.body)
			if r.status >= 500 || r.status < 400 || (tc.status != 0 && r.status != tc.status) {
				t.Fatalf("status %d, want %d (or a 4xx): %q", r.status, tc.status, r.body)
			}
			if strings.Count(strings.TrimSuffix(r.body, "\n"), "\n") > 0 {
				t.Errorf("error body is more than one line: %q", r.body)
			}
		})
	}
}

// TestFastMetrics: requests the fast path answers are counted by route and
// status, as the net/http path counts them.
func TestFastMetrics(t *testing.T) {
	s := newTestServer(t, testStore())
	fs := startFast(t, s)
	const target = "/category/markets.atom"
	first := fs.do(t, "GET", target)
	for range 3 {
		fs.do(t, "GET", target)
	}
	fs.do(t, "GET", target, "If-None-Match", first.header.Get("ETag"))
	m := fs.do(t, "GET", "/metrics").body
	for _, want := range []string{
		`refeed_http_requests_total{route="GET /category/{file}",status="200"} 4`,
		`refeed_http_requests_total{route="GET /category/{file}",status="304"} 1`,
		"refeed_render_cache_hits_total 4",
		"refeed_render_cache_misses_total 1",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}

// panicStore panics where the home page reads it.
type panicStore struct{ *fakeStore }

func (panicStore) Stats(context.Context) (storage.Stats, error) { panic("boom") }

// TestFastPanic: a panic in a handler is a one-line 500 through the adaptor,
// and the server goes on serving.
func TestFastPanic(t *testing.T) {
	opts := newTestServer(t, testStore()).options()
	opts.Metrics = NewMetrics()
	s, err := New(panicStore{testStore()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	fs := startFast(t, s)
	r := fs.do(t, "GET", "/")
	if r.status != 500 || r.body != "internal error\n" {
		t.Errorf("panic: %d %q", r.status, r.body)
	}
	if r := fs.do(t, "GET", "/category/markets.rss"); r.status != 200 {
		t.Errorf("after a panic: %d", r.status)
	}
}

// TestAdaptRequest: the net/http handlers see the client's address, the raw
// path and query, and a context the server's shutdown does not cancel.
func TestAdaptRequest(t *testing.T) {
	s := newTestServer(t, testStore())
	var got *http.Request
	h := s.adapt(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_, _ = io.WriteString(w, "ok")
	}))
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	req.SetRequestURI("/tag/%E4%B8%AD%E5%9B%BD.rss?q=%E9%80%80%E7%A8%8E&limit=3")
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4242}, nil)
	h(&ctx)
	switch {
	case got == nil:
		t.Fatal("handler not called")
	case got.RemoteAddr != "192.0.2.7:4242":
		t.Errorf("RemoteAddr %q", got.RemoteAddr)
	case got.URL.Path != "/tag/中国.rss" || got.URL.Query().Get("q") != "退税" || got.URL.Query().Get("limit") != "3":
		t.Errorf("URL %q, query %v", got.URL.Path, got.URL.Query())
	case got.Context().Done() != nil:
		t.Error("the request context can be cancelled by the server's shutdown")
	case !bytes.Equal(ctx.Response.Body(), []byte("ok")):
		t.Errorf("body %q", ctx.Response.Body())
	}
}
