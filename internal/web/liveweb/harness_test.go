package liveweb_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/mail"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/liveweb"
)

const testRTMPURL = "rtmp://ingest.example.com:1935/live"

// site is the web front with the live extension on a real, migrated database, a real live
// manager and an in-process bus, served by httptest.
type site struct {
	t        *testing.T
	db       *sqlstore.DB
	accounts *account.Service
	channels *channel.Service
	live     *live.Manager
	web      *liveweb.Web
	srv      *httptest.Server
}

var cheapPasswords = &account.PasswordParams{Memory: 64, Time: 1, Threads: 1}

func newSite(t *testing.T) *site {
	t.Helper()
	return newSiteOn(t, sqltest.SQLite(t))
}

// eachSite runs fn on a site over SQLite and, when FREELY_TEST_POSTGRES is set, PostgreSQL.
func eachSite(t *testing.T, fn func(t *testing.T, s *site)) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		fn(t, newSiteOn(t, db))
	})
}

func newSiteOn(t *testing.T, db *sqlstore.DB) *site {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		t.Fatal(err)
	}
	b := mem.New(mem.Options{})
	t.Cleanup(func() { b.Close() })
	accounts := account.NewService(account.Options{
		Store: db, Mailer: mail.NewLogMailer(logger), BaseURL: "http://example.test",
		PasswordParams: cheapPasswords, Logger: logger,
	})
	channels := channel.NewService(channel.Options{Store: db, Logger: logger})
	m, err := live.New(live.Options{
		Store: sqlstore.NewLiveStore(db), Channels: db, Accounts: db, Bus: b,
		GracePeriod: 200 * time.Millisecond, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	lw, err := liveweb.New(liveweb.Options{
		Live: m, Channels: channels, Bus: b, RTMPURL: func() string { return testRTMPURL }, BaseURL: "http://example.test",
		StatusInterval: 50 * time.Millisecond, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := web.New(web.Options{
		Accounts: accounts, Channels: channels, Logger: logger, BaseURL: "http://example.test",
		SecretKey: []byte("a test secret key that is long enough"), Extensions: []web.Extension{lw.Extension()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Close)
	if err := lw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws)
	// Status streams end before the server waits for its connections.
	t.Cleanup(srv.Close)
	t.Cleanup(lw.Close)
	return &site{t: t, db: db, accounts: accounts, channels: channels, live: m, web: lw, srv: srv}
}

// streamer creates a user with a channel; verified users may stream.
func (s *site) streamer(handle string, verified bool) (*account.User, *channel.Channel) {
	s.t.Helper()
	ctx := context.Background()
	hash, err := s.accounts.HashPassword("correct horse battery")
	if err != nil {
		s.t.Fatal(err)
	}
	var at time.Time
	if verified {
		at = time.Now()
	}
	u, err := s.accounts.ImportUser(ctx, account.SignUpInput{
		Email: handle + "@example.com", Password: "correct horse battery", Nickname: "닉" + handle, Handle: handle,
	}, hash, at)
	if err != nil {
		s.t.Fatal(err)
	}
	ch, err := s.channels.ByOwner(ctx, u.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	if ch.StreamKey == "" {
		if ch, err = s.channels.RegenerateStreamKey(ctx, u.ID); err != nil {
			s.t.Fatal(err)
		}
	}
	return u, ch
}

// goLive opens a broadcast of the channel the way RTMP ingest does (admission, first
// keyframe) and returns its publication.
func (s *site) goLive(key string) *live.Publication {
	s.t.Helper()
	p, err := s.live.Admit(context.Background(), key, "127.0.0.1:5000")
	if err != nil {
		s.t.Fatalf("admit: %v", err)
	}
	if err := p.Started(context.Background()); err != nil {
		s.t.Fatalf("start: %v", err)
	}
	return p
}

func (s *site) streamKey(ownerID int64) string {
	s.t.Helper()
	ch, err := s.channels.ByOwner(context.Background(), ownerID)
	if err != nil {
		s.t.Fatal(err)
	}
	return ch.StreamKey
}

// client is a browser: a cookie jar, no automatic redirects.
type client struct {
	t    *testing.T
	s    *site
	http *http.Client
}

func (s *site) anon() *client {
	jar, _ := cookiejar.New(nil)
	// The server's own transport: httptest's Close empties http.DefaultTransport's idle
	// pool, which would break requests of tests running in parallel.
	return &client{t: s.t, s: s, http: &http.Client{Jar: jar, Transport: s.srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// loggedIn is a client with the user's session cookie.
func (s *site) loggedIn(u *account.User) *client {
	s.t.Helper()
	token, _, _, err := s.accounts.LogIn(context.Background(), u.Email, "correct horse battery", account.SessionMeta{})
	if err != nil {
		s.t.Fatal(err)
	}
	c := s.anon()
	base, _ := url.Parse(s.srv.URL)
	c.http.Jar.SetCookies(base, []*http.Cookie{{Name: "freely_session", Value: token, Path: "/"}})
	return c
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.s.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the form token from a page the client can see.
func (c *client) csrf(page string) string {
	c.t.Helper()
	m := csrfRE.FindStringSubmatch(c.get(page).body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", page)
	}
	return m[1]
}

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.s.srv.URL)
	return c.do(req)
}

func (r response) wantStatus(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%.2000s", r.status, status, r.body)
	}
	return r
}

func (r response) wantContains(t *testing.T, parts ...string) response {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Errorf("response does not contain %q; body:\n%.3000s", p, r.body)
		}
	}
	return r
}

func (r response) wantNotContains(t *testing.T, parts ...string) response {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(r.body, p) {
			t.Errorf("response contains %q", p)
		}
	}
	return r
}

// statusStream is an open GET .../live/events.
type statusStream struct {
	t      *testing.T
	resp   *http.Response
	frames chan string
}

func (s *site) openStatusStream(handle string) *statusStream {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.URL+"/api/v1/channels/"+handle+"/live/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		s.t.Fatal(err)
	}
	st := &statusStream{t: s.t, resp: resp, frames: make(chan string, 64)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(st.frames)
		sc := bufio.NewScanner(resp.Body)
		var event string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "status":
				st.frames <- strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	s.t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return st
}

// next returns the next status frame whose JSON satisfies ok, failing after a few seconds.
func (st *statusStream) next(ok func(string) bool) string {
	st.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f, open := <-st.frames:
			if !open {
				st.t.Fatal("status stream closed")
			}
			if ok(f) {
				return f
			}
		case <-deadline:
			st.t.Fatal("no matching status frame within 5 s")
		}
	}
}
