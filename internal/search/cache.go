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

// pageCache keeps ranked pages for reuse while the index generation stays the same, like a
// search engine's request cache is dropped on refresh. Every lookup still reads the
// generation from the database, so a page is never served after a committed change, on
// this node or another (cards are kept the same way, by cardCache). A full cache is emptied
// rather than evicted entry by entry: it refills from the popular queries within seconds.
type pageCache struct {
	max int

	mu      sync.Mutex
	gen     int64
	entries map[string]cachedPage
}

type cachedPage struct {
	page []Candidate
	next *pagePos
}

func newPageCache(max int) *pageCache {
	return &pageCache{max: max, entries: map[string]cachedPage{}}
}

func (c *pageCache) get(key string, gen int64) ([]Candidate, *pagePos, bool) {
	if c == nil {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil, nil, false
	}
	e, ok := c.entries[key]
	return e.page, e.next, ok
}

func (c *pageCache) put(key string, gen int64, page []Candidate, next *pagePos) {
	if c == nil {
		return
	}
	// Only what building the result needs: tokens would multiply the memory held.
	kept := make([]Candidate, len(page))
	for i, p := range page {
		kept[i] = Candidate{DocID: p.DocID, ChannelID: p.ChannelID, Live: p.Live, Viewers: p.Viewers, Score: p.Score}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.gen {
		return // computed under a generation already replaced
	}
	if gen > c.gen || len(c.entries) >= c.max {
		c.entries = map[string]cachedPage{}
		c.gen = gen
	}
	c.entries[key] = cachedPage{page: kept, next: next}
}

// cardCache keeps result cards for reuse while the index generation stays the same (it
// covers everything a card shows: see Store.Generation), so a popular document is read once
// per generation instead of once per search. Like pageCache it is emptied when full.
type cardCache struct {
	max int

	mu    sync.Mutex
	gen   int64
	cards map[int64]Hit
}

func newCardCache(max int) *cardCache {
	return &cardCache{max: max, cards: map[int64]Hit{}}
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
	for _, id := range ids {
		if h, ok := c.cards[id]; ok && c.gen == gen {
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
	if gen < c.gen {
		return
	}
	if gen > c.gen || len(c.cards)+len(cards) > c.max {
		c.cards = map[int64]Hit{}
		c.gen = gen
	}
	for id, h := range cards {
		c.cards[id] = h
	}
}
