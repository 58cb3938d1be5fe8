package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/i18n"
)

// missingMessageRE finds catalog IDs that leaked into a page untranslated.
var missingMessageRE = regexp.MustCompile(`\b(site|nav|notice|flash|home|search|form|signup|login|verify|forgot|reset|profile|channel|settings|field|error|footer)\.[a-z_]+\b`)

// TestEveryPageInBothLanguages renders each page in Korean and English and checks that no
// message ID is left untranslated, and that the security headers are on every answer.
func TestEveryPageInBothLanguages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner := s.signUp("pages@example.com", "password 123", "페이지", "pages_chan")
	link := s.mail.lastLink(t, "pages@example.com")
	anonPages := []string{"/", "/search?q=%EB%A1%A4", "/signup", "/login", "/forgot", link, "/reset?token=abc", "/c/pages_chan", "/nope"}
	ownerPages := []string{"/", "/profile", "/settings/channel", "/c/pages_chan"}
	for _, lang := range []i18n.Lang{i18n.Korean, i18n.English} {
		anon := s.browser()
		for _, visitor := range []struct {
			b     *browser
			pages []string
		}{{anon, anonPages}, {owner, ownerPages}} {
			for _, p := range visitor.pages {
				sep := "?"
				if strings.Contains(p, "?") {
					sep = "&"
				}
				r := visitor.b.get(p + sep + "lang=" + string(lang))
				if r.status != http.StatusOK && !(p == "/nope" && r.status == http.StatusNotFound) {
					t.Errorf("%s %s: status %d", lang, p, r.status)
				}
				if m := missingMessageRE.FindString(r.body); m != "" {
					t.Errorf("%s %s: untranslated message %q", lang, p, m)
				}
				if !strings.Contains(r.body, `<html lang="`+string(lang)+`">`) {
					t.Errorf("%s %s: wrong html lang", lang, p)
				}
				checkSecurityHeaders(t, p, r.header)
			}
		}
	}
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, want)
		}
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
		t.Errorf("%s: security headers missing: %v", what, h)
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s: no request id", what)
	}
}

func TestLanguageChoice(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.browser()
	// Korean by default, English by Accept-Language, and a ?lang= choice sticks.
	b.get("/login").wantContains(t, "로그인")
	r := b.raw(http.MethodGet, "/login", "", nil, map[string]string{"Accept-Language": "en-US,en;q=0.9"})
	if !strings.Contains(r.body, "Log in") || r.header.Get("Content-Language") != "en" {
		t.Fatalf("Accept-Language en gave %q", r.header.Get("Content-Language"))
	}
	b.get("/login?lang=en").wantContains(t, "Good to see you again")
	b.get("/signup").wantContains(t, "Create account")
	r = b.raw(http.MethodGet, "/signup", "", nil, map[string]string{"Accept-Language": "ko"})
	if !strings.Contains(r.body, "Create account") {
		t.Fatal("the remembered ?lang= choice lost to Accept-Language")
	}
	// JSON errors follow the language too.
	r = b.get("/api/v1/channels/nobody_here")
	wantJSONError(t, r, "not_found")
	if !strings.Contains(r.body, "Page not found") {
		t.Fatalf("English JSON error: %s", r.body)
	}
}

