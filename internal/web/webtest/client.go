package webtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/freelylive/freely/internal/account"
)

// Client is a browser on a Site: a cookie jar holding the session cookie of a logged-in
// user (none when anonymous). It does not follow redirects, so tests see where a page sends
// the browser.
type Client struct {
	t    testing.TB
	site *Site
	// HTTP carries the jar; it can dial the site's sockets as this browser.
	HTTP *http.Client
	// Token is the session token and User its user (""/nil when anonymous).
	Token string
	User  *account.User
	// CSRFToken is the session's CSRF token when LogIn read it.
	CSRFToken string
}

// Anon is a browser with no session.
func (s *Site) Anon() *Client {
	jar, _ := cookiejar.New(nil)
	// The server's own transport: httptest's Close empties http.DefaultTransport's idle
	// pool, which would break requests of tests running in parallel.
	return &Client{t: s.t, site: s, HTTP: &http.Client{
		Jar: jar, Transport: s.Server.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// LoggedIn is a browser with a fresh session of u, who has Password.
func (s *Site) LoggedIn(u *account.User) *Client {
	s.t.Helper()
	token, _, _, err := s.Accounts.LogIn(s.t.Context(), u.Email, Password, account.SessionMeta{})
	if err != nil {
		s.t.Fatal(err)
	}
	c := s.Anon()
	c.Token, c.User = token, u
	base, _ := url.Parse(s.Server.URL)
	c.HTTP.Jar.SetCookies(base, []*http.Cookie{{Name: "freely_session", Value: token, Path: "/"}})
	return c
}

// LogIn creates a verified user and returns a browser logged in as them that has read its
// CSRF token from the home page, as the site's scripts do.
func (s *Site) LogIn(in account.SignUpInput) *Client {
	s.t.Helper()
	u, _ := s.User(in, true)
	c := s.LoggedIn(u)
	c.CSRFToken = c.CSRF("/")
	return c
}

// Response is what the site answered.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends req with the client's cookies.
func (c *Client) Do(req *http.Request) Response {
	c.t.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return Response{resp.StatusCode, resp.Header, string(b)}
}

func (c *Client) newRequest(method, path string, body io.Reader) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(method, c.site.Server.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return req
}

// Get fetches path.
func (c *Client) Get(path string) Response {
	c.t.Helper()
	return c.Do(c.newRequest(http.MethodGet, path, nil))
}

// Post sends form URL-encoded from the site's own origin, as a page without JavaScript
// does; the caller puts the CSRF token (if any) in form.
func (c *Client) Post(path string, form url.Values) Response {
	c.t.Helper()
	req := c.newRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.site.Server.URL)
	return c.Do(req)
}

// Submit posts form with the session's CSRF token read from the home page, as a browser
// submitting one of the site's forms.
func (c *Client) Submit(path string, form url.Values) Response {
	c.t.Helper()
	form.Set("csrf_token", c.CSRF("/"))
	return c.Post(path, form)
}

// JSON sends body (none when "") as application/json, as the site's scripts do; a non-empty
// csrf goes in the X-CSRF-Token header.
func (c *Client) JSON(method, path, body, csrf string) Response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := c.newRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	return c.Do(req)
}

var (
	csrfMeta  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// CSRF is the session's CSRF token from the meta tag of page, which must answer 200.
func (c *Client) CSRF(page string) string {
	c.t.Helper()
	r := c.Get(page)
	m := csrfMeta.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		c.t.Fatalf("%s: %d, no csrf token", page, r.Status)
	}
	return m[1]
}

// FormCSRF is the CSRF token of the first form on page, which must have one.
func (c *Client) FormCSRF(page string) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(c.Get(page).Body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", page)
	}
	return m[1]
}

// Want fails t unless r has status and contains every part.
func (r Response) Want(t testing.TB, status int, parts ...string) Response {
	t.Helper()
	return r.WantStatus(t, status).WantContains(t, parts...)
}

// WantStatus fails t now unless r has status.
func (r Response) WantStatus(t testing.TB, status int) Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body:\n%.2000s", r.Status, status, r.Body)
	}
	return r
}

// WantContains reports each part r's body lacks.
func (r Response) WantContains(t testing.TB, parts ...string) Response {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.Body, p) {
			t.Errorf("response does not contain %q; body:\n%.3000s", p, r.Body)
		}
	}
	return r
}

// WantNotContains reports each part r's body has.
func (r Response) WantNotContains(t testing.TB, parts ...string) Response {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(r.Body, p) {
			t.Errorf("response contains %q", p)
		}
	}
	return r
}
