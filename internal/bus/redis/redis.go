// Package redis implements bus.Bus on Redis pub/sub (github.com/redis/go-redis/v9), so
// several nodes share events: a message published on one node reaches subscribers on every
// node. One Redis connection per node carries every subscription; each local subscriber has
// its own bounded buffer and loses messages (counted) rather than slowing the others. It
// imports nothing of Freely but the bus port.
//
// Redis pub/sub delivers at most once: a node that is disconnected from Redis misses what
// is published meanwhile (the connection is re-established and re-subscribed
// automatically). Users of the bus must tolerate that, as chat does with resume-from-store.
package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/freelylive/freely/internal/bus"
)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("bus: closed")

// Defaults for Options.
const (
	DefaultBufferSize = 256
	DefaultPrefix     = "freely:"
	// healthInterval: a subscription connection silent this long is pinged, so a dead TCP
	// connection is noticed and replaced instead of waiting forever.
	healthInterval = 15 * time.Second
)

// Options configure the bus. Either URL or Client is required.
type Options struct {
	// URL is a redis:// or rediss:// URL (as FREELY_REDIS_URL), e.g. redis://127.0.0.1:6379/0.
	URL string
	// Client is an existing client to use instead of URL; the bus does not close it.
	Client *goredis.Client
	// Prefix is put before every topic to make the Redis channel name, so deployments (or
	// tests) sharing one Redis do not hear each other. "" means DefaultPrefix.
	Prefix string
	// BufferSize is how many messages a subscriber may fall behind before messages are
	// dropped for it. Zero means DefaultBufferSize.
	BufferSize int
	Logger     *slog.Logger
}

// Bus is a bus.Bus on Redis. It is safe for concurrent use.
type Bus struct {
	client    *goredis.Client
	ownClient bool
	ps        *goredis.PubSub
	prefix    string
	size      int
	log       *slog.Logger

	ctx    context.Context // cancelled by Close; bounds the receive loop
	cancel context.CancelFunc
	done   chan struct{} // closed when the receive loop ends

	// cmdMu orders SUBSCRIBE and UNSUBSCRIBE commands as the membership changes that cause
	// them, so a topic whose last subscriber leaves while a new one arrives ends up
	// subscribed.
	cmdMu  sync.Mutex
	mu     sync.RWMutex
	topics map[string]*topicState
	closed bool

	dropped atomic.Uint64
}

var _ bus.Bus = (*Bus)(nil)

// topicState is one topic on this node: its local subscribers and the SUBSCRIBE commands
// Redis has not confirmed yet.
type topicState struct {
	subs        map[*subscription]struct{}
	outstanding int       // SUBSCRIBE commands sent and not yet confirmed
	waiters     []*waiter // Subscribe calls waiting for a confirmation
}

// waiter is released after need more confirmations: the one of the command its subscriber
// depends on, not an earlier one still in flight.
type waiter struct {
	need int
	ch   chan struct{}
}

// New connects to Redis, checks that it answers and starts receiving.
func New(ctx context.Context, opts Options) (*Bus, error) {
	client, own := opts.Client, false
	if client == nil {
		if opts.URL == "" {
			return nil, errors.New("redis bus: URL or Client is required")
		}
		o, err := goredis.ParseURL(opts.URL)
		if err != nil {
			return nil, fmt.Errorf("redis bus: %w", err)
		}
		client, own = goredis.NewClient(o), true
	}
	if err := client.Ping(ctx).Err(); err != nil {
		if own {
			client.Close()
		}
		return nil, fmt.Errorf("redis bus: ping: %w", err)
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	size := opts.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	bctx, cancel := context.WithCancel(context.Background())
	b := &Bus{
		client: client, ownClient: own, ps: client.Subscribe(bctx), prefix: prefix, size: size, log: log,
		ctx: bctx, cancel: cancel, done: make(chan struct{}),
		topics: make(map[string]*topicState),
	}
	go b.receive()
	return b, nil
}

// Publish sends data to every subscriber of topic on every node. It returns once Redis has
// accepted the message.
func (b *Bus) Publish(ctx context.Context, topic string, data []byte) error {
	if topic == "" {
		return errors.New("publish: empty topic")
	}
	b.mu.RLock()
	closed := b.closed
	b.mu.RUnlock()
	if closed {
		return fmt.Errorf("publish to %q: %w", topic, ErrClosed)
	}
	if err := b.client.Publish(ctx, b.prefix+topic, data).Err(); err != nil {
		return fmt.Errorf("publish to %q: %w", topic, err)
	}
	return nil
}

// Subscribe registers a subscriber for topic. It returns once Redis confirmed the
// subscription, so anything published afterwards, on any node, is delivered.
func (b *Bus) Subscribe(ctx context.Context, topic string) (bus.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe to %q: %w", topic, err)
	}
	if topic == "" {
		return nil, errors.New("subscribe: empty topic")
	}
	s := &subscription{bus: b, topic: topic, ch: make(chan bus.Message, b.size)}
	b.cmdMu.Lock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.cmdMu.Unlock()
		return nil, fmt.Errorf("subscribe to %q: %w", topic, ErrClosed)
	}
	st := b.topics[topic]
	if st == nil {
		st = &topicState{}
		b.topics[topic] = st
	}
	first := len(st.subs) == 0
	if st.subs == nil {
		st.subs = make(map[*subscription]struct{})
	}
	st.subs[s] = struct{}{}
	if first {
		st.outstanding++
	}
	var w *waiter
	if st.outstanding > 0 {
		// Wait for the newest SUBSCRIBE in flight: ours, or the one a subscriber that came
		// just before us sent.
		w = &waiter{need: st.outstanding, ch: make(chan struct{})}
		st.waiters = append(st.waiters, w)
	}
	b.mu.Unlock()
	var err error
	if first {
		err = b.ps.Subscribe(ctx, b.prefix+topic)
	}
	b.cmdMu.Unlock()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("subscribe to %q: %w", topic, err)
	}
	if w != nil {
		select {
		case <-w.ch:
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("subscribe to %q: %w", topic, ctx.Err())
		case <-b.done:
			s.Close()
			return nil, fmt.Errorf("subscribe to %q: %w", topic, ErrClosed)
		}
	}
	return s, nil
}

