package web

import (
	"net/http"

	"github.com/freelylive/freely/internal/ratelimit"
	"github.com/freelylive/freely/internal/web/i18n"
)

// routeConfig is what a route asks of the web layer before its handler runs.
type routeConfig struct {
	body      bodyKind
	loggedIn  bool
	verified  bool
	json      bool
	anyMethod bool // the catch-all: changes nothing, so no body parsing or CSRF check
	limiter   *ratelimit.Limiter
	scope     string // rate-limit bucket prefix
}

// RouteOption adjusts a route; see LoggedIn, Verified, Upload and JSON.
type RouteOption func(*routeConfig)

// LoggedIn sends anonymous visitors to the log-in page (401 JSON on JSON routes).
func LoggedIn() RouteOption { return func(c *routeConfig) { c.loggedIn = true } }

// Verified also refuses (403) users whose e-mail address is not verified.
func Verified() RouteOption {
	return func(c *routeConfig) { c.loggedIn, c.verified = true, true }
}

// Upload makes a state-changing route accept multipart/form-data up to 5 MB instead of a
// URL-encoded form up to 64 KB.
func Upload() RouteOption { return func(c *routeConfig) { c.body = uploadBody } }

// JSONBody makes a state-changing route accept an application/json body up to 64 KB, which
// the handler decodes; the CSRF token then comes in the X-CSRF-Token header (pages carry it
// in <meta name="csrf-token">).
func JSONBody() RouteOption { return func(c *routeConfig) { c.body = jsonBody } }

// JSON makes the route's errors JSON instead of error pages.
func JSON() RouteOption { return func(c *routeConfig) { c.json = true } }

// limitedBy counts the route against a per-client rate limit.
func limitedBy(l *ratelimit.Limiter, scope string) RouteOption {
	return func(c *routeConfig) { c.limiter, c.scope = l, scope }
}

// unrouted marks the catch-all route, which only answers 404 or 405.
func unrouted(c *routeConfig) { c.anyMethod = true }

// Short names for routes.go, so the table reads as a table.
var (
	loggedIn = LoggedIn()
	verified = Verified()
	upload   = Upload()
	asJSON   = JSON()
)

// handle registers a route. Before h runs, every route gets the visitor's language and
// session; state-changing methods also get a Content-Type check, a body cap, form parsing
// and the CSRF token check, so a handler only ever sees a well-formed, same-site request.
func (s *Server) handle(pattern string, h HandlerFunc, opts ...RouteOption) {
	var cfg routeConfig
	for _, o := range opts {
		o(&cfg)
	}
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.prepare(w, r, &cfg); err != nil {
			s.fail(w, r, err)
			return
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	}))
}

func (s *Server) prepare(w http.ResponseWriter, r *http.Request, cfg *routeConfig) error {
	st := stateFrom(r.Context())
	st.json = cfg.json
	if err := s.loadSession(w, r); err != nil {
		return err
	}
	if cfg.limiter != nil && !cfg.limiter.Allow(rateKey(cfg.scope, s.clientIP(r))) {
		return errRateLimited
	}
	if cfg.loggedIn && st.user == nil {
		return &StatusError{Status: http.StatusUnauthorized, Message: "error.unauthorized"}
	}
	if cfg.verified && !st.user.Verified() {
		return errNotVerified
	}
	if safeMethod(r.Method) || cfg.anyMethod {
		return nil
	}
	if err := parseBody(w, r, cfg.body); err != nil {
		return err
	}
	if !s.validCSRF(r) {
		return errCSRF
	}
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// chooseLang sets the request's language; an explicit ?lang= choice is remembered in a
// cookie for a year.
func (s *Server) chooseLang(w http.ResponseWriter, r *http.Request) {
	st := stateFrom(r.Context())
	q := r.URL.Query().Get("lang")
	cookie := ""
	if c, err := r.Cookie(langCookie); err == nil {
		cookie = c.Value
	}
	st.lang = i18n.Choose(q, cookie, r.Header.Get("Accept-Language"))
	if l, ok := i18n.Parse(q); ok && l != i18n.Lang(cookie) {
		c := s.cookie(r, langCookie, string(l))
		c.MaxAge = 365 * 24 * 3600
		http.SetCookie(w, c)
	}
}
