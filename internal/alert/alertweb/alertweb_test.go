package alertweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alertweb"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/webtest"
)

const waitLimit = 30 * time.Second

// site is the real web server with the alerts extension on one database.
type site struct {
	*webtest.Site
	alerts *webtest.Alerts
}

// newSite builds the site; pgURL is the PostgreSQL schema URL River opens its pools with
// ("" on SQLite).
func newSite(t *testing.T, db *sqlstore.DB, pgURL string) *site {
	t.Helper()
	s := &site{alerts: webtest.NewAlerts(t, db, pgURL, alert.FanOutOptions{})}
	s.Site = webtest.New(t, db, func(*webtest.Site) []web.Extension {
		return []web.Extension{alertweb.Extension(alertweb.Options{
			Follows: s.alerts.Follows, Alerts: s.alerts.Service, Hub: s.alerts.Hub, Channels: db,
			MediaURL: func(key string) string { return "/media/" + key },
		})}
	})
	return s
}

// viewer is a browser: a session (none when anonymous) and its CSRF token.
type viewer struct{ *webtest.Client }

func (s *site) logIn(email, nickname, handle string) *viewer {
	return &viewer{s.LogIn(account.SignUpInput{Email: email, Nickname: nickname, Handle: handle})}
}

// do sends a request (a JSON body for state-changing methods, with the CSRF header) and
// returns the status and body.
func (v *viewer) do(method, path, body string) (int, string) {
	return v.doCSRF(method, path, body, true)
}

func (v *viewer) doCSRF(method, path, body string, withCSRF bool) (int, string) {
	csrf := ""
	if withCSRF {
		csrf = v.CSRFToken
	}
	r := v.JSON(method, path, body, csrf)
	return r.Status, r.Body
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

type statusBody struct {
	Following bool       `json:"following"`
	Since     *time.Time `json:"since"`
	Followers int64      `json:"followers"`
}

type pushBody struct {
	Type   string `json:"type"`
	Unread *int   `json:"unread"`
	Alert  *struct {
		ID                     int64   `json:"id"`
		Kind                   string  `json:"kind"`
		ChannelHandle          string  `json:"channel_handle"`
		ChannelProfileKey      *string `json:"channel_profile_key"`
		ChannelProfileImageURL string  `json:"channel_profile_image_url"`
		Title                  string  `json:"title"`
	} `json:"alert"`
}

func (v *viewer) dial(ctx context.Context, t *testing.T, srvURL string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srvURL, "http")+"/api/v1/alerts/ws",
		&websocket.DialOptions{HTTPClient: v.HTTP})
	if err != nil {
		t.Fatalf("dial alert socket: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func readPush(t *testing.T, conn *websocket.Conn) pushBody {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	_, data, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read push: %v", err)
	}
	return decode[pushBody](t, string(data))
}

func TestFollowAndAlertOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.EachDatabase(t, func(t *testing.T, db *sqlstore.DB, pgURL string) {
		s := newSite(t, db, pgURL)
		ctx := t.Context()
		streamer := s.logIn("streamer@example.test", "스트리머", "streamer")
		fan := s.logIn("fan@example.test", "팬클럽", "fan_page")
		other := s.logIn("other@example.test", "다른사람", "other_page")
		anon := &viewer{Client: s.Anon()}

		// Anonymous visitors see the count and cannot follow.
		if code, body := anon.do(http.MethodGet, "/api/v1/follows/streamer", ""); code != 200 || decode[statusBody](t, body).Followers != 0 {
			t.Errorf("anonymous status: %d %s", code, body)
		}
		if code, _ := anon.do(http.MethodPut, "/api/v1/follows/streamer", "{}"); code != http.StatusUnauthorized && code != http.StatusForbidden {
			t.Errorf("anonymous follow: %d", code)
		}
		// A follow without the CSRF token is refused and changes nothing.
		if code, _ := fan.doCSRF(http.MethodPut, "/api/v1/follows/streamer", "{}", false); code != http.StatusForbidden {
			t.Errorf("follow without CSRF token: %d", code)
		}
		for range 2 {
			code, body := fan.do(http.MethodPut, "/api/v1/follows/streamer", "{}")
			st := decode[statusBody](t, body)
			if code != 200 || !st.Following || st.Followers != 1 || st.Since == nil {
				t.Fatalf("follow: %d %s", code, body)
			}
		}
		if code, body := streamer.do(http.MethodPut, "/api/v1/follows/streamer", "{}"); code != http.StatusConflict || !strings.Contains(body, "follow.own_channel") && !strings.Contains(body, "자기 채널") {
			t.Errorf("following your own channel: %d %s", code, body)
		}
		if code, _ := fan.do(http.MethodPut, "/api/v1/follows/nobody_here", "{}"); code != http.StatusNotFound {
			t.Errorf("following a missing channel: %d", code)
		}
		if code, _ := fan.do(http.MethodPut, "/api/v1/follows/streamer", "{not json"); code != http.StatusBadRequest {
			t.Errorf("malformed body: %d", code)
		}
		code, body := fan.do(http.MethodGet, "/api/v1/follows", "")
		if code != 200 || !strings.Contains(body, `"handle":"streamer"`) || strings.Contains(body, "email") {
			t.Errorf("followed channels: %d %s", code, body)
		}

		// The fan's open page: first the bell count, then the alert when the channel goes
		// live, written by the real fan-out.
		conn := fan.dial(ctx, t, s.Server.URL)
		if p := readPush(t, conn); p.Type != "unread" || p.Unread == nil || *p.Unread != 0 {
			t.Fatalf("first frame %+v", p)
		}
		eventID := s.alerts.GoLive(t, "streamer", "<script>첫 방송</script>")
		p := readPush(t, conn)
		if p.Type != "alert" || p.Alert == nil || p.Alert.ID != eventID || p.Alert.ChannelHandle != "streamer" ||
			p.Alert.Title != "<script>첫 방송</script>" || p.Alert.ChannelProfileKey != nil {
			t.Fatalf("alert frame %+v", p.Alert)
		}

		code, body = fan.do(http.MethodGet, "/api/v1/alerts", "")
		if code != 200 || !strings.Contains(body, `"unread":1`) || !strings.Contains(body, `"read_at":null`) {
			t.Errorf("alert list: %d %s", code, body)
		}
		// Someone else cannot read the fan's alert; the fan can, and the open page hears.
		if code, _ := other.do(http.MethodPost, fmt.Sprintf("/api/v1/alerts/%d/read", eventID), "{}"); code != http.StatusNotFound {
			t.Errorf("reading another user's alert: %d", code)
		}
		if code, body := fan.do(http.MethodPost, fmt.Sprintf("/api/v1/alerts/%d/read", eventID), "{}"); code != 200 || body != "{\"unread\":0}\n" {
			t.Errorf("mark read: %d %s", code, body)
		}
		if p := readPush(t, conn); p.Type != "unread" || p.Unread == nil || *p.Unread != 0 {
			t.Errorf("after reading, the page got %+v", p)
		}
		if code, _ := fan.do(http.MethodPost, "/api/v1/alerts/abc/read", "{}"); code != http.StatusBadRequest {
			t.Errorf("bad alert id: %d", code)
		}
		if code, _ := fan.do(http.MethodGet, "/api/v1/alerts?limit=-1", ""); code != http.StatusBadRequest {
			t.Errorf("negative limit: %d", code)
		}
		if code, body := fan.do(http.MethodPost, "/api/v1/alerts/read-all", "{}"); code != 200 || !strings.Contains(body, `"unread":0`) {
			t.Errorf("read all: %d %s", code, body)
		}

		if code, body := fan.do(http.MethodDelete, "/api/v1/follows/streamer", "{}"); code != 200 || decode[statusBody](t, body).Following {
			t.Errorf("unfollow: %d %s", code, body)
		}
		// Anonymous visitors cannot open the socket.
		if _, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.Server.URL, "http")+"/api/v1/alerts/ws", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous socket: %v, %+v", err, resp)
		}
	})
}
