package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/imageproc"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/web"
)

// site is a real Freely web front for tests: real services on a real, migrated SQLite store,
// served by httptest on 127.0.0.1. Only mail is caught instead of sent.
type site struct {
	t        *testing.T
	srv      *httptest.Server
	web      *web.Server
	db       *sqlstore.DB
	mail     *recordingMailer
	accounts *account.Service
	channels *channel.Service
	clock    *clock
	logs     *syncBuffer
	media    *disk.Store
}

// cheapPasswords keep argon2id fast in tests; the cost parameters are not under test here.
var cheapPasswords = account.PasswordParams{Memory: 1024, Time: 1, Threads: 1}

func newSite(t *testing.T, configure ...func(*web.Options)) *site {
	t.Helper()
	return newSiteOn(t, sqltest.SQLite(t), configure...)
}

// newSiteOn is newSite on a given database (the PostgreSQL variants use it).
func newSiteOn(t *testing.T, db *sqlstore.DB, configure ...func(*web.Options)) *site {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		t.Fatalf("seed categories: %v", err)
	}
	s := &site{t: t, db: db, mail: &recordingMailer{}, clock: newClock(), logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	images := imageproc.New()
	media, err := disk.New(disk.Options{Dir: filepath.Join(t.TempDir(), "media"), URLPrefix: "/media/"})
	if err != nil {
		t.Fatalf("blob store: %v", err)
	}
	t.Cleanup(func() { media.Close() })
	s.media = media
	s.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + s.srv.Listener.Addr().String()
	s.accounts = account.NewService(account.Options{
		Store: db, Mailer: s.mail, Images: images, Blob: media, BaseURL: base, Now: s.clock.Now,
		Logger: logger, PasswordParams: &cheapPasswords,
	})
	s.channels = channel.NewService(channel.Options{Store: db, Images: images, Blob: media, Now: s.clock.Now, Logger: logger})
	opts := web.Options{
		Accounts:  s.accounts,
		Channels:  s.channels,
		Blob:      media.Handler(),
		Logger:    logger,
		BaseURL:   base,
		SecretKey: []byte("0123456789abcdef0123456789abcdef"),
		Now:       s.clock.Now,
		// Generous limits: the rate-limit test sets its own.
		SignUpRate: web.Rate{PerMinute: 6000, Burst: 1000},
		LogInRate:  web.Rate{PerMinute: 6000, Burst: 1000},
	}
	for _, c := range configure {
		c(&opts)
	}
	w, err := web.New(opts)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	s.web = w
	s.srv.Config.Handler = w
	s.srv.Start()
	t.Cleanup(func() {
		s.srv.Close()
		w.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	return s
}

// clock is a manual time source shared by the services, the web layer and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

type mail struct{ To, Subject, Body string }

// recordingMailer keeps every message instead of sending it.
type recordingMailer struct {
	mu   sync.Mutex
	sent []mail
}

func (m *recordingMailer) Send(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, mail{to, subject, body})
	return nil
}

func (m *recordingMailer) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.sent) }

var linkRE = regexp.MustCompile(`https?://\S+\?token=[A-Za-z0-9_-]+`)

// lastLink returns the path and query of the link in the newest mail to addr.
func (m *recordingMailer) lastLink(t *testing.T, addr string) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.sent) - 1; i >= 0; i-- {
		if m.sent[i].To == addr {
			link := linkRE.FindString(m.sent[i].Body)
			if link == "" {
				t.Fatalf("mail to %s has no link:\n%s", addr, m.sent[i].Body)
			}
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			return u.RequestURI()
		}
	}
	t.Fatalf("no mail to %s among %d", addr, len(m.sent))
	return ""
}

