package searchweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/search/analysis"
	"github.com/freelylive/freely/internal/search/analysis/analysistest"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/searchweb"
	"github.com/freelylive/freely/internal/web/webtest"
)

// readyAnalyzer is the test binary's one loaded analyzer.
func readyAnalyzer(t testing.TB) *analysis.Analyzer { return analysistest.Ready(t) }

// site is the web front with the search extension on a real database whose store writes
// keep the index in sync, served by httptest.
type site struct {
	*webtest.Site
	t    *testing.T
	ls   *sqlstore.LiveStore
	svc  *search.Service
	cats map[string]*channel.Category
	n    int
}

func newSite(t *testing.T, db *sqlstore.DB) *site {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, ls: sqlstore.NewLiveStore(db), cats: map[string]*channel.Category{}}
	s.Site = webtest.New(t, db, func(ws *webtest.Site) []web.Extension {
		an := readyAnalyzer(t)
		ix := sqlstore.NewSearchIndex(db, an)
		db.UseSearchIndex(ix)
		var err error
		if s.svc, err = search.New(search.Options{Store: ix, Analyzer: an, Logger: ws.Logger}); err != nil {
			t.Fatal(err)
		}
		sw, err := searchweb.New(searchweb.Options{Search: s.svc, Categories: db, Logger: ws.Logger})
		if err != nil {
			t.Fatal(err)
		}
		return []web.Extension{sw.Extension()}
	})
	cats, err := db.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cats {
		s.cats[cats[i].Slug] = &cats[i]
	}
	return s
}

func (s *site) channel(handle, name, intro string) *channel.Channel {
	s.t.Helper()
	s.n++
	u := &account.User{Email: fmt.Sprintf("u%d@example.com", s.n), Nickname: fmt.Sprintf("nick%d", s.n),
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"}
	ch := &channel.Channel{Handle: handle, DisplayName: name, Introduction: intro}
	if err := s.DB.CreateUserWithChannel(context.Background(), u, ch); err != nil {
		s.t.Fatal(err)
	}
	return ch
}

// broadcast opens a session; ended ones are closed at once (past broadcasts).
func (s *site) broadcast(ch *channel.Channel, title, cat string, ended bool, tags ...string) {
	s.t.Helper()
	ctx := context.Background()
	ts, err := s.DB.EnsureTags(ctx, tags)
	if err != nil {
		s.t.Fatal(err)
	}
	sess := &live.Session{ChannelID: ch.ID, Title: title, Tags: ts, Category: s.cats[cat], StartedAt: time.Now()}
	if err := s.ls.OpenSession(ctx, sess, nil); err != nil {
		s.t.Fatal(err)
	}
	if ended {
		if _, err := s.ls.CloseSession(ctx, sess.ID, time.Now(), 0); err != nil {
			s.t.Fatal(err)
		}
	}
}

func (s *site) get(path string) webtest.Response {
	s.t.Helper()
	return s.Anon().Get(path)
}

type apiResult struct {
	Terms    []string `json:"terms"`
	Live     []apiHit `json:"live"`
	Channels []apiHit `json:"channels"`
	Past     []apiHit `json:"past"`
	Next     string   `json:"next"`
}

type apiHit struct {
	URL, Handle, Title string
	Live               bool
	Tags               []string
}

func (s *site) apiSearch(query string) (apiResult, webtest.Response) {
	s.t.Helper()
	r := s.get("/api/v1/search?" + query)
	var out apiResult
	if r.Status == http.StatusOK {
		if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
			s.t.Fatalf("search %s: %v in %s", query, err, r.Body)
		}
	}
	return out, r
}

func seed(s *site) {
	lol := s.channel("faker_fan", "페이커팬", "리그 오브 레전드 솔랭 방송")
	s.broadcast(lol, "다이아 승급전 롤 솔랭", "league-of-legends", false, "롤", "솔랭")
	lost := s.channel("ark_daily", "아크데일리", "로스트아크 레이드")
	s.broadcast(lost, "어제 로스트아크 군단장 레이드", "lost-ark", true, "로아")
	for i := range 5 {
		s.broadcast(lost, fmt.Sprintf("지난 레이드 다시보기 %d", i), "lost-ark", true, "다시보기")
	}
	s.broadcast(lost, "로스트아크 카멘 하드 트라이", "lost-ark", false, "로아") // one open session per channel
	s.channel("evil_name", `<script>alert("x")</script>`, `<img src=x onerror=alert(1)>`)
}

