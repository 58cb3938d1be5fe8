package gencache

import (
	"strconv"
	"sync"
	"testing"
)

// TestKeepsUsedEntriesWhenFull checks the two-halves eviction: a full cache drops what was
// not used since the last turnover, never everything at once, and never holds more than its
// size.
func TestKeepsUsedEntriesWhenFull(t *testing.T) {
	t.Parallel()
	c := New[string, int](4) // halves of 2
	c.Put("a", 1, 1)
	c.Put("b", 2, 1)
	// The current half is full: a and b become the older half, c starts the current one.
	c.Put("c", 3, 1)
	// a, used again, moves back to the current half (c, a).
	if _, ok := c.Get("a", 1); !ok {
		t.Fatal("a was dropped at the first turnover")
	}
	c.Put("d", 4, 1) // current (c, a) full: it becomes the older half, b is dropped
	if _, ok := c.Get("b", 1); ok {
		t.Error("b, unused since the turnover, is still cached")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k, 1); !ok {
			t.Errorf("%s was dropped", k)
		}
	}
	for i := range 100 {
		c.Put(strconv.Itoa(i), i, 1)
		if n := c.Len(); n > 4 {
			t.Fatalf("cache of 4 holds %d entries", n)
		}
	}
	if v, ok := c.Get("99", 1); !ok || v != 99 {
		t.Errorf("newest entry = %v, %v", v, ok)
	}
}

func TestFollowsGeneration(t *testing.T) {
	t.Parallel()
	c := New[string, int](10)
	c.Put("a", 1, 5)
	if v, ok := c.Get("a", 5); !ok || v != 1 {
		t.Fatalf("Get = %v, %v", v, ok)
	}
	if _, ok := c.Get("a", 6); ok {
		t.Error("a value of generation 5 served for generation 6")
	}
	c.Put("b", 2, 4) // late writer of an older generation
	if _, ok := c.Get("b", 4); ok {
		t.Error("an older generation replaced the current one")
	}
	c.Put("b", 2, 6) // a newer generation empties the cache
	if _, ok := c.Get("a", 6); ok {
		t.Error("a value of generation 5 survived generation 6")
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d after the new generation's first value", c.Len())
	}
	var none *Cache[string, int]
	none.Put("x", 1, 1)
	if _, ok := none.Get("x", 1); ok || none.Len() != 0 {
		t.Error("a nil cache kept a value")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c := New[int, int](64)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				gen := int64(i / 500)
				c.Put(i%100, i, gen)
				if v, ok := c.Get(i%100, gen); ok && v/500 != i/500 {
					t.Errorf("goroutine %d: value %d served for generation %d", g, v, gen)
					return
				}
			}
		}()
	}
	wg.Wait()
}
