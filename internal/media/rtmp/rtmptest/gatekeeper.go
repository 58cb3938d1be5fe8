// Package rtmptest provides a small, real, in-memory Gatekeeper for tests and benchmarks of the
// RTMP listener and everything behind it.
package rtmptest

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/media/rtmp"
)

// Gatekeeper is a small, real, in-memory rtmp.Gatekeeper: a fixed stream-key → channel map,
// one live publication per channel, and a log of what happened for tests to wait on.
type Gatekeeper struct {
	keys map[string]string

	mu      sync.Mutex
	live    map[string]bool
	events  []Event
	changed chan struct{}
	// StartedErr, if set, is returned by Publication.Started.
	StartedErr error
}

// Event is one call the listener made.
type Event struct {
	Kind    string // "admitted", "refused", "started", "ended"
	Channel string
	At      time.Time
}

// ErrUnknownKey and ErrAlreadyLive are the Gatekeeper's refusals.
var (
	ErrUnknownKey  = errors.New("unknown stream key")
	ErrAlreadyLive = errors.New("channel already has a publisher")
)

// NewGatekeeper admits the given stream keys, each for its channel handle.
func NewGatekeeper(keys map[string]string) *Gatekeeper {
	return &Gatekeeper{keys: keys, live: make(map[string]bool), changed: make(chan struct{})}
}

// Admit implements rtmp.Gatekeeper.
func (g *Gatekeeper) Admit(ctx context.Context, key, remoteAddr string) (rtmp.Publication, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	handle := ""
	for k, h := range g.keys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			handle = h
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if handle == "" {
		g.recordLocked("refused", "")
		return nil, ErrUnknownKey
	}
	if g.live[handle] {
		g.recordLocked("refused", handle)
		return nil, fmt.Errorf("channel %s: %w", handle, ErrAlreadyLive)
	}
	g.live[handle] = true
	g.recordLocked("admitted", handle)
	return &publication{g: g, handle: handle}, nil
}

func (g *Gatekeeper) recordLocked(kind, handle string) {
	g.events = append(g.events, Event{Kind: kind, Channel: handle, At: time.Now()})
	close(g.changed)
	g.changed = make(chan struct{})
}

// Events returns a copy of what happened so far.
func (g *Gatekeeper) Events() []Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Event(nil), g.events...)
}

// Wait blocks until n events of kind have happened for channel (any channel if ""), and returns
// the n-th.
func (g *Gatekeeper) Wait(ctx context.Context, kind, channel string, n int) (Event, error) {
	for {
		g.mu.Lock()
		seen := 0
		for _, e := range g.events {
			if e.Kind == kind && (channel == "" || e.Channel == channel) {
				seen++
				if seen == n {
					g.mu.Unlock()
					return e, nil
				}
			}
		}
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("waiting for %d %q events on %q: %w", n, kind, channel, ctx.Err())
		}
	}
}

type publication struct {
	g      *Gatekeeper
	handle string
	once   sync.Once
}

func (p *publication) Channel() string { return p.handle }

func (p *publication) Started(ctx context.Context) error {
	p.g.mu.Lock()
	defer p.g.mu.Unlock()
	p.g.recordLocked("started", p.handle)
	return p.g.StartedErr
}

func (p *publication) Ended() {
	p.g.mu.Lock()
	defer p.g.mu.Unlock()
	ended := false
	p.once.Do(func() { ended = true })
	if !ended {
		p.g.recordLocked("ended-twice", p.handle)
		return
	}
	p.g.live[p.handle] = false
	p.g.recordLocked("ended", p.handle)
}
