package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// CSRF protection has two layers. http.CrossOriginProtection (ServeHTTP) refuses cross-site
// browser requests by their Sec-Fetch-Site / Origin headers. Behind it, every state-changing
// request must carry a synchronizer token in the csrf_token form field (or X-CSRF-Token header):
//
//   - logged-in visitors: an HMAC of the session's server-side CSRFSecret, so the token dies
//     with the session and differs per session;
//   - anonymous visitors (sign-up, log-in, password reset): a signed double-submit cookie.
//     The cookie holds a random nonce and its signature; the form holds a second MAC of the
//     same nonce. A cookie planted by a sibling subdomain cannot be signed without SecretKey,
//     and a page on another site can read neither value.
const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
	csrfCookie = "freely_csrf"
)

var b64 = base64.RawURLEncoding

func mac(key []byte, parts ...string) string {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return b64.EncodeToString(h.Sum(nil))
}

// sessionCSRFToken is the token for forms of a logged-in visitor.
func sessionCSRFToken(sessionSecret string) string {
	return mac([]byte(sessionSecret), "freely csrf v1")
}

// csrfToken returns the token to embed in this request's forms, creating the anonymous
// cookie if the visitor has none. It must run before the response header is written
// (render does so).
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	st := stateFrom(r.Context())
	if st.session != nil {
		return sessionCSRFToken(st.session.CSRFSecret)
	}
	if st.anonNonce == "" {
		if nonce, ok := s.anonNonceFromCookie(r); ok {
			st.anonNonce = nonce
		} else {
			b := make([]byte, 18)
			rand.Read(b)
			st.anonNonce = b64.EncodeToString(b)
			c := s.cookie(r, csrfCookie, st.anonNonce+"."+mac(s.secret, "cookie", st.anonNonce))
			c.MaxAge = 7 * 24 * 3600
			http.SetCookie(w, c)
		}
	}
	return mac(s.secret, "form", st.anonNonce)
}

// anonNonceFromCookie returns the nonce of a correctly signed anonymous CSRF cookie.
func (s *Server) anonNonceFromCookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return "", false
	}
	nonce, sig, ok := strings.Cut(c.Value, ".")
	if !ok || nonce == "" || !hmac.Equal([]byte(sig), []byte(mac(s.secret, "cookie", nonce))) {
		return "", false
	}
	return nonce, true
}

// validCSRF checks the token of a state-changing request whose form is already parsed.
func (s *Server) validCSRF(r *http.Request) bool {
	sent := r.PostForm.Get(csrfField) // nil map (JSON bodies): ""
	if sent == "" {
		sent = r.Header.Get(csrfHeader)
	}
	if sent == "" {
		return false
	}
	var want string
	if st := stateFrom(r.Context()); st.session != nil {
		want = sessionCSRFToken(st.session.CSRFSecret)
	} else {
		nonce, ok := s.anonNonceFromCookie(r)
		if !ok {
			return false
		}
		want = mac(s.secret, "form", nonce)
	}
	return hmac.Equal([]byte(sent), []byte(want))
}
