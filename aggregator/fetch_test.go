package aggregator

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testFetcher(t *testing.T, opts Options) *fetcher {
	t.Helper()
	opts.setDefaults()
	return newFetcher(opts)
}

func TestFetchConditionalAndHeaders(t *testing.T) {
	var gotUA, gotINM, gotIMS string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotINM, gotIMS = r.UserAgent(), r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Sat, 01 Mar 2025 00:00:00 GMT")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write([]byte("<rss/>"))
	}))
	defer srv.Close()
	f := testFetcher(t, Options{UserAgent: "refeed/test (+http://x)"})
	res, err := f.fetch(context.Background(), fetchRequest{URL: srv.URL})
	if err != nil || res.Code != 200 || string(res.Body) != "<rss/>" || res.ETag != `"v1"` || res.MaxAge != time.Hour {
		t.Fatalf("first: %+v %v", res, err)
	}
	if gotUA != "refeed/test (+http://x)" || gotINM != "" {
		t.Errorf("UA %q INM %q", gotUA, gotINM)
	}
	res, err = f.fetch(context.Background(), fetchRequest{URL: srv.URL, ETag: res.ETag, LastModified: res.LastModified})
	if err != nil || res.Code != 304 || gotINM != `"v1"` || gotIMS == "" {
		t.Fatalf("second: %+v %v INM %q", res, err, gotINM)
	}
	res, err = f.fetch(context.Background(), fetchRequest{URL: srv.URL, ETag: `"v1"`, Force: true})
	if err != nil || res.Code != 200 || gotINM != "" {
		t.Fatalf("forced: %d %v INM %q", res.Code, err, gotINM)
	}
}

func TestFetchCompressed(t *testing.T) {
	payload := []byte(strings.Repeat("<rss>税务</rss>", 100))
	var gz, zl bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(payload)
	w.Close()
	z := zlib.NewWriter(&zl)
	z.Write(payload)
	z.Close()
	for name, enc := range map[string][]byte{"gzip": gz.Bytes(), "deflate": zl.Bytes()} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.Contains(r.Header.Get("Accept-Encoding"), name) {
					t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
				}
				w.Header().Set("Content-Encoding", name)
				w.Write(enc)
			}))
			defer srv.Close()
			res, err := testFetcher(t, Options{}).fetch(context.Background(), fetchRequest{URL: srv.URL})
			if err != nil || !bytes.Equal(res.Body, payload) {
				t.Fatalf("%v %q", err, res.Body[:min(len(res.Body), 40)])
			}
			// The cap applies to the decompressed size.
			_, err = testFetcher(t, Options{MaxBody: 1000}).fetch(context.Background(), fetchRequest{URL: srv.URL})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("compressed bomb: %v", err)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/perm", http.RedirectHandler("/perm2", http.StatusMovedPermanently))
	mux.Handle("/perm2", http.RedirectHandler("/feed", http.StatusPermanentRedirect))
	mux.Handle("/temp", http.RedirectHandler("/feed", http.StatusFound))
	mux.Handle("/mixed", http.RedirectHandler("/temp", http.StatusMovedPermanently))
	mux.Handle("/loop-a", http.RedirectHandler("/loop-b", http.StatusFound))
	mux.Handle("/loop-b", http.RedirectHandler("/loop-a", http.StatusFound))
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n+1), http.StatusFound)
	})
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<rss/>")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := testFetcher(t, Options{})

	tests := []struct {
		path    string
		wantURL string
		moved   bool
		err     error
	}{
		{"/perm", "/feed", true, nil},
		{"/temp", "/temp", false, nil},
		{"/mixed", "/mixed", false, nil},
		{"/loop-a", "", false, ErrRedirectLoop},
		{"/hop/0", "", false, ErrTooManyRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := f.fetch(context.Background(), fetchRequest{URL: srv.URL + tt.path})
			if tt.err != nil {
				if !errors.Is(err, tt.err) || classify(err) != ClassHTTPStatus {
					t.Fatalf("err %v class %s, want %v", err, classify(err), tt.err)
				}
				return
			}
			if err != nil || res.URL != srv.URL+tt.wantURL || res.Moved != tt.moved {
				t.Fatalf("url %s moved %v err %v", res.URL, res.Moved, err)
			}
		})
	}
}

func TestFetchRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		code  int
		value string
		want  time.Duration
	}{
		{429, "120", 2 * time.Minute},
		{503, now.Add(3 * time.Hour).Format(http.TimeFormat), 3 * time.Hour},
		{503, "garbage", 0},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", tt.value)
			w.WriteHeader(tt.code)
		}))
		res, err := testFetcher(t, Options{Now: func() time.Time { return now }}).fetch(context.Background(), fetchRequest{URL: srv.URL})
		srv.Close()
		var se *StatusError
		if !errors.As(err, &se) || se.Code != tt.code || classify(err) != ClassHTTPStatus {
			t.Errorf("%d: err %v", tt.code, err)
		}
		if res.RetryAfter != tt.want {
			t.Errorf("Retry-After %q: %v, want %v", tt.value, res.RetryAfter, tt.want)
		}
	}
}

