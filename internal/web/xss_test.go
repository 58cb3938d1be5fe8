package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const xss = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`

// TestUserTextIsEscapedEverywhere sends markup through every place user text comes back:
// re-rendered forms, the search box, channel name and introduction (page, title, settings,
// JSON). It must always come back as text.
func TestUserTextIsEscapedEverywhere(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signUp("xss@example.com", "password 123", "안전", "safe_chan")
	s.verify(b, "xss@example.com")

	raw := func(r *response) {
		t.Helper()
		for _, bad := range []string{"<script>alert(1)", "<img src=x", `"'><img`} {
			if strings.Contains(r.body, bad) {
				t.Fatalf("unescaped user text %q in:\n%.3000s", bad, r.body)
			}
		}
	}
	// Forms refused by the services come back with the typed values, escaped.
	r := s.browser().submit("/signup", "/signup", url.Values{"email": {xss}, "password": {"x"}, "nickname": {xss}, "handle": {xss}})
	r.wantStatus(t, http.StatusUnprocessableEntity).wantContains(t, "&lt;script&gt;alert(1)&lt;/script&gt;")
	raw(r)
	raw(s.browser().submit("/login", "/login", url.Values{"email": {xss}, "password": {"x"}, "next": {xss}}))
	raw(b.submit("/profile", "/profile", url.Values{"nickname": {xss}}).wantStatus(t, http.StatusUnprocessableEntity))
	raw(s.browser().get("/search?q="+url.QueryEscape(xss)).wantStatus(t, http.StatusOK))
	raw(s.browser().get("/"+url.PathEscape(xss)).wantStatus(t, http.StatusNotFound))

	// Stored text: the channel's name and introduction.
	b.submit("/settings/channel", "/settings/channel", url.Values{"display_name": {"<script>x</script>"}, "introduction": {xss}}).
		wantRedirect(t, "/settings/channel")
	for _, path := range []string{"/c/safe_chan", "/settings/channel"} {
		page := b.get(path).wantStatus(t, http.StatusOK)
		raw(page)
		if strings.Contains(page.body, "<script>x</script>") {
			t.Fatalf("%s: display name unescaped", path)
		}
	}
	s.browser().get("/c/safe_chan").wantContains(t, "<title>&lt;script&gt;x&lt;/script&gt; 채널 · Freely</title>")
	api := s.browser().get("/api/v1/channels/safe_chan").wantStatus(t, http.StatusOK)
	raw(api)
	api.wantContains(t, `\u003cscript\u003ealert(1)\u003c/script\u003e`)
}
