package web

import (
	"crypto/tls"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/freelylive/freely/internal/web/i18n"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                              "/",
		"/":                             "/",
		"/settings/channel":             "/settings/channel",
		"/c/abc?tab=about#x":            "/c/abc?tab=about#x",
		"//evil.example":                "/",
		"/\\evil.example":               "/",
		"https://evil.example/":         "/",
		"javascript:alert(1)":           "/",
		"evil.example":                  "/",
		"/ok\r\nSet-Cookie: x=1":        "/",
		"/a\\b":                         "/",
		"/%2F%2Fevil.example":           "/%2F%2Fevil.example", // stays a local path
		"/" + strings.Repeat("a", 3000): "/",
	}
	for in, want := range cases {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "/a?b", "http://x", "/\x00", "/%5C%5Cx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		if got != "/" && got != s {
			t.Fatalf("safeNext(%q) = %q: neither the input nor /", s, got)
		}
		if len(got) > 1 && (got[0] != '/' || got[1] == '/' || got[1] == '\\' || strings.ContainsAny(got, "\\\r\n\t")) {
			t.Fatalf("safeNext(%q) = %q is not a local path", s, got)
		}
	})
}

func TestLinkToken(t *testing.T) {
	t.Parallel()
	good := []string{"abcDEF012-_", strings.Repeat("x", maxLinkToken)}
	bad := []string{"", "a b", "<script>", "tok%00", strings.Repeat("x", maxLinkToken+1), "é"}
	for _, s := range good {
		if _, ok := linkToken(s); !ok {
			t.Errorf("linkToken(%q) refused", s)
		}
	}
	for _, s := range bad {
		if _, ok := linkToken(s); ok {
			t.Errorf("linkToken(%q) accepted", s)
		}
	}
}

func TestLangURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ cur, want string }{
		{"/", "/?lang=en"},
		{"/search?q=a&lang=ko", "/search?q=a&lang=en"},
		{"/c/x?lang=ko&b=1", "/c/x?b=1&lang=en"},
	}
	for _, c := range cases {
		if got := langURL(c.cur, i18n.English); got != c.want {
			t.Errorf("langURL(%q) = %q, want %q", c.cur, got, c.want)
		}
	}
}

func TestClientIPAndRateKey(t *testing.T) {
	t.Parallel()
	direct := &Server{}
	proxied := &Server{opts: Options{TrustProxy: true}}
	req := func(remote string, xff ...string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return r
	}
	cases := []struct {
		s    *Server
		r    *http.Request
		want string
	}{
		{direct, req("192.0.2.1:5555"), "192.0.2.1"},
		{direct, req("192.0.2.1:5555", "203.0.113.9"), "192.0.2.1"}, // not trusted
		{proxied, req("10.0.0.1:5555", "198.51.100.7, 203.0.113.9"), "203.0.113.9"},
		{proxied, req("10.0.0.1:5555", "1.1.1.1", "203.0.113.10"), "203.0.113.10"},
		{proxied, req("10.0.0.1:5555", "garbage"), "10.0.0.1"},
		{direct, req("[::ffff:192.0.2.3]:1"), "192.0.2.3"},
		{direct, req("[2001:db8::1]:1"), "2001:db8::1"},
	}
	for i, c := range cases {
		if got := c.s.clientIP(c.r); got != c.want {
			t.Errorf("case %d: clientIP = %q, want %q", i, got, c.want)
		}
	}
	if a, b := rateKey("login", "2001:db8:1:2:aaaa::1"), rateKey("login", "2001:db8:1:2:bbbb::9"); a != b {
		t.Errorf("one IPv6 /64 gives two buckets: %q %q", a, b)
	}
	if a, b := rateKey("login", "192.0.2.1"), rateKey("login", "192.0.2.2"); a == b {
		t.Errorf("two IPv4 addresses share a bucket %q", a)
	}
	if rateKey("login", "192.0.2.1") == rateKey("signup", "192.0.2.1") {
		t.Error("scopes share a bucket")
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	csp := contentSecurityPolicy([]string{"https://cdn.example.com/", "bad; script-src *"})
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "img-src 'self' data: blob: https://cdn.example.com;", "media-src 'self' blob: https://cdn.example.com;", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src *") {
		t.Errorf("CSP is too open: %s", csp)
	}
}

