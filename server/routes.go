package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/refeed/refeed/storage"
)

// Content types of what the server renders.
const (
	ctypeRSS  = "application/rss+xml; charset=utf-8"
	ctypeAtom = "application/atom+xml; charset=utf-8"
	ctypeJSON = "application/feed+json; charset=utf-8"
	ctypeHTML = "text/html; charset=utf-8"
	ctypeOPML = "text/x-opml; charset=utf-8"
	ctypeText = "text/plain; charset=utf-8"
)

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("GET /feed.rss", s.handleSiteFeed("rss"))
	mux.HandleFunc("GET /feed.atom", s.handleSiteFeed("atom"))
	mux.HandleFunc("GET /feed.json", s.handleSiteFeed("json"))
	mux.HandleFunc("GET /category/{file}", s.handleListing(kindCategory))
	mux.HandleFunc("GET /tag/{file}", s.handleListing(kindTag))
	mux.HandleFunc("GET /source/{file}", s.handleListing(kindSource))
	mux.HandleFunc("GET /post/{file}", s.handlePost)
	mux.HandleFunc("GET /search", s.handleSearch)
	mux.HandleFunc("GET /sources.opml", s.handleOPML)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /static/{file}", s.handleStatic)
	mux.HandleFunc("GET /favicon.ico", s.handleFavicon)
	if m := s.options().Metrics; m != nil {
		mux.Handle("GET /metrics", m.Handler())
	}
	s.mux = mux
}

// splitExt splits "name.ext" at its last dot; the extension must be one of allowed.
func splitExt(file string, allowed ...string) (name, ext string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return "", "", false
	}
	name, ext = file[:i], file[i+1:]
	for _, a := range allowed {
		if ext == a {
			return name, ext, true
		}
	}
	return "", "", false
}

// fail answers with one plain-text line and the status err maps to.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	h := w.Header()
	h.Set("Content-Type", ctypeText)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(msg + "\n"))
	}
}

// errNotFound is a 404 with its own message.
type errNotFound string

func (e errNotFound) Error() string { return string(e) }

// statusOf is the one place that maps errors to HTTP statuses and messages.
func statusOf(err error) (int, string) {
	var nf errNotFound
	switch {
	case errors.As(err, &nf):
		return http.StatusNotFound, string(nf)
	case errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, strings.TrimPrefix(err.Error(), errBadRequest.Error()+": ")
	case errors.Is(err, storage.ErrBadCursor):
		return http.StatusBadRequest, "before is not a valid cursor"
	default:
		return http.StatusServiceUnavailable, "temporarily unavailable, try again later"
	}
}
