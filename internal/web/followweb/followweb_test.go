package followweb_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alertweb"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/followweb"
	"github.com/freelylive/freely/internal/web/webtest"
)

// site is the real web front with the alert API and these pages, on one database.
type site struct {
	*webtest.Site
	back    *webtest.Alerts
	alerts  *alert.Service
	follows *follow.Service
}

func newSite(t *testing.T, db *sqlstore.DB, pgURL string) *site {
	t.Helper()
	back := webtest.NewAlerts(t, db, pgURL, alert.FanOutOptions{MaxRate: -1})
	s := &site{back: back, alerts: back.Service, follows: back.Follows}
	mediaURL := func(key string) string { return "/media/" + key }
	pages, err := followweb.New(followweb.Options{Follows: s.follows, Alerts: s.alerts, Channels: db, ImageURL: mediaURL})
	if err != nil {
		t.Fatal(err)
	}
	s.Site = webtest.New(t, db, func(*webtest.Site) []web.Extension {
		return []web.Extension{
			alertweb.Extension(alertweb.Options{Follows: s.follows, Alerts: s.alerts, Hub: back.Hub, Channels: db, MediaURL: mediaURL}),
			pages.Extension(),
		}
	})
	return s
}

// viewer is a browser: a session (none when anonymous) and its CSRF token.
type viewer struct{ *webtest.Client }

func (s *site) logIn(email, nickname, handle string) *viewer {
	return &viewer{s.LogIn(account.SignUpInput{Email: email, Nickname: nickname, Handle: handle})}
}

func (v *viewer) get(path string) (int, string) {
	r := v.Get(path)
	return r.Status, r.Body
}

// post sends a URL-encoded form as a page without JavaScript does; withCSRF adds the token.
func (v *viewer) post(path string, form url.Values, withCSRF bool) (int, string, http.Header) {
	if withCSRF && v.CSRFToken != "" {
		form.Set("csrf_token", v.CSRFToken)
	}
	r := v.Post(path, form)
	return r.Status, r.Body, r.Header
}

// api sends a JSON request with the CSRF header, as follow.js does.
func (v *viewer) api(method, path string) (int, string) {
	r := v.JSON(method, path, "{}", v.CSRFToken)
	return r.Status, r.Body
}

