package liveweb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/live"
)

const (
	// maxWatchers caps open status streams per node; each costs a goroutine and a few KB.
	maxWatchers = 20000
	// watcherBuffer is how many frames a slow page may fall behind before it is dropped; its
	// EventSource reconnects and starts again from the current status.
	watcherBuffer = 16
)

// watchHub fans live status out to the watch pages open on this node: one bus subscription
// (live.TopicLive) for the whole node, and a small buffered channel per page. Events make
// changes show at once; a periodic look at the live directory (which is authoritative and
// also carries viewer counts and thumbnails) sends what changed since and repairs anything a
// lost event left stale.
type watchHub struct {
	w        *Web
	interval time.Duration

	mu       sync.Mutex
	closed   bool
	count    int
	channels map[string]*watched

	cancel context.CancelFunc
	sub    bus.Subscription
	done   chan struct{}
}

// watched is one channel with open pages.
type watched struct {
	status   Status
	frame    []byte // the last frame sent, to send only changes
	watchers map[*watcher]struct{}
}

// watcher is one open status stream.
type watcher struct {
	out  chan []byte
	gone chan struct{} // closed when the hub drops the watcher (shutdown or too slow)
}

func newWatchHub(w *Web, interval time.Duration) *watchHub {
	return &watchHub{w: w, interval: interval, channels: map[string]*watched{}}
}

func (h *watchHub) start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done != nil || h.closed {
		return fmt.Errorf("liveweb: status stream started twice or after close")
	}
	var msgs <-chan bus.Message
	if h.w.opts.Bus != nil {
		sub, err := h.w.opts.Bus.Subscribe(ctx, live.TopicLive)
		if err != nil {
			return fmt.Errorf("liveweb: subscribe to %s: %w", live.TopicLive, err)
		}
		h.sub, msgs = sub, sub.C()
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.cancel, h.done = cancel, make(chan struct{})
	go h.run(runCtx, msgs)
	return nil
}

// run applies bus events and the periodic directory check until close.
func (h *watchHub) run(ctx context.Context, msgs <-chan bus.Message) {
	defer close(h.done)
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-msgs:
			if !ok {
				msgs = nil // the bus closed; keep the periodic check going
				continue
			}
			ev, err := live.DecodeEvent(msg.Data)
			if err != nil {
				continue // another version or type; the directory check catches up
			}
			h.applyEvent(ev)
		case <-tick.C:
			h.refresh()
		}
	}
}

func eventHandle(ev any) string {
	switch e := ev.(type) {
	case *live.StartedEvent:
		return e.Handle
	case *live.UpdatedEvent:
		return e.Handle
	case *live.EndedEvent:
		return e.Handle
	}
	return ""
}

func (h *watchHub) applyEvent(ev any) {
	handle := eventHandle(ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.channels[handle]
	if c == nil {
		return
	}
	if applyEvent(&c.status, ev, h.w.playlistPath(handle)) {
		if c.status.Live {
			c.status.Viewers = h.w.opts.Live.Viewers(handle)
		}
		h.sendLocked(c)
	}
}

// refresh compares every watched channel with the live directory and sends what changed.
func (h *watchHub) refresh() {
	h.mu.Lock()
	handles := make([]string, 0, len(h.channels))
	for handle := range h.channels {
		handles = append(handles, handle)
	}
	h.mu.Unlock()
	for _, handle := range handles {
		st := h.w.statusOf(handle, h.w.playlistPath(handle))
		h.mu.Lock()
		if c := h.channels[handle]; c != nil {
			// An offline directory entry carries no session; keep the newest one seen so a
			// late event of an ended broadcast is still recognised as old.
			st.session = max(st.session, c.status.session)
			st.endedUpTo = c.status.endedUpTo
			c.status = st
			h.sendLocked(c)
		}
		h.mu.Unlock()
	}
}

// sendLocked queues c's status for every page of the channel, if it changed. A page whose
// buffer is full is dropped. h.mu is held.
func (h *watchHub) sendLocked(c *watched) {
	frame := statusFrame(c.status)
	if bytes.Equal(frame, c.frame) {
		return
	}
	c.frame = frame
	for wt := range c.watchers {
		select {
		case wt.out <- frame:
		default:
			delete(c.watchers, wt)
			h.count--
			close(wt.gone)
		}
	}
}

// subscribe opens a status stream of handle whose first frame is the current status. It
// returns nil when the hub is closed or full.
func (h *watchHub) subscribe(handle string) *watcher {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.count >= maxWatchers {
		return nil
	}
	c := h.channels[handle]
	if c == nil {
		c = &watched{status: h.w.statusOf(handle, h.w.playlistPath(handle)), watchers: map[*watcher]struct{}{}}
		c.frame = statusFrame(c.status)
		h.channels[handle] = c
	}
	wt := &watcher{out: make(chan []byte, watcherBuffer), gone: make(chan struct{})}
	wt.out <- c.frame
	c.watchers[wt] = struct{}{}
	h.count++
	return wt
}

// unsubscribe ends wt's stream; the channel is forgotten with its last page.
func (h *watchHub) unsubscribe(handle string, wt *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.channels[handle]
	if c == nil {
		return
	}
	if _, ok := c.watchers[wt]; ok {
		delete(c.watchers, wt)
		h.count--
		close(wt.gone)
	}
	if len(c.watchers) == 0 {
		delete(h.channels, handle)
	}
}

// close drops every page and stops the hub; it waits for the run loop to end.
func (h *watchHub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for _, c := range h.channels {
		for wt := range c.watchers {
			close(wt.gone)
		}
	}
	h.channels, h.count = map[string]*watched{}, 0
	cancel, done, sub := h.cancel, h.done, h.sub
	h.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if sub != nil {
		sub.Close() //nolint:errcheck // idempotent, nothing to report at shutdown
	}
}

// statusFrame encodes st as one server-sent event.
func statusFrame(st Status) []byte {
	data, err := json.Marshal(st)
	if err != nil {
		// Status holds only strings, numbers, times and slices, so this does not happen; an
		// empty object makes the page keep what it shows.
		data = []byte("{}")
	}
	frame := make([]byte, 0, len(data)+24)
	frame = append(frame, "event: status\ndata: "...)
	frame = append(frame, data...)
	return append(frame, "\n\n"...)
}
