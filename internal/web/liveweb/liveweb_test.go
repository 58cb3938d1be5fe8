package liveweb_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/web/liveweb"
	"github.com/freelylive/freely/internal/web/webtest"
)

func TestDashboardRequiresLogin(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	resp := s.Anon().Get("/dashboard")
	if resp.Status != http.StatusSeeOther && resp.Status != http.StatusFound {
		t.Fatalf("anonymous GET /dashboard: status %d, want a redirect to log in", resp.Status)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("anonymous GET /dashboard redirects to %q, want /login", loc)
	}
	// State-changing routes send anonymous visitors to log in before looking at the form.
	for _, path := range []string{"/dashboard/stream-info", "/dashboard/stream-key"} {
		r := s.Anon().Post(path, url.Values{"title": {"x"}, "confirm": {"yes"}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("anonymous POST %s: status %d to %q, want 303 to /login", path, r.Status, r.Header.Get("Location"))
		}
	}
}

func TestDashboardShowsOBSSettingsAndKeyOnlyToVerifiedOwner(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	u, ch := s.streamer("caster_one", true)
	page := s.LoggedIn(u).Get("/dashboard").WantStatus(t, http.StatusOK)
	page.WantContains(t, ch.StreamKey, testRTMPURL, "사용자 지정...", "CBR", "veryfast", "NVENC",
		`action="/dashboard/stream-key"`, `action="/dashboard/stream-info"`, `type="password"`)
	if page.Header.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("dashboard Cache-Control = %q", page.Header.Get("Cache-Control"))
	}

	// An unverified account sees the settings but not the key, and cannot save.
	v, vch := s.streamer("unverified_one", false)
	s.LoggedIn(v).Get("/dashboard").WantStatus(t, http.StatusOK).
		WantContains(t, testRTMPURL, "이메일 인증").WantNotContains(t, vch.StreamKey)
	uc := s.LoggedIn(v)
	token := uc.FormCSRF("/dashboard")
	uc.Post("/dashboard/stream-key", url.Values{"csrf_token": {token}, "confirm": {"yes"}}).WantStatus(t, http.StatusForbidden)
	if s.streamKey(v.ID) != vch.StreamKey {
		t.Error("an unverified account regenerated its key")
	}
}

func TestStreamKeyNeverOnPublicPagesOrJSON(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	u, ch := s.streamer("secret_keeper", true)
	check := func(when string) {
		t.Helper()
		for _, c := range []*webtest.Client{s.Anon(), s.LoggedIn(u)} {
			for _, path := range []string{"/", "/c/secret_keeper", "/api/v1/channels/secret_keeper", "/api/v1/channels/secret_keeper/live"} {
				r := c.Get(path).WantStatus(t, http.StatusOK)
				if strings.Contains(r.Body, ch.StreamKey) || strings.Contains(r.Body, "live_") && strings.Contains(r.Body, ch.StreamKey[5:20]) {
					t.Errorf("%s: GET %s shows the stream key", when, path)
				}
				if strings.Contains(r.Body, u.Email) {
					t.Errorf("%s: GET %s shows the owner's e-mail", when, path)
				}
			}
		}
		frame := s.openStatusStream("secret_keeper").next(func(string) bool { return true })
		if strings.Contains(frame, ch.StreamKey) || strings.Contains(frame, u.Email) {
			t.Errorf("%s: the status stream shows private data: %s", when, frame)
		}
	}
	check("offline")
	pub := s.goLive(ch.StreamKey)
	check("live")
	pub.Ended()
}

