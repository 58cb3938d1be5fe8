package chatweb

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/ws"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/i18n"
)

//go:embed templates
var templateFS embed.FS

// Channels is what the pages need from the channel service (channel.Service implements it).
type Channels interface {
	ByHandle(ctx context.Context, handle string) (*channel.Channel, error)
	ByOwner(ctx context.Context, ownerID int64) (*channel.Channel, error)
}

// Options configure the extension. Hub and Channels are required.
type Options struct {
	Hub      *chat.Hub
	Channels Channels
	// OriginPatterns are other hosts (coder/websocket patterns) whose pages may open the chat
	// socket, such as the site's public host behind a proxy. The request's own host always may.
	OriginPatterns []string
	// Users names the people in the audit log; without it the log shows user ids only.
	Users interface {
		UserByID(ctx context.Context, id int64) (*account.User, error)
	}
	Logger *slog.Logger
}

// Web holds the extension's handlers. Create it with New and give Extension() to web.New.
type Web struct {
	opts   Options
	log    *slog.Logger
	router *web.Router
	socket http.Handler
}

// New checks opts and builds the WebSocket endpoint. It does no I/O.
func New(opts Options) (*Web, error) {
	if opts.Hub == nil || opts.Channels == nil {
		return nil, errors.New("chatweb: Options.Hub and Channels are required")
	}
	w := &Web{opts: opts, log: opts.Logger}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.socket = ws.NewHandler(ws.Options{
		Hub: opts.Hub,
		// The route loads the session before the upgrade (see routes); the client never
		// says who it is.
		Authenticate:   func(r *http.Request) (*account.User, error) { return web.UserFrom(r.Context()), nil },
		ChannelID:      w.channelIDOf,
		OriginPatterns: opts.OriginPatterns,
		Logger:         w.log,
	})
	return w, nil
}

// Extension is what web.New takes to add the chat panel, socket and dashboard.
func (w *Web) Extension() web.Extension {
	tmpl, _ := fs.Sub(templateFS, "templates")
	return web.Extension{
		Name:      "chat",
		Routes:    w.routes,
		Templates: tmpl,
		Messages:  messages,
		Nav:       []web.NavLink{{Href: "/dashboard/chat", Label: "chat.nav_dashboard"}},
		Sections: []web.Section{
			{Slot: web.SlotChannelChat, Template: "chat_panel", Load: w.loadPanel},
		},
	}
}

func (w *Web) routes(r *web.Router) {
	w.router = r
	// Handle (not Raw) so the session is loaded before the upgrade; the socket answers
	// everything after that itself.
	r.Handle("GET /api/v1/chat/{handle}/ws", func(rw http.ResponseWriter, req *http.Request) error {
		w.socket.ServeHTTP(rw, req)
		return nil
	})
	r.Handle("GET /dashboard/chat", w.dashboardPage, web.LoggedIn())
	r.Handle("POST /dashboard/chat/managers", w.appointManager, web.Verified())
	r.Handle("POST /dashboard/chat/managers/dismiss", w.dismissManager, web.Verified())
	r.Handle("POST /dashboard/chat/filter", w.saveFilter, web.Verified())
	r.Handle("POST /dashboard/chat/unban", w.unban, web.Verified())
}

// channelIDOf names the socket's room by the channel handle in the path.
func (w *Web) channelIDOf(r *http.Request) (int64, error) {
	handle := strings.TrimPrefix(r.PathValue("handle"), "@")
	ch, err := w.opts.Channels.ByHandle(r.Context(), handle)
	if err != nil {
		return 0, err
	}
	return ch.ID, nil
}

// socketPath is where the channel's chat socket is served.
func socketPath(handle string) string { return "/api/v1/chat/" + handle + "/ws" }

// refusalError turns a chat hub refusal into what the visitor sees: a status and one of this
// extension's messages, keyed by the refusal code.
func refusalError(err error) error {
	var ref *chat.Refusal
	if !errors.As(err, &ref) {
		return err
	}
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, chat.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, chat.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, chat.ErrInvalid):
		status = http.StatusUnprocessableEntity
	case errors.Is(err, chat.ErrLimited):
		status = http.StatusTooManyRequests
	}
	msg := "chat.err_" + string(ref.Code)
	if _, ok := messages[i18n.Korean][msg]; !ok {
		msg = "chat.err_internal"
	}
	return &web.StatusError{Status: status, Message: msg, Err: err}
}

// isNotFound reports a missing channel or user, from the store or the hub.
func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, chat.ErrNotFound)
}
