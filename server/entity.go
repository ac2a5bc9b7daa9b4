package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// entity is a rendered response, kept with its gzip form so a cached feed is
// served without compressing or hashing per request.
type entity struct {
	body    []byte
	gz      []byte // nil when compression doesn't pay
	etag    string // strong, quoted, of body
	gzETag  string // of gz
	lastMod time.Time
	ctype   string
	maxAge  int // seconds, for Cache-Control
}

func newEntity(body []byte, ctype string, lastMod time.Time, maxAge int) *entity {
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
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body) {
			e.gz = buf.Bytes()
		}
	}
	return e
}

// size is what the entity costs in the render cache.
func (e *entity) size() int64 { return int64(len(e.body) + len(e.gz) + 256) }

// write sends e, honouring conditional requests, HEAD and Accept-Encoding.
func (e *entity) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	useGzip := e.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding"))
	etag, body := e.etag, e.body
	if useGzip {
		etag, body = e.gzETag, e.gz
	}
	h.Set("Content-Type", e.ctype)
	h.Set("ETag", etag)
	if !e.lastMod.IsZero() && e.lastMod.Unix() > 0 {
		h.Set("Last-Modified", e.lastMod.Format(http.TimeFormat))
	}
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(e.maxAge))
	if e.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	if e.notModified(r) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if useGzip {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
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
	for _, part := range strings.Split(header, ",") {
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
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" && name != "x-gzip" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		if strings.HasPrefix(q, "q=") {
			if v, err := strconv.ParseFloat(q[2:], 64); err == nil && v == 0 {
				continue
			}
		}
		return true
	}
	return false
}
