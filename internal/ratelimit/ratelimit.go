// Package ratelimit keeps one token bucket per key (an IP address, a user id, an e-mail
// address) so that log-in, sign-up and similar endpoints can refuse floods from one source
// without slowing everyone else. Buckets idle longer than the configured TTL are evicted by a
// janitor goroutine that Close stops. It imports nothing from the project and no HTTP.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a set of keyed token buckets. It is safe for concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	idleTTL time.Duration
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	started  bool
	// onEvict, when set before start, hears how many keys each janitor pass removed.
	onEvict func(n int)
}

type bucket struct {
	lim      *rate.Limiter
	lastSeen time.Time
}

// New returns a Limiter allowing perSecond events per second per key with bursts of burst,
// forgetting keys unused for idleTTL (at least a second). It starts a janitor goroutine; call
// Close when done.
func New(perSecond float64, burst int, idleTTL time.Duration) *Limiter {
	l := newLimiter(perSecond, burst, idleTTL, time.Now)
	l.start()
	return l
}

func newLimiter(perSecond float64, burst int, idleTTL time.Duration, now func() time.Time) *Limiter {
	l := &Limiter{
		limit:   rate.Limit(perSecond),
		burst:   max(1, burst),
		idleTTL: max(idleTTL, time.Second),
		now:     now,
		buckets: make(map[string]*bucket),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	return l
}

func (l *Limiter) start() {
	l.started = true
	go l.janitor()
}

// Allow reports whether one event for key may happen now, taking a token if so.
func (l *Limiter) Allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.lastSeen = now
	l.mu.Unlock()
	return b.lim.AllowN(now, 1)
}

// janitor evicts idle buckets every half TTL until Close.
func (l *Limiter) janitor() {
	defer close(l.done)
	t := time.NewTicker(l.idleTTL / 2)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			n := l.evict(l.now())
			if l.onEvict != nil {
				l.onEvict(n)
			}
		}
	}
}

// evict forgets buckets not used since now-idleTTL. Forgetting is safe once the TTL is at least
// the time a bucket takes to refill: a returning key gets a full bucket, as it would have had.
func (l *Limiter) evict(now time.Time) int {
	cutoff := now.Add(-l.idleTTL)
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, b := range l.buckets {
		if b.lastSeen.Before(cutoff) {
			delete(l.buckets, k)
			n++
		}
	}
	return n
}

// Len is the number of keys currently tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Close stops the janitor and waits for it to exit. It may be called more than once.
func (l *Limiter) Close() {
	l.stopOnce.Do(func() { close(l.stop) })
	if l.started {
		<-l.done
	}
}
