package chat

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/freelylive/freely/internal/chat/protocol"
)

// fanout is a room's outgoing event log: a ring of encoded events every connection reads
// at its own pace through a cursor. An event is encoded once and appended once, however many
// connections read it; a connection that falls more than the ring's size behind has lost
// events and must reconnect and resume (see Conn.NextFrame).
//
// Readers are woken through a channel closed on signal. The room's coalescing loop signals
// at most once per interval, so under load each connection wakes once per interval and
// writes everything that arrived meanwhile as one frame.
type fanout struct {
	mu   sync.RWMutex
	ring [][]byte
	mask uint64
	head uint64 // sequence number of the next event
	wake chan struct{}

	notify  chan struct{} // buffered(1): tells the coalescing loop there is something new
	readers atomic.Int64  // connections reading this log, for the coalescing interval

	// shared is the last frame built from the log. Connections that are up to date all read
	// the same range at each wake-up, so one of them encodes the frame and the others send
	// the same bytes.
	shared  atomic.Pointer[sharedFrame]
	buildMu sync.Mutex
}

type sharedFrame struct {
	from, to uint64
	data     []byte // never modified once stored
}

func newFanout(size int) *fanout {
	n := 1
	for n < size {
		n <<= 1
	}
	return &fanout{ring: make([][]byte, n), mask: uint64(n - 1), wake: make(chan struct{}), notify: make(chan struct{}, 1)}
}

// append adds an event. The caller holds the room lock, so events enter in room order.
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

// read appends to dst the events from cursor on, at most max of them. It returns the new
// cursor, the channel that will be closed when more events are signalled, and overrun = true
// if events the reader had not read yet were overwritten.
func (f *fanout) read(cursor uint64, max int, dst [][]byte) (_ [][]byte, next uint64, wake <-chan struct{}, overrun bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.head-cursor > uint64(len(f.ring)) {
		return dst, cursor, f.wake, true
	}
	for cursor < f.head && max > 0 {
		dst = append(dst, f.ring[cursor&f.mask])
		cursor++
		max--
	}
	return dst, cursor, f.wake, false
}

// frame returns the events from cursor on (at most max) as one encoded frame, shared with
// every other reader at the same position, and the cursor after them. data is nil when
// there is nothing new; wake and overrun are as for read.
func (f *fanout) frame(cursor uint64, max int) (data []byte, next uint64, wake <-chan struct{}, overrun bool) {
	f.mu.RLock()
	head, wake := f.head, f.wake
	f.mu.RUnlock()
	if head-cursor > uint64(len(f.ring)) {
		return nil, cursor, wake, true
	}
	if head == cursor {
		return nil, cursor, wake, false
	}
	to := min(head, cursor+uint64(max))
	if sf := f.shared.Load(); sf != nil && sf.from == cursor && sf.to == to {
		return sf.data, to, wake, false
	}
	f.buildMu.Lock()
	defer f.buildMu.Unlock()
	if sf := f.shared.Load(); sf != nil && sf.from == cursor && sf.to == to {
		return sf.data, to, wake, false
	}
	events := make([][]byte, 0, to-cursor)
	var overran bool
	events, next, _, overran = f.read(cursor, int(to-cursor), events)
	if overran {
		return nil, cursor, wake, true
	}
	sf := &sharedFrame{from: cursor, to: next, data: protocol.AppendFrame(nil, events...)}
	f.shared.Store(sf)
	return sf.data, next, wake, false
}

// signal wakes every waiting reader.
func (f *fanout) signal() {
	f.mu.Lock()
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

// coalesce runs until done is closed, turning appends into signals: the first event after a
// quiet spell is signalled at once (no added latency in a calm room), later ones at most once
// per interval (one wake-up and one frame per connection per interval in a busy room). The
// interval grows with the room so that wake-ups stay within wakeBudget per second:
// max(floor, readers/wakeBudget) — 20 ms for a few hundred readers, 100 ms for 10,000.
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
			if wait := interval - time.Since(last); wait > 0 {
				pending = true
				timer.Reset(wait)
				continue
			}
			f.signal()
			last = time.Now()
		case <-timer.C:
			pending = false
			f.signal()
			last = time.Now()
		}
	}
}
