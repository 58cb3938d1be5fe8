package liveweb_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/liveweb"
	"github.com/freelylive/freely/internal/web/webtest"
)

const testRTMPURL = "rtmp://ingest.example.com:1935/live"

// site is the web front with the live extension on a real, migrated database, a real live
// manager and an in-process bus, served by httptest.
type site struct {
	*webtest.Site
	t    *testing.T
	live *live.Manager
	web  *liveweb.Web
}

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
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		t.Fatal(err)
	}
	s := &site{t: t}
	s.Site = webtest.New(t, db, func(ws *webtest.Site) []web.Extension {
		b := mem.New(mem.Options{})
		t.Cleanup(func() { b.Close() })
		m, err := live.New(live.Options{
			Store: sqlstore.NewLiveStore(db), Channels: db, Accounts: db, Bus: b,
			GracePeriod: 200 * time.Millisecond, Logger: ws.Logger,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		lw, err := liveweb.New(liveweb.Options{
			Live: m, Channels: ws.Channels, Bus: b, RTMPURL: func() string { return testRTMPURL }, BaseURL: "http://example.test",
			StatusInterval: 50 * time.Millisecond, Logger: ws.Logger,
		})
		if err != nil {
			t.Fatal(err)
		}
		s.live, s.web = m, lw
		return []web.Extension{lw.Extension()}
	})
	if err := s.web.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Status streams end before the server waits for its connections.
	t.Cleanup(s.web.Close)
	return s
}

// streamer creates a user with a channel; verified users may stream.
func (s *site) streamer(handle string, verified bool) (*account.User, *channel.Channel) {
	s.t.Helper()
	u, ch := s.User(account.SignUpInput{Email: handle + "@example.com", Nickname: "닉" + handle, Handle: handle}, verified)
	if ch.StreamKey == "" {
		var err error
		if ch, err = s.Channels.RegenerateStreamKey(context.Background(), u.ID); err != nil {
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
	ch, err := s.Channels.ByOwner(context.Background(), ownerID)
	if err != nil {
		s.t.Fatal(err)
	}
	return ch.StreamKey
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
	req, _ := http.NewRequestWithContext(ctx, "GET", s.Server.URL+"/api/v1/channels/"+handle+"/live/events", nil)
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
