package chat

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat/filter"
)

// Channels is what chat needs to know about channels: the owner of a room, and a channel
// named by handle when an owner appoints a manager by handle. channel.Store has these methods.
type Channels interface {
	ChannelByID(ctx context.Context, id int64) (*channel.Channel, error)
	ChannelByHandle(ctx context.Context, handle string) (*channel.Channel, error)
}

// Users is what chat needs to know about users: names and admin status of moderation
// targets. account.Store has these methods.
type Users interface {
	UserByID(ctx context.Context, id int64) (*account.User, error)
	UserByNickname(ctx context.Context, nickname string) (*account.User, error)
}

// Follows answers followers-only chat. follow.Service has this method.
type Follows interface {
	FollowedSince(ctx context.Context, userID, channelID int64) (since time.Time, following bool, err error)
}

// Defaults for Options.
const (
	DefaultHistorySize      = 200
	DefaultJoinHistory      = 50
	DefaultFlushInterval    = 100 * time.Millisecond
	DefaultBatchSize        = 500
	DefaultCoalesceInterval = 20 * time.Millisecond
	DefaultWakeBudget       = 100_000
	DefaultSendQueue        = 1024
	DefaultRoomLinger       = time.Minute
	DefaultWriteQueue       = 16384
	// MaxResume caps the messages one resume returns; a client that missed more gets the
	// newest part and complete=false.
	MaxResume = 500
)

// Options configure a Hub. Store, Bus, Channels and Users are required.
type Options struct {
	Store    Store
	Bus      bus.Bus
	Channels Channels
	Users    Users
	// Follows enables followers-only mode; without it the mode cannot be switched on.
	Follows Follows

	// NodeID (1–MaxNodeID) makes message ids unique across nodes; every node sharing a bus
	// needs a different one. 0 picks one at random: fine for a single node, and for a few
	// nodes at a small risk of two sharing one.
	NodeID int

	Text   TextRules
	Limits SendLimits
	// Filter is the base word filter; nil means filter.Default().
	Filter *filter.Filter
	// DefaultFilterMode applies to channels whose owner never chose one; "" means mask.
	DefaultFilterMode filter.Mode
	// AllowUnverified lets logged-in users without a verified e-mail write when the room is
	// not in verified-only mode. Off by default: only verified users write.
	AllowUnverified bool

	HistorySize      int           // messages kept per room for joins and resumes
	JoinHistory      int           // messages sent on join
	FlushInterval    time.Duration // persistence batching interval
	BatchSize        int           // persistence batch size
	WriteQueue       int           // messages waiting for persistence before sends are refused
	CoalesceInterval time.Duration // shortest interval between wake-ups of a busy room's connections
	// WakeBudget caps connection wake-ups per second in a busy room: the coalescing
	// interval grows to readers/WakeBudget (100 ms for 10,000 readers by default), so a big
	// room writes fewer, fuller frames instead of drowning in syscalls.
	WakeBudget int
	SendQueue  int           // events a connection may fall behind before it is dropped
	RoomLinger time.Duration // how long an empty room stays open

	Now    func() time.Time
	Logger *slog.Logger
}

// Hub runs the chat rooms of this node. It is safe for concurrent use.
type Hub struct {
	opts   Options
	store  Store
	bus    bus.Bus
	filter *filter.Filter
	ids    *idGenerator
	origin uint64 // tells this node's bus messages apart from other nodes'
	writer *writer
	log    *slog.Logger
	now    func() time.Time

	nodeClash sync.Once // logs a node-id collision once

	mu     sync.Mutex
	rooms  map[int64]*room
	closed bool
	wg     sync.WaitGroup // writer and rooms' goroutines
}

// ErrClosed: the hub is shutting down.
var ErrClosed = errors.New("chat: hub closed")