func TestRegenerateStreamKeyNeedsCSRFAndConfirmation(t *testing.T) {
	t.Parallel()
	eachSite(t, func(t *testing.T, s *site) {
		u, ch := s.streamer("rotator", true)
		c := s.LoggedIn(u)
		token := c.FormCSRF("/dashboard")

		c.Post("/dashboard/stream-key", url.Values{"confirm": {"yes"}}).WantStatus(t, http.StatusForbidden)
		c.Post("/dashboard/stream-key", url.Values{"confirm": {"yes"}, "csrf_token": {"forged" + token}}).WantStatus(t, http.StatusForbidden)
		// A request from another site is refused even with a token.
		req, _ := http.NewRequest("POST", s.Server.URL+"/dashboard/stream-key",
			strings.NewReader(url.Values{"confirm": {"yes"}, "csrf_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		if r := c.Do(req); r.Status != http.StatusForbidden {
			t.Errorf("cross-site POST: status %d, want 403", r.Status)
		}
		c.Post("/dashboard/stream-key", url.Values{"csrf_token": {token}}).WantStatus(t, http.StatusBadRequest)
		if got := s.streamKey(u.ID); got != ch.StreamKey {
			t.Fatal("a refused request changed the stream key")
		}

		r := c.Post("/dashboard/stream-key", url.Values{"csrf_token": {token}, "confirm": {"yes"}}).WantStatus(t, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/dashboard?saved=key") {
			t.Errorf("redirect to %q", loc)
		}
		fresh := s.streamKey(u.ID)
		if fresh == ch.StreamKey || !strings.HasPrefix(fresh, "live_") {
			t.Fatalf("stream key after regeneration = %q (was %q)", fresh, ch.StreamKey)
		}
		if _, err := s.live.Admit(context.Background(), ch.StreamKey, "127.0.0.1:1"); err == nil {
			t.Error("the old stream key is still admitted")
		}
		c.Get("/dashboard?saved=key").WantContains(t, fresh, "새 스트림 키를 발급했어요").WantNotContains(t, ch.StreamKey)
	})
}

func TestStreamInfoValidation(t *testing.T) {
	t.Parallel()
	eachSite(t, func(t *testing.T, s *site) {
		u, ch := s.streamer("info_caster", true)
		c := s.LoggedIn(u)
		token := c.FormCSRF("/dashboard")
		ctx := context.Background()

		if _, err := s.live.SetStreamInfo(ctx, ch.ID, live.StreamInfoInput{Title: "원래 제목", Tags: []string{"원래"}}); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("가", live.MaxTitleLen+1)
		eleven := "a,b,c,d,e,f,g,h,i,j,k"
		tests := []struct {
			name      string
			form      url.Values
			wantError string
		}{
			{"title too long", url.Values{"title": {long}}, "제목은 100자까지"},
			{"control character in title", url.Values{"title": {"bad\u0007title"}}, "제목에 쓸 수 없는 문자"},
			{"unknown category", url.Values{"title": {"ok"}, "category": {"no-such-category"}}, "알 수 없는 카테고리"},
			{"eleven tags", url.Values{"tags": {eleven}}, "태그는 최대 10개"},
			{"tag too long", url.Values{"tags": {strings.Repeat("태", 31)}}, "태그는 30자까지"},
			{"huge tags field", url.Values{"tags": {strings.Repeat("x,", 2000)}}, "태그는 최대 10개"},
		}
		for _, tt := range tests {
			tt.form.Set("csrf_token", token)
			r := c.Post("/dashboard/stream-info", tt.form).WantStatus(t, http.StatusUnprocessableEntity)
			r.WantContains(t, tt.wantError)
			info, err := s.live.StreamInfo(ctx, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			if info.Title != "원래 제목" || len(info.Tags) != 1 {
				t.Errorf("%s: refused input changed the stream info to %+v", tt.name, info)
			}
		}

		// Without the token nothing is saved.
		c.Post("/dashboard/stream-info", url.Values{"title": {"CSRF 없이"}}).WantStatus(t, http.StatusForbidden)

		// Accepted input is normalised, saved and shown escaped.
		r := c.Post("/dashboard/stream-info", url.Values{
			"csrf_token": {token}, "title": {"  <b>오늘은</b>   랭크  "}, "category": {"league-of-legends"}, "tags": {"#롤, 랭크 ,#롤"},
		}).WantStatus(t, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/dashboard?saved=info") {
			t.Errorf("redirect to %q", loc)
		}
		info, err := s.live.StreamInfo(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Title != "<b>오늘은</b> 랭크" || info.Category == nil || info.Category.Slug != "league-of-legends" ||
			len(info.Tags) != 2 || info.Tags[0].Name != "롤" || info.Tags[1].Name != "랭크" {
			t.Fatalf("saved stream info = %+v", info)
		}
		c.Get("/dashboard?saved=info").WantContains(t, "방송 정보를 저장했어요", "&lt;b&gt;오늘은&lt;/b&gt; 랭크", "롤, 랭크").
			WantNotContains(t, "<b>오늘은</b>")

		// During a broadcast the channel page shows the new information, escaped.
		pub := s.goLive(ch.StreamKey)
		defer pub.Ended()
		s.Anon().Get("/c/info_caster").WantStatus(t, http.StatusOK).
			WantContains(t, "&lt;b&gt;오늘은&lt;/b&gt; 랭크", "#롤", "#랭크", `data-live="true"`).WantNotContains(t, "<b>오늘은</b>")
	})
}

func TestLiveStatusJSON(t *testing.T) {
	t.Parallel()
	eachSite(t, func(t *testing.T, s *site) {
		u, ch := s.streamer("json_caster", true)
		c := s.Anon()

		c.Get("/api/v1/channels/nobody_here/live").WantStatus(t, http.StatusNotFound).WantContains(t, `"error"`)
		c.Get("/api/v1/channels/..%2f/live").WantStatus(t, http.StatusNotFound)

		var st map[string]any
		r := c.Get("/api/v1/channels/json_caster/live").WantStatus(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
			t.Fatal(err)
		}
		if st["live"] != false || st["status"] != "offline" || st["playlist_url"] != "" || st["started_at"] != nil {
			t.Errorf("offline status = %v", st)
		}

		if _, err := s.live.SetStreamInfo(context.Background(), ch.ID, live.StreamInfoInput{Title: "JSON 방송", CategorySlug: "just-chatting", Tags: []string{"토크"}}); err != nil {
			t.Fatal(err)
		}
		pub := s.goLive(ch.StreamKey)
		s.live.CountViewer("json_caster", "viewer-a")
		s.live.CountViewer("json_caster", "viewer-b")
		r = c.Get("/api/v1/channels/JSON_Caster/live").WantStatus(t, http.StatusOK)
		st = map[string]any{}
		if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
			t.Fatal(err)
		}
		cat, _ := st["category"].(map[string]any)
		if st["live"] != true || st["status"] != "live" || st["title"] != "JSON 방송" || st["viewers"] != float64(2) ||
			st["playlist_url"] != "http://example.test/hls/json_caster/index.m3u8" || st["started_at"] == nil ||
			cat["slug"] != "just-chatting" {
			t.Errorf("live status = %v", st)
		}
		for key := range st {
			switch key {
			case "handle", "live", "status", "title", "category", "tags", "viewers", "started_at", "playlist_url", "thumbnail_url":
			default:
				t.Errorf("unexpected field %q in the public status", key)
			}
		}
		_ = u
		pub.Ended()
	})
}

func TestStatusStreamFollowsABroadcast(t *testing.T) {
	t.Parallel()
	eachSite(t, func(t *testing.T, s *site) {
		_, ch := s.streamer("stream_follow", true)
		stream := s.openStatusStream("stream_follow")
		stream.next(func(f string) bool { return strings.Contains(f, `"status":"offline"`) })

		pub := s.goLive(ch.StreamKey)
		stream.next(func(f string) bool { return strings.Contains(f, `"status":"live"`) })

		if _, err := s.live.SetStreamInfo(context.Background(), ch.ID, live.StreamInfoInput{Title: "새 제목 <i>"}); err != nil {
			t.Fatal(err)
		}
		stream.next(func(f string) bool { return strings.Contains(f, `"title":"새 제목 \u003ci\u003e"`) })

		s.live.CountViewer("stream_follow", "v1")
		stream.next(func(f string) bool { return strings.Contains(f, `"viewers":1`) })

		// The publisher leaves; after the grace period the broadcast ends and pages hear it.
		pub.Ended()
		stream.next(func(f string) bool { return strings.Contains(f, `"status":"offline"`) })

		s.Anon().Get("/api/v1/channels/no_such_one/live/events").WantStatus(t, http.StatusNotFound)
	})
}

func TestHomeGridOrdersLiveChannelsByViewers(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.Anon().Get("/").WantStatus(t, http.StatusOK).WantNotContains(t, `class="live-card"`)

	_, quiet := s.streamer("quiet_one", true)
	_, busy := s.streamer("busy_one", true)
	if _, err := s.live.SetStreamInfo(context.Background(), busy.ID, live.StreamInfoInput{Title: "사람 많은 방송", CategorySlug: "league-of-legends"}); err != nil {
		t.Fatal(err)
	}
	p1, p2 := s.goLive(quiet.StreamKey), s.goLive(busy.StreamKey)
	defer p1.Ended()
	defer p2.Ended()
	for _, v := range []string{"a", "b", "c"} {
		s.live.CountViewer("busy_one", v)
	}
	s.live.CountViewer("quiet_one", "z")

	home := s.Anon().Get("/").WantStatus(t, http.StatusOK)
	home.WantContains(t, `class="live-card"`, `href="/c/busy_one"`, `href="/c/quiet_one"`, "사람 많은 방송", "리그 오브 레전드", "3명")
	if strings.Index(home.Body, `href="/c/busy_one"`) > strings.Index(home.Body, `href="/c/quiet_one"`) {
		t.Error("the channel with more viewers is not first")
	}
}

func TestChannelPagePlayer(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, ch := s.streamer("player_page", true)
	off := s.Anon().Get("/c/player_page").WantStatus(t, http.StatusOK)
	off.WantContains(t, `id="player"`, `data-live="false"`, `data-playlist="/hls/player_page/index.m3u8"`,
		`data-events="/api/v1/channels/player_page/live/events"`, "지금은 방송 중이 아니에요", "live-player.", "live.")

	pub := s.goLive(ch.StreamKey)
	defer pub.Ended()
	on := s.Anon().Get("/c/player_page").WantStatus(t, http.StatusOK)
	on.WantContains(t, `data-live="true"`, `data-started-at="20`, "닉player_page의 라이브")
}

func TestSplitTagsAndStatusEvents(t *testing.T) {
	t.Parallel()
	// Unit checks of the pieces the handlers above rely on live in export_test.go.
	for in, want := range map[string][]string{
		"롤, 랭크":    {"롤", "랭크"},
		"#롤 #랭크":   {"롤", "랭크"},
		" , ,":     {},
		"a，b\nc＃d": {"a", "b", "c", "d"},
	} {
		got := liveweb.SplitTags(in)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("splitTags(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEndBroadcastFromTheDashboard(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	u, ch := s.streamer("ender", true)
	c := s.LoggedIn(u)
	pub := s.goLive(ch.StreamKey)
	defer pub.Ended()
	token := c.FormCSRF("/dashboard")
	c.Get("/dashboard").WantContains(t, `action="/dashboard/end"`)

	c.Post("/dashboard/end", url.Values{"confirm": {"yes"}}).WantStatus(t, http.StatusForbidden)
	c.Post("/dashboard/end", url.Values{"csrf_token": {token}}).WantStatus(t, http.StatusBadRequest)
	if _, ok := s.live.Live("ender"); !ok {
		t.Fatal("a refused request ended the broadcast")
	}
	// Another streamer cannot end this broadcast: the route ends the caller's own channel.
	other, _ := s.streamer("bystander", true)
	oc := s.LoggedIn(other)
	oc.Post("/dashboard/end", url.Values{"csrf_token": {oc.FormCSRF("/dashboard")}, "confirm": {"yes"}}).WantStatus(t, http.StatusSeeOther)
	if _, ok := s.live.Live("ender"); !ok {
		t.Fatal("another user's request ended the broadcast")
	}

	c.Post("/dashboard/end", url.Values{"csrf_token": {token}, "confirm": {"yes"}}).WantStatus(t, http.StatusSeeOther)
	if _, ok := s.live.Live("ender"); ok {
		t.Fatal("the broadcast is still live after the streamer ended it")
	}
	sessions, err := s.live.History(context.Background(), ch.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].Open() {
		t.Fatalf("sessions after ending: %+v", sessions)
	}
	c.Get("/dashboard?saved=ended").WantContains(t, "방송을 종료했어요").WantNotContains(t, `class="dash-regen dash-end">`)
}

// Open status streams must end when the extension closes, or an HTTP shutdown would wait
// for them until its timeout; new ones are refused.
func TestStatusStreamsEndOnClose(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.streamer("closing_time", true)
	streams := []*statusStream{s.openStatusStream("closing_time"), s.openStatusStream("closing_time")}
	for _, st := range streams {
		st.next(func(string) bool { return true })
	}
	s.web.Close()
	for _, st := range streams {
		select {
		case _, open := <-st.frames:
			if open {
				t.Fatal("a frame instead of the end of the stream")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a status stream stayed open after Close")
		}
	}
	s.Anon().Get("/api/v1/channels/closing_time/live/events").WantStatus(t, http.StatusServiceUnavailable)
}
