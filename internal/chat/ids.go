package chat

import (
	"sync"
	"time"
)

// Message ids are 63-bit numbers built like this, so they sort by time across nodes without
// any coordination and are unique as long as nodes have distinct node ids:
//
//	41 bits  milliseconds since idEpoch (enough until 2093)
//	10 bits  node id (0–1023)
//	12 bits  sequence within the millisecond on that node
//
// On one node ids strictly increase. Ids from different nodes interleave by their clocks, so
// a message can arrive after one with a larger id; resuming "after id X" therefore reads from
// a little before X (resumeOverlap) and clients skip ids they already have.
const (
	nodeBits = 10
	seqBits  = 12
	// MaxNodeID is the largest node id.
	MaxNodeID = 1<<nodeBits - 1
	seqMask   = 1<<seqBits - 1
)

var idEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// resumeOverlap is how far back a resume reads: more than any plausible bus delay plus clock
// difference between nodes.
const resumeOverlap = 5 * time.Second

// idGenerator hands out this node's message ids.
type idGenerator struct {
	mu     sync.Mutex
	node   int64
	lastMS int64
	seq    int64
}

func newIDGenerator(node int) *idGenerator { return &idGenerator{node: int64(node)} }

// next returns a new id for a message created at now. If the clock steps back or a
// millisecond's sequence runs out, it keeps counting on from the last millisecond used, so
// ids never repeat or decrease.
func (g *idGenerator) next(now time.Time) int64 {
	ms := now.Sub(idEpoch).Milliseconds()
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case ms > g.lastMS:
		g.lastMS, g.seq = ms, 0
	case g.seq < seqMask:
		g.seq++
	default:
		g.lastMS++
		g.seq = 0
	}
	return g.lastMS<<(nodeBits+seqBits) | g.node<<seqBits | g.seq
}

// idAt returns the smallest id any node could give a message created at t.
func idAt(t time.Time) int64 {
	ms := t.Sub(idEpoch).Milliseconds()
	if ms < 0 {
		return 0
	}
	return ms << (nodeBits + seqBits)
}

// idTime returns when the id was created, to the millisecond.
func idTime(id int64) time.Time {
	return idEpoch.Add(time.Duration(id>>(nodeBits+seqBits)) * time.Millisecond)
}
