package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// TestAccountFlow walks the whole account journey over HTTP: sign up → mail → verify → log out
// → log in → edit the channel → the public page and the public JSON show the edit, escaped,
// and never the private fields.
func TestAccountFlow(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testAccountFlow(t, newSite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testAccountFlow(t, newSiteOn(t, sqltest.Postgres(t)))
	})
}

func testAccountFlow(t *testing.T, s *site) {
	ctx := context.Background()

	anon := s.browser()
	anon.get("/").wantStatus(t, http.StatusOK).
		wantContains(t, "지금 라이브", "카테고리", "리그 오브 레전드", `href="/login"`, `href="/signup"`)

	const email, password = "Streamer@Example.com", "correct horse battery"
	b := s.signUp(email, password, "스트리머", "streamer_1")
	if s.mail.count() != 1 {
		t.Fatalf("%d mails after sign-up, want 1", s.mail.count())
	}
	home := b.get("/").wantStatus(t, http.StatusOK)
	home.wantContains(t, "스트리머", "이메일 인증을 완료해 주세요", "가입을 환영해요", `action="/verify/resend"`)
	home.wantNotContains(t, `href="/signup"`)
	// The flash message is shown once.
	b.get("/").wantNotContains(t, "가입을 환영해요")

	// Resending mails a second link; both are valid until used.
	b.submit("/", "/verify/resend", nil).wantRedirect(t, "/")
	if s.mail.count() != 2 {
		t.Fatalf("%d mails after resend, want 2", s.mail.count())
	}

	// Opening the link does not use the token (mail scanners prefetch links): the page only
	// shows a button.
	link := s.mail.lastLink(t, "streamer@example.com")
	before := s.snapshot()
	s.browser().get(link).wantStatus(t, http.StatusOK).wantContains(t, `action="/verify"`, "인증 완료하기")
	if after := s.snapshot(); after != before {
		t.Fatalf("GET of the verify link changed the database:\n%s\n---\n%s", before, after)
	}
	s.verify(b, "streamer@example.com")
	b.get("/").wantNotContains(t, "이메일 인증을 완료해 주세요").wantContains(t, "이메일 인증이 완료되었어요")

	// The used link is dead.
	token := link[strings.Index(link, "token=")+len("token="):]
	b.submit(link, "/verify", url.Values{"token": {token}}).wantStatus(t, http.StatusBadRequest).
		wantContains(t, "만료되었거나 이미 사용되었어요")

	// Log out: the session dies on the server too.
	b.submit("/", "/logout", nil).wantRedirect(t, "/")
	b.get("/").wantContains(t, `href="/login"`).wantNotContains(t, "스트리머")
	b.get("/settings/channel").wantRedirect(t, "/login?next=%2Fsettings%2Fchannel")

	// Wrong password: 401, the form keeps the e-mail but never the password.
	bad := b.submit("/login", "/login", url.Values{"email": {email}, "password": {"wrong password!"}})
	bad.wantStatus(t, http.StatusUnauthorized).wantContains(t, "이메일 또는 비밀번호가 올바르지 않아요", `value="Streamer@Example.com"`).
		wantNotContains(t, "wrong password!")

	// Log in and land where ?next= asked.
	b.submit("/login?next=/settings/channel", "/login", url.Values{
		"email": {email}, "password": {password}, "next": {"/settings/channel"},
	}).wantRedirect(t, "/settings/channel")

	// Edit the channel with hostile text.
	cats := channel.SeedCategories
	const intro = "<script>alert(1)</script>\n두 번째 줄 & \"따옴표\""
	b.submit("/settings/channel", "/settings/channel", url.Values{
		"display_name": {`<b>굵게</b> & "채널"`},
		"introduction": {intro},
		"categories":   {cats[0].Slug, "", cats[1].Slug},
	}).wantRedirect(t, "/settings/channel")
	settings := b.get("/settings/channel").wantStatus(t, http.StatusOK)
	settings.wantContains(t, "채널 설정을 저장했어요", "&lt;script&gt;alert(1)&lt;/script&gt;")

	ch, err := s.channels.ByHandle(ctx, "streamer_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Categories) != 2 || ch.Introduction != strings.TrimSpace(intro) {
		t.Fatalf("stored channel = %+v", ch)
	}

	// The public page, seen by a stranger, shows the edit escaped and nothing private.
	page := s.browser().get("/c/streamer_1").wantStatus(t, http.StatusOK)
	page.wantContains(t,
		"&lt;b&gt;굵게&lt;/b&gt; &amp; &#34;채널&#34;",
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"@streamer_1",
		categoryNameKO(cats[0]), categoryNameKO(cats[1]),
	)
	page.wantNotContains(t, "<script>alert(1)", "<b>굵게", "streamer@example.com", ch.StreamKey, "채널 설정</a>")
	// Handles are case-insensitive.
	s.browser().get("/c/Streamer_1").wantStatus(t, http.StatusOK)
	// The owner sees the settings link on their page.
	b.get("/c/streamer_1").wantContains(t, `href="/settings/channel"`)
	b.get("/channel").wantRedirect(t, "/c/streamer_1")

	// Public JSON: the public fields, nothing private.
	api := s.browser().get("/api/v1/channels/streamer_1").wantStatus(t, http.StatusOK)
	if ct := api.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	var pub map[string]any
	if err := json.Unmarshal([]byte(api.body), &pub); err != nil {
		t.Fatal(err)
	}
	if pub["introduction"] != strings.TrimSpace(intro) || pub["handle"] != "streamer_1" {
		t.Fatalf("public channel JSON = %v", pub)
	}
	for _, private := range []string{"example.com", ch.StreamKey, "stream_key", "owner", "email", "password"} {
		if strings.Contains(strings.ToLower(api.body), strings.ToLower(private)) {
			t.Fatalf("public JSON contains %q: %s", private, api.body)
		}
	}
	if strings.Contains(api.body, "<script>") {
		t.Fatalf("JSON does not escape markup: %s", api.body)
	}

	// /api/v1/me: 401 JSON for strangers, the user's own data for the user.
	me := s.browser().get("/api/v1/me").wantStatus(t, http.StatusUnauthorized)
	wantJSONError(t, me, "unauthorized")
	b.get("/api/v1/me").wantStatus(t, http.StatusOK).wantContains(t, `"email":"streamer@example.com"`, `"email_verified":true`)
}

