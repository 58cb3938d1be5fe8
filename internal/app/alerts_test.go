package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/media/mediatest"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// alertFollower is a user seeded before the platform starts, with a log-in session.
type alertFollower struct {
	sessionToken string
}

func seedFollower(t *testing.T, cfg *config.Config, handle string) alertFollower {
	t.Helper()
	const password = "correct horse battery"
	var token string
	withServices(t, cfg, func(ctx context.Context, _ *sqlstore.DB, svc *services) {
		importUser(t, ctx, svc, handle, "구독자", password)
		var err error
		if token, _, _, err = svc.accounts.LogIn(ctx, handle+"@example.com", password, account.SessionMeta{}); err != nil {
			t.Fatal(err)
		}
	})
	return alertFollower{sessionToken: token}
}

// runAlertPlatform runs the whole platform on cfg with loopback ports until the test ends and
// returns its base URL, its RTMP address and its log.
func runAlertPlatform(ctx context.Context, t *testing.T, cfg *config.Config) (base, rtmpAddr string, logs *logWatch) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = ln.Addr().String()
	cfg.HTTP.PublicURL = "http://" + ln.Addr().String()
	logs = newLogWatch()
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(runCtx, cfg, slog.New(slog.NewTextHandler(logs, nil)), ln, nil) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("platform stopped with %v", err)
		}
		if t.Failed() {
			t.Logf("platform log:\n%s", logs.String())
		}
	})
	return cfg.HTTP.PublicURL, logs.wait(ctx, t, rtmpListeningRE)[1], logs
}

// publishFixture publishes the committed H.264/AAC fixture to url at real-time pace until
// ctx ends; the publisher's result arrives on the channel.
func publishFixture(ctx context.Context, t *testing.T, url string) <-chan error {
	t.Helper()
	tags, err := mediatest.LoadFixture(mediatest.H264AACFixture)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan error, 1)
	go func() { out <- mediatest.Publish(ctx, url, tags, mediatest.SendOptions{Pace: 1, Loops: 100}) }()
	return out
}

// alertClient is the follower's browser: session cookie and CSRF token.
type alertClient struct {
	t      *testing.T
	base   string
	cookie *http.Cookie
	csrf   string
}

var csrfMetaRE = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

func newAlertClient(t *testing.T, base string, f alertFollower) *alertClient {
	c := &alertClient{t: t, base: base, cookie: &http.Cookie{Name: "freely_session", Value: f.sessionToken}}
	_, body := c.do(http.MethodGet, "/", "")
	m := csrfMetaRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("home page has no CSRF token")
	}
	c.csrf = m[1]
	return c
}

func (c *alertClient) do(method, path, body string) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.AddCookie(c.cookie)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

type alertPush struct {
	Type   string `json:"type"`
	Unread *int   `json:"unread"`
	Alert  *struct {
		ID            int64  `json:"id"`
		Kind          string `json:"kind"`
		ChannelHandle string `json:"channel_handle"`
		Title         string `json:"title"`
	} `json:"alert"`
}

func readAlertPush(ctx context.Context, t *testing.T, conn *websocket.Conn) alertPush {
	t.Helper()
	_, data, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read alert push: %v", err)
	}
	var p alertPush
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("decode push %q: %v", data, err)
	}
	return p
}

// TestFollowerGetsWentLiveAlertOnce runs the whole platform: a follower with an open alert
// socket is alerted when the streamer's RTMP publish opens a broadcast (session insert, River
// job in the same transaction, fan-out worker, bus, socket), and a reconnect of the
// publisher within the grace period continues the broadcast and alerts nobody again.
// It runs on SQLite and, with FREELY_TEST_POSTGRES, on PostgreSQL (River on PostgreSQL
// takes the job in the application's transaction through the same hook).
func TestFollowerGetsWentLiveAlertOnce(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		followerGetsWentLiveAlertOnce(t, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		followerGetsWentLiveAlertOnce(t, sqltest.PostgresURL(t))
	})
}

func followerGetsWentLiveAlertOnce(t *testing.T, databaseURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg, err := config.Load(config.Sources{Overrides: map[string]string{
		"data_dir": t.TempDir(), "http.addr": "127.0.0.1:0", "rtmp.addr": "127.0.0.1:0", "live.grace_period": "60s",
		"database.url": databaseURL,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	streamer := seedStreamer(t, cfg, "alert_caster", "알림 테스트 <b>방송</b>")
	follower := seedFollower(t, cfg, "alert_fan")

	base, rtmpAddr, logs := runAlertPlatform(ctx, t, cfg)

	fan := newAlertClient(t, base, follower)
	if code, body := fan.do(http.MethodPut, "/api/v1/follows/alert_caster", "{}"); code != http.StatusOK || !strings.Contains(body, `"followers":1`) {
		t.Fatalf("follow: %d %s", code, body)
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/alerts/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {fan.cookie.String()}}})
	if err != nil {
		t.Fatalf("dial alert socket: %v", err)
	}
	defer conn.CloseNow()
	if p := readAlertPush(ctx, t, conn); p.Type != "unread" || p.Unread == nil || *p.Unread != 0 {
		t.Fatalf("first frame %+v", p)
	}

	publish := func(pubCtx context.Context) <-chan error {
		return publishFixture(pubCtx, t, "rtmp://"+rtmpAddr+"/live/"+streamer.streamKey)
	}

	// Going live alerts the follower's open page.
	pubCtx, stopPub := context.WithCancel(ctx)
	published := publish(pubCtx)
	p := readAlertPush(ctx, t, conn)
	if p.Type != "alert" || p.Alert == nil || p.Alert.Kind != "went_live" || p.Alert.ChannelHandle != "alert_caster" ||
		p.Alert.Title != "알림 테스트 <b>방송</b>" {
		t.Fatalf("went-live push %+v (alert %+v)", p, p.Alert)
	}
	if code, body := fan.do(http.MethodGet, "/api/v1/alerts/unread", ""); code != http.StatusOK || !strings.Contains(body, `"unread":1`) {
		t.Fatalf("unread after going live: %d %s", code, body)
	}

	// The publisher drops and comes back within the grace period: the same broadcast goes on.
	stopPub()
	<-published
	logs.wait(ctx, t, regexp.MustCompile(`msg="live: publisher left"`))
	pubCtx2, stopPub2 := context.WithCancel(ctx)
	defer stopPub2()
	published2 := publish(pubCtx2)
	logs.wait(ctx, t, regexp.MustCompile(`msg="live: session resumed"`))
	if n := strings.Count(logs.String(), `msg="live: session started"`); n != 1 {
		t.Fatalf("%d broadcasts started, want 1", n)
	}
	// No second event exists, so no second fan-out can run; and the page's next frame is the
	// bell change we cause now, not another alert.
	if code, body := fan.do(http.MethodGet, "/api/v1/alerts", ""); code != http.StatusOK || strings.Count(body, `"kind":"went_live"`) != 1 {
		t.Fatalf("alerts after the reconnect: %d %s", code, body)
	}
	if code, body := fan.do(http.MethodPost, "/api/v1/alerts/read-all", "{}"); code != http.StatusOK {
		t.Fatalf("read all: %d %s", code, body)
	}
	if p := readAlertPush(ctx, t, conn); p.Type != "unread" || p.Unread == nil || *p.Unread != 0 {
		t.Fatalf("after the reconnect the page got %+v (alert %+v), want only the bell reset", p, p.Alert)
	}
	stopPub2()
	<-published2
}
