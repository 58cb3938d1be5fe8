// Package ws is the chat WebSocket endpoint: it upgrades a request, takes the user from the
// server-side session (through the Authenticate function the web layer provides), joins
// the chat room and pumps frames both ways with keepalive pings, read limits and a
// per-connection message rate. It owns the transport only: rules and rooms are package
// chat's, the wire format package chat/protocol's. It imports no SQL or configuration.
package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/protocol"
)

// Close codes the endpoint uses besides the standard ones. Clients reconnect (with backoff
// and jitter, resuming after the last message id they saw) on 1001, 1006, 1011, 1012 and
// StatusTooSlow; they stop on StatusBanned, StatusNotFound and 1008.
const (
	// StatusTooSlow: the connection fell behind the room; reconnect and resume.
	StatusTooSlow websocket.StatusCode = 4001
	// StatusBanned: the user is banned from the room; do not reconnect.
	StatusBanned websocket.StatusCode = 4003
	// StatusNotFound: no such channel, or its chat is unavailable.
	StatusNotFound websocket.StatusCode = 4004
)

// Defaults for Options.
const (
	DefaultPingInterval = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMessageRate  = rate.Limit(5)
	DefaultMessageBurst = 20
)

// Options configure the handler. Hub and Authenticate are required.
type Options struct {
	Hub *chat.Hub
	// Authenticate returns the user of the request's server-side session (from the session
	// cookie), nil with a nil error for a visitor who is not logged in. The client never says
	// who it is.
	Authenticate func(r *http.Request) (*account.User, error)
	// ChannelID says which room the request is for. The default reads the path value
	// "channel" (a route like /ws/chat/{channel}) and else the query parameter "channel", as
	// a decimal channel id.
	ChannelID func(r *http.Request) (int64, error)
	// OriginPatterns lists other origins (host patterns, as in coder/websocket) allowed to
	// open the socket. The request's own host is always allowed; every other origin is
	// refused, so another site cannot use a visitor's session cookie to chat as them.
	OriginPatterns []string
	// PingInterval is how often an idle connection is pinged; a peer that does not answer
	// within the interval is closed.
	PingInterval time.Duration
	// WriteTimeout is how long a ping may wait for its pong (and for a stuck frame write to
	// finish); a peer that does not answer in time is closed (it can reconnect and resume).
	WriteTimeout time.Duration
	// MessageRate and MessageBurst bound client messages per connection, before any chat
	// rule runs; a client over the limit is disconnected (1008).
	MessageRate  rate.Limit
	MessageBurst int
	Logger       *slog.Logger
}

type handler struct {
	opts Options
	log  *slog.Logger
}

// NewHandler returns the chat WebSocket endpoint. It panics if Hub or Authenticate is
// missing: that is a wiring mistake, not a run-time condition.
//
// The query parameter "after" (a message id) resumes after a reconnect: the first history
// frame then holds what was missed instead of the recent messages.
func NewHandler(opts Options) http.Handler {
	if opts.Hub == nil || opts.Authenticate == nil {
		panic("chat/ws: NewHandler needs Hub and Authenticate")
	}
	if opts.ChannelID == nil {
		opts.ChannelID = channelFromRequest
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.MessageRate <= 0 {
		opts.MessageRate = DefaultMessageRate
	}
	if opts.MessageBurst <= 0 {
		opts.MessageBurst = DefaultMessageBurst
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &handler{opts: opts, log: log}
}

func channelFromRequest(r *http.Request) (int64, error) {
	s := r.PathValue("channel")
	if s == "" {
		s = r.URL.Query().Get("channel")
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("channel %q is not a channel id", s)
	}
	return id, nil
}

// ServeHTTP upgrades first and reports every later problem inside the socket (an error
// event, then a close code): a browser cannot read the status of a failed handshake.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:  h.opts.OriginPatterns,
		CompressionMode: websocket.CompressionDisabled, // per-connection deflate state costs more memory than chat saves
	})
	if err != nil {
		return // Accept answered the request (403 for a foreign origin, 400 for a bad handshake)
	}
	conn.SetReadLimit(protocol.MaxRequestBytes)
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()

	channelID, err := h.opts.ChannelID(r)
	if err != nil {
		h.refuse(ctx, conn, &chat.Refusal{Code: chat.CodeNotFound}, StatusNotFound)
		return
	}
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		id, err := protocol.ParseMessageID(s)
		if err != nil {
			h.refuse(ctx, conn, &chat.Refusal{Code: chat.CodeInvalid}, websocket.StatusPolicyViolation)
			return
		}
		after = int64(id)
	}
	user, err := h.opts.Authenticate(r)
	if err != nil {
		h.log.Error("chat/ws: authenticate", "err", err)
		h.refuse(ctx, conn, &chat.Refusal{Code: chat.CodeInternal}, websocket.StatusInternalError)
		return
	}
	member, err := h.opts.Hub.Join(ctx, channelID, user, after)
	if err != nil {
		refusal := chat.AsRefusal(err)
		if errors.Is(err, chat.ErrClosed) {
			conn.Close(websocket.StatusServiceRestart, "restarting")
			return
		}
		h.refuse(ctx, conn, refusal, closeCodeFor(refusal))
		return
	}
	defer member.Close()

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		h.writeLoop(ctx, conn, member)
	}()
	h.readLoop(ctx, conn, member)
	cancel()
	conn.CloseNow() // unblocks a write stuck on a peer that stopped reading
	<-done
}

