package hls

import (
	"slices"
	"sync"
	"time"
)

// monoBase anchors monotonic timestamps kept in atomics.
var monoBase = time.Now()

func mono(t time.Time) int64 { return int64(t.Sub(monoBase)) }

// LatencySummary summarises recent samples of one measurement.
type LatencySummary struct {
	Count              int // samples recorded since start
	P50, P90, P99, Max time.Duration
}

// ListingLatency is the server's own share of live latency: from the arrival (read from the
// publisher's connection) of the frame that completed a part or segment to the moment a blocking
// playlist request waiting for it had its reply written and flushed. The ~33 ms until the
// following frame closes the object, the encoder and the network are not included.
type ListingLatency struct {
	Parts, Segments LatencySummary
}

const latencyWindow = 4096

// latencyRecorder keeps the most recent samples of each kind in a ring.
type latencyRecorder struct {
	mu       sync.Mutex
	parts    latencyRing
	segments latencyRing
}

type latencyRing struct {
	samples [latencyWindow]time.Duration
	count   int
}

func (r *latencyRing) add(d time.Duration) {
	r.samples[r.count%latencyWindow] = d
	r.count++
}

func (r *latencyRing) summary() LatencySummary {
	n := min(r.count, latencyWindow)
	s := LatencySummary{Count: r.count}
	if n == 0 {
		return s
	}
	sorted := slices.Clone(r.samples[:n])
	slices.Sort(sorted)
	at := func(q float64) time.Duration { return sorted[min(n-1, int(q*float64(n)))] }
	s.P50, s.P90, s.P99, s.Max = at(0.50), at(0.90), at(0.99), sorted[n-1]
	return s
}

func (l *latencyRecorder) record(segment bool, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if segment {
		l.segments.add(d)
	} else {
		l.parts.add(d)
	}
}

func (l *latencyRecorder) snapshot() ListingLatency {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ListingLatency{Parts: l.parts.summary(), Segments: l.segments.summary()}
}
