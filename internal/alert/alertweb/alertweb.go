// Package alertweb is the web face of follows and alerts: a JSON API under /api/v1/follows and
// /api/v1/alerts, and a WebSocket at /api/v1/alerts/ws that pushes a logged-in user's new
// alerts and bell count to their open pages. It plugs into internal/web as an Extension, so
// sessions, CSRF checks, JSON error bodies and status codes stay web's: handlers return
// errors, and the refusals of follow and alert arrive as web.StatusError. Identity always
// comes from the server-side session. It imports no SQL driver and no configuration package.
package alertweb

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/i18n"
)

// Channels finds a channel by its handle (channel.Service and the store implement it).
type Channels interface {
	ChannelByHandle(ctx context.Context, handle string) (*channel.Channel, error)
}

// Options configures the extension. Follows, Alerts, Hub and Channels are required.
type Options struct {
	Follows  *follow.Service
	Alerts   *alert.Service
	Hub      *alert.Hub
	Channels Channels
	// MediaURL turns a blob key (a channel's profile image) into a URL; nil leaves image
	// URLs out.
	MediaURL func(key string) string
	// PingInterval keeps idle alert sockets alive through proxies; DefaultPingInterval when 0.
	PingInterval time.Duration
	Logger       *slog.Logger
}

// DefaultPingInterval is how often an idle alert socket is pinged.
const DefaultPingInterval = 30 * time.Second

// Extension returns the routes and messages of follows and alerts:
//
//	GET    /api/v1/follows                 the viewer's followed channels, live ones first
//	GET    /api/v1/follows/{handle}        follow status of a channel (anonymous: count only)
//	PUT    /api/v1/follows/{handle}        follow (idempotent)
//	DELETE /api/v1/follows/{handle}        unfollow (idempotent)
//	GET    /api/v1/alerts?before=&limit=   the viewer's alerts, newest first, and unread count
//	GET    /api/v1/alerts/unread           unread count (the bell)
//	POST   /api/v1/alerts/{id}/read        mark one read
//	POST   /api/v1/alerts/read-all         mark all read
//	GET    /api/v1/alerts/ws               WebSocket of alert.Push messages
//
// State-changing routes take a JSON body ("{}" will do) and the X-CSRF-Token header.
func Extension(opts Options) web.Extension {
	if opts.Follows == nil || opts.Alerts == nil || opts.Hub == nil || opts.Channels == nil {
		panic("alertweb: Follows, Alerts, Hub and Channels are required") // a wiring mistake
	}
	h := &handlers{opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.opts.PingInterval <= 0 {
		h.opts.PingInterval = DefaultPingInterval
	}
	return web.Extension{
		Name: "alerts",
		Routes: func(r *web.Router) {
			h.router = r
			r.Handle("GET /api/v1/follows", h.listFollows, web.LoggedIn(), web.JSON())
			r.Handle("GET /api/v1/follows/{handle}", h.followStatus, web.JSON())
			r.Handle("PUT /api/v1/follows/{handle}", h.follow, web.LoggedIn(), web.JSONBody(), web.JSON())
			r.Handle("DELETE /api/v1/follows/{handle}", h.unfollow, web.LoggedIn(), web.JSONBody(), web.JSON())
			r.Handle("GET /api/v1/alerts", h.listAlerts, web.LoggedIn(), web.JSON())
			r.Handle("GET /api/v1/alerts/unread", h.unread, web.LoggedIn(), web.JSON())
			r.Handle("POST /api/v1/alerts/read-all", h.markAllRead, web.LoggedIn(), web.JSONBody(), web.JSON())
			r.Handle("POST /api/v1/alerts/{id}/read", h.markRead, web.LoggedIn(), web.JSONBody(), web.JSON())
			r.Handle("GET /api/v1/alerts/ws", h.socket, web.LoggedIn(), web.JSON())
		},
		Messages: map[i18n.Lang]map[string]string{
			i18n.Korean: {
				"follow.own_channel": "자기 채널은 팔로우할 수 없습니다.",
				"follow.too_many":    "팔로우할 수 있는 채널 수를 넘었습니다.",
			},
			i18n.English: {
				"follow.own_channel": "You cannot follow your own channel.",
				"follow.too_many":    "You follow as many channels as allowed.",
			},
		},
	}
}

type handlers struct {
	opts   Options
	log    *slog.Logger
	router *web.Router
}

// refusal turns the domain's refusals into what the visitor sees; other errors pass through
// to web, which knows store.ErrNotFound and the rest.
func refusal(err error) error {
	switch {
	case errors.Is(err, follow.ErrOwnChannel):
		return &web.StatusError{Status: http.StatusConflict, Message: "follow.own_channel", Err: err}
	case errors.Is(err, follow.ErrTooManyFollows):
		return &web.StatusError{Status: http.StatusConflict, Message: "follow.too_many", Err: err}
	case errors.Is(err, follow.ErrChannelSuspended):
		return &web.StatusError{Status: http.StatusNotFound, Message: "error.not_found", Err: err}
	case errors.Is(err, follow.ErrNoUser), errors.Is(err, alert.ErrNoUser):
		return &web.StatusError{Status: http.StatusUnauthorized, Message: "error.unauthorized", Err: err}
	}
	return err
}

func badRequest(err error) error {
	return &web.StatusError{Status: http.StatusBadRequest, Message: "error.bad_request", Err: err}
}

// channel resolves the {handle} path value; suspended channels are not found.
func (h *handlers) channel(r *http.Request) (*channel.Channel, error) {
	ch, err := h.opts.Channels.ChannelByHandle(r.Context(), r.PathValue("handle"))
	if err != nil {
		return nil, err
	}
	if ch.Suspended {
		return nil, &web.StatusError{Status: http.StatusNotFound, Message: "error.not_found"}
	}
	return ch, nil
}

// viewerID is the logged-in user's id, 0 for an anonymous visitor.
func (h *handlers) viewerID(r *http.Request) int64 {
	if u := h.router.User(r); u != nil {
		return u.ID
	}
	return 0
}

// drainBody reads the (capped) JSON body so a malformed one is refused; the routes take no
// fields.
func drainBody(r *http.Request) error {
	var v map[string]json.RawMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return badRequest(err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(v)
}

func queryInt(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest(errors.New(name + " must be a non-negative integer"))
	}
	return n, nil
}
