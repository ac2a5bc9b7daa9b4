package server

import (
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Bounds of the hot map: it holds request URIs as clients sent them, so
// neither their number nor their length may follow what clients send.
const (
	hotMaxEntries = 1024
	hotMaxURI     = 512
)

// hotMap names the cached entities that FastHandler may serve without the
// net/http handlers: raw request URI (path and query, the exact bytes) →
// render-cache key. An entry only points into the render cache; the fast
// path serves it only while the key's store version is the current one and
// the render cache still holds the key, so a stale entry is never served,
// only skipped. It is emptied when the store's version or the config
// changes, and holds at most hotMaxEntries URIs of at most hotMaxURI bytes.
type hotMap struct {
	mu sync.RWMutex
	m  map[string]*hotEntry
}

// hotEntry is one hot URI: the render-cache key of its entity and the
// request counters of its route, looked up once rather than per request.
type hotEntry struct {
	key      cacheKey
	ok, notM prometheus.Counter // nil without metrics
}

func (h *hotMap) get(uri []byte) *hotEntry {
	h.mu.RLock()
	e := h.m[string(uri)] // no allocation: the compiler converts in place
	h.mu.RUnlock()
	return e
}

func (h *hotMap) getString(uri string) *hotEntry {
	h.mu.RLock()
	e := h.m[uri]
	h.mu.RUnlock()
	return e
}

// put registers uri, replacing an arbitrary entry when the map is full.
func (h *hotMap) put(uri string, e *hotEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[string]*hotEntry)
	}
	if _, ok := h.m[uri]; !ok && len(h.m) >= hotMaxEntries {
		for k := range h.m {
			delete(h.m, k)
			break
		}
	}
	h.m[uri] = e
}

func (h *hotMap) len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.m)
}

func (h *hotMap) reset() {
	h.mu.Lock()
	h.m = nil
	h.mu.Unlock()
}

// registerHot makes r's URI hot after the net/http path answered it with e
// from the render cache under key. Entities the cache refused (too large)
// are not registered, so the map only names what the bounded cache holds.
func (s *Server) registerHot(r *http.Request, key cacheKey, e *entity) {
	uri := r.RequestURI
	if !e.cached || uri == "" || len(uri) > hotMaxURI || (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
		key.gen != s.gen.Load() {
		return
	}
	if he := s.hot.getString(uri); he != nil && he.key == key {
		return
	}
	he := &hotEntry{key: key}
	if m := s.options().Metrics; m != nil && r.Pattern != "" {
		he.ok = m.requests.WithLabelValues(r.Pattern, m.codes[http.StatusOK])
		he.notM = m.requests.WithLabelValues(r.Pattern, m.codes[http.StatusNotModified])
	}
	s.hot.put(strings.Clone(uri), he) // r's strings may view a reused buffer
}
