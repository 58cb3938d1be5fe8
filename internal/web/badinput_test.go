package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// badInputWorld is the state every bad-input case starts from: a verified user with a live
// session, a second verified user, and an anonymous visitor who has loaded a form.
type badInputWorld struct {
	s         *site
	user      *browser // verified, logged in
	userToken string   // user's CSRF token
	other     *browser // another verified, logged-in user
	otherTok  string
	anon      *browser
	anonToken string
	// tokens of mailed links, unused
	verifyToken string // of an unverified third user
	resetToken  string // of user
}

func newBadInputWorld(t *testing.T, s *site) *badInputWorld {
	w := &badInputWorld{s: s}
	w.user = s.signUp("user@example.com", "password 123", "사용자", "user_chan")
	s.verify(w.user, "user@example.com")
	w.other = s.signUp("other@example.com", "password 123", "다른사람", "other_chan")
	s.verify(w.other, "other@example.com")
	s.signUp("unverified@example.com", "password 123", "미인증", "unverified_chan")
	w.verifyToken = tokenOf(s.mail.lastLink(t, "unverified@example.com"))
	s.browser().submit("/forgot", "/forgot", url.Values{"email": {"user@example.com"}}).wantRedirect(t, "/login")
	w.resetToken = tokenOf(s.mail.lastLink(t, "user@example.com"))

	w.user.get("/settings/channel")
	w.userToken = w.user.lastToken
	w.other.get("/settings/channel")
	w.otherTok = w.other.lastToken
	w.anon = s.browser()
	w.anon.get("/signup")
	w.anonToken = w.anon.lastToken
	if w.userToken == "" || w.otherTok == "" || w.anonToken == "" || w.userToken == w.otherTok {
		t.Fatalf("CSRF tokens: user %q other %q anon %q", w.userToken, w.otherTok, w.anonToken)
	}
	return w
}

