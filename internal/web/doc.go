// Package web is Freely's HTTP front: the route table, one handler per file, server-rendered
// pages (html/template, Korean first with an English fallback), embedded static assets, the
// session cookie, CSRF protection, rate limits and the small JSON API. It is the only package
// that turns errors into HTTP status codes. It calls the account and channel services and must
// not import SQL drivers, the store adapters or the configuration package: the composition root
// hands it everything through Options.
//
// # Reading the package
//
// routes.go is the whole URL space at a glance. Each handler lives in a file named after what
// it does (signup.go, channel_settings.go, ...) and has the shape
//
//	func(w http.ResponseWriter, r *http.Request) error
//
// Handlers return errors instead of writing error responses; errors.go maps them to a status
// and an error page (or {"error":{...}} under /api/) and logs unexpected ones once, with the
// request id. Route options (loggedIn, formBody, uploadBody, limitedBy, ...) do the common
// work before a handler runs: session and login checks, Content-Type checks, body size caps,
// form parsing and the CSRF token check.
//
// # Adding routes and page sections
//
// Inside this package, a new page is three steps: a line in routes.go, a handler file and a
// template in templates/pages/NAME.html that defines "content" (the layout supplies the header,
// navigation, notice bar and footer). Messages go in i18n/messages_ko.go and messages_en.go.
//
// From another package (live video, chat, search, alerts), pass an Extension in
// Options.Extensions:
//
//	web.Extension{
//	    Name:      "live",
//	    Routes:    func(r *web.Router) { r.Handle("GET /c/{handle}/live.json", h, web.JSON()) },
//	    Templates: liveTemplates,             // fs.FS: pages/*.html are pages, other *.html are fragments
//	    Messages:  map[i18n.Lang]map[string]string{...},
//	    Nav:       []web.NavLink{{Href: "/following", Label: "nav.following"}},
//	    Sections:  []web.Section{{Slot: web.SlotHomeLive, Template: "live_grid", Load: loadLive}},
//	}
//
// Router.Handle takes the same route options as the built-in routes (LoggedIn, Verified,
// Upload, JSONBody, JSON), so extension routes get sessions, CSRF checks, body caps and error
// pages for free; Router.Render draws a page inside the site layout; Router.Raw mounts a plain
// http.Handler (HLS, WebSocket) under the same security headers and cross-origin check.
// Scripts that post JSON send the page's <meta name="csrf-token"> value in X-CSRF-Token. A Section fills a named slot on a built-in page
// (the "live now" grid of the home page, the player and chat boxes of the channel page); a
// slot with no section shows its built-in placeholder.
package web
