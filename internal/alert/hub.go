package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/freelylive/freely/internal/bus"
)

// DefaultSubscriptionBuffer is how many pushes a page may fall behind before pushes are
// dropped for it (it still sees them on its next load).
const DefaultSubscriptionBuffer = 32

// ErrHubClosed is returned by Subscribe after Close.
var ErrHubClosed = errors.New("alert: hub closed")

// Hub delivers pushes to the pages open on this node: the WebSocket gateway subscribes each
// logged-in connection with its user id (from the server-side session), and the Hub hands it
// the alerts written for that user by any node's fan-out, and the user's unread-count
// changes. One Hub runs per node. Create it with NewHub, call Start once and Close at the
// end.
type Hub struct {
	bus    bus.Bus
	log    *slog.Logger
	buffer int

	mu     sync.Mutex
	users  map[int64]*hubUser
	closed bool

	fanOut bus.Subscription
	wg     sync.WaitGroup // reader goroutines

	delivered atomic.Uint64
	dropped   atomic.Uint64
}

// hubUser is one user's subscriptions on this node and the bus subscription to their topic.
type hubUser struct {
	subs  map[*Subscription]struct{}
	topic bus.Subscription
}

// HubOptions configures a Hub.
type HubOptions struct {
	// Buffer is each subscription's buffer; DefaultSubscriptionBuffer when 0.
	Buffer int
	// Logger discards when nil.
	Logger *slog.Logger
}

// NewHub returns a Hub reading b.
func NewHub(b bus.Bus, opts HubOptions) *Hub {
	h := &Hub{bus: b, log: opts.Logger, buffer: opts.Buffer, users: make(map[int64]*hubUser)}
	if h.buffer <= 0 {
		h.buffer = DefaultSubscriptionBuffer
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Start subscribes to the fan-out topic. Pushes published before Start are not delivered.
func (h *Hub) Start(ctx context.Context) error {
	sub, err := h.bus.Subscribe(ctx, TopicFanOut)
	if err != nil {
		return fmt.Errorf("alert: hub: %w", err)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		sub.Close()
		return ErrHubClosed
	}
	h.fanOut = sub
	h.mu.Unlock()
	h.wg.Go(func() { h.readFanOut(sub) })
	return nil
}

// Close ends every subscription (their channels close) and waits for the Hub's goroutines.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	fanOut := h.fanOut
	var topics []bus.Subscription
	for id, u := range h.users {
		for s := range u.subs {
			s.closeLocked()
		}
		topics = append(topics, u.topic)
		delete(h.users, id)
	}
	h.mu.Unlock()
	if fanOut != nil {
		fanOut.Close()
	}
	for _, t := range topics {
		t.Close()
	}
	h.wg.Wait()
	return nil
}

// Stats reports pushes handed to subscriptions and pushes dropped because a subscription's
// buffer was full, since NewHub.
func (h *Hub) Stats() (delivered, dropped uint64) { return h.delivered.Load(), h.dropped.Load() }

// Subscribe starts delivering userID's pushes to the returned Subscription until it or the
// Hub is closed. userID must come from the server-side session.
func (h *Hub) Subscribe(ctx context.Context, userID int64) (*Subscription, error) {
	if userID <= 0 {
		return nil, ErrNoUser
	}
	s := &Subscription{hub: h, userID: userID, ch: make(chan Push, h.buffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if h.closed {
			return nil, ErrHubClosed
		}
		if u := h.users[userID]; u != nil {
			u.subs[s] = struct{}{}
			return s, nil
		}
		// The first page of this user on this node: listen to their topic. The bus may
		// take a network round trip (Redis), so the Hub is not held meanwhile; if another
		// page of the user won the race, its subscription is used and this one dropped.
		h.mu.Unlock()
		topic, err := h.bus.Subscribe(ctx, UserTopic(userID))
		h.mu.Lock()
		if err != nil {
			return nil, fmt.Errorf("alert: hub subscribe user %d: %w", userID, err)
		}
		if h.closed || h.users[userID] != nil {
			topic.Close()
			continue
		}
		h.users[userID] = &hubUser{subs: map[*Subscription]struct{}{s: {}}, topic: topic}
		h.wg.Go(func() { h.readUser(userID, topic) })
		return s, nil
	}
}

// readFanOut delivers each fan-out batch to the recipients subscribed on this node.
func (h *Hub) readFanOut(sub bus.Subscription) {
	for msg := range sub.C() {
		m, err := decodeFanOut(msg.Data)
		if err != nil {
			h.log.Warn("alert: hub: bad fan-out message", "err", err)
			continue
		}
		push := Push{Type: PushAlert, Alert: m.Alert}
		h.mu.Lock()
		// Usually far fewer users are online here than a batch names; walk the smaller set.
		if len(h.users) < len(m.Users) {
			for id, u := range h.users {
				if containsSorted(m.Users, id) {
					h.deliverLocked(u, push)
				}
			}
		} else {
			for _, id := range m.Users {
				if u := h.users[id]; u != nil {
					h.deliverLocked(u, push)
				}
			}
		}
		h.mu.Unlock()
	}
}

// readUser delivers the messages of one user's topic until that subscription closes.
func (h *Hub) readUser(userID int64, sub bus.Subscription) {
	for msg := range sub.C() {
		push, err := decodeUser(msg.Data)
		if err != nil {
			h.log.Warn("alert: hub: bad user message", "user_id", userID, "err", err)
			continue
		}
		h.mu.Lock()
		if u := h.users[userID]; u != nil && u.topic == sub {
			h.deliverLocked(u, push)
		}
		h.mu.Unlock()
	}
}

// deliverLocked hands push to every subscription of u without waiting; h.mu is held.
func (h *Hub) deliverLocked(u *hubUser, push Push) {
	for s := range u.subs {
		// Counted before the send, so a reader that got the push also sees it counted.
		h.delivered.Add(1)
		select {
		case s.ch <- push:
		default:
			h.delivered.Add(^uint64(0))
			s.dropped.Add(1)
			h.dropped.Add(1)
		}
	}
}

// containsSorted reports whether ids (ascending, as fan-out batches are) holds id.
func containsSorted(ids []int64, id int64) bool {
	lo, hi := 0, len(ids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case ids[m] == id:
			return true
		case ids[m] < id:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// Subscription is one open page's stream of pushes.
type Subscription struct {
	hub     *Hub
	userID  int64
	ch      chan Push
	dropped atomic.Uint64
	closed  bool // guarded by hub.mu
}

// C delivers the user's pushes. It is closed after Close (or the Hub's Close).
func (s *Subscription) C() <-chan Push { return s.ch }

// Dropped reports pushes lost because the page fell behind.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops delivery and closes C. It is idempotent.
func (s *Subscription) Close() error {
	h := s.hub
	h.mu.Lock()
	if s.closed {
		h.mu.Unlock()
		return nil
	}
	s.closeLocked()
	var topic bus.Subscription
	if u := h.users[s.userID]; u != nil {
		delete(u.subs, s)
		if len(u.subs) == 0 {
			delete(h.users, s.userID)
			topic = u.topic
		}
	}
	h.mu.Unlock()
	if topic != nil {
		// Its reader goroutine ends when the bus closes the channel.
		return topic.Close()
	}
	return nil
}

func (s *Subscription) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}
