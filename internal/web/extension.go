package web

import (
	"io/fs"
	"net/http"
	"sort"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/web/i18n"
)

// HandlerFunc is a page or API handler. It returns an error instead of writing an error
// response; the web layer chooses the status, page and log line (errors.go).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Extension adds a later feature's web parts without editing this package.
type Extension struct {
	// Name identifies the extension in errors.
	Name string
	// Routes registers the extension's handlers.
	Routes func(r *Router)
	// Templates holds *.html files parsed together with the built-in ones (so they can use the
	// built-in partials and functions: t, asset, fragment, ...). Files under pages/ are pages
	// rendered inside the layout and must define "content"; every other file holds {{define}}
	// blocks used as section templates.
	Templates fs.FS
	// Messages adds catalog entries (language → ID → text); IDs must not clash with built-ins.
	Messages map[i18n.Lang]map[string]string
	// Nav adds links to the side navigation.
	Nav []NavLink
	// Sections fill slots on built-in pages.
	Sections []Section
}

// NavLink is an entry of the side navigation. Label is a message ID.
type NavLink struct {
	Href  string
	Label string
}

// Slots on built-in pages that Sections can fill.
const (
	// SlotHomeLive is the "live now" area of the home page; its placeholder is an empty state.
	SlotHomeLive = "home.live"
	// SlotHomeAfter follows the categories on the home page (recommendations, replays, ...).
	SlotHomeAfter = "home.after"
	// SlotChannelPlayer is the video box of the channel page; its placeholder says offline.
	SlotChannelPlayer = "channel.player"
	// SlotChannelChat is the chat box next to the player.
	SlotChannelChat = "channel.chat"
	// SlotChannelAfter follows the channel's introduction (replays, notices, ...).
	SlotChannelAfter = "channel.after"
	// SlotChannelActions sits beside the channel's name (follow button, ...).
	SlotChannelActions = "channel.actions"
	// SlotHeader is in the top bar of every page, before the account menu (alert bell, ...).
	// Its sections run on every page render: keep their Load cheap.
	SlotHeader = "layout.header"
	// SlotSideNav follows the side navigation's links on every page (followed channels, ...).
	// Like SlotHeader it runs on every page render.
	SlotSideNav = "layout.sidenav"
)

// Section renders Template with the data Load returns into a slot. A nil result (or a Load
// error, which is logged) leaves the section out, so a broken feature degrades to the
// built-in placeholder instead of failing the page.
type Section struct {
	Slot     string
	Template string
	Order    int // lower first
	Load     func(r *http.Request, in SlotInput) (any, error)
}

// SlotInput is what a section may know about the page it is part of.
type SlotInput struct {
	Viewer  *account.User    // nil when anonymous
	Channel *channel.Channel // set on channel-page slots
}

// Fragment is a rendered-later section: a template name and its data. Pages carry them in
// Page.Slots and templates render them with {{fragment .}}.
type Fragment struct {
	Template string
	Data     any
}

// Router registers an extension's routes on the server.
type Router struct{ s *Server }

// Handle registers h for pattern (a ServeMux pattern such as "GET /c/{handle}/live") with the
// same route options the built-in routes use.
func (r *Router) Handle(pattern string, h HandlerFunc, opts ...RouteOption) {
	r.s.handle(pattern, h, opts...)
}

// Raw registers a plain handler (an HLS server, a WebSocket gateway). It gets the request id,
// security headers and cross-origin check of every request but no session, body handling or
// error pages.
func (r *Router) Raw(pattern string, h http.Handler) { r.s.mux.Handle(pattern, h) }

// Render writes a page inside the site layout; see Server.render.
func (r *Router) Render(w http.ResponseWriter, req *http.Request, status int, p *Page) error {
	return r.s.render(w, req, status, p)
}

// CSRFToken returns the form token of a logged-in visitor's request ("" when anonymous), for
// section templates whose forms post without JavaScript (pages get it in Page.CSRFToken).
func (r *Router) CSRFToken(req *http.Request) string {
	if st := stateFrom(req.Context()); st != nil && st.session != nil {
		return sessionCSRFToken(st.session.CSRFSecret)
	}
	return ""
}

// User returns the logged-in user of the request, or nil.
func (r *Router) User(req *http.Request) *account.User { return userFrom(req.Context()) }

func sortSections(secs []Section) {
	sort.SliceStable(secs, func(i, j int) bool { return secs[i].Order < secs[j].Order })
}

// fillSlot runs the sections registered for slot and returns their fragments.
func (s *Server) fillSlot(r *http.Request, slot string, in SlotInput) []Fragment {
	secs := s.sections[slot]
	var out []Fragment
	for _, sec := range secs {
		data, err := sec.Load(r, in)
		if err != nil {
			s.log.ErrorContext(r.Context(), "web: section failed", "slot", slot, "template", sec.Template,
				"request_id", stateFrom(r.Context()).id, "err", err)
			continue
		}
		if data == nil {
			continue
		}
		out = append(out, Fragment{Template: sec.Template, Data: data})
	}
	return out
}