func TestSearchOverHTTP(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db)
		seed(s)
		if err := s.svc.RefreshAutocomplete(context.Background()); err != nil {
			t.Fatal(err)
		}

		t.Run("sections", func(t *testing.T) {
			res, r := s.apiSearch("q=" + url.QueryEscape("로스트아크"))
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if len(res.Live) != 1 || res.Live[0].Title != "로스트아크 카멘 하드 트라이" || !res.Live[0].Live {
				t.Errorf("live = %+v", res.Live)
			}
			if len(res.Channels) != 1 || res.Channels[0].Handle != "ark_daily" || res.Channels[0].URL != "/c/ark_daily" {
				t.Errorf("channels = %+v", res.Channels)
			}
			if len(res.Past) == 0 || res.Past[0].Live {
				t.Errorf("past = %+v", res.Past)
			}
			page := s.get("/search?q=" + url.QueryEscape("로스트아크"))
			for _, want := range []string{"로스트아크 카멘 하드 트라이", "/c/ark_daily", "지금 라이브", "지난 방송", "sr-ac-labels"} {
				if !strings.Contains(page.Body, want) {
					t.Errorf("results page lacks %q", want)
				}
			}
			if strings.Contains(page.Body, "준비 중") || strings.Contains(page.Body, "coming") {
				t.Error("the placeholder page is still served")
			}
		})

		t.Run("tag synonym and category filter", func(t *testing.T) {
			res, _ := s.apiSearch("q=" + url.QueryEscape("롤"))
			if len(res.Live) != 1 || res.Live[0].Handle != "faker_fan" {
				t.Errorf("롤: live = %+v", res.Live)
			}
			res, r := s.apiSearch("category=lost-ark")
			if r.Status != http.StatusOK || len(res.Live) != 1 || len(res.Past) == 0 {
				t.Errorf("category lost-ark: %d %+v", r.Status, res)
			}
			for _, h := range append(res.Live, res.Past...) {
				if h.Handle != "ark_daily" {
					t.Errorf("category filter let %+v through", h)
				}
			}
			page := s.get("/search?category=league-of-legends")
			if page.Status != http.StatusOK || !strings.Contains(page.Body, "다이아 승급전 롤 솔랭") || strings.Contains(page.Body, "카멘") {
				t.Errorf("category page: %d", page.Status)
			}
		})

		t.Run("paging", func(t *testing.T) {
			seen := map[string]bool{}
			q := "q=" + url.QueryEscape("다시보기") + "&section=past&limit=2"
			pages := 0
			for q != "" {
				res, r := s.apiSearch(q)
				if r.Status != http.StatusOK {
					t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
				}
				if len(res.Past) > 2 || len(res.Live)+len(res.Channels) != 0 {
					t.Fatalf("page %d: %+v", pages, res)
				}
				for _, h := range res.Past {
					if seen[h.Title] {
						t.Errorf("%q on two pages", h.Title)
					}
					seen[h.Title] = true
				}
				q = ""
				if res.Next != "" {
					q = "q=" + url.QueryEscape("다시보기") + "&section=past&limit=2&cursor=" + url.QueryEscape(res.Next)
				}
				if pages++; pages > 10 {
					t.Fatal("paging does not end")
				}
			}
			if len(seen) != 5 || pages != 3 {
				t.Errorf("paged %d results in %d pages, want 5 in 3", len(seen), pages)
			}
			page := s.get("/search?q=" + url.QueryEscape("다시보기") + "&section=past")
			if page.Status != http.StatusOK || !strings.Contains(page.Body, "모든 결과로") {
				t.Errorf("section page: %d", page.Status)
			}
		})

		t.Run("autocomplete", func(t *testing.T) {
			r := s.get("/api/v1/autocomplete?q=" + url.QueryEscape("ㄹㅅㅌ"))
			var out struct {
				Suggestions []struct{ Kind, Text, URL string }
			}
			if err := json.Unmarshal([]byte(r.Body), &out); err != nil || r.Status != http.StatusOK {
				t.Fatalf("%d %v %s", r.Status, err, r.Body)
			}
			found := false
			for _, sg := range out.Suggestions {
				if strings.Contains(sg.Text, "로스트아크") && strings.HasPrefix(sg.URL, "/") {
					found = true
				}
			}
			if !found {
				t.Errorf("ㄹㅅㅌ suggests %+v", out.Suggestions)
			}
			// The results page answers a 초성-only query with the suggestions.
			if p := s.get("/search?q=" + url.QueryEscape("ㄹㅅㅌ")); p.Status != http.StatusOK || !strings.Contains(p.Body, "/c/ark_daily") {
				t.Errorf("초성 results page: %d", p.Status)
			}
			if r := s.get("/api/v1/autocomplete?q="); r.Status != http.StatusOK || !strings.Contains(r.Body, `"suggestions":[]`) {
				t.Errorf("empty prefix: %d %s", r.Status, r.Body)
			}
		})

		t.Run("escaping", func(t *testing.T) {
			page := s.get("/search?q=evil_name")
			if strings.Contains(page.Body, `<script>alert`) || strings.Contains(page.Body, `<img src=x`) {
				t.Error("user text reached the page unescaped")
			}
			if !strings.Contains(page.Body, "&lt;script&gt;") {
				t.Errorf("the channel is not found by handle: %d", page.Status)
			}
		})

		long := strings.Repeat("가", 500)
		for _, tc := range []struct {
			name, query string
			api, page   int // expected statuses
		}{
			{"empty", "q=", 400, 200},
			{"blank", "q=" + url.QueryEscape("   "), 400, 200},
			{"one character", "q=" + url.QueryEscape("롤"), 200, 200},
			{"one latin letter", "q=a", 200, 200},
			{"500 characters", "q=" + url.QueryEscape(long), 400, 400},
			{"huge parameter", "q=" + strings.Repeat("a", 100_000), 400, 400},
			{"emoji only", "q=" + url.QueryEscape("🎮🔥😂"), 400, 400},
			{"jamo laughter", "q=" + url.QueryEscape("ㅋㅋㅋ"), 400, 400},
			{"double quote", "q=" + url.QueryEscape(`"`), 400, 400},
			{"quoted word", "q=" + url.QueryEscape(`"롤"`), 200, 200},
			{"unbalanced quote", "q=" + url.QueryEscape(`"로스트아크`), 200, 200},
			{"star", "q=" + url.QueryEscape("*"), 400, 400},
			{"prefix star", "q=" + url.QueryEscape("로스*"), 200, 200},
			{"NEAR", "q=" + url.QueryEscape("NEAR(롤 솔랭)"), 200, 200},
			{"OR", "q=" + url.QueryEscape("롤 OR 로아"), 200, 200},
			{"bare OR", "q=OR", 200, 200},
			{"minus", "q=" + url.QueryEscape("-롤"), 200, 200},
			{"column filter", "q=" + url.QueryEscape("title:롤"), 200, 200},
			{"sql", "q=" + url.QueryEscape("') OR 1=1; DROP TABLE channels; --"), 200, 200},
			{"tsquery syntax", "q=" + url.QueryEscape("롤 & !솔랭 | (a <-> b)"), 200, 200},
			{"NUL byte", "q=%00", 400, 400},
			{"invalid UTF-8", "q=%ff%fe", 400, 200},
			{"unknown category", "category=no-such-game", 400, 400},
			{"malformed category", "category=" + url.QueryEscape("a'b"), 400, 400},
			{"unknown section", "q=a&section=bogus", 400, 400},
			{"cursor without section", "q=a&cursor=abc", 400, 400},
			{"forged cursor", "q=a&section=past&cursor=" + strings.Repeat("Z", 40), 400, 400},
			{"bad limit", "q=a&limit=abc", 400, 200},
			{"zero limit", "q=a&limit=0", 400, 200},
			{"huge limit", "q=a&limit=100000", 200, 200},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, r := s.apiSearch(tc.query)
				if r.Status != tc.api {
					t.Errorf("api: status %d, want %d: %.300s", r.Status, tc.api, r.Body)
				}
				if r.Status == http.StatusBadRequest && !strings.Contains(r.Body, `"error"`) {
					t.Errorf("api: 400 without an error body: %.300s", r.Body)
				}
				p := s.get("/search?" + tc.query)
				if p.Status != tc.page {
					t.Errorf("page: status %d, want %d", p.Status, tc.page)
				}
				ac := s.get("/api/v1/autocomplete?" + tc.query)
				if ac.Status >= 500 {
					t.Errorf("autocomplete: status %d", ac.Status)
				}
			})
		}

		res, _ := s.apiSearch("q=a&limit=100000")
		if n := len(res.Live) + len(res.Channels) + len(res.Past); n > 3*search.MaxLimit {
			t.Errorf("page size not capped: %d results", n)
		}
	})
}

// While the dictionary is still loading, a search waits for it only as long as the
// extension's deadline and then answers 503 with a message, never a 500.
func TestSearchBeforeDictionaryIsReady(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	ctx := context.Background()
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	an := analysis.New(analysis.Options{Hold: hold})
	// Let the load finish at the end so its goroutine does not outlive the test.
	t.Cleanup(func() {
		close(hold)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		an.Wait(wctx) //nolint:errcheck // only waiting for the goroutine
	})
	svc, err := search.New(search.Options{Store: sqlstore.NewSearchIndex(db, an), Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := searchweb.New(searchweb.Options{Search: svc, Categories: db, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	site := webtest.New(t, db, func(*webtest.Site) []web.Extension { return []web.Extension{sw.Extension()} })
	for _, path := range []string{"/api/v1/search?q=abc", "/search?q=abc"} {
		if r := site.Anon().Get(path); r.Status != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", path, r.Status)
		}
	}
	// Autocomplete never waits: it answers from what it has (nothing yet).
	if r := site.Anon().Get("/api/v1/autocomplete?q=abc"); r.Status != http.StatusOK {
		t.Errorf("autocomplete before the dictionary: status %d", r.Status)
	}
}
