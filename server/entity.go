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

// entity is a rendered response, kept with its gzip form so a cached feed is
// served without compressing or hashing per request. Its response header
// values are built once too: serving it from the cache allocates nothing for
// headers.
type entity struct {
	body    []byte
	gz      []byte // nil when compression doesn't pay
	etag    string // strong, quoted, of body
	gzETag  string // of gz
	lastMod time.Time
	ctype   string
	maxAge  int // seconds, for Cache-Control

	// Header values, each a one-element slice with no spare capacity, so
	// that a handler appending to one gets a copy.
	hCtype, hETag, hGzETag, hLastMod, hCacheControl, hLength, hGzLength []string
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

// newEntity builds an entity with the server's gzip writers.
func (s *Server) newEntity(body []byte, ctype string, lastMod time.Time, maxAge int) *entity {
	return makeEntity(&s.gzPool, body, ctype, lastMod, maxAge)
}

// makeEntity hashes and compresses body once; zp may be nil.
func makeEntity(zp *gzipPool, body []byte, ctype string, lastMod time.Time, maxAge int) *entity {
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:12])
	e := &entity{
		body:    body,
		etag:    `"` + tag + `"`,
		gzETag:  `"` + tag + `-gz"`,
		lastMod: lastMod.UTC().Truncate(time.Second),
		ctype:   ctype,
		maxAge:  maxAge,
	}
	if len(body) >= 256 {
		var buf bytes.Buffer
		buf.Grow(len(body) / 3)
		zw := zp.get(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		zp.put(zw)
		if buf.Len() < len(body) {
			e.gz = buf.Bytes()
		}
	}
	one := func(v string) []string { return []string{v}[:1:1] }
	e.hCtype = one(ctype)
	e.hETag, e.hGzETag = one(e.etag), one(e.gzETag)
	if !e.lastMod.IsZero() && e.lastMod.Unix() > 0 {
		e.hLastMod = one(e.lastMod.Format(http.TimeFormat))
	}
	e.hCacheControl = one("public, max-age=" + strconv.Itoa(maxAge))
	e.hLength = one(strconv.Itoa(len(body)))
	if e.gz != nil {
		e.hGzLength = one(strconv.Itoa(len(e.gz)))
	}
	return e
}

// size is what the entity costs in the render cache.
func (e *entity) size() int64 { return int64(len(e.body) + len(e.gz) + 256) }

// write sends e, honouring conditional requests, HEAD and Accept-Encoding.
// Header keys are written in canonical form, as Header.Set would.
func (e *entity) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	useGzip := e.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding"))
	etag, body, length := e.hETag, e.body, e.hLength
	if useGzip {
		etag, body, length = e.hGzETag, e.gz, e.hGzLength
	}
	h["Etag"] = etag
	if e.hLastMod != nil {
		h["Last-Modified"] = e.hLastMod
	}
	h["Cache-Control"] = e.hCacheControl
	if e.gz != nil {
		h["Vary"] = hVaryAcceptEncoding
	}
	if e.notModified(r) {
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
func (e *entity) notModified(r *http.Request) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagMatch(inm, e.etag, e.gzETag)
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || e.lastMod.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
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
