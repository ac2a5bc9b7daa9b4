package aggregator

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxRedirects is how many hops one fetch follows.
const maxRedirects = 10

// maxHintAlloc caps the buffer allocated up front from a Content-Length.
const maxHintAlloc = 2 << 20

// fetchRequest is what a fetch needs to know about a source.
type fetchRequest struct {
	URL          string
	ETag         string // sent as If-None-Match unless Force
	LastModified string // sent as If-Modified-Since unless Force
	Force        bool
}

// fetchResult is a fetched body and what the answer says about the source.
type fetchResult struct {
	Code         int // 200, 304 or 410
	Body         []byte
	ContentType  string
	ETag         string
	LastModified string
	URL          string        // where to fetch next time: changes only after a 301/308 chain
	Moved        bool          // URL differs from the request's because of permanent redirects
	RetryAfter   time.Duration // from Retry-After, also set alongside a 429/503 error
	MaxAge       time.Duration // from Cache-Control max-age
}

// fetcher does HTTP and file:// fetches with one shared client.
type fetcher struct {
	client    *http.Client
	timeout   time.Duration
	maxBody   int64
	userAgent string
	now       func() time.Time
	perHost   int

	mu    sync.Mutex
	hosts map[string]chan struct{}
}

// redirectTrace records, per fetch, the redirects the shared client follows.
type redirectTrace struct {
	permanent bool // every hop so far was 301 or 308
	hops      int
	// The PerHost slot held for the host being requested now. A redirect
	// to another host trades it for one of that host's slots (the request
	// to the first host is over), so a host reached by redirects is held
	// to PerHost too, and no fetch holds one slot while waiting for another.
	f       *fetcher
	host    string
	release func()
}

// moveTo trades the slot held for host for one of next's.
func (tr *redirectTrace) moveTo(ctx context.Context, next string) error {
	if next == tr.host {
		return nil
	}
	tr.release()
	tr.release = func() {}
	rel, err := tr.f.acquire(ctx, next)
	if err != nil {
		return err
	}
	tr.host, tr.release = next, rel
	return nil
}

type traceKey struct{}

func newFetcher(opts Options) *fetcher {
	rt := opts.Transport
	if rt == nil {
		dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: opts.Timeout,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   opts.PerHost,
		}
	}
	f := &fetcher{
		timeout:   opts.Timeout,
		maxBody:   opts.MaxBody,
		userAgent: opts.UserAgent,
		now:       opts.Now,
		perHost:   opts.PerHost,
		hosts:     make(map[string]chan struct{}),
	}
	f.client = &http.Client{Transport: rt, CheckRedirect: checkRedirect}
	return f
}

// checkRedirect bounds the hops, stops loops and tracks whether the chain is
// all permanent (301/308), which decides if the new URL is remembered.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d hops", ErrTooManyRedirects, maxRedirects)
	}
	next := req.URL.String()
	for _, v := range via {
		if v.URL.String() == next {
			return fmt.Errorf("%w: back to %s", ErrRedirectLoop, next)
		}
	}
	if tr, ok := req.Context().Value(traceKey{}).(*redirectTrace); ok {
		if req.Response != nil {
			tr.hops++
			c := req.Response.StatusCode
			if c != http.StatusMovedPermanently && c != http.StatusPermanentRedirect {
				tr.permanent = false
			}
		}
		if tr.f != nil {
			return tr.moveTo(req.Context(), req.URL.Host)
		}
	}
	return nil
}

// fetch gets req.URL within the fetcher's timeout, body included.
func (f *fetcher) fetch(ctx context.Context, req fetchRequest) (fetchResult, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return fetchResult{}, withClass(ClassConnect, fmt.Errorf("bad url %q: %w", req.URL, err))
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	switch u.Scheme {
	case "file":
		return f.fetchFile(u, req)
	case "http", "https":
	default:
		return fetchResult{}, withClass(ClassConnect, fmt.Errorf("unsupported url scheme %q", u.Scheme))
	}
	release, err := f.acquire(ctx, u.Host)
	if err != nil {
		return fetchResult{}, err
	}
	tr := &redirectTrace{permanent: true, f: f, host: u.Host, release: release}
	defer func() { tr.release() }()

	hreq, err := http.NewRequestWithContext(context.WithValue(ctx, traceKey{}, tr), http.MethodGet, req.URL, nil)
	if err != nil {
		return fetchResult{}, withClass(ClassConnect, fmt.Errorf("build request: %w", err))
	}
	hreq.Header.Set("User-Agent", f.userAgent)
	hreq.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
	hreq.Header.Set("Accept-Encoding", "gzip, deflate")
	if !req.Force {
		if req.ETag != "" {
			hreq.Header.Set("If-None-Match", req.ETag)
		}
		if req.LastModified != "" {
			hreq.Header.Set("If-Modified-Since", req.LastModified)
		}
	}
	resp, err := f.client.Do(hreq)
	if err != nil {
		return fetchResult{}, fmt.Errorf("get %s: %w", req.URL, err)
	}
	defer resp.Body.Close()

	res := fetchResult{
		Code:         resp.StatusCode,
		ContentType:  resp.Header.Get("Content-Type"),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		URL:          req.URL,
		RetryAfter:   retryAfter(resp.Header.Get("Retry-After"), f.now()),
		MaxAge:       maxAge(resp.Header.Get("Cache-Control")),
	}
	if tr.hops > 0 && tr.permanent && resp.StatusCode == http.StatusOK {
		if final := resp.Request.URL.String(); final != req.URL {
			res.URL, res.Moved = final, true
		}
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified, http.StatusGone:
		return res, nil
	default:
		return res, &StatusError{Code: resp.StatusCode, Status: resp.Status}
	}
	body, err := f.readBody(ctx, resp)
	if err != nil {
		return res, fmt.Errorf("read %s: %w", req.URL, err)
	}
	res.Body = body
	return res, nil
}

