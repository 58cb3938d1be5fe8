package chatweb_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/chatweb"
	"github.com/freelylive/freely/internal/web/webtest"
)

// site is the web front with the chat extension on a real, migrated database, a real chat
// hub and an in-process bus, served by httptest.
type site struct {
	*webtest.Site
	follows *follow.Service
	hub     *chat.Hub
}

func newSite(t *testing.T) *site {
	t.Helper()
	db := sqltest.SQLite(t)
	s := &site{}
	s.Site = webtest.New(t, db, func(ws *webtest.Site) []web.Extension {
		b := mem.New(mem.Options{})
		t.Cleanup(func() { b.Close() })
		var err error
		if s.follows, err = follow.NewService(follow.Options{Store: sqlstore.NewFollowStore(db), Channels: db}); err != nil {
			t.Fatal(err)
		}
		s.hub, err = chat.NewHub(chat.Options{Store: sqlstore.NewChatStore(db), Bus: b, Channels: db, Users: db, Follows: s.follows, Logger: ws.Logger})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.hub.Close(context.Background()) })
		cw, err := chatweb.New(chatweb.Options{Hub: s.hub, Channels: ws.Channels, Users: db, Logger: ws.Logger})
		if err != nil {
			t.Fatal(err)
		}
		return []web.Extension{cw.Extension()}
	})
	return s
}

// user creates a user with a channel (handle = nickname's channel).
func (s *site) user(handle, nick string, verified bool) (*account.User, *channel.Channel) {
	return s.User(account.SignUpInput{Email: handle + "@example.com", Nickname: nick, Handle: handle}, verified)
}

func TestDashboardOnlyForOwner(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner, ch := s.user("owner_one", "방장님", true)
	other, _ := s.user("other_one", "다른사람", true)

	// Anonymous visitors are sent to log in.
	r := s.Anon().Get("/dashboard/chat")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous dashboard: %d %q", r.Status, r.Header.Get("Location"))
	}
	// The owner sees their channel's settings.
	s.LoggedIn(owner).Get("/dashboard/chat").Want(t, http.StatusOK, "@"+ch.Handle, `action="/dashboard/chat/filter"`,
		`action="/dashboard/chat/managers"`, `id="audit"`)
	// Another user asking for the owner's channel is refused, and sees none of it.
	r = s.LoggedIn(other).Get("/dashboard/chat?c="+ch.Handle).Want(t, http.StatusForbidden)
	if strings.Contains(r.Body, `action="/dashboard/chat/filter"`) {
		t.Error("a refused dashboard still shows the filter form")
	}
	// Their own dashboard is their own channel's.
	s.LoggedIn(other).Get("/dashboard/chat").Want(t, http.StatusOK, "@other_one")
}