func tokenOf(link string) string { return link[strings.Index(link, "token=")+len("token="):] }

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func multipartBody(t *testing.T, fields map[string]string, fileField, fileName string, file []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileField != "" {
		fw, err := mw.CreateFormFile(fileField, fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// TestBadInput is the "Bad input" table: each request gets a clear error with the
// right status (page or JSON) and changes nothing in the database.
func TestBadInput(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testBadInput(t, newSite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testBadInput(t, newSiteOn(t, sqltest.Postgres(t)))
	})
}

func testBadInput(t *testing.T, s *site) {
	w := newBadInputWorld(t, s)
	signup := func(token string) url.Values {
		return form("email", "new@example.com", "password", "password 123", "nickname", "새사람", "handle", "new_chan", "csrf_token", token)
	}
	settings := func(token string) url.Values {
		return form("display_name", "해킹됨", "introduction", "pwned", "csrf_token", token)
	}
	urlencoded := "application/x-www-form-urlencoded"

	type tc struct {
		name   string
		do     func() *response
		status int
		want   string // substring of the body
		json   string // error code when the answer must be JSON
	}
	cases := []tc{
		// CSRF: missing, wrong, someone else's, and cross-site requests.
		{"signup without CSRF token", func() *response {
			return w.anon.post("/signup", signup(""))
		}, 403, "보안 확인에 실패했어요", ""},
		{"signup with a wrong CSRF token", func() *response {
			return w.anon.post("/signup", signup("not-the-token"))
		}, 403, "보안 확인에 실패했어요", ""},
		{"signup with another visitor's token", func() *response {
			stranger := s.browser()
			stranger.get("/signup")
			return stranger.post("/signup", signup(w.anonToken))
		}, 403, "보안 확인에 실패했어요", ""},
		{"signup with a token but no CSRF cookie", func() *response {
			return s.browser().post("/signup", signup(w.anonToken))
		}, 403, "보안 확인에 실패했어요", ""},
		{"signup from a cross-site page (Sec-Fetch-Site)", func() *response {
			return w.anon.raw("POST", "/signup", urlencoded, strings.NewReader(signup(w.anonToken).Encode()),
				map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
		}, 403, "보안 확인에 실패했어요", ""},
		{"signup from a cross-site page (Origin only)", func() *response {
			return w.anon.raw("POST", "/signup", urlencoded, strings.NewReader(signup(w.anonToken).Encode()),
				map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"})
		}, 403, "보안 확인에 실패했어요", ""},
		{"settings with the anonymous-form token", func() *response {
			return w.user.post("/settings/channel", settings(w.anonToken))
		}, 403, "보안 확인에 실패했어요", ""},
		{"settings with another user's session token", func() *response {
			return w.user.post("/settings/channel", settings(w.otherTok))
		}, 403, "보안 확인에 실패했어요", ""},
		{"settings without a token", func() *response {
			return w.user.post("/settings/channel", settings(""))
		}, 403, "보안 확인에 실패했어요", ""},
		{"logout from a cross-site page", func() *response {
			return w.user.raw("POST", "/logout", urlencoded, strings.NewReader(form("csrf_token", w.userToken).Encode()),
				map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
		}, 403, "보안 확인에 실패했어요", ""},
		{"CSRF token in a header from a cross-site page", func() *response {
			return w.user.raw("POST", "/settings/channel", urlencoded, strings.NewReader(settings("").Encode()),
				map[string]string{"X-CSRF-Token": w.userToken, "Sec-Fetch-Site": "cross-site"})
		}, 403, "보안 확인에 실패했어요", ""},

		// Wrong content types.
		{"signup as text/plain", func() *response {
			return w.anon.raw("POST", "/signup", "text/plain", strings.NewReader(signup(w.anonToken).Encode()), nil)
		}, 415, "지원하지 않는 요청 형식이에요", ""},
		{"signup as JSON", func() *response {
			return w.anon.raw("POST", "/signup", "application/json", strings.NewReader(`{"email":"new@example.com"}`), nil)
		}, 415, "지원하지 않는 요청 형식이에요", ""},
		{"signup without a content type", func() *response {
			return w.anon.raw("POST", "/signup", "", strings.NewReader(signup(w.anonToken).Encode()), nil)
		}, 415, "지원하지 않는 요청 형식이에요", ""},
		{"settings as multipart", func() *response {
			ct, body := multipartBody(t, map[string]string{"display_name": "x", "csrf_token": w.userToken}, "", "", nil)
			return w.user.raw("POST", "/settings/channel", ct, body, nil)
		}, 415, "지원하지 않는 요청 형식이에요", ""},
		{"avatar upload as a URL-encoded form", func() *response {
			return w.user.raw("POST", "/profile/avatar", urlencoded, strings.NewReader(form("csrf_token", w.userToken).Encode()), nil)
		}, 415, "지원하지 않는 요청 형식이에요", ""},

		// Oversized and malformed bodies.
		{"signup body over 64 KB", func() *response {
			v := signup(w.anonToken)
			v.Set("nickname", strings.Repeat("가", 30000))
			return w.anon.post("/signup", v)
		}, 413, "보낸 내용이 너무 커요", ""},
		{"signup body over 64 KB without Content-Length", func() *response {
			v := signup(w.anonToken)
			v.Set("nickname", strings.Repeat("a", 70<<10))
			// A reader of unknown size makes the client send it chunked.
			return w.anon.raw("POST", "/signup", urlencoded, struct{ *strings.Reader }{strings.NewReader(v.Encode())}, nil)
		}, 413, "보낸 내용이 너무 커요", ""},
		{"avatar upload over 5 MB", func() *response {
			ct, body := multipartBody(t, map[string]string{"csrf_token": w.userToken}, "avatar", "big.png", bytes.Repeat([]byte{0x89}, 6<<20))
			return w.user.raw("POST", "/profile/avatar", ct, body, nil)
		}, 413, "보낸 내용이 너무 커요", ""},
		{"malformed URL-encoded body", func() *response {
			return w.anon.raw("POST", "/signup", urlencoded, strings.NewReader("email=%zz&csrf_token="+w.anonToken), nil)
		}, 400, "요청을 처리할 수 없어요", ""},
		{"malformed multipart body", func() *response {
			return w.user.raw("POST", "/profile/avatar", "multipart/form-data; boundary=xyz", strings.NewReader("--nope\r\ngarbage"), nil)
		}, 400, "요청을 처리할 수 없어요", ""},
		{"multipart without a boundary", func() *response {
			return w.user.raw("POST", "/profile/avatar", "multipart/form-data", strings.NewReader("x"), nil)
		}, 400, "요청을 처리할 수 없어요", ""},
		{"avatar upload without a file", func() *response {
			ct, body := multipartBody(t, map[string]string{"csrf_token": w.userToken}, "", "", nil)
			return w.user.raw("POST", "/profile/avatar", ct, body, nil)
		}, 422, "업로드할 이미지를 선택해 주세요", ""},
		{"banner upload with an empty file", func() *response {
			ct, body := multipartBody(t, map[string]string{"csrf_token": w.userToken}, "image", "empty.png", nil)
			return w.user.raw("POST", "/settings/channel/banner", ct, body, nil)
		}, 422, "업로드할 이미지를 선택해 주세요", ""},

		// Forms the services refuse: 422, the form again with messages, values kept.
		{"signup with every field wrong", func() *response {
			return w.anon.post("/signup", form("email", "not-an-email", "password", "short", "nickname", "<b>x</b>", "handle", "A!", "csrf_token", w.anonToken))
		}, 422, "올바른 이메일 주소를 입력해 주세요", ""},
		{"signup with a taken e-mail and handle", func() *response {
			return w.anon.post("/signup", form("email", "USER@example.com", "password", "password 123", "nickname", "새사람", "handle", "user_chan", "csrf_token", w.anonToken))
		}, 422, "이미 가입된 이메일이에요", ""},
		{"signup with a reserved handle", func() *response {
			return w.anon.post("/signup", form("email", "new@example.com", "password", "password 123", "nickname", "새사람", "handle", "admin", "csrf_token", w.anonToken))
		}, 422, "사용할 수 없는 채널 주소예요", ""},
		{"signup with an empty form", func() *response {
			return w.anon.post("/signup", form("csrf_token", w.anonToken))
		}, 422, "입력한 내용을 확인해 주세요", ""},
		{"settings with three categories", func() *response {
			c := channel.SeedCategories
			return w.user.post("/settings/channel", form("display_name", "채널", "categories", c[0].Slug, "categories", c[1].Slug, "categories", c[2].Slug, "csrf_token", w.userToken))
		}, 422, "카테고리는 최대 2개까지", ""},
		{"settings with an unknown category", func() *response {
			return w.user.post("/settings/channel", form("display_name", "채널", "categories", "no-such-game", "csrf_token", w.userToken))
		}, 422, "알 수 없는 카테고리예요", ""},
		{"settings with an intro over the limit", func() *response {
			return w.user.post("/settings/channel", form("display_name", "채널", "introduction", strings.Repeat("긴", 1001), "csrf_token", w.userToken))
		}, 422, "채널 소개가 너무 길어요", ""},
		{"settings with an empty display name", func() *response {
			return w.user.post("/settings/channel", form("display_name", "   ", "csrf_token", w.userToken))
		}, 422, "채널 이름은 1–30자로", ""},
		{"log-in with a wrong password", func() *response {
			return w.anon.post("/login", form("email", "user@example.com", "password", "wrong pass 1", "csrf_token", w.anonToken))
		}, 401, "이메일 또는 비밀번호가 올바르지 않아요", ""},
		{"log-in with ?next= to another site", func() *response {
			fresh := s.browser()
			fresh.get("/login")
			r := fresh.post("/login", form("email", "user@example.com", "password", "password 123", "next", "//evil.example/x", "csrf_token", fresh.lastToken))
			if r.status == http.StatusSeeOther && r.header.Get("Location") != "/" {
				t.Errorf("log-in redirected to %q", r.header.Get("Location"))
			}
			return nil // a session was created on purpose; checked above
		}, 0, "", ""},

		// Links: expired, garbage, reused.
		{"verify with a garbage token", func() *response {
			return w.anon.post("/verify", form("token", "<script>", "csrf_token", w.anonToken))
		}, 400, "링크에 토큰이 없어요", ""},
		{"verify with an absurdly long token", func() *response {
			return w.anon.post("/verify", form("token", strings.Repeat("a", 300), "csrf_token", w.anonToken))
		}, 400, "링크에 토큰이 없어요", ""},
		{"verify with an unknown token", func() *response {
			return w.anon.post("/verify", form("token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "csrf_token", w.anonToken))
		}, 400, "만료되었거나 이미 사용되었어요", ""},
		{"verify with a reset token", func() *response {
			return w.anon.post("/verify", form("token", w.resetToken, "csrf_token", w.anonToken))
		}, 400, "만료되었거나 이미 사용되었어요", ""},
		{"reset with a verification token", func() *response {
			return w.anon.post("/reset", form("token", w.verifyToken, "password", "new password 1", "csrf_token", w.anonToken))
		}, 400, "재설정 링크가 만료되었거나", ""},
		{"verify page without a token", func() *response { return w.anon.get("/verify") }, 400, "링크에 토큰이 없어요", ""},
		{"reset page with a garbage token", func() *response { return w.anon.get("/reset?token=%00%01") }, 400, "링크에 토큰이 없어요", ""},

		// Routes and methods.
		{"unknown page", func() *response { return w.anon.get("/no/such/page") }, 404, "페이지를 찾을 수 없어요", ""},
		{"unknown API route", func() *response { return w.anon.get("/api/v1/nothing") }, 404, "", "not_found"},
		{"unknown channel", func() *response { return w.anon.get("/c/nobody_here") }, 404, "페이지를 찾을 수 없어요", ""},
		{"impossible channel handle", func() *response { return w.anon.get("/c/%3Cscript%3E") }, 404, "페이지를 찾을 수 없어요", ""},
		{"unknown channel in the API", func() *response { return w.anon.get("/api/v1/channels/nobody_here") }, 404, "", "not_found"},
		{"unknown static asset", func() *response { return w.anon.get("/static/app.0000.css") }, 404, "페이지를 찾을 수 없어요", ""},
		{"DELETE on the log-in page", func() *response {
			r := w.anon.raw("DELETE", "/login", "", nil, nil)
			if got := r.header.Get("Allow"); got != "GET, POST, HEAD" {
				t.Errorf("Allow = %q", got)
			}
			return r
		}, 405, "허용되지 않는 요청 방식이에요", ""},
		{"GET on log-out", func() *response { return w.user.get("/logout") }, 405, "허용되지 않는 요청 방식이에요", ""},
		{"POST on the channel page", func() *response {
			return w.user.post("/c/user_chan", form("csrf_token", w.userToken))
		}, 405, "허용되지 않는 요청 방식이에요", ""},
		{"POST to an unknown route", func() *response {
			return w.user.post("/nowhere", form("csrf_token", w.userToken))
		}, 404, "페이지를 찾을 수 없어요", ""},
		{"PUT on an API route", func() *response {
			return w.user.raw("PUT", "/api/v1/me", "application/json", strings.NewReader("{}"), nil)
		}, 405, "", "method"},

		// Permissions.
		{"settings while logged out", func() *response {
			return w.anon.post("/settings/channel", settings(w.anonToken))
		}, 303, "", ""},
		{"API me while logged out", func() *response { return w.anon.get("/api/v1/me") }, 401, "", "unauthorized"},
	}

	for _, c := range cases {
		before := s.snapshot()
		r := c.do()
		if r == nil {
			continue
		}
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d\n%.800s", c.name, r.status, c.status, r.body)
			continue
		}
		if c.want != "" && !strings.Contains(r.body, c.want) {
			t.Errorf("%s: body lacks %q\n%.2000s", c.name, c.want, r.body)
		}
		if c.json != "" {
			wantJSONError(t, r, c.json)
		}
		if after := s.snapshot(); after != before {
			t.Errorf("%s: the database changed:\nbefore:\n%s\nafter:\n%s", c.name, before, after)
		}
	}

	// After all that, the sessions still work and nothing was saved.
	w.user.get("/settings/channel").wantStatus(t, http.StatusOK).wantNotContains(t, "해킹됨", "pwned")
	s.browser().get("/c/user_chan").wantStatus(t, http.StatusOK).wantNotContains(t, "해킹됨", "pwned")
}

// TestExpiredLinks: a verification link used after its lifetime, and a reset link likewise,
// are refused and change nothing.
func TestExpiredLinks(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signUp("late@example.com", "password 123", "늦은사람", "late_chan")
	verify := tokenOf(s.mail.lastLink(t, "late@example.com"))
	b.submit("/forgot", "/forgot", url.Values{"email": {"late@example.com"}})
	reset := tokenOf(s.mail.lastLink(t, "late@example.com"))

	s.clock.Advance(25 * time.Hour)
	anon := s.browser()
	anon.get("/signup")
	before := s.snapshot()
	anon.post("/verify", form("token", verify, "csrf_token", anon.lastToken)).wantStatus(t, http.StatusBadRequest).
		wantContains(t, "만료되었거나 이미 사용되었어요")
	anon.post("/reset", form("token", reset, "password", "new password 1", "csrf_token", anon.lastToken)).
		wantStatus(t, http.StatusBadRequest).wantContains(t, "재설정 링크가 만료되었거나")
	if after := s.snapshot(); after != before {
		t.Fatalf("expired links changed the database:\n%s\n---\n%s", before, after)
	}
}
