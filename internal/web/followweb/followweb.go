// Package followweb is the page side of follows and alerts: the follow button beside a
// channel's name, the followed-channels panel in the side navigation (live ones first), the
// alert bell in the top bar with its unread count, the alert list page, and the script that
// turns them live (JSON calls to alertweb's API, toasts from its WebSocket). Every form also
// works without JavaScript. It plugs into internal/web as an Extension, so sessions, CSRF,
// status codes and error pages stay web's; it imports no SQL driver and no configuration.
package followweb

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/web"
)

// Channels finds a channel by its handle (the store implements it).
type Channels interface {
	ChannelByHandle(ctx context.Context, handle string) (*channel.Channel, error)
}

// Options configures the pages. Follows, Alerts and Channels are required.
type Options struct {
	Follows  *follow.Service
	Alerts   *alert.Service
	Channels Channels
	// ImageURL turns a channel's profile-image key into a URL; nil shows initials only.
	ImageURL func(key string) string
	// PanelLimit is how many followed channels the side panel lists; DefaultPanelLimit when 0.
	PanelLimit int
	Logger     *slog.Logger
}

// DefaultPanelLimit keeps the side panel short: live channels come first, so the ones that
// matter are always in it.
const DefaultPanelLimit = 30

// Web holds the pages' handlers and section loaders.
type Web struct {
	opts   Options
	log    *slog.Logger
	router *web.Router
}

// New checks opts and returns the pages.
func New(opts Options) (*Web, error) {
	if opts.Follows == nil || opts.Alerts == nil || opts.Channels == nil {
		return nil, errors.New("followweb: Follows, Alerts and Channels are required")
	}
	if opts.PanelLimit <= 0 {
		opts.PanelLimit = DefaultPanelLimit
	}
	if opts.ImageURL == nil {
		opts.ImageURL = func(string) string { return "" }
	}
	w := &Web{opts: opts, log: opts.Logger}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w, nil
}

// Extension returns the pages, sections and messages:
//
//	GET  /following              the viewer's followed channels, live ones first (the side
//	                             panel's content as a page, for phones, which have no side panel)
//	GET  /alerts                 the viewer's alerts, newest first (?before= pages on)
//	POST /alerts/{id}/read       mark one read (form; the script uses the JSON API)
//	POST /alerts/read-all        mark all read (form)
//	POST /c/{handle}/follow      follow (follow=1) or unfollow (follow=0), then back (form)
//
// Sections: the follow button (web.SlotChannelActions), the bell (web.SlotHeader) and the
// followed-channels panel (web.SlotSideNav).
func (w *Web) Extension() web.Extension {
	return web.Extension{
		Name: "follow pages",
		Routes: func(r *web.Router) {
			w.router = r
			r.Handle("GET /following", w.followingPage, web.LoggedIn())
			r.Handle("GET /alerts", w.alertsPage, web.LoggedIn())
			r.Handle("POST /alerts/read-all", w.markAllRead, web.LoggedIn())
			r.Handle("POST /alerts/{id}/read", w.markRead, web.LoggedIn())
			r.Handle("POST /c/{handle}/follow", w.followForm, web.LoggedIn())
		},
		Templates: templateFS(),
		Nav:       []web.NavLink{{Href: "/following", Label: "followweb.nav_following"}},
		Messages:  messages,
		Sections: []web.Section{
			{Slot: web.SlotChannelActions, Template: "follow-button", Load: w.loadButton},
			{Slot: web.SlotHeader, Template: "alert-bell", Load: w.loadBell},
			{Slot: web.SlotSideNav, Template: "followed-panel", Load: w.loadPanel},
		},
	}
}

// refusal turns the follow refusals into what the visitor sees.
func refusal(err error) error {
	switch {
	case errors.Is(err, follow.ErrOwnChannel):
		return &web.StatusError{Status: http.StatusConflict, Message: "follow.own_channel", Err: err}
	case errors.Is(err, follow.ErrTooManyFollows):
		return &web.StatusError{Status: http.StatusConflict, Message: "follow.too_many", Err: err}
	case errors.Is(err, follow.ErrChannelSuspended):
		return &web.StatusError{Status: http.StatusNotFound, Message: "error.not_found", Err: err}
	}
	return err
}

func badRequest(msg string) error {
	return &web.StatusError{Status: http.StatusBadRequest, Message: "error.bad_request", Err: errors.New(msg)}
}
