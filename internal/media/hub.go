package media

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by the hub.
var (
	// ErrPublisherActive refuses a second publisher on a channel that already has one.
	ErrPublisherActive = errors.New("media: a publisher is already active on this channel")
	// ErrPublisherClosed is returned by Publisher.Start after Close, or after EndSession evicted it.
	ErrPublisherClosed = errors.New("media: publisher closed")
)

// Consumer is an output that follows every channel the hub carries (the HLS server, later a
// recorder). The hub calls it while holding its lock, so implementations must return quickly
// and must not call back into the Hub; attaching a Reader (Ingest.NewReader) is allowed.
type Consumer interface {
	// IngestStarted announces a publisher's tracks, before the first unit is written. A
	// consumer that wants the media attaches a Reader now. in.Resumed tells whether the
	// channel's session was already open (a reconnect within the grace period, or a codec
	// change mid-stream); outputs continue the same stream with a discontinuity.
	IngestStarted(in *Ingest)
	// SessionEnded says the channel's live session is over: release everything kept for it.
	SessionEnded(handle string)
}

// HubOptions configures a Hub.
type HubOptions struct {
	// ReaderBuffer is the default capacity, in units, of a reader's buffer. Default 1024
	// (about 10 s of 30 fps video with AAC audio).
	ReaderBuffer int
	// Logger receives the hub's events. Default slog.Default().
	Logger *slog.Logger
}

// Hub carries live media per channel handle from its single publisher to its readers. It is
// safe for concurrent use.
type Hub struct {
	readerBuffer int
	log          *slog.Logger

	mu        sync.Mutex
	consumers []Consumer
	channels  map[string]*channelState
}

type channelState struct {
	publisher   *Publisher
	ingest      *Ingest // current or most recent
	sessionOpen bool
}

// NewHub returns an empty hub.
func NewHub(opts HubOptions) *Hub {
	if opts.ReaderBuffer <= 0 {
		opts.ReaderBuffer = 1024
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Hub{
		readerBuffer: opts.ReaderBuffer,
		log:          opts.Logger,
		channels:     make(map[string]*channelState),
	}
}

// AddConsumer registers an output. Register consumers before publishers arrive: a consumer
// added later sees only ingests that start after it.
func (h *Hub) AddConsumer(c Consumer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.consumers = append(h.consumers, c)
}

// Claim reserves a channel for one publisher before any of its media is accepted. It returns
// ErrPublisherActive while another publisher holds the channel, so two publishers are never
// mixed. The caller must Close the returned Publisher when the publisher goes away.
func (h *Hub) Claim(handle string) (*Publisher, error) {
	if handle == "" {
		return nil, fmt.Errorf("media: claim: empty channel handle")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.channels[handle]
	if st == nil {
		st = &channelState{}
		h.channels[handle] = st
	}
	if st.publisher != nil {
		return nil, fmt.Errorf("claim channel %q: %w", handle, ErrPublisherActive)
	}
	p := &Publisher{hub: h, handle: handle, done: make(chan struct{})}
	st.publisher = p
	return p, nil
}

// EndSession ends a channel's live session: the live service calls it when the grace period
// after a publisher left has passed, or to stop a broadcast (e.g. a suspended channel). An active
// publisher is evicted (its Done channel closes and its further writes are dropped) and every
// consumer releases the channel. It is idempotent.
func (h *Hub) EndSession(handle string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.channels[handle]; st != nil {
		if p := st.publisher; p != nil {
			p.stopLocked()
			h.log.Info("media: session ended with a publisher still connected; evicting it",
				"channel", handle)
		}
		delete(h.channels, handle)
	}
	for _, c := range h.consumers {
		c.SessionEnded(handle)
	}
}

// ChannelStats describes one channel in the hub, for metrics.
type ChannelStats struct {
	Handle     string
	Publishing bool
	Tracks     []string // codec names of the current or last ingest
	Units      uint64   // units written by the current or last ingest
	Readers    []ReaderStats
}

// ReaderStats describes one reader's buffer.
type ReaderStats struct {
	Name      string
	Buffered  int
	Delivered uint64
	Dropped   uint64
}

// Stats returns a snapshot of every channel, sorted by handle.
func (h *Hub) Stats() []ChannelStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]ChannelStats, 0, len(h.channels))
	for handle, st := range h.channels {
		cs := ChannelStats{Handle: handle, Publishing: st.publisher != nil}
		if in := st.ingest; in != nil {
			for _, t := range in.Tracks {
				cs.Tracks = append(cs.Tracks, t.Codec.Name())
			}
			cs.Units = in.units.Load()
			for _, r := range in.readerList() {
				cs.Readers = append(cs.Readers, ReaderStats{
					Name: r.name, Buffered: r.Buffered(), Delivered: r.Delivered(), Dropped: r.Dropped(),
				})
			}
		}
		out = append(out, cs)
	}
	slices.SortFunc(out, func(a, b ChannelStats) int {
		switch {
		case a.Handle < b.Handle:
			return -1
		case a.Handle > b.Handle:
			return 1
		}
		return 0
	})
	return out
}