// TestPasswordReset: forgot → mail → reset → every old session is gone → the new password works.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	const email = "reset@example.com"
	b := s.signUp(email, "old password 1", "리셋", "reset_me")

	other := s.browser()
	// Unknown addresses get the same answer and no mail.
	mails := s.mail.count()
	other.submit("/forgot", "/forgot", url.Values{"email": {"nobody@example.com"}}).wantRedirect(t, "/login")
	if s.mail.count() != mails {
		t.Fatal("a reset mail went to an unknown address")
	}
	other.submit("/forgot", "/forgot", url.Values{"email": {email}}).wantRedirect(t, "/login")
	link := s.mail.lastLink(t, email)
	if !strings.HasPrefix(link, "/reset?token=") {
		t.Fatalf("reset link %q", link)
	}
	token := link[len("/reset?token="):]

	// The link page has the form and tells the browser not to leak the URL.
	page := other.get(link).wantStatus(t, http.StatusOK).wantContains(t, `action="/reset"`, `name="password"`)
	if page.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("Referrer-Policy %q on a token page", page.header.Get("Referrer-Policy"))
	}
	// Too short a password: 422, token kept, nothing used.
	other.submit(link, "/reset", url.Values{"token": {token}, "password": {"short"}}).
		wantStatus(t, http.StatusUnprocessableEntity).wantContains(t, "8자 이상", token)
	other.submit(link, "/reset", url.Values{"token": {token}, "password": {"new password 2"}}).wantRedirect(t, "/login")

	// The session that existed before the reset is logged out.
	b.get("/profile").wantRedirect(t, "/login?next=%2Fprofile")
	// Reusing the link fails.
	other.submit(link, "/reset", url.Values{"token": {token}, "password": {"another pass 3"}}).
		wantStatus(t, http.StatusBadRequest).wantContains(t, "재설정 링크가 만료되었거나")
	other.submit("/login", "/login", url.Values{"email": {email}, "password": {"old password 1"}}).wantStatus(t, http.StatusUnauthorized)
	other.submit("/login", "/login", url.Values{"email": {email}, "password": {"new password 2"}}).wantRedirect(t, "/")
}

// TestProfileNickname: nickname edits need a verified address, show field errors in place and
// keep what was typed.
func TestProfileNickname(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signUp("nick@example.com", "password 123", "처음닉네임", "nick_chan")
	s.signUp("taken@example.com", "password 123", "이미있음", "taken_chan")

	before := s.snapshot()
	b.submit("/profile", "/profile", url.Values{"nickname": {"바뀐닉네임"}}).wantStatus(t, http.StatusForbidden).
		wantContains(t, "이메일 인증을 마친 계정만")
	if s.snapshot() != before {
		t.Fatal("an unverified user changed their nickname")
	}
	s.verify(b, "nick@example.com")

	b.submit("/profile", "/profile", url.Values{"nickname": {"이미있음"}}).wantStatus(t, http.StatusUnprocessableEntity).
		wantContains(t, "이미 사용 중인 닉네임이에요", `value="이미있음"`, `aria-invalid="true"`)
	b.submit("/profile", "/profile", url.Values{"nickname": {"바뀐닉네임"}}).wantRedirect(t, "/profile")
	b.get("/profile").wantContains(t, "프로필을 저장했어요", `value="바뀐닉네임"`, "nick@example.com")
}

func categoryNameKO(c channel.Category) string {
	if c.NameKO != "" {
		return c.NameKO
	}
	return c.Slug
}

func wantJSONError(t *testing.T, r *response, code string) {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("not a JSON error: %v\n%s", err, r.body)
	}
	if body.Error.Code != code || body.Error.Message == "" {
		t.Fatalf("JSON error = %+v, want code %q with a message", body.Error, code)
	}
}
