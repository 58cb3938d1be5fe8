package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"net/http"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/web/i18n"
)

// requestState is what the web layer learns about a request as it goes: who asks, in which
// language, and whether errors should be JSON. One per request, in the context; only the
// request's own goroutine touches it.
type requestState struct {
	id   string
	lang i18n.Lang
	json bool

	sessionLoaded bool
	token         string // the session cookie's token, when it named a live session
	user          *account.User
	session       *account.Session

	anonNonce string // nonce of this visitor's anonymous CSRF cookie, once known or made
}

type stateKey struct{}

func withState(ctx context.Context, st *requestState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

// stateFrom returns the request's state. Requests that did not pass through Server.ServeHTTP
// (a handler called directly) get a fresh, empty one, so callers never check for nil.
func stateFrom(ctx context.Context) *requestState {
	if st, ok := ctx.Value(stateKey{}).(*requestState); ok {
		return st
	}
	return &requestState{lang: i18n.Default}
}

// userFrom returns the logged-in user of the request, or nil. Identity comes only from the
// server-side session named by the cookie.
func userFrom(ctx context.Context) *account.User { return stateFrom(ctx).user }

// UserFrom is userFrom for other packages' handlers (extensions).
func UserFrom(ctx context.Context) *account.User { return userFrom(ctx) }

// RequestID returns the id the web layer gave the request (also in the X-Request-Id header
// and in error log lines), or "".
func RequestID(ctx context.Context) string { return stateFrom(ctx).id }

var requestIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newRequestID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return requestIDEncoding.EncodeToString(b)
}

// responseWriter remembers whether the response has started, so a panic after the first
// byte is not answered with a second status line. Unwrap keeps http.ResponseController and
// WebSocket hijacking working through it.
type responseWriter struct {
	http.ResponseWriter
	status int
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