func TestFetchMaxBody(t *testing.T) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for sent.Load() < 200<<20 { // an endless-looking 200 MB body
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var before, after runtime.MemStats
	readMem(&before)
	_, err := testFetcher(t, Options{MaxBody: 1 << 20}).fetch(context.Background(), fetchRequest{URL: srv.URL})
	readMem(&after)
	if !errors.Is(err, ErrTooLarge) || classify(err) != ClassTooLarge {
		t.Fatalf("err %v", err)
	}
	if s := sent.Load(); s > 100<<20 {
		t.Errorf("server sent %d MiB before the cut", s>>20)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 32<<20 {
		t.Errorf("heap grew %d MiB", grew>>20)
	}

	// A declared Content-Length over the limit is refused before reading.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000000")
		w.Write(make([]byte, 5000000))
	}))
	defer srv2.Close()
	if _, err := testFetcher(t, Options{MaxBody: 1 << 20}).fetch(context.Background(), fetchRequest{URL: srv2.URL}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("content-length: %v", err)
	}
}

func TestFetchDripIsCut(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<rss>"))
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				w.Write([]byte("x"))
				w.(http.Flusher).Flush()
			}
		}
	}))
	defer srv.Close()
	defer close(done)
	_, err := testFetcher(t, Options{Timeout: 300 * time.Millisecond}).fetch(context.Background(), fetchRequest{URL: srv.URL})
	if classify(err) != ClassTimeout {
		t.Fatalf("err %v class %s", err, classify(err))
	}
}

func TestFetchErrorClasses(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	statusSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	}))
	defer statusSrv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/feed"
	ln.Close()

	tests := []struct{ name, url, class string }{
		{"dns", "http://refeed-test.invalid/feed", ClassDNS},
		{"connect", closed, ClassConnect},
		{"tls", tlsSrv.URL, ClassTLS},
		{"http_status", statusSrv.URL, ClassHTTPStatus},
		{"missing file", "file:///nonexistent/refeed/feed.xml", ClassConnect},
		{"bad scheme", "gopher://x/", ClassConnect},
	}
	f := testFetcher(t, Options{Timeout: 5 * time.Second})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.fetch(context.Background(), fetchRequest{URL: tt.url})
			if err == nil {
				t.Fatal("no error")
			}
			if got := classify(err); got != tt.class {
				t.Errorf("class %s, want %s (%v)", got, tt.class, err)
			}
		})
	}
}

func TestFetchFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feed.xml")
	os.WriteFile(path, []byte("<rss/>"), 0o644)
	f := testFetcher(t, Options{MaxBody: 100})
	res, err := f.fetch(context.Background(), fetchRequest{URL: "file://" + path})
	if err != nil || string(res.Body) != "<rss/>" || res.LastModified == "" {
		t.Fatalf("%+v %v", res, err)
	}
	res2, err := f.fetch(context.Background(), fetchRequest{URL: "file://" + path, LastModified: res.LastModified})
	if err != nil || res2.Code != http.StatusNotModified {
		t.Fatalf("unchanged file: %d %v", res2.Code, err)
	}
	os.WriteFile(path, bytes.Repeat([]byte("x"), 101), 0o644)
	if _, err := f.fetch(context.Background(), fetchRequest{URL: "file://" + path, Force: true}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big file: %v", err)
	}
	// file://relative/path is relative to the working directory.
	res, err = testFetcher(t, Options{}).fetch(context.Background(), fetchRequest{URL: "file://testdata/rss1.xml"})
	if err != nil || !bytes.Contains(res.Body, []byte("RSS 1.0 feed")) {
		t.Fatalf("relative: %v", err)
	}
}

func TestFetchPerHostLimit(t *testing.T) {
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
	}))
	defer srv.Close()
	f := testFetcher(t, Options{PerHost: 2})
	errs := make(chan error, 5)
	for range 5 {
		go func() {
			_, err := f.fetch(context.Background(), fetchRequest{URL: srv.URL})
			errs <- err
		}()
	}
	for peak.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let any over-limit request arrive
	close(release)
	for range 5 {
		<-errs
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak %d requests in flight, want 2", p)
	}
}

// poll.per_host also holds for a host reached by redirects: three sources
// on three hosts that all redirect to one feed host get there one at a
// time with PerHost 1, and each gives up its first host's slot on the way.
func TestFetchPerHostLimitAfterRedirect(t *testing.T) {
	var inFlight, peak, served atomic.Int32
	release := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		served.Add(1)
		<-release
		inFlight.Add(-1)
		w.Write([]byte(`<rss version="2.0"><channel><title>t</title></channel></rss>`))
	}))
	defer target.Close()
	const sources = 3
	var hops atomic.Int32
	var origins []string
	for range sources {
		o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hops.Add(1)
			http.Redirect(w, r, target.URL+"/feed", http.StatusFound)
		}))
		defer o.Close()
		origins = append(origins, o.URL)
	}
	f := testFetcher(t, Options{PerHost: 1})
	errs := make(chan error, sources)
	for _, u := range origins {
		go func() {
			_, err := f.fetch(context.Background(), fetchRequest{URL: u})
			errs <- err
		}()
	}
	// Every source has reached its origin and one has reached the target;
	// the others wait for the target's slot (give them time to overrun it).
	for hops.Load() < sources || served.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	for range sources {
		if err := <-errs; err != nil {
			t.Errorf("fetch: %v", err)
		}
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("peak %d requests in flight at the redirect target, want 1", p)
	}
	if n := served.Load(); n != sources {
		t.Errorf("target served %d, want %d", n, sources)
	}
}
