package search

import (
	"context"
	"sync"
	"time"
)

// dfCache keeps document frequencies for a while: they move slowly, and only the relative
// weight of the terms of one query depends on them.
type dfCache struct {
	store Store
	ttl   time.Duration

	mu      sync.Mutex
	entries map[string]dfEntry
	total   int
	totalAt time.Time
}

type dfEntry struct {
	n  int
	at time.Time
}

// dfCacheMax bounds the cache; it is emptied when full (cheap to refill, rarely reached).
const dfCacheMax = 100_000

func newDFCache(s Store, ttl time.Duration) *dfCache {
	return &dfCache{store: s, ttl: ttl, entries: map[string]dfEntry{}}
}

func (c *dfCache) get(ctx context.Context, tokens []string) (map[string]int, int, error) {
	now := time.Now()
	out := make(map[string]int, len(tokens))
	var missing []string
	c.mu.Lock()
	for _, t := range tokens {
		if e, ok := c.entries[t]; ok && now.Sub(e.at) < c.ttl {
			out[t] = e.n
		} else {
			missing = append(missing, t)
		}
	}
	total, fresh := c.total, now.Sub(c.totalAt) < c.ttl
	c.mu.Unlock()
	if !fresh {
		n, err := c.store.DocCount(ctx)
		if err != nil {
			return nil, 0, err
		}
		total = n
		c.mu.Lock()
		c.total, c.totalAt = n, now
		c.mu.Unlock()
	}
	if len(missing) == 0 {
		return out, total, nil
	}
	df, err := c.store.DocFreq(ctx, missing)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	if len(c.entries)+len(missing) > dfCacheMax {
		c.entries = map[string]dfEntry{}
	}
	for _, t := range missing {
		c.entries[t] = dfEntry{n: df[t], at: now}
		out[t] = df[t]
	}
	c.mu.Unlock()
	return out, total, nil
}

// genCache holds values computed under one index generation, like a search engine's
// request cache is dropped on refresh: every search still reads the generation from the
// database, so nothing is served after a committed change, on this node or another. It
// keeps at most max entries in two halves: new entries go into the current half; a full
// current half becomes the older one (dropping the one before), and a hit in the older half
// moves the entry back. Popular entries survive a full cache, so it never empties at once —
// which at thousands of searches a second was a burst of misses every few seconds. A nil
// cache keeps nothing.
type genCache[K comparable, V any] struct {
	half int

	mu       sync.Mutex
	gen      int64
	cur, old map[K]V
}

func newGenCache[K comparable, V any](size int) *genCache[K, V] {
	half := max(1, size/2)
	return &genCache[K, V]{half: half, cur: make(map[K]V), old: make(map[K]V)}
}

func (c *genCache[K, V]) get(k K, gen int64) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return zero, false
	}
	return c.lookup(k)
}

// lookup finds k, moving it from the older half to the current one; mu is held.
func (c *genCache[K, V]) lookup(k K) (V, bool) {
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

// store adds k to the current half, turning a full current half into the older one; mu is
// held.
func (c *genCache[K, V]) store(k K, v V) {
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[K]V, c.half)
	}
	c.cur[k] = v
}

// begin prepares a put under gen: false when gen is older than the cache's (a late writer,
// whose value must not be kept); a newer gen empties the cache. mu is held.
func (c *genCache[K, V]) begin(gen int64) bool {
	if gen < c.gen {
		return false
	}
	if gen > c.gen {
		c.gen = gen
		clear(c.cur)
		clear(c.old)
	}
	return true
}

func (c *genCache[K, V]) put(k K, v V, gen int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.begin(gen) {
		c.store(k, v)
	}
}

// len reports how many entries the cache holds (for tests).
func (c *genCache[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}

// pageCache keeps ranked pages by query, section and position.
type pageCache struct {
	*genCache[string, cachedPage]
}

type cachedPage struct {
	page []rankedDoc
	next *pagePos
}

// rankedDoc is what a cached page keeps of a candidate: what building the result needs.
// Token counts would multiply the memory held.
type rankedDoc struct {
	DocID     int64
	ChannelID int64
	Viewers   int
	Score     float64
	Live      bool
}

func newPageCache(max int) *pageCache {
	return &pageCache{newGenCache[string, cachedPage](max)}
}

func (c *pageCache) get(key string, gen int64) ([]Candidate, *pagePos, bool) {
	if c == nil {
		return nil, nil, false
	}
	e, ok := c.genCache.get(key, gen)
	if !ok {
		return nil, nil, false
	}
	page := make([]Candidate, len(e.page))
	for i, d := range e.page {
		page[i] = Candidate{DocID: d.DocID, ChannelID: d.ChannelID, Live: d.Live, Viewers: d.Viewers, Score: d.Score}
	}
	return page, e.next, true
}

func (c *pageCache) put(key string, gen int64, page []Candidate, next *pagePos) {
	if c == nil {
		return
	}
	kept := make([]rankedDoc, len(page))
	for i, p := range page {
		kept[i] = rankedDoc{DocID: p.DocID, ChannelID: p.ChannelID, Live: p.Live, Viewers: p.Viewers, Score: p.Score}
	}
	c.genCache.put(key, cachedPage{page: kept, next: next}, gen)
}

// cardCache keeps result cards by document ID (the generation covers everything a card
// shows: see Store.Generation), so a popular document is read once per generation instead
// of once per search.
type cardCache struct {
	*genCache[int64, Hit]
}

func newCardCache(max int) *cardCache {
	return &cardCache{newGenCache[int64, Hit](max)}
}

// get returns the cards of ids known under gen, and the IDs it lacks.
func (c *cardCache) get(ids []int64, gen int64) (map[int64]Hit, []int64) {
	out := make(map[int64]Hit, len(ids))
	if c == nil {
		return out, ids
	}
	var missing []int64
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return out, ids
	}
	for _, id := range ids {
		if h, ok := c.lookup(id); ok {
			out[id] = h
		} else {
			missing = append(missing, id)
		}
	}
	return out, missing
}

func (c *cardCache) put(cards map[int64]Hit, gen int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.begin(gen) {
		return
	}
	for id, h := range cards {
		c.store(id, h)
	}
}
