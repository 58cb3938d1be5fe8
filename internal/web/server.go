package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/ratelimit"
	"github.com/freelylive/freely/internal/web/i18n"
)

// Body size caps. Forms carry a few short fields; uploads carry one image (the image
// processor applies its own, per-kind limits after this).
const (
	maxFormBytes   = 64 << 10
	maxUploadBytes = 5 << 20
)

// Rate is a token-bucket limit: PerMinute requests per minute on average, bursts of Burst.
type Rate struct {
	PerMinute float64
	Burst     int
}

// Options configure a Server. Accounts and Channels are required.
type Options struct {
	Accounts *account.Service
	Channels *channel.Service
	// Blob serves uploaded media (avatars, channel images) under /media/; it receives the
	// request with its full path. Nil leaves /media/ unrouted (404).
	Blob   http.Handler
	Logger *slog.Logger
	// BaseURL is the public URL of the site ("https://live.example.com"); it appears in page
	// text such as the channel-address hint.
	BaseURL string
	// SecureCookies marks cookies Secure; set it when the site is served over HTTPS, also
	// behind a TLS-terminating proxy. Requests that arrive over TLS get Secure cookies anyway.
	SecureCookies bool
	// TrustProxy takes the client address from X-Forwarded-For (the right-most entry, the
	// one the proxy itself added) for rate limits and session metadata. Leave it off unless
	// a proxy you run always sets that header.
	TrustProxy bool
	// SecretKey signs the CSRF cookie of anonymous visitors. Every node of a deployment needs
	// the same key, at least 32 bytes; when empty a random key is made, so anonymous forms
	// rendered before a restart stop working after it.
	SecretKey []byte
	// SignUpRate and LogInRate limit sign-up and log-in (and password-reset requests, which
	// send mail) per client address. Zero values get defaults: 5/min burst 5 and 10/min
	// burst 10.
	SignUpRate, LogInRate Rate
	// MediaOrigins are extra origins (a CDN or S3 bucket) allowed for images and media in the
	// Content-Security-Policy.
	MediaOrigins []string
	// Extensions add routes, templates, messages, navigation links and page sections from
	// later features; see the package documentation.
	Extensions []Extension
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the web front. It is an http.Handler; Close releases its background work (rate
// limiter janitors).
type Server struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	accounts *account.Service
	channels *channel.Service

	mux         *http.ServeMux
	crossOrigin *http.CrossOriginProtection
	catalog     *i18n.Catalog
	assets      *assets
	views       *views
	csp         string
	secret      []byte
	baseURL     string

	signupLimiter *ratelimit.Limiter
	loginLimiter  *ratelimit.Limiter

	nav      []NavLink
	sections map[string][]Section
	// replacements: built-in placeholder routes taken over by extensions (replace.go); only
	// written while New runs.
	replacements map[string]HandlerFunc
}

// New builds a Server: it parses every template and loads every asset up front, so a broken
// template stops the program at start instead of failing a request later.
func New(opts Options) (*Server, error) {
	if opts.Accounts == nil || opts.Channels == nil {
		return nil, errors.New("web: Options.Accounts and Options.Channels are required")
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		now:      opts.Now,
		accounts: opts.Accounts,
		channels: opts.Channels,
		mux:      http.NewServeMux(),
		secret:   opts.SecretKey,
		baseURL:  strings.TrimRight(opts.BaseURL, "/"),
		sections: map[string][]Section{},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.baseURL != "" {
		if u, err := url.Parse(s.baseURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("web: BaseURL %q is not an absolute http(s) URL", opts.BaseURL)
		}
	}
	if len(s.secret) == 0 {
		s.secret = make([]byte, 32)
		rand.Read(s.secret)
		s.log.Info("web: no secret key configured; anonymous form tokens will not survive a restart")
	} else if len(s.secret) < 32 {
		return nil, errors.New("web: SecretKey must be at least 32 bytes")
	}

	var extraMsgs []map[i18n.Lang]map[string]string
	var extraTemplates []fs.FS
	for _, ext := range opts.Extensions {
		if ext.Messages != nil {
			extraMsgs = append(extraMsgs, ext.Messages)
		}
		if ext.Templates != nil {
			extraTemplates = append(extraTemplates, ext.Templates)
		}
		s.nav = append(s.nav, ext.Nav...)
		for _, sec := range ext.Sections {
			if sec.Slot == "" || sec.Template == "" || sec.Load == nil {
				return nil, fmt.Errorf("web: extension %q has a section without slot, template or loader", ext.Name)
			}
			s.sections[sec.Slot] = append(s.sections[sec.Slot], sec)
		}
	}
	for _, secs := range s.sections {
		sortSections(secs)
	}
	var err error
	if s.catalog, err = i18n.New(extraMsgs...); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	staticRoot, _ := fs.Sub(staticFS, "static")
	if s.assets, err = loadAssets(staticRoot); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.views, err = parseViews(s.catalog, s.assets, extraTemplates); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.csp = contentSecurityPolicy(opts.MediaOrigins)

	// Browsers say where a request comes from (Sec-Fetch-Site, Origin); a cross-site POST is
	// refused before any handler or form parsing runs. The synchronizer token (csrf.go) is
	// the second line, for browsers and proxies that strip those headers.
	s.crossOrigin = http.NewCrossOriginProtection()

	s.signupLimiter = newLimiter(opts.SignUpRate, Rate{PerMinute: 5, Burst: 5})
	s.loginLimiter = newLimiter(opts.LogInRate, Rate{PerMinute: 10, Burst: 10})

	s.routes()
	for _, ext := range opts.Extensions {
		if ext.Routes != nil {
			ext.Routes(&Router{s: s})
		}
	}
	return s, nil
}

func newLimiter(r, def Rate) *ratelimit.Limiter {
	if r.PerMinute <= 0 || r.Burst <= 0 {
		r = def
	}
	return ratelimit.New(r.PerMinute/60, r.Burst, 30*time.Minute)
}

// Close stops the rate limiters' background eviction. The Server must not serve afterwards.
func (s *Server) Close() {
	s.signupLimiter.Close()
	s.loginLimiter.Close()
}

// ServeHTTP runs every request through the same outer steps: a request id, panic recovery,
// security headers, the language choice and the cross-origin check, then the route table.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := &requestState{id: newRequestID()}
	r = r.WithContext(withState(r.Context(), st))
	rw := &responseWriter{ResponseWriter: w}
	rw.Header().Set("X-Request-Id", st.id)
	s.setSecurityHeaders(rw, r)
	defer s.recoverPanic(rw, r)
	s.chooseLang(rw, r)
	if err := s.crossOrigin.Check(r); err != nil {
		s.fail(rw, r, errCrossOrigin)
		return
	}
	s.mux.ServeHTTP(rw, r)
}