// browser is one visitor with a cookie jar. It does not follow redirects, so tests see them.
type browser struct {
	t      *testing.T
	site   *site
	client *http.Client
	// lastToken is the CSRF token of the last page fetched.
	lastToken string
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	// The server's own transport: httptest's Close empties http.DefaultTransport's idle
	// pool, which would break requests of tests running in parallel.
	return &browser{t: s.t, site: s, client: &http.Client{
		Jar:           jar,
		Transport:     s.srv.Client().Transport,
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("read %s %s: %v", req.Method, req.URL, err)
	}
	r := &response{status: res.StatusCode, header: res.Header, body: string(body)}
	if m := csrfRE.FindStringSubmatch(r.body); m != nil {
		b.lastToken = html.UnescapeString(m[1])
	}
	return r
}

func (b *browser) get(path string) *response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.site.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a URL-encoded form as a same-origin browser would.
func (b *browser) post(path string, form url.Values) *response {
	b.t.Helper()
	return b.raw(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), nil)
}

// raw sends any request, with the same-origin headers a browser adds unless extra says
// otherwise (an empty value removes a header).
func (b *browser) raw(method, path, contentType string, body io.Reader, extra map[string]string) *response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.site.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Origin", b.site.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range extra {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return b.do(req)
}

// submit loads page (to get a CSRF token, as a visitor's browser would) and posts form to
// action with that token.
func (b *browser) submit(page, action string, form url.Values) *response {
	b.t.Helper()
	b.lastToken = ""
	if r := b.get(page); b.lastToken == "" {
		b.t.Fatalf("GET %s (%d) has no CSRF token", page, r.status)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", b.lastToken)
	return b.post(action, form)
}

func (r *response) wantStatus(t *testing.T, want int) *response {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body:\n%.1500s", r.status, want, r.body)
	}
	return r
}

func (r *response) wantRedirect(t *testing.T, to string) *response {
	t.Helper()
	if r.status != http.StatusSeeOther && r.status != http.StatusFound {
		t.Fatalf("status %d, want a redirect to %s; body:\n%.1500s", r.status, to, r.body)
	}
	if got := r.header.Get("Location"); got != to {
		t.Fatalf("redirect to %q, want %q", got, to)
	}
	return r
}

func (r *response) wantContains(t *testing.T, subs ...string) *response {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Fatalf("body lacks %q:\n%.3000s", s, r.body)
		}
	}
	return r
}

func (r *response) wantNotContains(t *testing.T, subs ...string) *response {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(r.body, s) {
			t.Fatalf("body contains %q:\n%.3000s", s, r.body)
		}
	}
	return r
}

// signUp registers through the form and returns the logged-in browser.
func (s *site) signUp(email, password, nickname, handle string) *browser {
	s.t.Helper()
	b := s.browser()
	b.submit("/signup", "/signup", url.Values{
		"email": {email}, "password": {password}, "nickname": {nickname}, "handle": {handle},
	}).wantRedirect(s.t, "/")
	return b
}

// verify follows the newest verification link mailed to email in browser b.
func (s *site) verify(b *browser, email string) {
	s.t.Helper()
	link := s.mail.lastLink(s.t, email)
	token := strings.TrimPrefix(link[strings.Index(link, "token="):], "token=")
	b.submit(link, "/verify", url.Values{"token": {token}}).wantStatus(s.t, http.StatusSeeOther)
}

// snapshot dumps every row of the account and channel tables, so a test can assert that a
// refused request changed nothing.
func (s *site) snapshot() string {
	s.t.Helper()
	var out strings.Builder
	for _, table := range []string{"users", "sessions", "one_time_tokens", "channels", "channel_categories", "categories", "tags"} {
		fmt.Fprintf(&out, "== %s\n", table)
		rows, err := s.db.SQL().QueryContext(context.Background(), "SELECT * FROM "+table+" ORDER BY 1")
		if err != nil {
			s.t.Fatalf("snapshot %s: %v", table, err)
		}
		dumpRows(s.t, &out, rows)
	}
	return out.String()
}

func dumpRows(t *testing.T, out *strings.Builder, rows *sql.Rows) {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(out, "%s=%v ", cols[i], v)
		}
		out.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
