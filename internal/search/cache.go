package search

import (
	"context"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/gencache"
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

// pageCache keeps ranked pages by query, section and position under the index generation.
type pageCache struct {
	c *gencache.Cache[string, cachedPage]
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
	return &pageCache{gencache.New[string, cachedPage](max)}
}

func (c *pageCache) get(key string, gen int64) ([]Candidate, *pagePos, bool) {
	if c == nil {
		return nil, nil, false
	}
	e, ok := c.c.Get(key, gen)
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
	c.c.Put(key, cachedPage{page: kept, next: next}, gen)
}

// cardCache keeps result cards by document ID under the index generation (it covers
// everything a card shows: see Store.Generation), so a popular document is read once per
// generation instead of once per search.
type cardCache struct {
	c *gencache.Cache[int64, Hit]
}

func newCardCache(max int) *cardCache {
	return &cardCache{gencache.New[int64, Hit](max)}
}

// get returns the cards of ids known under gen, and the IDs it lacks.
func (c *cardCache) get(ids []int64, gen int64) (map[int64]Hit, []int64) {
	out := make(map[int64]Hit, len(ids))
	if c == nil {
		return out, ids
	}
	var missing []int64
	for _, id := range ids {
		if h, ok := c.c.Get(id, gen); ok {
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
	for id, h := range cards {
		c.c.Put(id, h, gen)
	}
}