// refuse tells the client why it cannot join, then closes.
func (h *handler) refuse(ctx context.Context, conn *websocket.Conn, r *chat.Refusal, code websocket.StatusCode) {
	wctx, cancel := context.WithTimeout(ctx, h.opts.WriteTimeout)
	defer cancel()
	frame := protocol.AppendFrame(nil, chat.EncodeRefusal(r))
	if err := conn.Write(wctx, websocket.MessageText, frame); err != nil {
		conn.CloseNow()
		return
	}
	conn.Close(code, string(r.Code))
}

func closeCodeFor(r *chat.Refusal) websocket.StatusCode {
	switch r.Code {
	case chat.CodeBanned:
		return StatusBanned
	case chat.CodeNotFound, chat.CodeUnavailable:
		return StatusNotFound
	case chat.CodeInternal:
		return websocket.StatusInternalError
	}
	return websocket.StatusPolicyViolation
}

// readLoop feeds client messages to the room until the connection ends. Reading also
// processes pongs and the close handshake.
func (h *handler) readLoop(ctx context.Context, conn *websocket.Conn, member *chat.Conn) {
	limiter := rate.NewLimiter(h.opts.MessageRate, h.opts.MessageBurst)
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return // closed by the peer, by the write side, or over the read limit (1009)
		}
		if typ != websocket.MessageText {
			conn.Close(websocket.StatusUnsupportedData, "text frames only")
			return
		}
		if !limiter.Allow() {
			conn.Close(websocket.StatusPolicyViolation, "too many messages")
			return
		}
		member.Receive(ctx, data)
	}
}

// writeLoop writes the room's frames and keeps an idle connection alive with pings: a
// timer (no goroutine while it waits) fires after PingInterval without a write.
func (h *handler) writeLoop(ctx context.Context, conn *websocket.Conn, member *chat.Conn) {
	var pinger *time.Timer
	pinger = time.AfterFunc(h.opts.PingInterval, func() {
		if h.ping(ctx, conn) {
			pinger.Reset(h.opts.PingInterval)
		}
	})

	defer pinger.Stop()
	for {
		frame, err := member.NextFrame(ctx)
		if err != nil {
			h.closeFor(conn, err)
			return
		}
		// No context per write: with one, every frame registers and removes a cancellation
		// callback, which at scale costs more than the write. A write that never completes
		// stops the pinger's resets, and the ping, which cannot get through either, closes
		// the connection after WriteTimeout; so does the read side ending (ServeHTTP).
		err = conn.Write(context.Background(), websocket.MessageText, frame)
		if err != nil {
			conn.CloseNow()
			return
		}
		pinger.Reset(h.opts.PingInterval)
	}
}

// ping checks that the peer still answers; a dead peer is closed, which ends both loops.
// It reports whether to keep pinging.
func (h *handler) ping(ctx context.Context, conn *websocket.Conn) bool {
	pctx, cancel := context.WithTimeout(ctx, h.opts.WriteTimeout)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		conn.CloseNow()
		return false
	}
	return ctx.Err() == nil
}

func (h *handler) closeFor(conn *websocket.Conn, err error) {
	switch {
	case errors.Is(err, chat.ErrSlowConsumer):
		conn.Close(StatusTooSlow, "too slow; reconnect and resume")
	case errors.Is(err, chat.ErrRemoved):
		conn.Close(StatusBanned, "banned")
	case errors.Is(err, chat.ErrClosed):
		conn.Close(websocket.StatusServiceRestart, "restarting")
	default:
		conn.CloseNow()
	}
}
