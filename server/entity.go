package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// entity is a rendered response, hashed once, with its gzip form made once,
// on the first request that accepts gzip: a cached feed is served without
// compressing or hashing per request, and a cold render read without gzip
// does not pay for compressing. Its response header values are built once
// too: serving it from the cache allocates nothing for headers.
type entity struct {
	body     []byte
	etag     string // strong, quoted, of body
	gzETag   string // of the gzip form
	lastMod  time.Time
	ctype    string
	maxAge   int  // seconds, for Cache-Control
	zippable bool // large enough that a gzip form may pay: Vary is sent

	zp     *gzipPool
	gzOnce sync.Once
	gz     []byte // set by gzOnce; nil when compression doesn't pay

	cached bool // set once by the render cache before it shares e: may be hot (hot.go)

	// Header values, each a one-element slice with no spare capacity, so
	// that a handler appending to one gets a copy.
	hCtype, hETag, hGzETag, hLastMod, hCacheControl, hLength, hGzLength []string
	// The same values for the fast path (fast.go); fLastMod is nil when
	// there is no Last-Modified.
	fCtype, fETag, fGzETag, fLastMod, fCacheControl []byte
}

// Header values shared by every entity.
var (
	hVaryAcceptEncoding = []string{"Accept-Encoding"}
	hGzip               = []string{"gzip"}
)

// gzipLevel trades compression for render time: on a 200 KB feed, level 4
// takes a third of the time of level 9 for output about 8% larger.
const gzipLevel = 4

// gzipPool reuses gzip writers: each holds about a megabyte of compression
// state, which would otherwise be allocated per render.
type gzipPool struct{ p sync.Pool }

func (zp *gzipPool) get(w io.Writer) *gzip.Writer {
	if zp != nil {
		if zw, ok := zp.p.Get().(*gzip.Writer); ok {
			zw.Reset(w)
			return zw
		}
	}
	zw, _ := gzip.NewWriterLevel(w, gzipLevel)
	return zw
}

func (zp *gzipPool) put(zw *gzip.Writer) {
	if zp != nil {
		zp.p.Put(zw)
	}
}

// undated is the Last-Modified of a response with no date of its own (an
// empty feed, OPML), so that every feed and page has one, as SPEC says. It
// is a constant, not the process's start: every instance on one database,
// and the same one after a restart, answers the same validators for the
// same bytes (the ETag still tells a changed body).
var undated = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// newEntity builds an entity with the server's gzip writers.
func (s *Server) newEntity(body []byte, ctype string, lastMod time.Time, maxAge int) *entity {
	if lastMod.Unix() <= 0 {
		lastMod = undated
	}
	return makeEntity(&s.gzPool, body, ctype, lastMod, maxAge)
}

// minGzip is the smallest body worth compressing.
const minGzip = 256

// makeEntity hashes body; it is compressed on first demand, with writers
// from zp, which may be nil.
func makeEntity(zp *gzipPool, body []byte, ctype string, lastMod time.Time, maxAge int) *entity {
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:12])
	e := &entity{
		body:     body,
		etag:     `"` + tag + `"`,
		gzETag:   `"` + tag + `-gz"`,
		lastMod:  lastMod.UTC().Truncate(time.Second),
		ctype:    ctype,
		maxAge:   maxAge,
		zippable: len(body) >= minGzip,
		zp:       zp,
	}
	one := func(v string) []string { return []string{v}[:1:1] }
	e.hCtype = one(ctype)
	e.hETag, e.hGzETag = one(e.etag), one(e.gzETag)
	if !e.lastMod.IsZero() && e.lastMod.Unix() > 0 {
		e.hLastMod = one(e.lastMod.Format(http.TimeFormat))
	}
	e.hCacheControl = one("public, max-age=" + strconv.Itoa(maxAge))
	e.hLength = one(strconv.Itoa(len(e.body)))
	e.fCtype, e.fETag, e.fGzETag, e.fCacheControl = []byte(ctype), []byte(e.etag), []byte(e.gzETag), []byte(e.hCacheControl[0])
	if e.hLastMod != nil {
		e.fLastMod = []byte(e.hLastMod[0])
	}
	return e
}