// receive reads the subscription connection until Close, handing messages to subscribers.
func (b *Bus) receive() {
	defer close(b.done)
	failures := 0
	for {
		msg, err := b.ps.ReceiveTimeout(b.ctx, healthInterval)
		if b.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Quiet, or dead: a ping answers through this loop, or fails and reconnects.
				if err := b.ps.Ping(b.ctx); err != nil {
					b.log.Warn("redis bus: ping failed", "err", err)
				}
				continue
			}
			failures++
			b.log.Warn("redis bus: receive failed; reconnecting", "err", err)
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(min(time.Duration(failures)*100*time.Millisecond, 2*time.Second)):
			}
			continue
		}
		failures = 0
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				b.confirm(strings.TrimPrefix(m.Channel, b.prefix))
			}
		case *goredis.Message:
			b.dispatch(strings.TrimPrefix(m.Channel, b.prefix), m.Payload)
		}
	}
}

// confirm counts one SUBSCRIBE confirmation for topic. Confirmations Redis sends when the
// connection is re-established (re-subscribing) find nothing outstanding and change nothing.
func (b *Bus) confirm(topic string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.topics[topic]
	if st == nil || st.outstanding == 0 {
		return
	}
	st.outstanding--
	kept := st.waiters[:0]
	for _, w := range st.waiters {
		if w.need--; w.need == 0 {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	st.waiters = kept
	b.forgetIdle(topic, st)
}

// forgetIdle drops a topic's state once it has no subscribers and nothing in flight.
func (b *Bus) forgetIdle(topic string, st *topicState) {
	if len(st.subs) == 0 && st.outstanding == 0 {
		delete(b.topics, topic)
	}
}

func (b *Bus) dispatch(topic, payload string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	st := b.topics[topic]
	if st == nil || len(st.subs) == 0 {
		return
	}
	msg := bus.Message{Topic: topic, Data: []byte(payload)}
	for s := range st.subs {
		select {
		case s.ch <- msg:
		default:
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
}

// Dropped reports how many messages were dropped across all local subscribers.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// Close stops receiving, closes every subscription's channel and, if the bus made its own
// client, closes it. It is idempotent.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for _, st := range b.topics {
		for s := range st.subs {
			s.closeLocked()
		}
	}
	b.topics = nil
	b.mu.Unlock()

	b.cancel()
	err := b.ps.Close()
	<-b.done
	if b.ownClient {
		err = errors.Join(err, b.client.Close())
	}
	if err != nil {
		return fmt.Errorf("close redis bus: %w", err)
	}
	return nil
}

type subscription struct {
	bus     *Bus
	topic   string
	ch      chan bus.Message
	dropped atomic.Uint64
	closed  bool // guarded by bus.mu
}

func (s *subscription) C() <-chan bus.Message { return s.ch }

func (s *subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops delivery; the last local subscriber of a topic unsubscribes the node.
func (s *subscription) Close() error {
	b := s.bus
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	b.mu.Lock()
	if s.closed {
		b.mu.Unlock()
		return nil
	}
	last := false
	if st := b.topics[s.topic]; st != nil {
		if _, ok := st.subs[s]; ok {
			delete(st.subs, s)
			last = len(st.subs) == 0
			b.forgetIdle(s.topic, st)
		}
	}
	s.closeLocked()
	closed := b.closed
	b.mu.Unlock()
	if last && !closed {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.ps.Unsubscribe(ctx, b.prefix+s.topic); err != nil {
			return fmt.Errorf("unsubscribe from %q: %w", s.topic, err)
		}
	}
	return nil
}

func (s *subscription) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}
