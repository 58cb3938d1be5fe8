package live

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Viewer counting runs on every media playlist request (tens of thousands a second), so it
// is built to be cheap: the handle → set map is an immutable snapshot behind an atomic
// pointer (read without a lock, replaced when a channel goes live or ends), each set is split
// into shards with their own lock, and a request from a viewing session already known only
// overwrites its expiry in place (no allocation).

const (
	viewerShardCount = 16
	// MaxViewerIDLen bounds the ?vs= viewing session id; longer or oddly shaped ids are
	// ignored so nobody can fill memory with huge keys.
	MaxViewerIDLen = 64
	// maxViewersPerChannel bounds memory per channel against someone inventing ids.
	maxViewersPerChannel = 500_000
)

type viewerShard struct {
	mu sync.Mutex
	// seen maps a viewing session id to the unix-nano time it expires.
	seen map[string]int64
	_    [40]byte // keeps neighbouring shards' locks off one cache line
}

// viewerSet counts the viewing sessions of one channel on this node.
type viewerSet struct {
	shards [viewerShardCount]viewerShard
	count  atomic.Int64
}

func newViewerSet() *viewerSet {
	vs := &viewerSet{}
	for i := range vs.shards {
		vs.shards[i].seen = make(map[string]int64)
	}
	return vs
}

// viewerCounter maps channel handles to their sets. Hits for handles that are not live are
// ignored.
type viewerCounter struct {
	seed maphash.Seed
	ttl  time.Duration
	mu   sync.Mutex // serialises writers of sets
	sets atomic.Pointer[map[string]*viewerSet]
}

func newViewerCounter(ttl time.Duration) *viewerCounter {
	vc := &viewerCounter{seed: maphash.MakeSeed(), ttl: ttl}
	empty := map[string]*viewerSet{}
	vc.sets.Store(&empty)
	return vc
}

// track starts counting handle (idempotent).
func (vc *viewerCounter) track(handle string) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	old := *vc.sets.Load()
	if _, ok := old[handle]; ok {
		return
	}
	next := make(map[string]*viewerSet, len(old)+1)
	for h, s := range old {
		next[h] = s
	}
	next[handle] = newViewerSet()
	vc.sets.Store(&next)
}

// untrack stops counting handle and forgets its viewers.
func (vc *viewerCounter) untrack(handle string) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	old := *vc.sets.Load()
	if _, ok := old[handle]; !ok {
		return
	}
	next := make(map[string]*viewerSet, len(old))
	for h, s := range old {
		if h != handle {
			next[h] = s
		}
	}
	vc.sets.Store(&next)
}

// hit records a playlist request of viewing session id for handle at now.
func (vc *viewerCounter) hit(handle, id string, now time.Time) {
	if !validViewerID(id) {
		return
	}
	set := (*vc.sets.Load())[handle]
	if set == nil {
		return
	}
	expires := now.Add(vc.ttl).UnixNano()
	sh := &set.shards[maphash.String(vc.seed, id)%viewerShardCount]
	sh.mu.Lock()
	if _, known := sh.seen[id]; known {
		sh.seen[id] = expires
		sh.mu.Unlock()
		return
	}
	if set.count.Load() >= maxViewersPerChannel {
		sh.mu.Unlock()
		return
	}
	// The id usually points into a request's buffer; a copy keeps that buffer collectable.
	sh.seen[strings.Clone(id)] = expires
	sh.mu.Unlock()
	set.count.Add(1)
}

// count returns the viewing sessions of handle that were alive at the last sweep or joined
// since.
func (vc *viewerCounter) count(handle string) int {
	set := (*vc.sets.Load())[handle]
	if set == nil {
		return 0
	}
	return int(set.count.Load())
}

// sweep forgets viewing sessions whose last request is older than the TTL and returns the
// remaining count per handle.
func (vc *viewerCounter) sweep(now time.Time) map[string]int {
	cutoff := now.UnixNano()
	sets := *vc.sets.Load()
	counts := make(map[string]int, len(sets))
	for handle, set := range sets {
		for i := range set.shards {
			sh := &set.shards[i]
			gone := 0
			sh.mu.Lock()
			for id, expires := range sh.seen {
				if expires <= cutoff {
					delete(sh.seen, id)
					gone++
				}
			}
			sh.mu.Unlock()
			if gone > 0 {
				set.count.Add(int64(-gone))
			}
		}
		counts[handle] = int(set.count.Load())
	}
	return counts
}

// validViewerID accepts 1–MaxViewerIDLen characters of [A-Za-z0-9_-] (what a player puts
// in ?vs=: a random token).
func validViewerID(id string) bool {
	if len(id) == 0 || len(id) > MaxViewerIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