// readBody reads at most maxBody decompressed bytes; one more is an error,
// so a huge or endless body is cut, never buffered.
func (f *fetcher) readBody(ctx context.Context, resp *http.Response) ([]byte, error) {
	var r io.Reader = resp.Body
	if resp.ContentLength > f.maxBody {
		return nil, fmt.Errorf("%w: Content-Length %d > %d", ErrTooLarge, resp.ContentLength, f.maxBody)
	}
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, withClass(ClassParse, fmt.Errorf("gzip: %w", err))
		}
		defer zr.Close()
		r = zr
	case "deflate":
		// RFC 9110 deflate is zlib-wrapped, but some servers send it raw.
		br := bufio.NewReader(resp.Body)
		if h, _ := br.Peek(2); len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, withClass(ClassParse, fmt.Errorf("deflate: %w", err))
			}
			defer zr.Close()
			r = zr
		} else {
			fr := flate.NewReader(br)
			defer fr.Close()
			r = fr
		}
	default:
		return nil, withClass(ClassParse, fmt.Errorf("unsupported Content-Encoding %q", resp.Header.Get("Content-Encoding")))
	}
	var hint int64 // the body's size, when the server says it
	if r == resp.Body && resp.ContentLength > 0 {
		hint = resp.ContentLength
	}
	body, err := readLimited(r, f.maxBody, hint)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return body, err
}

// readLimited reads r to the end, or fails with ErrTooLarge at max+1 bytes.
// A size hint (0: unknown) sizes the buffer once instead of growing it by
// doubling; it is trusted only up to max and maxHintAlloc, so a server that
// claims a large body and sends little cannot make every fetch allocate max.
func readLimited(r io.Reader, max, hint int64) ([]byte, error) {
	var buf bytes.Buffer
	if hint > 0 {
		buf.Grow(int(min(hint, max, maxHintAlloc)) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return buf.Bytes(), nil
}

// fetchFile reads a file:// URL. file:///abs/path is absolute;
// file://rel/path (a host part that is not "localhost") is relative to the
// working directory, so configs can point at bundled samples. The file's
// modification time plays Last-Modified.
func (f *fetcher) fetchFile(u *url.URL, req fetchRequest) (fetchResult, error) {
	path := u.Path
	if u.Host != "" && u.Host != "localhost" {
		path = u.Host + u.Path
	}
	if u.Opaque != "" {
		path = u.Opaque
	}
	file, err := os.Open(path)
	if err != nil {
		return fetchResult{}, fmt.Errorf("open %s: %w", req.URL, err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return fetchResult{}, fmt.Errorf("stat %s: %w", req.URL, err)
	}
	res := fetchResult{Code: http.StatusOK, URL: req.URL, LastModified: st.ModTime().UTC().Format(http.TimeFormat)}
	if !req.Force && req.LastModified == res.LastModified {
		res.Code = http.StatusNotModified
		return res, nil
	}
	if st.Size() > f.maxBody {
		return fetchResult{}, fmt.Errorf("%w: %s is %d bytes > %d", ErrTooLarge, req.URL, st.Size(), f.maxBody)
	}
	body, err := readLimited(file, f.maxBody, st.Size())
	if err != nil {
		return fetchResult{}, fmt.Errorf("read %s: %w", req.URL, err)
	}
	res.Body = body
	return res, nil
}

// acquire takes one of host's PerHost slots, waiting while ctx allows.
func (f *fetcher) acquire(ctx context.Context, host string) (func(), error) {
	f.mu.Lock()
	sem, ok := f.hosts[host]
	if !ok {
		sem = make(chan struct{}, f.perHost)
		f.hosts[host] = sem
	}
	f.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a slot on %s: %w", host, ctx.Err())
	}
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// maxAge returns Cache-Control max-age (0 when absent, or no-cache/no-store).
func maxAge(cc string) time.Duration {
	for _, part := range strings.Split(cc, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(k, "max-age") {
			n, err := strconv.Atoi(strings.Trim(v, `"`))
			if err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 0
}
