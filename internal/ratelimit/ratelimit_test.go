package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a manual time source so tests do not depend on the wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestBurstThenRefill(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := newLimiter(1, 3, time.Minute, c.now) // 1 per second, burst 3
	for i := 0; i < 3; i++ {
		if !l.Allow("1.2.3.4") {
			t.Fatalf("event %d within burst refused", i+1)
		}
	}
	if l.Allow("1.2.3.4") {
		t.Fatal("fourth event in the same instant allowed")
	}
	if !l.Allow("5.6.7.8") {
		t.Fatal("another key is limited by the first key's events")
	}
	c.advance(999 * time.Millisecond)
	if l.Allow("1.2.3.4") {
		t.Fatal("token came back before a second passed")
	}
	c.advance(time.Millisecond)
	if !l.Allow("1.2.3.4") {
		t.Fatal("token did not come back after a second")
	}
	if l.Allow("1.2.3.4") {
		t.Fatal("two tokens came back after one second")
	}
}

func TestEvictIdleKeys(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := newLimiter(1, 1, 10*time.Second, c.now)
	l.Allow("old")
	c.advance(6 * time.Second)
	l.Allow("recent")
	c.advance(5 * time.Second) // "old" idle 11 s, "recent" 5 s
	if n := l.evict(c.now()); n != 1 {
		t.Fatalf("evicted %d keys, want 1", n)
	}
	if l.Len() != 1 {
		t.Fatalf("%d keys left, want 1", l.Len())
	}
	// The forgotten key starts again with a full bucket.
	if !l.Allow("old") {
		t.Fatal("evicted key refused")
	}
}

func TestJanitorEvictsAndCloseStopsIt(t *testing.T) {
	t.Parallel()
	l := newLimiter(100, 1, time.Second, time.Now) // janitor passes every 500 ms
	evicted := make(chan int, 16)
	l.onEvict = func(n int) { evicted <- n }
	l.start()
	l.Allow("a")
	timeout := time.After(10 * time.Second)
	for total := 0; total == 0; {
		select {
		case n := <-evicted:
			total += n
		case <-timeout:
			t.Fatal("janitor did not evict an idle key within 10 s")
		}
	}
	if l.Len() != 0 {
		t.Fatalf("%d keys left after eviction", l.Len())
	}
	l.Close()
	l.Close() // idempotent
	select {
	case <-l.done:
	default:
		t.Fatal("janitor still running after Close")
	}
}

func TestConcurrentAllowCountsExactly(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := newLimiter(0.001, 50, time.Minute, c.now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if l.Allow("shared") {
					allowed.Add(1)
				}
				l.Allow(fmt.Sprintf("own-%d-%d", g, i))
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Fatalf("%d events allowed, want exactly the burst of 50", got)
	}
	if l.Len() != 801 {
		t.Fatalf("%d keys, want 801", l.Len())
	}
}