// Publisher is the one source of a channel's media, from Claim to Close. Its methods other than
// Done are meant to be called from the publisher's own goroutine.
type Publisher struct {
	hub    *Hub
	handle string
	ingest atomic.Pointer[Ingest]

	done    chan struct{}
	stopped bool // guarded by hub.mu
}

// Handle is the channel the publisher claimed.
func (p *Publisher) Handle() string { return p.handle }

// Done is closed when the publisher must stop: after Close, or when EndSession evicted it. The
// transport watches it to disconnect an evicted publisher.
func (p *Publisher) Done() <-chan struct{} { return p.done }

// Start begins an ingest with the given tracks and announces it to every consumer. Calling it
// again (the publisher changed codecs or parameters mid-stream) ends the current ingest and
// starts a new one that consumers continue with a discontinuity.
func (p *Publisher) Start(tracks []Track) (*Ingest, error) {
	if err := validateTracks(tracks); err != nil {
		return nil, fmt.Errorf("start ingest on %q: %w", p.handle, err)
	}
	h := p.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if p.stopped {
		return nil, fmt.Errorf("start ingest on %q: %w", p.handle, ErrPublisherClosed)
	}
	st := h.channels[p.handle]
	if cur := p.ingest.Load(); cur != nil {
		cur.end()
	}
	in := &Ingest{
		Handle:       p.handle,
		Tracks:       slices.Clone(tracks),
		Resumed:      st.sessionOpen,
		Started:      time.Now(),
		readerBuffer: h.readerBuffer,
	}
	in.readers.Store(&[]*Reader{})
	st.sessionOpen = true
	st.ingest = in
	p.ingest.Store(in)
	for _, c := range h.consumers {
		c.IngestStarted(in)
	}
	return in, nil
}

// Write hands a unit to every reader of the current ingest without ever blocking. Units written
// before Start, after Close or with an unknown track index are discarded.
func (p *Publisher) Write(u *Unit) {
	in := p.ingest.Load()
	if in == nil || u.Track < 0 || u.Track >= len(in.Tracks) {
		return
	}
	in.write(u)
}

// Close releases the channel: the current ingest ends (readers drain and see io.EOF) and another
// publisher may claim the channel. The channel's session stays open until EndSession, so the
// next publisher resumes it. Close is idempotent.
func (p *Publisher) Close() {
	h := p.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.channels[p.handle]; st != nil && st.publisher == p {
		st.publisher = nil
	}
	if !p.stopped {
		p.stopLocked()
	}
}

// stopLocked ends the publisher's ingest and closes Done; hub.mu must be held.
func (p *Publisher) stopLocked() {
	if p.stopped {
		return
	}
	p.stopped = true
	if in := p.ingest.Swap(nil); in != nil {
		in.end()
	}
	close(p.done)
}

// Ingest is one uninterrupted run of media with fixed tracks from one publisher.
type Ingest struct {
	Handle  string
	Tracks  []Track
	Resumed bool      // the channel's session was already open when this ingest started
	Started time.Time // when Start was called

	readerBuffer int
	mu           sync.Mutex // serialises reader list changes with end
	readers      atomic.Pointer[[]*Reader]
	ended        bool
	units        atomic.Uint64
}

// NewReader attaches a reader with its own buffer of capacity units (0 for the hub's default).
// A reader attached to an ended ingest returns io.EOF at once. A reader with a video track starts
// at the next keyframe.
func (in *Ingest) NewReader(name string, capacity int) *Reader {
	if capacity <= 0 {
		capacity = in.readerBuffer
	}
	r := newReader(name, in.Tracks, capacity)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ended {
		r.ended = true
		return r
	}
	list := append(slices.Clone(*in.readers.Load()), r)
	in.readers.Store(&list)
	return r
}

// Ended reports whether the ingest is over.
func (in *Ingest) Ended() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.ended
}

func (in *Ingest) readerList() []*Reader { return *in.readers.Load() }

func (in *Ingest) write(u *Unit) {
	in.units.Add(1)
	for _, r := range *in.readers.Load() {
		r.push(u)
	}
}

func (in *Ingest) end() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ended {
		return
	}
	in.ended = true
	for _, r := range *in.readers.Load() {
		r.end()
	}
}
