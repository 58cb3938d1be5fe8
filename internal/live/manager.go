package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/channel"
)

// Defaults for Options.
const (
	DefaultGracePeriod       = 30 * time.Second
	DefaultViewerTTL         = 10 * time.Second
	DefaultHeartbeatInterval = 10 * time.Second
	DefaultStatusInterval    = 2 * time.Second
)

const (
	// sweepInterval is how often expired viewers are dropped, peaks taken and (at their own
	// intervals) heartbeats and status reports sent.
	sweepInterval = time.Second
	// storeTimeout bounds each database call made from a timer or the background loop.
	storeTimeout = 10 * time.Second
	// closeRetryDelay is how long a failed session close waits before trying again.
	closeRetryDelay = 5 * time.Second
)

// Channels is what the manager needs from the channel store.
type Channels interface {
	ChannelByID(ctx context.Context, id int64) (*channel.Channel, error)
	// ChannelByStreamKey finds the channel for an ingest key; the manager still compares
	// the keys in constant time.
	ChannelByStreamKey(ctx context.Context, key string) (*channel.Channel, error)
	CategoryBySlug(ctx context.Context, slug string) (*channel.Category, error)
	EnsureTags(ctx context.Context, names []string) ([]channel.Tag, error)
}

// Accounts is what the manager needs from the account store: whether a channel's owner may
// stream.
type Accounts interface {
	UserByID(ctx context.Context, id int64) (*account.User, error)
}

// Media tears down a channel's stream once its session has ended (the grace period passed):
// outputs finish their playlists and free their memory (media.Hub implements it). It is
// called with the manager's per-channel lock held and must not call back into the manager
// synchronously.
type Media interface {
	EndSession(handle string)
}

// Thumbnails grabs preview frames of live channels.
type Thumbnails interface {
	// Start begins periodic grabs for a session that opened on this node.
	Start(channelID, sessionID int64, handle string)
	// Stop ends them when the session ends.
	Stop(channelID int64)
	// URL is the channel's latest thumbnail; grabbed is false when this node has none and
	// url is a placeholder (or "").
	URL(channelID int64) (url string, grabbed bool)
}

// Options configures a Manager. Store, Channels and Accounts are required.
type Options struct {
	Store    Store
	Channels Channels
	Accounts Accounts
	// Bus carries live.* events; nil keeps everything on this node (tests, tools).
	Bus bus.Bus
	// Media is told to tear a stream down when its session ends; nil for none.
	Media Media
	// Thumbnails is started and stopped with sessions; nil for none.
	Thumbnails Thumbnails
	// OnOpen runs in the transaction that inserts a new session (see OpenHook).
	OnOpen OpenHook

	GracePeriod       time.Duration // DefaultGracePeriod when 0
	ViewerTTL         time.Duration // DefaultViewerTTL when 0
	HeartbeatInterval time.Duration // DefaultHeartbeatInterval when 0
	StatusInterval    time.Duration // DefaultStatusInterval when 0
	Clock             Clock         // SystemClock when nil
	Logger            *slog.Logger  // discards when nil
}

// Manager decides who may publish, opens, resumes and closes live sessions, counts viewers
// and keeps the "live now" directory. Create it with New, call Start once, Close at the end.
type Manager struct {
	opts    Options
	log     *slog.Logger
	clock   Clock
	node    string // identifies this process in status reports
	viewers *viewerCounter
	dir     *directory

	closing atomic.Bool
	mu      sync.Mutex
	chans   map[int64]*channelState

	// timers counts scheduled callbacks (grace periods, ticks) that have not finished, so
	// Close can wait for them.
	timers sync.WaitGroup

	runCancel context.CancelFunc
	runDone   sync.WaitGroup // bus consumers
	subs      []bus.Subscription
	tickMu    sync.Mutex
	tickTimer *pendingTimer
	// lastHeartbeat and lastStatus are used by tick only; ticks never overlap.
	lastHeartbeat time.Time
	lastStatus    time.Time
}

// channelState is this node's knowledge of one channel's publisher and open session. Its
// lock serialises admission, first keyframe, departure, grace expiry and info updates of
// the channel. States are kept for the life of the process (a few hundred bytes each).
type channelState struct {
	mu      sync.Mutex
	id      int64
	ch      *channel.Channel // public fields only; the stream key is cleared
	pub     *Publication     // connected publisher, nil when none
	session *Session         // open session (publishing or in grace), nil when offline
	// recovered marks a session found open at start-up; it is closed only if nobody (no
	// other node) touched it since (Store.CloseStaleSession).
	recovered bool
	// lastSeen is when the broadcast was last known to run: now while publishing, the
	// moment the publisher left while in grace.
	lastSeen time.Time
	grace    *pendingTimer
	graceGen uint64
}

