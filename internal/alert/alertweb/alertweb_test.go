package alertweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alertweb"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/imageproc"
	"github.com/freelylive/freely/internal/jobs"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/mail"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/web"
)

const waitLimit = 30 * time.Second

// site is the real web server with the alerts extension on one database.
type site struct {
	t        *testing.T
	db       *sqlstore.DB
	srv      *httptest.Server
	accounts *account.Service
	alerts   *alert.Service
	fan      *alert.FanOut
}

// newSite builds the site; pgURL is the PostgreSQL schema URL River opens its pools with
// ("" on SQLite).
func newSite(t *testing.T, db *sqlstore.DB, pgURL string) *site {
	t.Helper()
	ctx := t.Context()
	s := &site{t: t, db: db}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := mem.New(mem.Options{})
	t.Cleanup(func() { b.Close() })
	hub := alert.NewHub(b, alert.HubOptions{})
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })

	jobOpts := jobs.Options{DB: db.SQL(), Dialect: db.Dialect(), PostgresURL: pgURL}
	queue, err := jobs.Open(ctx, jobOpts) // insert-only: the test runs the fan-out itself
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { queue.Stop(context.Background()) })
	as := sqlstore.NewAlertStore(db)
	if s.alerts, err = alert.NewService(alert.Options{Store: as, Jobs: queue, Bus: b}); err != nil {
		t.Fatal(err)
	}
	if s.fan, err = alert.NewFanOut(alert.FanOutOptions{Store: as, Bus: b}); err != nil {
		t.Fatal(err)
	}
	follows, err := follow.NewService(follow.Options{Store: sqlstore.NewFollowStore(db), Channels: db})
	if err != nil {
		t.Fatal(err)
	}

	s.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + s.srv.Listener.Addr().String()
	s.accounts = account.NewService(account.Options{
		Store: db, Mailer: mail.NewSink(), Images: imageproc.New(), BaseURL: base, Logger: logger,
		PasswordParams: &account.PasswordParams{Memory: 1024, Time: 1, Threads: 1},
	})
	channels := channel.NewService(channel.Options{Store: db, Images: imageproc.New(), Logger: logger})
	w, err := web.New(web.Options{
		Accounts:  s.accounts,
		Channels:  channels,
		Logger:    logger,
		BaseURL:   base,
		SecretKey: []byte("0123456789abcdef0123456789abcdef"),
		Extensions: []web.Extension{alertweb.Extension(alertweb.Options{
			Follows: follows, Alerts: s.alerts, Hub: hub, Channels: db,
			MediaURL: func(key string) string { return "/media/" + key },
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.srv.Config.Handler = w
	s.srv.Start()
	t.Cleanup(func() { s.srv.Close(); w.Close() })
	return s
}

// viewer is a logged-in browser: its session cookie and the page's CSRF token.
type viewer struct {
	s      *site
	user   *account.User
	cookie *http.Cookie
	csrf   string
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

func (s *site) logIn(email, nickname, handle string) *viewer {
	t := s.t
	ctx := t.Context()
	hash, err := s.accounts.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.accounts.ImportUser(ctx, account.SignUpInput{Email: email, Nickname: nickname, Handle: handle}, hash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	token, _, _, err := s.accounts.LogIn(ctx, email, "correct horse battery", account.SessionMeta{})
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer{s: s, user: u, cookie: &http.Cookie{Name: "freely_session", Value: token}}
	code, body := v.do(http.MethodGet, "/", "")
	m := csrfMeta.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("home page: %d, no csrf token", code)
	}
	v.csrf = m[1]
	return v
}

// do sends a request (a JSON body for state-changing methods, with the CSRF header) and
// returns the status and body. A nil viewer is anonymous.
func (v *viewer) do(method, path, body string) (int, string) {
	return v.doCSRF(method, path, body, true)
}

func (v *viewer) doCSRF(method, path, body string, withCSRF bool) (int, string) {
	t := v.s.t
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, v.s.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if v.cookie != nil {
		req.AddCookie(v.cookie)
	}
	if withCSRF && v.csrf != "" {
		req.Header.Set("X-CSRF-Token", v.csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
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

func (v *viewer) dial(ctx context.Context) *websocket.Conn {
	t := v.s.t
	h := http.Header{}
	h.Set("Cookie", v.cookie.String())
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(v.s.srv.URL, "http")+"/api/v1/alerts/ws",
		&websocket.DialOptions{HTTPHeader: h})
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
	eachDatabase(t, func(t *testing.T, db *sqlstore.DB, pgURL string) {
		s := newSite(t, db, pgURL)
		ctx := t.Context()
		streamer := s.logIn("streamer@example.test", "스트리머", "streamer")
		fan := s.logIn("fan@example.test", "팬클럽", "fan_page")
		other := s.logIn("other@example.test", "다른사람", "other_page")
		anon := &viewer{s: s}

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
		conn := fan.dial(ctx)
		if p := readPush(t, conn); p.Type != "unread" || p.Unread == nil || *p.Unread != 0 {
			t.Fatalf("first frame %+v", p)
		}
		ch, err := db.ChannelByHandle(ctx, "streamer")
		if err != nil {
			t.Fatal(err)
		}
		sess := &live.Session{ChannelID: ch.ID, Title: "<script>첫 방송</script>", StartedAt: time.Now(), LastSeenAt: time.Now()}
		if err := sqlstore.NewLiveStore(db).OpenSession(ctx, sess, s.alerts.OnLiveOpen); err != nil {
			t.Fatal(err)
		}
		var eventID int64
		if err := db.Bun().NewRaw(`SELECT id FROM alert_events WHERE source_id = ?`, sess.ID).Scan(ctx, &eventID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.fan.Run(ctx, eventID); err != nil {
			t.Fatal(err)
		}
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
		if _, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.srv.URL, "http")+"/api/v1/alerts/ws", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous socket: %v, %+v", err, resp)
		}
	})
}

// eachDatabase runs fn on SQLite and, with FREELY_TEST_POSTGRES, on PostgreSQL.
func eachDatabase(t *testing.T, fn func(t *testing.T, db *sqlstore.DB, pgURL string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqltest.SQLite(t), "") })
	t.Run("postgres", func(t *testing.T) {
		u := sqltest.PostgresURL(t)
		db, err := sqlstore.Open(t.Context(), sqlstore.Options{URL: u, MaxOpenConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db, u)
	})
}