func TestStaticAssetsAndHead(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.browser()
	page := b.get("/").body
	css := regexp.MustCompile(`href="(/static/app\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(page)
	js := regexp.MustCompile(`src="(/static/app\.[0-9a-f]{12}\.js)"`).FindStringSubmatch(page)
	if css == nil || js == nil {
		t.Fatalf("page does not link hashed assets:\n%.1500s", page)
	}
	r := b.get(css[1]).wantStatus(t, http.StatusOK).wantContains(t, "--accent")
	if r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("asset headers: %v", r.header)
	}
	if !strings.Contains(page, "<script") || strings.Contains(page, "<script>") {
		t.Fatal("pages must only load external scripts (no inline script)")
	}
	head := b.raw(http.MethodHead, "/login", "", nil, nil).wantStatus(t, http.StatusOK)
	if head.body != "" {
		t.Fatal("HEAD returned a body")
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(o *web.Options) { o.SecureCookies = true })
	b := s.browser()
	b.get("/signup")
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/signup", strings.NewReader(url.Values{
		"email": {"cookie@example.com"}, "password": {"password 123"}, "nickname": {"쿠키"}, "handle": {"cookie_chan"},
		"csrf_token": {b.lastToken},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range b.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "freely_session" {
			session = c
		}
	}
	if res.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("sign-up: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	if !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.MaxAge <= 0 {
		t.Fatalf("session cookie attributes: %+v", session)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(o *web.Options) {
		o.LogInRate = web.Rate{PerMinute: 1, Burst: 2}
		o.SignUpRate = web.Rate{PerMinute: 1, Burst: 1}
	})
	b := s.browser()
	bad := url.Values{"email": {"x@example.com"}, "password": {"wrong password"}}
	b.submit("/login", "/login", bad).wantStatus(t, http.StatusUnauthorized)
	b.submit("/login", "/login", bad).wantStatus(t, http.StatusUnauthorized)
	r := b.submit("/login", "/login", bad).wantStatus(t, http.StatusTooManyRequests).wantContains(t, "요청이 너무 많아요")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}

	s.signUp("first@example.com", "password 123", "첫번째", "first_chan")
	before := s.snapshot()
	s.browser().submit("/signup", "/signup", url.Values{
		"email": {"second@example.com"}, "password": {"password 123"}, "nickname": {"두번째"}, "handle": {"second_chan"},
	}).wantStatus(t, http.StatusTooManyRequests)
	if s.snapshot() != before {
		t.Fatal("a rate-limited sign-up changed the database")
	}
	// Pages stay available.
	s.browser().get("/signup").wantStatus(t, http.StatusOK)
}

// TestExtension: a later feature adds a route, a page, messages, a navigation link and
// sections; a failing section falls back to the placeholder; a panicking handler becomes a
// 500 page with a request id that is logged once.
func TestExtension(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"live.html":       {Data: []byte(`{{define "live_grid"}}<div class="grid" id="ext-live">{{range .}}<a href="/c/{{.}}">{{.}}</a>{{end}}</div>{{end}}{{define "broken"}}never{{end}}`)},
		"pages/live.html": {Data: []byte(`{{define "content"}}<h1>{{t "ext.title"}}</h1><p id="who">{{with .User}}{{.Nickname}}{{else}}-{{end}}</p>{{end}}`)},
	}
	s := newSite(t, func(o *web.Options) {
		o.Extensions = []web.Extension{{
			Name:      "live",
			Templates: tmpl,
			Messages: map[i18n.Lang]map[string]string{
				i18n.Korean:  {"ext.title": "라이브 목록", "nav.following": "팔로잉"},
				i18n.English: {"ext.title": "Live list", "nav.following": "Following"},
			},
			Nav: []web.NavLink{{Href: "/following", Label: "nav.following"}},
			Sections: []web.Section{
				{Slot: web.SlotHomeLive, Template: "live_grid", Load: func(r *http.Request, in web.SlotInput) (any, error) {
					return []string{"<b>x</b>", "two"}, nil
				}},
				{Slot: web.SlotChannelPlayer, Template: "broken", Load: func(r *http.Request, in web.SlotInput) (any, error) {
					return nil, errors.New("player backend down")
				}},
			},
			Routes: func(r *web.Router) {
				r.Handle("GET /following", func(w http.ResponseWriter, req *http.Request) error {
					return r.Render(w, req, http.StatusOK, &web.Page{Name: "live", Title: "ext.title"})
				}, web.LoggedIn())
				r.Handle("GET /boom", func(w http.ResponseWriter, req *http.Request) error { panic("kaboom") })
				r.Handle("POST /api/v1/echo", func(w http.ResponseWriter, req *http.Request) error {
					var in struct{ Text string }
					if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
						return &web.StatusError{Status: http.StatusBadRequest, Message: "error.bad_request", Err: err}
					}
					w.Header().Set("Content-Type", "application/json")
					return json.NewEncoder(w).Encode(map[string]string{"echo": in.Text, "by": r.User(req).Nickname})
				}, web.JSON(), web.JSONBody(), web.LoggedIn())
				r.Handle("GET /api/v1/teapot", func(w http.ResponseWriter, req *http.Request) error {
					return &web.StatusError{Status: http.StatusTeapot, Message: "error.forbidden"}
				}, web.JSON())
			},
		}}
	})
	anon := s.browser()
	home := anon.get("/").wantStatus(t, http.StatusOK)
	home.wantContains(t, `id="ext-live"`, "&lt;b&gt;x&lt;/b&gt;", `href="/following"`, "팔로잉").
		wantNotContains(t, "지금 방송 중인 채널이 없어요", "<b>x</b>")
	anon.get("/following").wantRedirect(t, "/login?next=%2Ffollowing")

	b := s.signUp("ext@example.com", "password 123", "확장", "ext_chan")
	b.get("/following").wantStatus(t, http.StatusOK).wantContains(t, "라이브 목록", `<p id="who">확장</p>`, `aria-current="page"`)
	// The failing player section leaves the built-in placeholder and one log line.
	anon.get("/c/ext_chan").wantStatus(t, http.StatusOK).wantContains(t, "지금은 방송 중이 아니에요").wantNotContains(t, "never")
	if !strings.Contains(s.logs.String(), "player backend down") {
		t.Fatal("section failure not logged")
	}

	r := anon.get("/boom").wantStatus(t, http.StatusInternalServerError).wantContains(t, "문제가 생겼어요")
	id := r.header.Get("X-Request-Id")
	if id == "" || !strings.Contains(r.body, id) {
		t.Fatalf("500 page does not show the request id %q", id)
	}
	if n := strings.Count(s.logs.String(), "request_id="+id); n != 1 {
		t.Fatalf("the panic was logged %d times, want once:\n%s", n, s.logs.String())
	}
	if !strings.Contains(s.logs.String(), "kaboom") {
		t.Fatal("panic value not logged")
	}
	wantJSONError(t, anon.get("/api/v1/teapot").wantStatus(t, http.StatusTeapot), "forbidden")

	// JSON bodies: the CSRF token travels in a header, taken from the page's meta tag.
	m := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindStringSubmatch(b.get("/").body)
	if m == nil {
		t.Fatal("no csrf-token meta tag")
	}
	post := func(ctype, body string, hdr map[string]string) *response {
		return b.raw(http.MethodPost, "/api/v1/echo", ctype, strings.NewReader(body), hdr)
	}
	post("application/json", `{"text":"안녕"}`, map[string]string{"X-CSRF-Token": m[1]}).wantStatus(t, http.StatusOK).
		wantContains(t, `"echo":"안녕"`, `"by":"확장"`)
	wantJSONError(t, post("application/json", `{"text":"x"}`, nil).wantStatus(t, http.StatusForbidden), "csrf")
	wantJSONError(t, post("text/plain", `{"text":"x"}`, map[string]string{"X-CSRF-Token": m[1]}).wantStatus(t, http.StatusUnsupportedMediaType), "content_type")
	big := `{"text":"` + strings.Repeat("a", 70<<10) + `"}`
	wantJSONError(t, post("application/json", big, map[string]string{"X-CSRF-Token": m[1]}).wantStatus(t, http.StatusRequestEntityTooLarge), "too_large")
	chunked := b.raw(http.MethodPost, "/api/v1/echo", "application/json", struct{ *strings.Reader }{strings.NewReader(big)}, map[string]string{"X-CSRF-Token": m[1]})
	wantJSONError(t, chunked.wantStatus(t, http.StatusRequestEntityTooLarge), "too_large")
	wantJSONError(t, post("application/json", `{"text":`, map[string]string{"X-CSRF-Token": m[1]}).wantStatus(t, http.StatusBadRequest), "bad_request")
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	base := web.Options{Accounts: s.accounts, Channels: s.channels}
	cases := map[string]func(o *web.Options){
		"no services":  func(o *web.Options) { o.Accounts = nil },
		"short secret": func(o *web.Options) { o.SecretKey = []byte("short") },
		"bad base URL": func(o *web.Options) { o.BaseURL = "localhost:8080" },
		"bad template": func(o *web.Options) {
			o.Extensions = []web.Extension{{Templates: fstest.MapFS{"x.html": {Data: []byte("{{define")}}}}
		},
		"page no content": func(o *web.Options) {
			o.Extensions = []web.Extension{{Templates: fstest.MapFS{"pages/x.html": {Data: []byte(`{{define "y"}}{{end}}`)}}}}
		},
		"duplicate page": func(o *web.Options) {
			o.Extensions = []web.Extension{{Templates: fstest.MapFS{"pages/home.html": {Data: []byte(`{{define "content"}}{{end}}`)}}}}
		},
		"clashing message": func(o *web.Options) {
			o.Extensions = []web.Extension{{Messages: map[i18n.Lang]map[string]string{i18n.Korean: {"nav.login": "x"}}}}
		},
		"section without loader": func(o *web.Options) {
			o.Extensions = []web.Extension{{Sections: []web.Section{{Slot: web.SlotHomeLive, Template: "x"}}}}
		},
	}
	for name, mutate := range cases {
		o := base
		mutate(&o)
		if w, err := web.New(o); err == nil {
			w.Close()
			t.Errorf("%s: New accepted it", name)
		}
	}
}
