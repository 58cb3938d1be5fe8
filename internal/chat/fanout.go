package chat

import (
	"sync"
	"sync/atomic"
	"time"
)

// fanout is a room's outgoing event log: a ring of encoded events every connection reads
// at its own pace through a cursor. An event is encoded once and appended once, however many
// connections read it; a connection that falls more than the ring's size behind has lost
// events and must reconnect and resume (see Conn.NextFrame).
//
// Readers are woken through a channel closed on signal, and read only what a signal has
// published. The room's coalescing loop signals at most once per interval, so under load
// each connection wakes once per interval and writes everything that arrived meanwhile as
// one frame — the same frame, encoded once, for every connection that was up to date.
type fanout struct {
	mu   sync.RWMutex
	ring [][]byte
	mask uint64
	head uint64 // sequence number of the next event
	pub  uint64 // events before pub have been signalled: readers read up to here
	// round counts signals; a reader marks the round it caught up in (see caught).
	round uint64
	wake  chan struct{}

	notify  chan struct{} // buffered(1): tells the coalescing loop there is something new
	readers atomic.Int64  // connections reading this log, for the coalescing interval
	caught  atomic.Int64  // readers that have caught up with the current round

	// batch is the frame of the events the last signal published. Every connection that
	// was up to date sends these same bytes, so an interval's events are encoded once
	// however many connections read them. lagged is the last frame built for any other
	// range (a connection that fell behind, or joined between two signals); connections
	// that fell behind together share it.
	batch   atomic.Pointer[sharedFrame]
	lagged  atomic.Pointer[sharedFrame]
	buildMu sync.Mutex
}

type sharedFrame struct {
	from, to uint64
	data     []byte // never modified once stored
}

func (sf *sharedFrame) covers(from, to uint64) bool {
	return sf != nil && sf.from == from && sf.to == to
}

func newFanout(size int) *fanout {
	n := 1
	for n < size {
		n <<= 1
	}
	return &fanout{ring: make([][]byte, n), mask: uint64(n - 1), round: 1, wake: make(chan struct{}), notify: make(chan struct{}, 1)}
}

// append adds an event. The caller holds the room lock, so events enter in room order.
// Readers see it after the next signal.
func (f *fanout) append(ev []byte) {
	f.mu.Lock()
	f.ring[f.head&f.mask] = ev
	f.head++
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// position returns the sequence number the next event will get: a new reader's cursor.
func (f *fanout) position() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.head
}

// read appends to dst the published events from cursor on, at most max of them. It returns
// the new cursor, the channel that will be closed when more events are signalled, and
// overrun = true if events the reader had not read yet were overwritten.
func (f *fanout) read(cursor uint64, max int, dst [][]byte) (_ [][]byte, next uint64, wake <-chan struct{}, overrun bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.head-cursor > uint64(len(f.ring)) {
		return dst, cursor, f.wake, true
	}
	for cursor < f.pub && max > 0 {
		dst = append(dst, f.ring[cursor&f.mask])
		cursor++
		max--
	}
	return dst, cursor, f.wake, false
}

// frame returns the published events from cursor on (at most max) as one encoded frame,
// shared with every other reader at the same position, and the cursor after them. data is
// nil when there is nothing new; wake and overrun are as for read. caughtRound is the
// reader's own record of the last round it caught up in.
func (f *fanout) frame(cursor uint64, max int, caughtRound *uint64) (data []byte, next uint64, wake <-chan struct{}, overrun bool) {
	f.mu.RLock()
	head, pub, round, wake := f.head, f.pub, f.round, f.wake
	f.mu.RUnlock()
	if head-cursor > uint64(len(f.ring)) {
		return nil, cursor, wake, true
	}
	to := min(pub, cursor+uint64(max))
	if to >= pub && *caughtRound != round {
		*caughtRound = round
		f.caught.Add(1)
	}
	if pub <= cursor {
		return nil, cursor, wake, false
	}
	if sf := f.batch.Load(); sf.covers(cursor, to) {
		return sf.data, to, wake, false
	}
	if sf := f.lagged.Load(); sf.covers(cursor, to) {
		return sf.data, to, wake, false
	}
	f.buildMu.Lock()
	defer f.buildMu.Unlock()
	if sf := f.lagged.Load(); sf.covers(cursor, to) {
		return sf.data, to, wake, false
	}
	sf, overran := f.build(cursor, to)
	if overran {
		return nil, cursor, wake, true
	}
	f.lagged.Store(sf)
	return sf.data, sf.to, wake, false
}

