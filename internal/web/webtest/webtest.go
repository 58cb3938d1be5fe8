// Package webtest is for the tests of web extensions: it serves the real web front with the
// extensions under test plugged in, on a real database and an httptest server, and browses
// it as anonymous or logged-in users. Each test passes its own *testing.T; nothing here is
// global, so tests using it may run in parallel.
package webtest

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/imageproc"
	"github.com/freelylive/freely/internal/mail"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/web"
)

// Password is the password of every user a Site creates.
const Password = "correct horse battery"

// Site is the web front on one database, served by httptest at Server.URL (also its BaseURL).
type Site struct {
	t        testing.TB
	DB       *sqlstore.DB
	Logger   *slog.Logger
	Accounts *account.Service
	Channels *channel.Service
	Server   *httptest.Server
}

// New serves the web front on db with the extensions that extensions builds from the site's
// services (Server is not set yet when it runs). The server and the front close when t ends.
func New(t testing.TB, db *sqlstore.DB, extensions func(s *Site) []web.Extension) *Site {
	t.Helper()
	s := &Site{t: t, DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewUnstartedServer(nil)
	started := false
	defer func() {
		if !started { // a failed set-up must not leave the listener open
			srv.Close()
		}
	}()
	// Pages link to the address the server really listens on.
	base := "http://" + srv.Listener.Addr().String()
	s.Accounts = account.NewService(account.Options{
		Store: db, Mailer: mail.NewSink(), Images: imageproc.New(), BaseURL: base, Logger: s.Logger,
		// Cheap hashing: tests create and log in many users.
		PasswordParams: &account.PasswordParams{Memory: 64, Time: 1, Threads: 1},
	})
	s.Channels = channel.NewService(channel.Options{Store: db, Images: imageproc.New(), Logger: s.Logger})
	var ext []web.Extension
	if extensions != nil {
		ext = extensions(s)
	}
	w, err := web.New(web.Options{
		Accounts: s.Accounts, Channels: s.Channels, Logger: s.Logger, BaseURL: base,
		SecretKey: []byte("a test secret key that is long enough"), Extensions: ext,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = w
	srv.Start()
	started = true
	t.Cleanup(func() { srv.Close(); w.Close() })
	s.Server = srv
	return s
}

// User creates a user with Password and the channel every account comes with; a verified
// user has confirmed their e-mail address (and may stream).
func (s *Site) User(in account.SignUpInput, verified bool) (*account.User, *channel.Channel) {
	s.t.Helper()
	ctx := s.t.Context()
	hash, err := s.Accounts.HashPassword(Password)
	if err != nil {
		s.t.Fatal(err)
	}
	var at time.Time
	if verified {
		at = time.Now()
	}
	u, err := s.Accounts.ImportUser(ctx, in, hash, at)
	if err != nil {
		s.t.Fatal(err)
	}
	ch, err := s.Channels.ByOwner(ctx, u.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return u, ch
}

// EachDatabase runs fn as subtests "sqlite" and "postgres" (skipped without
// FREELY_TEST_POSTGRES). pgURL is the PostgreSQL schema URL for code that opens its own pools,
// such as River's ("" on SQLite).
func EachDatabase(t *testing.T, fn func(t *testing.T, db *sqlstore.DB, pgURL string)) {
	t.Helper()
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
