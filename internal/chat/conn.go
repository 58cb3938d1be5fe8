package chat

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/chat/protocol"
)

// Reasons NextFrame gives for ending a connection (besides ErrClosed and ctx errors).
var (
	// ErrSlowConsumer: the connection fell further behind the room than its send queue
	// holds. The client should reconnect and resume after the last id it saw.
	ErrSlowConsumer = errors.New("chat: connection too slow")
	// ErrRemoved: the user was banned from the room.
	ErrRemoved = errors.New("chat: removed from the room")
)

const (
	maxEventsPerFrame = 256
	privateQueue      = 32 // per-connection events (state, history, errors) waiting to be sent
	// followRecheck: how long an answer about the user's follow is trusted. The answer keeps
	// when the follow began, so a follower grows old enough for a minimum follow age without
	// asking again; asking again this often makes an unfollow, or following in another tab,
	// count without a reconnect, at one query per interval however fast the user sends.
	followRecheck = 15 * time.Second
)

// Conn is one connection's membership of a room: what the transport reads requests into
// (Receive) and writes frames from (NextFrame). Receive and NextFrame may run in different
// goroutines; each must not be called concurrently with itself.
type Conn struct {
	hub  *Hub
	room *room
	user *account.User // nil: a reader who is not logged in

	private  chan []byte
	ended    chan struct{}
	endOnce  sync.Once
	endErr   error // set before ended is closed
	leftOnce sync.Once

	cursor uint64
	round  uint64    // the last fanout round this connection caught up in
	buf    *frameBuf // the last frame returned, released on the next NextFrame call

	followMu      sync.Mutex
	followChecked time.Time // when the follow was last looked up; zero: never
	following     bool
	followSince   time.Time // when the user began following
}

// Join adds a connection to the chat of channelID. user comes from the server-side session
// (nil for a reader who is not logged in). A non-zero resumeAfter (the last message id the
// client saw before reconnecting) sends what was missed instead of the recent history. The
// first frames hold the connection's state and the history. A banned user is refused
// (CodeBanned), and so is a channel that does not exist (CodeNotFound) or is suspended.
func (h *Hub) Join(ctx context.Context, channelID int64, user *account.User, resumeAfter int64) (*Conn, error) {
	r, err := h.acquire(ctx, channelID)
	if err != nil {
		return nil, err
	}
	c := &Conn{hub: h, room: r, user: user, private: make(chan []byte, privateQueue), ended: make(chan struct{})}
	if err := r.join(ctx, c, resumeAfter); err != nil {
		h.release(r)
		return nil, err
	}
	return c, nil
}