// New checks opts and returns a Manager. It does no I/O; Start does.
func New(opts Options) (*Manager, error) {
	if opts.Store == nil || opts.Channels == nil || opts.Accounts == nil {
		return nil, errors.New("live: Options.Store, Channels and Accounts are required")
	}
	if opts.GracePeriod < 0 || opts.ViewerTTL < 0 || opts.HeartbeatInterval < 0 || opts.StatusInterval < 0 {
		return nil, errors.New("live: negative durations in Options")
	}
	if opts.GracePeriod == 0 {
		opts.GracePeriod = DefaultGracePeriod
	}
	if opts.ViewerTTL == 0 {
		opts.ViewerTTL = DefaultViewerTTL
	}
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if opts.StatusInterval == 0 {
		opts.StatusInterval = DefaultStatusInterval
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var nodeID [8]byte
	if _, err := rand.Read(nodeID[:]); err != nil {
		return nil, fmt.Errorf("live: node id: %w", err)
	}
	return &Manager{
		opts:    opts,
		log:     logger,
		clock:   opts.Clock,
		node:    hex.EncodeToString(nodeID[:]),
		viewers: newViewerCounter(opts.ViewerTTL),
		dir:     newDirectory(),
		chans:   map[int64]*channelState{},
	}, nil
}

// Start subscribes to other nodes' live events, recovers sessions left open by a previous
// process (see recoverSessions) and starts the background loop (viewer expiry, heartbeats,
// status reports). Call it once, before serving publishers.
func (m *Manager) Start(ctx context.Context) error {
	if m.opts.Bus != nil {
		for _, topic := range []string{TopicLive, TopicStatus} {
			sub, err := m.opts.Bus.Subscribe(ctx, topic)
			if err != nil {
				m.closeSubs()
				return fmt.Errorf("live: subscribe to %s: %w", topic, err)
			}
			m.subs = append(m.subs, sub)
		}
	}
	if err := m.recoverSessions(ctx); err != nil {
		m.closeSubs()
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	m.runCancel = cancel
	for _, sub := range m.subs {
		m.runDone.Add(1)
		go func() {
			defer m.runDone.Done()
			m.consume(sub)
		}()
	}
	m.scheduleTick(runCtx)
	return nil
}

// Close stops the background work and pending grace timers and records how far each open
// session ran. Open sessions stay open in the database: a restart within the grace period
// resumes them (a deploy does not end broadcasts or alert followers twice); otherwise the
// next start closes them at their last known time.
func (m *Manager) Close() error {
	if m.closing.Swap(true) {
		return nil
	}
	if m.runCancel != nil {
		m.runCancel()
	}
	m.closeSubs()
	m.runDone.Wait()
	m.tickMu.Lock()
	if m.tickTimer != nil {
		m.tickTimer.stop()
	}
	m.tickMu.Unlock()

	now := m.clock.Now()
	type touch struct {
		id       int64
		lastSeen time.Time
		peak     int
	}
	var touches []touch
	for _, cs := range m.states() {
		cs.mu.Lock()
		cs.graceGen++ // a grace callback already running finds itself outdated
		if cs.grace != nil {
			cs.grace.stop()
			cs.grace = nil
		}
		if cs.session != nil {
			if cs.pub != nil && cs.pub.started {
				cs.lastSeen = now
			}
			touches = append(touches, touch{cs.session.ID, cs.lastSeen, m.dir.peak(cs.id)})
			if m.opts.Thumbnails != nil {
				m.opts.Thumbnails.Stop(cs.id)
			}
		}
		cs.mu.Unlock()
	}
	m.timers.Wait()

	var errs []error
	for _, t := range touches {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		if err := m.opts.Store.TouchSession(ctx, t.id, t.lastSeen, t.peak); err != nil {
			errs = append(errs, fmt.Errorf("live: record session %d on close: %w", t.id, err))
		}
		cancel()
	}
	return errors.Join(errs...)
}

func (m *Manager) closeSubs() {
	for _, sub := range m.subs {
		sub.Close() //nolint:errcheck // Close is idempotent and has nothing to report here
	}
}

// state returns the channel's state, creating it.
func (m *Manager) state(channelID int64) *channelState {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs, ok := m.chans[channelID]
	if !ok {
		cs = &channelState{id: channelID}
		m.chans[channelID] = cs
	}
	return cs
}

// existingState returns the channel's state or nil.
func (m *Manager) existingState(channelID int64) *channelState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.chans[channelID]
}

func (m *Manager) states() []*channelState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*channelState, 0, len(m.chans))
	for _, cs := range m.chans {
		out = append(out, cs)
	}
	return out
}

// pendingTimer is a scheduled callback counted in Manager.timers until it ran or was
// stopped.
type pendingTimer struct {
	t  Timer
	wg *sync.WaitGroup
}

func (m *Manager) schedule(d time.Duration, f func()) *pendingTimer {
	m.timers.Add(1)
	pt := &pendingTimer{wg: &m.timers}
	pt.t = m.clock.AfterFunc(d, func() {
		defer m.timers.Done()
		f()
	})
	return pt
}

func (pt *pendingTimer) stop() {
	if pt.t.Stop() {
		pt.wg.Done()
	}
}

// publish sends ev to the live topic and the channel's topic. Failures are logged: the
// session itself is already committed and other nodes catch up from later events.
func (m *Manager) publish(channelID int64, ev any) {
	if m.opts.Bus == nil {
		return
	}
	data, err := json.Marshal(ev)
	if err != nil {
		m.log.Error("live: encode event", "channel_id", channelID, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	for _, topic := range []string{TopicLive, ChannelTopic(channelID)} {
		if err := m.opts.Bus.Publish(ctx, topic, data); err != nil {
			m.log.Error("live: publish event", "topic", topic, "channel_id", channelID, "err", err)
		}
	}
}

func publicChannel(ch *channel.Channel) *channel.Channel {
	c := *ch
	c.StreamKey = ""
	return &c
}

func liveChannelOf(ch *channel.Channel, s *Session) LiveChannel {
	return LiveChannel{
		ChannelID:   ch.ID,
		Handle:      ch.Handle,
		DisplayName: ch.DisplayName,
		ProfileKey:  ch.ProfileKey,
		SessionID:   s.ID,
		Title:       s.Title,
		Category:    s.Category,
		Tags:        s.TagNames(),
		StartedAt:   s.StartedAt,
	}
}