func (s *site) followers(t *testing.T, handle string) int64 {
	t.Helper()
	ch, err := s.DB.ChannelByHandle(t.Context(), handle)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.follows.FollowerCount(t.Context(), ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFollowButton(t *testing.T) {
	t.Parallel()
	webtest.EachDatabase(t, func(t *testing.T, db *sqlstore.DB, pgURL string) {
		t.Parallel()
		s := newSite(t, db, pgURL)
		streamer := s.logIn("streamer@example.test", "스트리머", "streamer")
		fan := s.logIn("fan@example.test", "팬클럽", "fan_page")
		anon := &viewer{Client: s.Anon()}

		// Anonymous: the count and a log-in link, no form.
		code, body := anon.get("/c/streamer")
		if code != 200 || !strings.Contains(body, "팔로워 0명") || !strings.Contains(body, `href="/login?next=/c/streamer"`) || strings.Contains(body, "data-follow-form") {
			t.Fatalf("anonymous channel page: %d, button part %q", code, excerpt(body, "follow-box"))
		}
		form := url.Values{"follow": {"1"}}
		if code, _, h := anon.post("/c/streamer/follow", form, true); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Errorf("anonymous follow form: %d → %q", code, h.Get("Location"))
		}
		// Logged in: a form that posts with the session's token.
		_, body = fan.get("/c/streamer")
		if !strings.Contains(body, `action="/c/streamer/follow"`) || !strings.Contains(body, `name="csrf_token" value="`+fan.CSRFToken+`"`) || !strings.Contains(body, ">팔로우</button>") {
			t.Fatalf("fan's channel page button: %q", excerpt(body, "follow-box"))
		}
		// Without the token: refused, nothing changes.
		if code, _, _ := fan.post("/c/streamer/follow", url.Values{"follow": {"1"}}, false); code != http.StatusForbidden {
			t.Errorf("follow form without CSRF token: %d", code)
		}
		if n := s.followers(t, "streamer"); n != 0 {
			t.Fatalf("followers after refused follows: %d", n)
		}
		// With it, twice: one follow, back to the channel page.
		for range 2 {
			code, _, h := fan.post("/c/streamer/follow", url.Values{"follow": {"1"}}, true)
			if code != http.StatusSeeOther || h.Get("Location") != "/c/streamer" {
				t.Fatalf("follow form: %d → %q", code, h.Get("Location"))
			}
		}
		if n := s.followers(t, "streamer"); n != 1 {
			t.Fatalf("followers after following twice: %d", n)
		}
		_, body = fan.get("/c/streamer")
		if !strings.Contains(body, "팔로워 1명") || !strings.Contains(body, ">팔로잉</button>") || !strings.Contains(body, `name="follow" value="0"`) {
			t.Errorf("after following, button: %q", excerpt(body, "follow-box"))
		}
		// The JSON API the script uses agrees and keeps counting right.
		if code, body := fan.api(http.MethodDelete, "/api/v1/follows/streamer"); code != 200 || !strings.Contains(body, `"followers":0`) {
			t.Errorf("unfollow over the API: %d %s", code, body)
		}
		if code, body := fan.api(http.MethodPut, "/api/v1/follows/streamer"); code != 200 || !strings.Contains(body, `"followers":1`) {
			t.Errorf("follow over the API: %d %s", code, body)
		}
		// Bad input changes nothing.
		if code, _, _ := fan.post("/c/streamer/follow", url.Values{"follow": {"yes"}}, true); code != http.StatusBadRequest {
			t.Errorf("follow=yes: %d", code)
		}
		if code, _, _ := fan.post("/c/nobody_here/follow", url.Values{"follow": {"1"}}, true); code != http.StatusNotFound {
			t.Errorf("following a missing channel: %d", code)
		}
		if code, _, _ := fan.post("/c/%2e%2e/follow", url.Values{"follow": {"1"}}, true); code != http.StatusNotFound {
			t.Errorf("following a malformed handle: %d", code)
		}
		// The owner sees the count, no button, and cannot follow by posting the form.
		_, body = streamer.get("/c/streamer")
		if strings.Contains(body, "data-follow-form") || !strings.Contains(body, "팔로워 1명") {
			t.Errorf("owner's channel page: %q", excerpt(body, "follow-box"))
		}
		if code, _, _ := streamer.post("/c/streamer/follow", url.Values{"follow": {"1"}}, true); code != http.StatusConflict {
			t.Errorf("following your own channel: %d", code)
		}
		// Unfollow by form.
		if code, _, _ := fan.post("/c/streamer/follow", url.Values{"follow": {"0"}}, true); code != http.StatusSeeOther {
			t.Errorf("unfollow form: %d", code)
		}
		if n := s.followers(t, "streamer"); n != 0 {
			t.Errorf("followers after unfollowing: %d", n)
		}
		// English pages get English labels.
		if _, body := anon.get("/c/streamer?lang=en"); !strings.Contains(body, "0 followers") {
			t.Errorf("English count: %q", excerpt(body, "follow-box"))
		}
	})
}

func TestFollowedPanelAndAlerts(t *testing.T) {
	t.Parallel()
	webtest.EachDatabase(t, func(t *testing.T, db *sqlstore.DB, pgURL string) {
		t.Parallel()
		s := newSite(t, db, pgURL)
		s.logIn("quiet@example.test", "조용한채널", "quiet_one")
		s.logIn("loud@example.test", "시끄러운", "loud_one")
		fan := s.logIn("fan@example.test", "팬클럽", "fan_page")
		other := s.logIn("other@example.test", "다른사람", "other_page")
		anon := &viewer{Client: s.Anon()}

		// Before following anything: the panel's empty state, the bell without a count.
		_, body := fan.get("/")
		if !strings.Contains(body, "팔로우한 채널이 아직 없어요") || !strings.Contains(body, `data-alert-bell`) || !strings.Contains(body, `data-unread="0" hidden`) {
			t.Fatalf("fan's first page: panel %q bell %q", excerpt(body, "sidenav-title\">팔로우"), excerpt(body, "data-alert-bell"))
		}
		if _, body := anon.get("/"); strings.Contains(body, "data-alert-bell") || strings.Contains(body, "팔로우 채널") {
			t.Errorf("anonymous page has the bell or the panel")
		}
		// Follow quiet first, then loud; loud goes live: it comes first in the panel.
		for _, h := range []string{"quiet_one", "loud_one"} {
			if code, body := fan.api(http.MethodPut, "/api/v1/follows/"+h); code != 200 {
				t.Fatalf("follow %s: %d %s", h, code, body)
			}
		}
		eventID := s.back.GoLive(t, "loud_one", `<img src=x onerror=alert(1)> 첫 방송`)

		_, body = fan.get("/")
		panel := excerpt(body, "data-followed-panel")
		iLoud, iQuiet := strings.Index(panel, "/c/loud_one"), strings.Index(panel, "/c/quiet_one")
		if iLoud < 0 || iQuiet < 0 || iLoud > iQuiet || !strings.Contains(panel, "live-dot") {
			t.Errorf("panel does not list the live channel first: %q", panel)
		}
		if strings.Contains(body, "<img src=x") {
			t.Errorf("user text is not escaped in the panel")
		}
		if !strings.Contains(body, `data-unread="1"`) || strings.Contains(body, `data-unread="1" hidden`) {
			t.Errorf("bell after the alert: %q", excerpt(body, "data-alert-bell"))
		}

		// The same list as a page (phones have no side panel), linked from the navigation.
		code, body := fan.get("/following")
		list := excerpt(body, "data-following-list")
		iLoud, iQuiet = strings.Index(list, "/c/loud_one"), strings.Index(list, "/c/quiet_one")
		if code != 200 || iLoud < 0 || iQuiet < 0 || iLoud > iQuiet || !strings.Contains(list, "&lt;img src=x") || !strings.Contains(body, `href="/following"`) {
			t.Errorf("following page: %d %q", code, list)
		}
		if code, _ := anon.get("/following"); code != http.StatusSeeOther && code != http.StatusFound {
			t.Errorf("anonymous following page: %d", code)
		}

		// The alert list: the fan has it, unread; another user has nothing.
		code, body = fan.get("/alerts")
		if code != 200 || !strings.Contains(body, fmt.Sprintf(`data-alert-id="%d"`, eventID)) || !strings.Contains(body, "is-unread") ||
			!strings.Contains(body, "님이 방송을 시작했어요") || !strings.Contains(body, "&lt;img src=x") {
			t.Fatalf("fan's alert list: %d %q", code, excerpt(body, "alert-list"))
		}
		if _, body := other.get("/alerts"); strings.Contains(body, "data-alert-id") || !strings.Contains(body, "아직 알림이 없어요") {
			t.Errorf("another user's alert list shows alerts")
		}
		if code, _ := anon.get("/alerts"); code != http.StatusSeeOther && code != http.StatusFound {
			t.Errorf("anonymous alert list: %d", code)
		}
		// Another user cannot mark the fan's alert read; it stays unread.
		if code, _, _ := other.post(fmt.Sprintf("/alerts/%d/read", eventID), url.Values{}, true); code != http.StatusNotFound {
			t.Errorf("marking another user's alert read: %d", code)
		}
		if n, _ := s.alerts.UnreadCount(t.Context(), fan.User.ID); n != 1 {
			t.Fatalf("fan's unread after another user's attempt: %d", n)
		}
		if code, _, _ := fan.post(fmt.Sprintf("/alerts/%d/read", eventID), url.Values{}, false); code != http.StatusForbidden {
			t.Errorf("mark read without CSRF token: %d", code)
		}
		if code, _, _ := fan.post("/alerts/0/read", url.Values{}, true); code != http.StatusBadRequest {
			t.Errorf("mark read of alert 0: %d", code)
		}
		if code, _ := fan.get("/alerts?before=-3"); code != http.StatusBadRequest {
			t.Errorf("negative before: %d", code)
		}
		code, _, h := fan.post(fmt.Sprintf("/alerts/%d/read", eventID), url.Values{}, true)
		if code != http.StatusSeeOther || h.Get("Location") != "/alerts" {
			t.Errorf("mark read: %d → %q", code, h.Get("Location"))
		}
		if n, _ := s.alerts.UnreadCount(t.Context(), fan.User.ID); n != 0 {
			t.Errorf("fan's unread after marking read: %d", n)
		}

		// Mark all read touches only the caller's alerts.
		if code, body := other.api(http.MethodPut, "/api/v1/follows/quiet_one"); code != 200 {
			t.Fatalf("other follows quiet: %d %s", code, body)
		}
		s.back.GoLive(t, "quiet_one", "조용한 방송")
		if code, _, _ := other.post("/alerts/read-all", url.Values{}, true); code != http.StatusSeeOther {
			t.Errorf("other's read-all: %d", code)
		}
		if n, _ := s.alerts.UnreadCount(t.Context(), fan.User.ID); n != 1 {
			t.Errorf("fan's unread after another user's read-all: %d", n)
		}
		if n, _ := s.alerts.UnreadCount(t.Context(), other.User.ID); n != 0 {
			t.Errorf("other's unread after read-all: %d", n)
		}
		if code, _, _ := fan.post("/alerts/read-all", url.Values{}, true); code != http.StatusSeeOther {
			t.Errorf("fan's read-all: %d", code)
		}
		if n, _ := s.alerts.UnreadCount(t.Context(), fan.User.ID); n != 0 {
			t.Errorf("fan's unread after read-all: %d", n)
		}
	})
}

// excerpt is the part of body around marker, for failure messages.
func excerpt(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return "(no " + marker + ")"
	}
	return body[max(0, i-200):min(len(body), i+600)]
}
