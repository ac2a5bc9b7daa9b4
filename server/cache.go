package server

import (
	"container/list"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"
)

// renderCache keeps rendered entities, least recently used first out, bounded
// by bytes. Concurrent misses of one key render once (singleflight).
type renderCache struct {
	mu      sync.Mutex
	max     int64
	used    int64
	order   *list.List // front: most recent
	entries map[cacheKey]*list.Element
	group   singleflight.Group

	hits, misses int64
}

type cacheItem struct {
	key cacheKey
	e   *entity
}

// cacheKey names one rendered response. It is a comparable struct, not a
// string, so that a cache hit builds no key.
type cacheKey struct {
	gen       uint64 // the config generation the render used
	version   int64  // the store's version the render saw
	kind      string
	name      string
	ext       string
	limit     int
	before, q string
}

// String is the key for singleflight, built only on a miss.
func (k cacheKey) String() string {
	return strconv.FormatUint(k.gen, 10) + "|" + strconv.FormatInt(k.version, 10) + "|" + k.kind + "|" + k.name + "|" + k.ext + "|" +
		strconv.Itoa(k.limit) + "|" + k.before + "|" + k.q
}

func newRenderCache(max int64) *renderCache {
	if max <= 0 {
		max = 64 << 20
	}
	return &renderCache{max: max, order: list.New(), entries: map[cacheKey]*list.Element{}}
}

// reset drops every entry; a positive max also changes the bound.
func (c *renderCache) reset(max int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if max > 0 {
		c.max = max
	}
	c.order.Init()
	c.entries = map[cacheKey]*list.Element{}
	c.used = 0
}

// get looks key up and counts a hit or a miss.
func (c *renderCache) get(key cacheKey) (*entity, bool) {
	e, ok := c.lookup(key)
	if !ok {
		c.mu.Lock()
		c.misses++
		c.mu.Unlock()
	}
	return e, ok
}

// lookup is get for the fast path: a hit counts, a miss does not (the
// request goes on to the net/http path, whose get counts it).
func (c *renderCache) lookup(key cacheKey) (*entity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.hits++
	c.order.MoveToFront(el)
	return el.Value.(*cacheItem).e, true
}

func (c *renderCache) put(key cacheKey, e *entity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.size() > c.max/4 {
		return // one huge page must not flush everything else
	}
	e.cached = true // before any reader of the cache can see e
	if el, ok := c.entries[key]; ok {
		c.used -= el.Value.(*cacheItem).e.size()
		c.order.Remove(el)
	}
	c.entries[key] = c.order.PushFront(&cacheItem{key: key, e: e})
	c.used += e.size()
	for c.used > c.max {
		last := c.order.Back()
		it := last.Value.(*cacheItem)
		c.order.Remove(last)
		delete(c.entries, it.key)
		c.used -= it.e.size()
	}
}

// stats returns hits, misses and bytes in use.
func (c *renderCache) stats() (hits, misses, used int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, c.used
}

// getOrRender returns the cached entity for key or renders it once, however
// many callers ask at the same time.
func (c *renderCache) getOrRender(key cacheKey, render func() (*entity, error)) (*entity, bool, error) {
	if e, ok := c.get(key); ok {
		return e, true, nil
	}
	v, err, _ := c.group.Do(key.String(), func() (any, error) {
		// A render that finished between the miss and Do: no second miss.
		if e, ok := c.lookup(key); ok {
			return e, nil
		}
		e, err := render()
		if err != nil {
			return nil, err
		}
		c.put(key, e)
		return e, nil
	})
	if err != nil {
		return nil, false, err
	}
	return v.(*entity), false, nil
}
