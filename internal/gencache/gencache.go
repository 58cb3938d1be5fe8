// Package gencache keeps values computed under one generation of the data they come from
// (the search index generation), the way a search engine's request cache is dropped on
// refresh: a value is served only to a reader that presents the generation it was stored
// under, and a newer generation empties the cache.
//
// A cache holds at most its size in two halves. New entries go into the current half; a
// full current half becomes the older one (dropping the one before), and a hit in the older
// half moves the entry back. Entries in use survive a full cache, which never empties at
// once — at thousands of reads a second, emptying it was a burst of misses every few
// seconds. A nil *Cache keeps nothing.
package gencache

import "sync"

// Cache maps keys to values under a generation. It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	half int

	mu       sync.Mutex
	gen      int64
	cur, old map[K]V
}

// New returns a cache of at most size entries (at least 2).
func New[K comparable, V any](size int) *Cache[K, V] {
	half := max(1, size/2)
	return &Cache[K, V]{half: half, cur: make(map[K]V), old: make(map[K]V)}
}

// Get returns the value of k stored under gen.
func (c *Cache[K, V]) Get(k K, gen int64) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return zero, false
	}
	if v, ok := c.cur[k]; ok {
		return v, true
	}
	v, ok := c.old[k]
	if ok {
		delete(c.old, k)
		c.store(k, v)
	}
	return v, ok
}

// Put stores v for k under gen. A value of an older generation than the cache's is
// dropped (it was computed before a change the cache has already seen); a newer
// generation empties the cache first.
func (c *Cache[K, V]) Put(k K, v V, gen int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.gen {
		return
	}
	if gen > c.gen {
		c.gen = gen
		clear(c.cur)
		clear(c.old)
	}
	c.store(k, v)
}

// store adds k to the current half, turning a full current half into the older one; mu
// is held.
func (c *Cache[K, V]) store(k K, v V) {
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[K]V, c.half)
	}
	c.cur[k] = v
}

// Len reports how many entries the cache holds.
func (c *Cache[K, V]) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
