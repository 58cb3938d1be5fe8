package web

import (
	"net/http"
	"strings"
)

// contentSecurityPolicy allows only this site's own scripts and styles (no inline script, so
// an injected <script> would not run even if escaping failed), images and media from this
// site, blob: URLs (the player's MediaSource, upload previews) and the configured media
// origins (a CDN), and no framing.
func contentSecurityPolicy(mediaOrigins []string) string {
	media := ""
	for _, o := range mediaOrigins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" && !strings.ContainsAny(o, " ;,'\"") {
			media += " " + o
		}
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data: blob:" + media,
		"media-src 'self' blob:" + media,
		"connect-src 'self'" + media,
		"worker-src 'self' blob:",
		"font-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

func (s *Server) setSecurityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}
