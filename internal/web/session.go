package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/freelylive/freely/internal/account"
)

const (
	sessionCookie = "freely_session"
	langCookie    = "freely_lang"
	flashCookie   = "freely_flash"
	maxUserAgent  = 256
)

// loadSession resolves the session cookie into a user, once per request. An unknown or
// expired token is not an error: the visitor is anonymous and the stale cookie is removed.
func (s *Server) loadSession(w http.ResponseWriter, r *http.Request) error {
	st := stateFrom(r.Context())
	if st.sessionLoaded {
		return nil
	}
	st.sessionLoaded = true
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	u, sess, err := s.accounts.Authenticate(r.Context(), c.Value)
	switch {
	case errors.Is(err, account.ErrUnauthenticated):
		s.clearCookie(w, r, sessionCookie)
		return nil
	case err != nil:
		return fmt.Errorf("authenticate session: %w", err)
	}
	st.token, st.user, st.session = c.Value, u, sess
	// The session slides forward on use; move the cookie's expiry with it.
	s.setSessionCookie(w, r, c.Value, sess.ExpiresAt)
	return nil
}

// startSession logs the browser in with a fresh session token from Accounts.LogIn.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, token string, u *account.User, sess *account.Session) {
	st := stateFrom(r.Context())
	st.sessionLoaded, st.token, st.user, st.session = true, token, u, sess
	s.setSessionCookie(w, r, token, sess.ExpiresAt)
}

// endSession forgets the session in this request and in the browser.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	st := stateFrom(r.Context())
	st.token, st.user, st.session = "", nil, nil
	s.clearCookie(w, r, sessionCookie)
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	c := s.cookie(r, sessionCookie, token)
	if !expires.IsZero() {
		c.Expires = expires
		c.MaxAge = max(1, int(expires.Sub(s.now()).Seconds()))
	}
	http.SetCookie(w, c)
}

// cookie returns a cookie with the house attributes: HttpOnly, SameSite=Lax, Path=/, and
// Secure when configured or when the request came over TLS.
func (s *Server) cookie(r *http.Request, name, value string) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   s.opts.SecureCookies || r.TLS != nil,
	}
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	c := s.cookie(r, name, "")
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// sessionMeta describes the client for the session list (user agent, address).
func (s *Server) sessionMeta(r *http.Request) account.SessionMeta {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return account.SessionMeta{UserAgent: strings.ToValidUTF8(ua, ""), IP: s.clientIP(r)}
}

// loginURL sends the visitor to the log-in page and back to where they were afterwards.
func loginURL(r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(r.URL.RequestURI())
}

// safeNext returns next when it is a path on this site, else "/". It refuses absolute URLs,
// scheme-relative "//host" and "/\host" (which browsers treat as "//host"), and control
// characters, so ?next= cannot send a user to another site after logging in.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// redirect answers a form post (or a GET) with 303 See Other, optionally leaving a one-time
// message (a "flash." catalog ID) for the next page.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		c := s.cookie(r, flashCookie, flash)
		c.MaxAge = 60
		http.SetCookie(w, c)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// takeFlash returns the pending one-time message ID and clears it. Only known "flash." IDs
// are shown, so the cookie cannot inject text.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	s.clearCookie(w, r, flashCookie)
	if !strings.HasPrefix(c.Value, "flash.") || !s.catalog.Has(c.Value) {
		return ""
	}
	return c.Value
}