// gzipped returns the gzip form of the body, compressing it on the first
// call, or nil when compression doesn't pay.
func (e *entity) gzipped() []byte {
	if !e.zippable {
		return nil
	}
	e.gzOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(e.body) / 3)
		zw := e.zp.get(&buf)
		_, _ = zw.Write(e.body)
		_ = zw.Close()
		e.zp.put(zw)
		if buf.Len() < len(e.body) {
			e.hGzLength = []string{strconv.Itoa(buf.Len())}[:1:1]
			e.gz = buf.Bytes()
		}
	})
	return e.gz
}

// size is what the entity costs in the render cache. The gzip form, made
// later, is counted in advance at a third of the body (refeed's feeds
// compress to a quarter to a third).
func (e *entity) size() int64 {
	n := int64(len(e.body) + 256)
	if e.zippable {
		n += int64(len(e.body) / 3)
	}
	return n
}

// choose decides how e answers a request with these header values: whether
// it is a 304 and whether the body goes out gzipped. Both transports (net/http
// in write, fasthttp in writeFast) decide through it, so they cannot differ.
func (e *entity) choose(acceptEncoding, ifNoneMatch, ifModifiedSince string) (notModified, useGzip bool) {
	if e.zippable && acceptsGzip(acceptEncoding) {
		useGzip = e.gzipped() != nil
	}
	return e.notModified(ifNoneMatch, ifModifiedSince), useGzip
}

// write sends e, honouring conditional requests, HEAD and Accept-Encoding.
// Header keys are written in canonical form, as Header.Set would.
func (e *entity) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	notModified, useGzip := e.choose(r.Header.Get("Accept-Encoding"), r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"))
	etag, body, length := e.hETag, e.body, e.hLength
	if useGzip {
		etag, body, length = e.hGzETag, e.gz, e.hGzLength
	}
	h["Etag"] = etag
	if e.hLastMod != nil {
		h["Last-Modified"] = e.hLastMod
	}
	h["Cache-Control"] = e.hCacheControl
	if e.zippable {
		h["Vary"] = hVaryAcceptEncoding
	}
	if notModified {
		delete(h, "Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = e.hCtype
	if useGzip {
		h["Content-Encoding"] = hGzip
	}
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// notModified applies RFC 9110's rules: If-None-Match (weak comparison, lists,
// "*") wins over If-Modified-Since, which is only looked at without it.
func (e *entity) notModified(ifNoneMatch, ifModifiedSince string) bool {
	if ifNoneMatch != "" {
		return etagMatch(ifNoneMatch, e.etag, e.gzETag)
	}
	if ifModifiedSince == "" || e.lastMod.IsZero() {
		return false
	}
	t, err := http.ParseTime(ifModifiedSince)
	if err != nil {
		return false
	}
	return !e.lastMod.After(t)
}

// etagMatch reports whether the If-None-Match header value lists any of the
// tags, comparing weakly (W/ prefixes ignored).
func etagMatch(header string, tags ...string) bool {
	for rest := header; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		if part == "*" {
			return true
		}
		part = strings.TrimPrefix(part, "W/")
		for _, t := range tags {
			if part == t {
				return true
			}
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip (q > 0).
func acceptsGzip(header string) bool {
	for rest := header; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, "gzip") && name != "*" && !strings.EqualFold(name, "x-gzip") {
			continue
		}
		q := strings.TrimSpace(params)
		if strings.Contains(q, " ") {
			q = strings.ReplaceAll(q, " ", "")
		}
		if strings.HasPrefix(q, "q=") {
			if v, err := strconv.ParseFloat(q[2:], 64); err == nil && v == 0 {
				continue
			}
		}
		return true
	}
	return false
}