func TestManagerCannotReachOwnerSettings(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	owner, ch := s.user("owner_two", "방장둘", true)
	mgr, _ := s.user("mgr_two", "매니저둘", true)
	viewer, _ := s.user("viewer_two", "시청자둘", true)

	oc := s.LoggedIn(owner)
	oc.Submit("/dashboard/chat/managers", url.Values{"name": {"매니저둘"}}).Want(t, http.StatusSeeOther)
	oc.Get("/dashboard/chat").Want(t, http.StatusOK, "매니저둘", "매니저 임명")
	perms, err := s.hub.Permissions(ctx, mgr, ch.ID)
	if err != nil || !perms.CanModerate || perms.CanManage {
		t.Fatalf("manager permissions %+v, %v", perms, err)
	}

	mc := s.LoggedIn(mgr)
	mc.Get("/dashboard/chat?c="+ch.Handle).Want(t, http.StatusForbidden)
	mc.Submit("/dashboard/chat/filter", url.Values{"c": {ch.Handle}, "mode": {"off"}, "words": {"바보"}}).Want(t, http.StatusForbidden)
	mc.Submit("/dashboard/chat/managers", url.Values{"c": {ch.Handle}, "name": {"시청자둘"}}).Want(t, http.StatusForbidden)
	mc.Submit("/dashboard/chat/managers/dismiss", url.Values{"c": {ch.Handle}, "user": {itoa(mgr.ID)}}).Want(t, http.StatusForbidden)
	settings, err := s.hub.Settings(ctx, owner, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if settings.FilterMode == "off" || len(settings.Words) != 0 {
		t.Errorf("a manager changed the filter: %+v", settings)
	}
	if p, _ := s.hub.Permissions(ctx, viewer, ch.ID); p.CanModerate {
		t.Error("a manager appointed another manager")
	}

	// The owner changes the filter and dismisses the manager; both show in the audit log.
	oc.Submit("/dashboard/chat/filter", url.Values{"mode": {"block"}, "words": {"바보\n멍청이"}}).Want(t, http.StatusSeeOther)
	oc.Submit("/dashboard/chat/managers/dismiss", url.Values{"user": {itoa(mgr.ID)}}).Want(t, http.StatusSeeOther)
	oc.Get("/dashboard/chat").Want(t, http.StatusOK, "멍청이", `value="block" checked`, "매니저 해임", "필터 변경")
	// Bad input is refused and changes nothing.
	oc.Submit("/dashboard/chat/filter", url.Values{"mode": {"loud"}, "words": {"x"}}).Want(t, http.StatusUnprocessableEntity)
	oc.Submit("/dashboard/chat/managers/dismiss", url.Values{"user": {"abc"}}).Want(t, http.StatusBadRequest)
	if st, _ := s.hub.Settings(ctx, owner, ch.ID); st.FilterMode != "block" {
		t.Errorf("filter after bad input: %q", st.FilterMode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPagesEscapeUserText sends a message full of markup and bans with a reason full of
// markup, then reads the dashboard's chat log and audit log: the text is escaped.
func TestPagesEscapeUserText(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	owner, ch := s.user("owner_three", "방장셋", true)
	evil, _ := s.user("evil_three", "악당셋", true)

	// The message goes through the real socket, as a browser sends it.
	wsURL := "ws" + strings.TrimPrefix(s.Server.URL, "http") + "/api/v1/chat/" + ch.Handle + "/ws"
	ec := s.LoggedIn(evil)
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPClient: ec.HTTP, HTTPHeader: http.Header{"Origin": {s.Server.URL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	payload := `<script>alert("x")</script>`
	msg, _ := json.Marshal(map[string]any{"v": 1, "t": "msg.send", "text": payload})
	if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatal(err)
	}
	// Wait for the message to come back to the sender: it was accepted.
	readUntil(t, conn, `"t":"msg"`)
	// The hub stores in batches; closing the socket does not matter, the log reads the store.
	if err := s.hub.Ban(ctx, owner, ch.ID, evil.ID, `<b>spam</b>`); err != nil {
		t.Fatal(err)
	}
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for {
		body = s.LoggedIn(owner).Get("/dashboard/chat?user="+url.QueryEscape(evil.Nickname)).Want(t, http.StatusOK).Body
		if strings.Contains(body, "&lt;script&gt;") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the batch writer flushes every 100 ms
	}
	for _, raw := range []string{payload, "<b>spam</b>"} {
		if strings.Contains(body, raw) {
			t.Errorf("dashboard contains unescaped %q", raw)
		}
	}
	for _, esc := range []string{"&lt;script&gt;", "&lt;b&gt;spam&lt;/b&gt;"} {
		if !strings.Contains(body, esc) {
			t.Errorf("dashboard lacks escaped %q", esc)
		}
	}
	// The channel page (the panel) renders no user text on the server at all, and carries
	// the socket path for its script.
	s.Anon().Get("/c/"+ch.Handle).Want(t, http.StatusOK, `data-socket="/api/v1/chat/`+ch.Handle+`/ws"`, "로그인하고 채팅에 참여하세요")
}

// TestSocketIdentityAndOrigin: the socket takes the user from the session cookie and refuses
// another site's page.
func TestSocketIdentityAndOrigin(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	_, ch := s.user("owner_four", "방장넷", true)
	viewer, _ := s.user("viewer_four", "시청자넷", true)
	wsURL := "ws" + strings.TrimPrefix(s.Server.URL, "http") + "/api/v1/chat/" + ch.Handle + "/ws"

	vc := s.LoggedIn(viewer)
	_, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPClient: vc.HTTP, HTTPHeader: http.Header{"Origin": {"https://evil.example"}},
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v, resp %v", err, resp)
	}
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPClient: vc.HTTP, HTTPHeader: http.Header{"Origin": {s.Server.URL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	state := readUntil(t, conn, `"t":"state"`)
	if !strings.Contains(state, `"nick":"시청자넷"`) || !strings.Contains(state, `"can_send":true`) {
		t.Errorf("state of a logged-in viewer: %s", state)
	}
	if strings.Contains(state, "@example.com") {
		t.Error("the state event carries an e-mail address")
	}
	// An unknown channel is reported inside the socket and closed with 4004.
	bad, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.Server.URL, "http")+"/api/v1/chat/nobody_here/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {s.Server.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.CloseNow()
	for {
		_, _, err := bad.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != 4004 {
				t.Errorf("unknown channel closed with %v", err)
			}
			break
		}
	}
}

// TestSocketMinFollowAge: over the socket a moderator sets followers-only with a minimum
// follow age, a viewer cannot change it, and a viewer who followed just now is told how long
// until they may chat.
func TestSocketMinFollowAge(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	owner, ch := s.user("owner_six", "방장여섯", true)
	viewer, _ := s.user("viewer_six", "시청자여섯", true)
	wsURL := "ws" + strings.TrimPrefix(s.Server.URL, "http") + "/api/v1/chat/" + ch.Handle + "/ws"
	dial := func(u *account.User) *websocket.Conn {
		conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
			HTTPClient: s.LoggedIn(u).HTTP, HTTPHeader: http.Header{"Origin": {s.Server.URL}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn
	}
	write := func(conn *websocket.Conn, msg string) {
		if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.follows.Follow(ctx, viewer.ID, ch.ID); err != nil {
		t.Fatal(err)
	}
	oc, vc := dial(owner), dial(viewer)
	readUntil(t, vc, `"t":"state"`)

	write(vc, `{"v":1,"t":"mod.mode","min_follow_seconds":60,"ref":"v1"}`)
	if e := readUntil(t, vc, `"t":"error"`); !strings.Contains(e, `"code":"forbidden"`) || !strings.Contains(e, `"ref":"v1"`) {
		t.Fatalf("viewer changing the age: %s", e)
	}
	write(oc, `{"v":1,"t":"mod.mode","followers_only":true,"min_follow_seconds":600}`)
	// The state and the announcement may share a frame.
	var seen strings.Builder
	for _, want := range []string{`"followers_only":true,"min_follow_seconds":600`, "팔로우한 지 10분이 지난 팔로워만 채팅할 수 있습니다."} {
		for !strings.Contains(seen.String(), want) {
			seen.WriteString(readUntil(t, vc, ""))
		}
	}

	write(vc, `{"v":1,"t":"msg.send","text":"안녕하세요","ref":"v2"}`)
	e := readUntil(t, vc, `"t":"error"`)
	if !strings.Contains(e, `"code":"follow_too_recent"`) || !strings.Contains(e, "팔로우한 지 10분이 지나야 채팅할 수 있어요.") ||
		!strings.Contains(e, `"retry_after_ms":`) || !strings.Contains(e, `"ref":"v2"`) {
		t.Fatalf("too recent a follower sending: %s", e)
	}
	if settings, err := s.hub.Settings(ctx, owner, ch.ID); err != nil || settings.MinFollowAge != 10*time.Minute {
		t.Fatalf("settings %+v, %v", settings, err)
	}
}

// readUntil reads frames until one contains want and returns it.
func readUntil(t *testing.T, conn *websocket.Conn, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		if strings.Contains(string(data), want) {
			return string(data)
		}
	}
}

// TestPanelShowsControlsByRole: moderation controls and the dashboard link appear only for
// those allowed; visitors get a log-in link instead of a composer.
func TestPanelShowsControlsByRole(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner, ch := s.user("owner_five", "방장다섯", true)
	viewer, _ := s.user("viewer_five", "시청자다섯", true)
	unverified, _ := s.user("new_five", "새사람다섯", false)
	page := "/c/" + ch.Handle

	s.LoggedIn(owner).Get(page).Want(t, http.StatusOK, `data-moderator="true"`, "data-mod-toggle", "data-modbar",
		`href="/dashboard/chat?c=`+ch.Handle+`"`, "data-composer",
		"최소 팔로우 기간", `<option value="600">10분</option>`, `<option value="604800">7일</option>`)
	r := s.LoggedIn(viewer).Get(page).Want(t, http.StatusOK, `data-moderator="false"`, "data-composer",
		`data-t-followers-min="팔로워 전용 · 팔로우 {d} 이상"`, `data-t-dur-m="{n}분"`)
	for _, hidden := range []string{"data-mod-toggle", "data-modbar", "/dashboard/chat?c=", "data-mod-min-follow"} {
		if strings.Contains(r.Body, hidden) {
			t.Errorf("an ordinary viewer's panel contains %q", hidden)
		}
	}
	r = s.LoggedIn(unverified).Get(page).Want(t, http.StatusOK, "이메일 인증을 마치면 채팅할 수 있어요.")
	if strings.Contains(r.Body, "data-composer") {
		t.Error("an unverified user's panel has a composer")
	}
	r = s.Anon().Get(page).Want(t, http.StatusOK, `href="/login?next=/c/`+ch.Handle+`"`)
	if strings.Contains(r.Body, "data-composer") || strings.Contains(r.Body, "data-mod-toggle") {
		t.Error("a visitor's panel has a composer or moderation controls")
	}
}

// TestChatLogSearchPages: the owner finds one user's messages across broadcasts by nickname
// or handle, fifty a page, with a link to the older ones.
func TestChatLogSearchPages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	owner, ch := s.user("owner_six", "방장여섯", true)
	talker, _ := s.user("talker_six", "수다쟁이", true)
	other, _ := s.user("other_six", "조용한이", true)

	// Seventy messages from earlier broadcasts, stored as the batch writer stores them.
	var msgs []chat.Message
	start := time.Now().Add(-48 * time.Hour)
	for i := range 70 {
		msgs = append(msgs, chat.Message{
			ID: int64(1_000_000 + i), ChannelID: ch.ID, UserID: talker.ID, Nickname: talker.Nickname,
			Text: "메시지 번호 " + strconv.Itoa(i), SentAt: start.Add(time.Duration(i) * time.Minute),
		})
	}
	msgs = append(msgs, chat.Message{ID: 2_000_000, ChannelID: ch.ID, UserID: other.ID, Nickname: other.Nickname,
		Text: "다른 사람 메시지", SentAt: start})
	if err := sqlstore.NewChatStore(s.DB).SaveMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}

	oc := s.LoggedIn(owner)
	first := oc.Get("/dashboard/chat?user="+url.QueryEscape("수다쟁이")).Want(t, http.StatusOK, "메시지 번호 69", "메시지 번호 20")
	if strings.Contains(first.Body, "메시지 번호 19<") || strings.Contains(first.Body, "다른 사람 메시지") {
		t.Error("the first page holds more than the newest fifty of that user")
	}
	next := regexp.MustCompile(`href="(/dashboard/chat\?[^"]*before=\d+[^"]*)#log"`).FindStringSubmatch(first.Body)
	if next == nil {
		t.Fatal("no link to older messages")
	}
	second := oc.Get(strings.ReplaceAll(next[1], "&amp;", "&")).Want(t, http.StatusOK, "메시지 번호 19", "메시지 번호 0<")
	if strings.Contains(second.Body, "메시지 번호 20<") {
		t.Error("the second page repeats the first")
	}
	// By channel handle too; an unknown name says so.
	oc.Get("/dashboard/chat?user=%40talker_six").Want(t, http.StatusOK, "메시지 번호 69")
	oc.Get("/dashboard/chat?user=nobody_at_all").Want(t, http.StatusOK, "그런 사용자를 찾을 수 없어요.")
	// Anyone else searching the owner's channel is refused.
	s.LoggedIn(other).Get("/dashboard/chat?c="+ch.Handle+"&user="+url.QueryEscape("수다쟁이")).Want(t, http.StatusForbidden)
}