func TestAssets(t *testing.T) {
	t.Parallel()
	a, err := loadAssets(fstest.MapFS{
		"app.css":     {Data: []byte("body{}")},
		"app.js":      {Data: []byte("1")},
		"favicon.svg": {Data: []byte("<svg/>")},
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.URL("app.css")
	if err != nil || !strings.HasPrefix(u, "/static/app.") || !strings.HasSuffix(u, ".css") {
		t.Fatalf("URL(app.css) = %q, %v", u, err)
	}
	if _, err := a.URL("nope.css"); err == nil {
		t.Error("unknown asset has a URL")
	}
	for name, ctype := range map[string]string{"app.css": "text/css", "app.js": "text/javascript", "favicon.svg": "image/svg+xml"} {
		u, _ := a.URL(name)
		w := httptest.NewRecorder()
		if !a.serve(w, httptest.NewRequest("GET", u, nil), strings.TrimPrefix(u, "/static/")) {
			t.Fatalf("%s not served", u)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), ctype) {
			t.Errorf("%s: Content-Type %q", name, w.Header().Get("Content-Type"))
		}
		if w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", name, w.Header().Get("Cache-Control"))
		}
	}
	// Conditional requests are answered without a body.
	u, _ = a.URL("app.css")
	r := httptest.NewRequest("GET", u, nil)
	r.Header.Set("If-None-Match", a.byName["app.css"].etag)
	w := httptest.NewRecorder()
	a.serve(w, r, strings.TrimPrefix(u, "/static/"))
	if w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	// The embedded assets load, and change URL when their bytes change.
	root, _ := fs.Sub(staticFS, "static")
	real, err := loadAssets(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app.css", "app.js", "favicon.svg"} {
		if _, err := real.URL(name); err != nil {
			t.Error(err)
		}
	}
	b, _ := loadAssets(fstest.MapFS{"app.css": {Data: []byte("body{color:red}")}})
	u2, _ := b.URL("app.css")
	if u2 == u {
		t.Error("different bytes, same URL")
	}
}

func TestCSRFTokens(t *testing.T) {
	t.Parallel()
	s := &Server{secret: []byte("0123456789abcdef0123456789abcdef")}
	if sessionCSRFToken("secret-a") == sessionCSRFToken("secret-b") {
		t.Fatal("two sessions share a CSRF token")
	}
	// A visitor without a cookie gets one, and the form token matches it.
	r := httptest.NewRequest("GET", "/signup", nil)
	w := httptest.NewRecorder()
	tok := s.csrfToken(w, r)
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != csrfCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookies = %+v", cookies)
	}
	post := func(cookie, token string) bool {
		r := httptest.NewRequest("POST", "/signup", strings.NewReader("csrf_token="+token))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookie})
		}
		r.ParseForm()
		return s.validCSRF(r)
	}
	c := cookies[0].Value
	if !post(c, tok) {
		t.Fatal("the issued token is refused")
	}
	nonce, _, _ := strings.Cut(c, ".")
	forged := nonce + "." + mac([]byte("another key 0123456789abcdef0123"), "cookie", nonce)
	for name, ok := range map[string]bool{
		"no token":          post(c, ""),
		"no cookie":         post("", tok),
		"wrong token":       post(c, flipChar(tok, len(tok)/2)),
		"unsigned cookie":   post(nonce, tok),
		"forged signature":  post(forged, tok),
		"cookie as token":   post(c, c),
		"other key's token": post(c, mac([]byte("x"), "form", nonce)),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	// Secure cookies when configured or over TLS.
	r = httptest.NewRequest("GET", "/signup", nil)
	r.TLS = &tls.ConnectionState{}
	w = httptest.NewRecorder()
	s.csrfToken(w, r)
	if !w.Result().Cookies()[0].Secure {
		t.Error("cookie over TLS is not Secure")
	}
}

// flipChar changes the character at i to another base64url character. A middle character is
// used because the last one of a base64 string may carry only padding bits.
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
