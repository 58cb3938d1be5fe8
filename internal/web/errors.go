package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/blob"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/form"
	"github.com/freelylive/freely/internal/store"
)

// StatusError is an error with the status and the message (a catalog ID) the visitor should
// see. Handlers, also in extensions, return one when they know the answer; Err, when set, is
// the cause for logs.
type StatusError struct {
	Status  int
	Message string
	Err     error
}

func (e *StatusError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *StatusError) Unwrap() error { return e.Err }

var (
	errBadRequest      = &StatusError{Status: http.StatusBadRequest, Message: "error.bad_request"}
	errCrossOrigin     = &StatusError{Status: http.StatusForbidden, Message: "error.csrf"}
	errCSRF            = &StatusError{Status: http.StatusForbidden, Message: "error.csrf"}
	errNotVerified     = &StatusError{Status: http.StatusForbidden, Message: "error.not_verified"}
	errNotFound        = &StatusError{Status: http.StatusNotFound, Message: "error.not_found"}
	errTooLarge        = &StatusError{Status: http.StatusRequestEntityTooLarge, Message: "error.too_large"}
	errUnsupportedType = &StatusError{Status: http.StatusUnsupportedMediaType, Message: "error.content_type"}
	errRateLimited     = &StatusError{Status: http.StatusTooManyRequests, Message: "error.rate_limited"}
	errInternal        = &StatusError{Status: http.StatusInternalServerError, Message: "error.internal"}
)

// classify maps an error to what the visitor sees. This is the one place in Freely where
// errors become HTTP status codes.
func classify(err error) *StatusError {
	var se *StatusError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		// Checked first: a handler that reads past the cap may wrap it in a 400.
		return errTooLarge
	case errors.As(err, &se):
		return se
	case errors.Is(err, store.ErrNotFound), errors.Is(err, blob.ErrNotFound):
		return errNotFound
	case errors.Is(err, account.ErrUnauthenticated):
		return &StatusError{Status: http.StatusUnauthorized, Message: "error.unauthorized"}
	case errors.Is(err, account.ErrInvalidCredentials):
		return &StatusError{Status: http.StatusUnauthorized, Message: "field.invalid_credentials"}
	case errors.Is(err, account.ErrNotVerified):
		return errNotVerified
	case errors.Is(err, account.ErrInvalidToken):
		return &StatusError{Status: http.StatusBadRequest, Message: "error.invalid_token"}
	case errors.Is(err, account.ErrImagesDisabled), errors.Is(err, channel.ErrImagesDisabled):
		return &StatusError{Status: http.StatusServiceUnavailable, Message: "error.uploads_disabled"}
	case form.FieldErrors(err) != nil:
		return &StatusError{Status: http.StatusUnprocessableEntity, Message: "form.has_errors"}
	default:
		return errInternal
	}
}

// fail answers a request whose handler returned err: a redirect to log in for anonymous
// visitors of private pages, else an error page (or JSON under /api/) with the right status.
// Unexpected errors are logged here, once, with the request id the page shows.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	st := stateFrom(ctx)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The client went away; there is nobody to answer and nothing went wrong here.
		return
	}
	se := classify(err)
	if !st.sessionLoaded && se.Status != http.StatusInternalServerError {
		// Requests refused before their route ran still show who is logged in.
		_ = s.loadSession(w, r)
	}
	if se.Status >= 500 {
		s.log.ErrorContext(ctx, "request failed", "request_id", st.id, "method", r.Method,
			"path", r.URL.Path, "err", err)
	} else {
		s.log.DebugContext(ctx, "request refused", "request_id", st.id, "method", r.Method,
			"path", r.URL.Path, "status", se.Status, "err", err)
	}
	if se.Status == http.StatusUnauthorized && se.Message == "error.unauthorized" && !st.json && !isAPI(r) {
		http.Redirect(w, r, loginURL(r), http.StatusSeeOther)
		return
	}
	if se.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	if st.json || isAPI(r) {
		s.writeJSONError(w, r, se)
		return
	}
	s.renderError(w, r, se)
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// renderError shows the error page. If even that fails, a fixed page goes out: the visitor
// always gets a complete answer.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, se *StatusError) {
	st := stateFrom(r.Context())
	p := &Page{Name: "error", Title: "error.title", Data: se, NoIndex: true}
	if err := s.render(w, r, se.Status, p); err != nil {
		s.log.ErrorContext(r.Context(), "render error page", "request_id", st.id, "err", err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(se.Status)
		fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>Freely</title><h1>%d</h1><p>%s</p><p>%s</p>",
			se.Status, http.StatusText(se.Status), st.id)
	}
}

// apiError is the JSON error body: {"error":{"code":"not_found","message":"..."}}.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

func (s *Server) writeJSONError(w http.ResponseWriter, r *http.Request, se *StatusError) {
	st := stateFrom(r.Context())
	code := se.Message
	if i := strings.IndexByte(code, '.'); i >= 0 {
		code = code[i+1:]
	}
	body := apiError{Error: apiErrorBody{Code: code, Message: s.catalog.T(st.lang, se.Message)}}
	if se.Status >= 500 {
		body.Error.RequestID = st.id
	}
	s.writeJSON(w, se.Status, body)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode JSON response", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// recoverPanic turns a panic in a handler into a 500 answer (when nothing was written yet)
// and one log line with the stack, instead of a dropped connection.
func (s *Server) recoverPanic(w *responseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	st := stateFrom(r.Context())
	s.log.ErrorContext(r.Context(), "panic serving request", "request_id", st.id, "method", r.Method,
		"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.status == 0 {
		se := errInternal
		if st.json || isAPI(r) {
			s.writeJSONError(w, r, se)
			return
		}
		s.renderError(w, r, se)
	}
}

// notFoundOrMethod answers requests no route matched: 405 with an Allow header when the path
// exists for other methods, else 404.
func (s *Server) notFoundOrMethod(w http.ResponseWriter, r *http.Request) error {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method || (m == http.MethodGet && r.Method == http.MethodHead) {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != catchAllPattern {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) == 0 {
		return errNotFound
	}
	if slices.Contains(allowed, http.MethodGet) {
		allowed = append(allowed, http.MethodHead)
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	return &StatusError{Status: http.StatusMethodNotAllowed, Message: "error.method"}
}