// roundDone reports whether nearly every reader has taken what the last signal published.
// A few stuck readers (a peer that stopped reading) do not hold the room back.
func (f *fanout) roundDone() bool {
	readers := f.readers.Load()
	return readers-f.caught.Load() <= readers/64
}

// build encodes the events [from, to) as one frame; overrun reports that some of them have
// already been overwritten.
func (f *fanout) build(from, to uint64) (_ *sharedFrame, overrun bool) {
	f.mu.RLock()
	if f.head-from > uint64(len(f.ring)) {
		f.mu.RUnlock()
		return nil, true
	}
	size := 2 + int(to-from) // brackets and commas
	for i := from; i < to; i++ {
		size += len(f.ring[i&f.mask])
	}
	data := make([]byte, 0, size)
	data = append(data, '[')
	for i := from; i < to; i++ {
		if i > from {
			data = append(data, ',')
		}
		data = append(data, f.ring[i&f.mask]...)
	}
	f.mu.RUnlock()
	return &sharedFrame{from: from, to: to, data: append(data, ']')}, false
}

// signal publishes every event appended so far, encoding them once as the batch frame
// (unless they are too many for one frame: then readers build theirs), and wakes every
// waiting reader.
func (f *fanout) signal() {
	f.mu.RLock()
	from, to := f.pub, f.head
	f.mu.RUnlock()
	var batch *sharedFrame
	if to > from && to-from <= maxEventsPerFrame {
		batch, _ = f.build(from, to)
	}
	f.mu.Lock()
	if batch != nil {
		f.batch.Store(batch)
	}
	f.pub = max(f.pub, to)
	f.round++
	f.caught.Store(0)
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

// coalesce runs until done is closed, turning appends into signals: the first event after a
// quiet spell is signalled at once (no added latency in a calm room), later ones at most once
// per interval (one wake-up and one frame per connection per interval in a busy room). The
// interval grows with the room so that wake-ups stay within wakeBudget per second:
// max(floor, readers/wakeBudget) — 20 ms for a few hundred readers, 100 ms for 10,000.
//
// Signals are also self-clocked: the next one waits (at most maxHold) until nearly every
// reader has written the previous round. When the machine cannot write a whole round in an
// interval, rounds stretch to what it can do and every connection still gets one shared
// frame per round, instead of the first readers of a round writing extra frames that the
// rest then have to catch up with one by one.
func (f *fanout) coalesce(done <-chan struct{}, floor time.Duration, wakeBudget int) {
	var last time.Time
	timer := time.NewTimer(0)
	if !timer.Stop() {
		<-timer.C
	}
	pending := false
	for {
		select {
		case <-done:
			timer.Stop()
			f.signal() // let readers see the end promptly
			return
		case <-f.notify:
			if pending {
				continue
			}
			interval := max(floor, time.Duration(f.readers.Load())*time.Second/time.Duration(wakeBudget))
			wait := interval - time.Since(last)
			if wait <= 0 && !f.roundDone() {
				wait = holdStep
			}
			if wait > 0 {
				pending = true
				timer.Reset(wait)
				continue
			}
			f.signal()
			last = time.Now()
		case <-timer.C:
			if !f.roundDone() && time.Since(last) < maxHold {
				timer.Reset(holdStep)
				continue
			}
			pending = false
			f.signal()
			last = time.Now()
		}
	}
}

const (
	// holdStep is how often a held signal checks whether the round is done.
	holdStep = 2 * time.Millisecond
	// maxHold bounds how long a round may stretch while readers finish the previous one.
	maxHold = 500 * time.Millisecond
)