// NewHub checks opts, fills in defaults and starts the persistence writer.
func NewHub(opts Options) (*Hub, error) {
	if opts.Store == nil || opts.Bus == nil || opts.Channels == nil || opts.Users == nil {
		return nil, errors.New("chat: Store, Bus, Channels and Users are required")
	}
	if opts.NodeID < 0 || opts.NodeID > MaxNodeID {
		return nil, fmt.Errorf("chat: node id %d outside 1–%d", opts.NodeID, MaxNodeID)
	}
	if opts.NodeID == 0 {
		n, err := rand.Int(rand.Reader, big.NewInt(MaxNodeID))
		if err != nil {
			return nil, fmt.Errorf("chat: random node id: %w", err)
		}
		opts.NodeID = int(n.Int64()) + 1
	}
	if opts.DefaultFilterMode == "" {
		opts.DefaultFilterMode = filter.ModeMask
	}
	if !opts.DefaultFilterMode.Valid() {
		return nil, fmt.Errorf("chat: unknown filter mode %q", opts.DefaultFilterMode)
	}
	setDefault(&opts.HistorySize, DefaultHistorySize)
	setDefault(&opts.JoinHistory, DefaultJoinHistory)
	setDefault(&opts.FlushInterval, DefaultFlushInterval)
	setDefault(&opts.BatchSize, DefaultBatchSize)
	setDefault(&opts.WriteQueue, DefaultWriteQueue)
	setDefault(&opts.CoalesceInterval, DefaultCoalesceInterval)
	setDefault(&opts.WakeBudget, DefaultWakeBudget)
	setDefault(&opts.SendQueue, DefaultSendQueue)
	setDefault(&opts.RoomLinger, DefaultRoomLinger)
	opts.JoinHistory = min(opts.JoinHistory, opts.HistorySize)
	opts.Limits = opts.Limits.withDefaults()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f := opts.Filter
	if f == nil {
		f = filter.Default()
	}
	var seed [8]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("chat: node origin: %w", err)
	}
	h := &Hub{
		opts:   opts,
		store:  opts.Store,
		bus:    opts.Bus,
		filter: f,
		ids:    newIDGenerator(opts.NodeID),
		origin: binary.LittleEndian.Uint64(seed[:]),
		log:    opts.Logger,
		now:    opts.Now,
		rooms:  make(map[int64]*room),
	}
	h.writer = newWriter(opts.Store, opts.Logger, opts.WriteQueue, opts.FlushInterval, opts.BatchSize)
	h.wg.Go(h.writer.run)
	return h, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// NodeID is the node id in this hub's message ids.
func (h *Hub) NodeID() int { return h.opts.NodeID }

// Close disconnects every connection (NextFrame returns ErrClosed), stops the rooms and
// writes every accepted message still waiting for the store. Messages accepted before Close
// are stored unless ctx ends first.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.rooms = nil
	h.mu.Unlock()
	for _, r := range rooms {
		r.shutdown(ErrClosed)
	}
	err := h.writer.close(ctx)
	waited := make(chan struct{})
	go func() { h.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("chat: close hub: %w", err)
	}
	return nil
}

// Stats are counters for metrics.
type Stats struct {
	Rooms          int
	Connections    int    // sockets joined to this node's rooms
	StoredMessages uint64 // messages written to the store
	StoreFailures  uint64 // failed store writes (retried)
	LostMessages   uint64 // messages never stored (store down past limits or at shutdown)
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	n, conns := len(h.rooms), 0
	for _, r := range h.rooms {
		conns += int(r.out.readers.Load())
	}
	h.mu.Unlock()
	return Stats{Rooms: n, Connections: conns, StoredMessages: h.writer.written.Load(), StoreFailures: h.writer.failed.Load(), LostMessages: h.writer.lost.Load()}
}

// acquire returns the open room of channelID, opening it if needed, and holds it open until
// release. Opening loads the room's state and history and subscribes to its bus topic.
func (h *Hub) acquire(ctx context.Context, channelID int64) (*room, error) {
	if channelID <= 0 {
		return nil, refuse(CodeNotFound)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	r := h.rooms[channelID]
	if r == nil {
		r = newRoom(h, channelID)
		h.rooms[channelID] = r
		r.refs = 1
		h.mu.Unlock()
		// Loading must not fail for everyone waiting because the first caller gave up.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		r.loadErr = r.open(lctx)
		cancel()
		close(r.ready)
		if r.loadErr != nil {
			h.mu.Lock()
			if h.rooms[channelID] == r {
				delete(h.rooms, channelID)
			}
			h.mu.Unlock()
			return nil, r.loadErr
		}
		return r, nil
	}
	r.refs++
	if r.linger != nil {
		r.linger.Stop()
		r.linger = nil
	}
	h.mu.Unlock()
	select {
	case <-r.ready:
	case <-ctx.Done():
		h.release(r)
		return nil, ctx.Err()
	}
	if r.loadErr != nil {
		return nil, r.loadErr
	}
	return r, nil
}

// release ends a hold taken by acquire. A room nobody holds closes after RoomLinger, so
// quick reconnects find it warm.
func (h *Hub) release(r *room) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.refs--
	if r.refs > 0 || h.closed || h.rooms[r.channelID] != r {
		return
	}
	r.linger = time.AfterFunc(h.opts.RoomLinger, func() { h.closeIdle(r) })
}

func (h *Hub) closeIdle(r *room) {
	h.mu.Lock()
	if r.refs > 0 || h.rooms[r.channelID] != r {
		h.mu.Unlock()
		return
	}
	delete(h.rooms, r.channelID)
	h.mu.Unlock()
	r.shutdown(ErrClosed)
}

func topic(channelID int64) string { return fmt.Sprintf("chat.%d", channelID) }