func (r *room) join(ctx context.Context, c *Conn, resumeAfter int64) error {
	if r.suspended {
		return refuse(CodeUnavailable)
	}
	now := r.hub.now()
	r.mu.Lock()
	if r.closedErr != nil {
		r.mu.Unlock()
		return ErrClosed
	}
	if c.user != nil {
		if x, ok := r.restrict[c.user.ID]; ok && x.Kind == KindBan {
			r.mu.Unlock()
			return refuse(CodeBanned)
		}
	}
	c.cursor = r.out.position()
	r.conns[c] = struct{}{}
	r.out.readers.Add(1)
	c.push(r.stateLocked(c.user, now))
	if resumeAfter <= 0 {
		recent := r.history.last(r.hub.opts.JoinHistory)
		complete := r.history.floor == 0 && len(recent) == len(r.history.entries)
		c.push(encodeHistory(recent, complete))
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	// The resume is answered before Join returns, so it precedes every live event.
	c.push(r.resume(ctx, resumeAfter))
	return nil
}

// resume encodes a history event with the messages after after, reading from a little
// earlier (resumeOverlap) because ids from different nodes interleave.
func (r *room) resume(ctx context.Context, after int64) []byte {
	from := max(0, after-idAt(idEpoch.Add(resumeOverlap)))
	r.mu.Lock()
	events, _, ok := r.history.after(from, MaxResume)
	r.mu.Unlock()
	if ok {
		return encodeHistory(events, len(events) < MaxResume)
	}
	stored, err := r.hub.store.MessagesAfter(ctx, r.channelID, from, MaxResume)
	if err != nil {
		r.hub.log.Warn("chat: resume from store failed", "channel", r.channelID, "err", err)
		r.mu.Lock()
		events := r.history.last(MaxResume)
		r.mu.Unlock()
		return encodeHistory(events, false)
	}
	out := make([][]byte, 0, len(stored))
	last := from
	for i := range stored {
		out = append(out, encodeMsg(&stored[i]))
		last = stored[i].ID
	}
	complete := len(stored) < MaxResume
	if complete {
		// Messages newer than the store has seen (not flushed yet) come from the ring.
		r.mu.Lock()
		more, _, _ := r.history.after(last, MaxResume-len(out))
		r.mu.Unlock()
		out = append(out, more...)
	}
	return encodeHistory(out, complete)
}

// User returns the connection's user, nil for an anonymous reader.
func (c *Conn) User() *account.User { return c.user }

// push queues a per-connection event. A connection that lets privateQueue events pile up is
// not reading: it is ended rather than allowed to hold memory.
func (c *Conn) push(ev []byte) {
	select {
	case c.private <- ev:
	default:
		c.end(ErrSlowConsumer)
	}
}

// end makes NextFrame return err once the events already queued for the connection are out.
func (c *Conn) end(err error) {
	c.endOnce.Do(func() {
		c.endErr = err
		close(c.ended)
	})
}

// frameBuf holds the events and the encoded frame of one NextFrame call. Buffers are pooled
// rather than kept per connection: a connection holds one only between building a frame and
// its next NextFrame call (the write), so a room of thousands of idle readers holds none.
type frameBuf struct {
	events [][]byte
	frame  []byte
}

var framePool = sync.Pool{New: func() any { return &frameBuf{events: make([][]byte, 0, 16)} }}

// maxPooledFrame: a buffer that grew past this (a long history) is not kept for reuse.
const maxPooledFrame = 64 << 10

func (c *Conn) release() {
	if b := c.buf; b != nil {
		c.buf = nil
		clear(b.events)
		b.events, b.frame = b.events[:0], b.frame[:0]
		if cap(b.frame) <= maxPooledFrame {
			framePool.Put(b)
		}
	}
}

// NextFrame waits for events and returns them as one frame (a JSON array). The frame is
// valid until the next call and must not be modified: it may be shared with other
// connections. It returns an error when the connection must close: ErrSlowConsumer,
// ErrRemoved, ErrClosed, or ctx's error.
func (c *Conn) NextFrame(ctx context.Context) ([]byte, error) {
	c.release()
	for {
		select {
		case ev := <-c.private:
			return c.privateFrame(ev), nil
		default:
		}
		select {
		case <-c.ended:
			return nil, c.endErr
		default:
		}
		data, next, wake, overrun := c.room.out.frame(c.cursor, maxEventsPerFrame, &c.round)
		if overrun {
			c.end(ErrSlowConsumer)
			continue
		}
		if data != nil {
			c.cursor = next
			return data, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		case <-c.ended:
		case ev := <-c.private:
			return c.privateFrame(ev), nil
		}
	}
}

// privateFrame builds a frame of this connection's own events (first among them ev), then
// whatever the room has for it, unless the connection is ending: then only its own events
// (such as the ban notice) go out.
func (c *Conn) privateFrame(ev []byte) []byte {
	b := framePool.Get().(*frameBuf)
	b.events = append(b.events, ev)
drain:
	for len(b.events) < maxEventsPerFrame {
		select {
		case ev := <-c.private:
			b.events = append(b.events, ev)
		default:
			break drain
		}
	}
	select {
	case <-c.ended:
	default:
		var overrun bool
		b.events, c.cursor, _, overrun = c.room.out.read(c.cursor, maxEventsPerFrame-len(b.events), b.events)
		if overrun {
			c.end(ErrSlowConsumer)
		}
	}
	b.frame = protocol.AppendFrame(b.frame, b.events...)
	c.buf = b
	return b.frame
}

// Close removes the connection from its room. It is idempotent.
func (c *Conn) Close() {
	c.leftOnce.Do(func() {
		c.end(ErrClosed)
		r := c.room
		r.mu.Lock()
		if _, ok := r.conns[c]; ok {
			delete(r.conns, c)
			r.out.readers.Add(-1)
		}
		r.mu.Unlock()
		c.hub.release(r)
	})
}

// Receive handles one message from the client: it decodes it and carries it out. Refusals
// go back to this connection as error events; Receive itself never fails.
func (c *Conn) Receive(ctx context.Context, data []byte) {
	req, err := protocol.Decode(data)
	if err != nil {
		var de *protocol.DecodeError
		detail := "malformed request"
		if errors.As(err, &de) {
			detail = de.Code + ": " + de.Detail
		}
		c.push(encodeError(refuse(CodeInvalid), "", detail))
		return
	}
	if err := c.handle(ctx, req); err != nil {
		refusal := AsRefusal(err)
		if refusal.Code == CodeInternal {
			c.hub.log.Error("chat: request failed", "type", req.Type(), "channel", c.room.channelID, "err", err)
		}
		c.push(encodeError(refusal, req.Reference(), ""))
	}
}

func (c *Conn) handle(ctx context.Context, req protocol.Request) error {
	h, id := c.hub, c.room.channelID
	switch req := req.(type) {
	case *protocol.Send:
		return c.room.send(ctx, c, req.Text)
	case *protocol.HistorySince:
		c.push(c.room.resume(ctx, int64(req.After)))
		return nil
	case *protocol.Delete:
		return h.DeleteMessage(ctx, c.user, id, int64(req.ID))
	case *protocol.Timeout:
		return h.Timeout(ctx, c.user, id, req.UserID, time.Duration(req.Seconds)*time.Second, req.Reason)
	case *protocol.Ban:
		return h.Ban(ctx, c.user, id, req.UserID, req.Reason)
	case *protocol.Unban:
		return h.Unban(ctx, c.user, id, req.UserID)
	case *protocol.Slow:
		return h.SetSlowMode(ctx, c.user, id, req.Seconds)
	case *protocol.Mode:
		return h.ChangeModes(ctx, c.user, id, modeChange(req))
	case *protocol.Clear:
		return h.Clear(ctx, c.user, id)
	}
	return refuse(CodeInvalid)
}

// follows reports whether the connection's user follows the channel and since when. The
// answer is cached for followRecheck, for followers and non-followers alike.
func (c *Conn) follows(ctx context.Context) (since time.Time, following bool, err error) {
	f := c.hub.opts.Follows
	if f == nil {
		return time.Time{}, false, nil
	}
	c.followMu.Lock()
	defer c.followMu.Unlock()
	now := c.hub.now()
	if age := now.Sub(c.followChecked); !c.followChecked.IsZero() && age >= 0 && age < followRecheck {
		return c.followSince, c.following, nil
	}
	since, following, err = f.FollowedSince(ctx, c.user.ID, c.room.channelID)
	if err != nil {
		return time.Time{}, false, internalError("check follow", err)
	}
	c.followSince, c.following, c.followChecked = since, following, now
	return since, following, nil
}
