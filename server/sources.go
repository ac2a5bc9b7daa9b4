package server

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/refeed/refeed/storage"
)

// sourcesTTL bounds how long a render may use sources read earlier at the
// same store version: a poll can change a source's title without changing
// posts (and so the version).
const sourcesTTL = time.Minute

// sourceCache keeps the store's sources by name for renders, which need
// their titles and URLs (provenance) but would otherwise read every source
// with its post count once per render: at a million posts that query costs
// more than the rest of the render.
type sourceCache struct {
	mu      sync.Mutex
	byName  map[string]storage.Source // shared with renders: read only
	version int64
	at      time.Time
	group   singleflight.Group
}

func (c *sourceCache) reset() {
	c.mu.Lock()
	c.byName = nil
	c.mu.Unlock()
}

// sourcesByName returns the sources by name, read from the store at most
// once per version and sourcesTTL.
func (s *Server) sourcesByName(ctx context.Context) (map[string]storage.Source, error) {
	c := &s.sources
	version, now := s.version.Load(), s.now()
	c.mu.Lock()
	if m := c.byName; m != nil && c.version == version && !now.Before(c.at) && now.Sub(c.at) < sourcesTTL {
		c.mu.Unlock()
		return m, nil
	}
	c.mu.Unlock()
	v, err, _ := c.group.Do("sources", func() (any, error) {
		srcs, err := s.store.Sources(ctx)
		if err != nil {
			return nil, err
		}
		m := make(map[string]storage.Source, len(srcs))
		for _, src := range srcs {
			m[src.Name] = src
		}
		c.mu.Lock()
		c.byName, c.version, c.at = m, version, now
		c.mu.Unlock()
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]storage.Source), nil
}
