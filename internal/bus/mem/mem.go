// Package mem is the in-process implementation of bus.Bus, the single-node default. Each
// subscriber has its own bounded buffer; a publisher never waits for a subscriber: when a
// buffer is full the message is dropped for that subscriber and counted. It imports nothing
// of Freely but the bus port.
package mem

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/freelylive/freely/internal/bus"
)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("bus: closed")

// DefaultBufferSize is each subscriber's buffer when Options.BufferSize is zero: room for a
// burst of chat messages while the reader is busy writing to a slow WebSocket.
const DefaultBufferSize = 256

// Options configure the bus.
type Options struct {
	// BufferSize is how many messages a subscriber may fall behind before messages are
	// dropped for it. Zero means DefaultBufferSize.
	BufferSize int
}

// Bus is an in-process bus.Bus. The zero value is not usable; call New.
type Bus struct {
	bufferSize int

	// mu guards topics and closed. Publish holds it for reading while it hands a message to
	// each subscriber (never blocking), so a subscription cannot close its channel mid-send.
	mu     sync.RWMutex
	topics map[string]map[*subscription]struct{}
	closed bool

	dropped atomic.Uint64 // across all subscriptions, for metrics
}

var _ bus.Bus = (*Bus)(nil)

// New returns an empty bus.
func New(opts Options) *Bus {
	size := opts.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	return &Bus{bufferSize: size, topics: make(map[string]map[*subscription]struct{})}
}

// Publish hands data to every current subscriber of topic without waiting for any of them.
// Data is copied once, so the caller may reuse its buffer; subscribers share the copy and
// must not modify Message.Data.
func (b *Bus) Publish(ctx context.Context, topic string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish to %q: %w", topic, err)
	}
	if topic == "" {
		return errors.New("publish: empty topic")
	}
	msg := bus.Message{Topic: topic, Data: append([]byte(nil), data...)}

	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return fmt.Errorf("publish to %q: %w", topic, ErrClosed)
	}
	for s := range b.topics[topic] {
		select {
		case s.ch <- msg:
		default:
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
	return nil
}

// Subscribe registers a subscriber for topic. ctx bounds only this call; the subscription
// lasts until it or the bus is closed.
func (b *Bus) Subscribe(ctx context.Context, topic string) (bus.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe to %q: %w", topic, err)
	}
	if topic == "" {
		return nil, errors.New("subscribe: empty topic")
	}
	s := &subscription{bus: b, topic: topic, ch: make(chan bus.Message, b.bufferSize)}

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("subscribe to %q: %w", topic, ErrClosed)
	}
	subs := b.topics[topic]
	if subs == nil {
		subs = make(map[*subscription]struct{})
		b.topics[topic] = subs
	}
	subs[s] = struct{}{}
	return s, nil
}

// Close closes every subscription's channel; later Publish and Subscribe calls fail with
// ErrClosed. It is idempotent.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for _, subs := range b.topics {
		for s := range subs {
			s.closeLocked()
		}
	}
	b.topics = nil
	return nil
}

// Dropped reports how many messages were dropped across all subscribers since New.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

type subscription struct {
	bus     *Bus
	topic   string
	ch      chan bus.Message
	dropped atomic.Uint64
	closed  bool // guarded by bus.mu
}

func (s *subscription) C() <-chan bus.Message { return s.ch }

func (s *subscription) Dropped() uint64 { return s.dropped.Load() }

func (s *subscription) Close() error {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	if s.closed {
		return nil
	}
	if subs := s.bus.topics[s.topic]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(s.bus.topics, s.topic)
		}
	}
	s.closeLocked()
	return nil
}

// closeLocked closes the channel once; the caller holds bus.mu for writing.
func (s *subscription) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}
