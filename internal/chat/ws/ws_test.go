package ws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/protocol"
	"github.com/freelylive/freely/internal/chat/ws"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

const waitLimit = 10 * time.Second

type server struct {
	url   string // ws://…/ws/chat/{id}
	hub   *chat.Hub
	ch    *channel.Channel
	users map[string]*account.User // by session cookie value
}

// newServer runs the endpoint on a real hub, store and bus. Its Authenticate plays the web
// layer's part: the user comes from the session cookie, nothing else.
func newServer(t *testing.T, opts ws.Options) *server {
	t.Helper()
	ctx := context.Background()
	db := sqltest.SQLite(t)
	b := mem.New(mem.Options{})
	t.Cleanup(func() { b.Close() })
	s := &server{users: map[string]*account.User{}}
	for _, name := range []string{"owner", "viewer", "troll"} {
		u := &account.User{Email: name + "@example.com", Nickname: name, PasswordHash: "x"}
		ch := &channel.Channel{Handle: "h_" + name, DisplayName: name}
		if err := db.CreateUserWithChannel(ctx, u, ch); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkEmailVerified(ctx, u.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		u.EmailVerifiedAt = time.Now()
		s.users["sess-"+name] = u
		if name == "owner" {
			s.ch = ch
		}
	}
	hub, err := chat.NewHub(chat.Options{Store: sqlstore.NewChatStore(db), Bus: b, Channels: db, Users: db, NodeID: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.hub = hub
	opts.Hub = hub
	opts.Authenticate = func(r *http.Request) (*account.User, error) {
		c, err := r.Cookie("session")
		if err != nil {
			return nil, nil
		}
		return s.users[c.Value], nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws/chat/{channel}", ws.NewHandler(opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		hub.Close(ctx)
	})
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http") + fmt.Sprintf("/ws/chat/%d", s.ch.ID)
	return s
}

func (s *server) user(name string) *account.User { return s.users["sess-"+name] }

type client struct {
	t    *testing.T
	conn *websocket.Conn
}

func dial(t *testing.T, url, session string, header http.Header) (*client, *http.Response, error) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	if session != "" {
		header.Set("Cookie", "session="+session)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(1 << 22)
	t.Cleanup(func() { conn.CloseNow() })
	return &client{t: t, conn: conn}, resp, nil
}

func mustDial(t *testing.T, url, session string) *client {
	t.Helper()
	c, _, err := dial(t, url, session, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func (c *client) write(v any) {
	c.t.Helper()
	data, ok := v.([]byte)
	if !ok {
		var err error
		if data, err = protocol.Encode(v.(protocol.Request)); err != nil {
			c.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// event reads frames until an event of type typ arrives.
func (c *client) event(typ string) json.RawMessage {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for {
		_, frame, err := c.conn.Read(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", typ, err)
		}
		evs, err := protocol.DecodeFrame(frame)
		if err != nil {
			c.t.Fatalf("frame %s: %v", frame, err)
		}
		for _, ev := range evs {
			if ev.T == typ {
				return ev.Raw
			}
		}
	}
}

// closed reads until the connection closes and returns the close code.
func (c *client) closed() websocket.StatusCode {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for {
		if _, _, err := c.conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				c.t.Fatal("connection not closed")
			}
			return websocket.CloseStatus(err)
		}
	}
}

func TestChatOverWebSocket(t *testing.T) {
	t.Parallel()
	s := newServer(t, ws.Options{})
	viewer := mustDial(t, s.url, "")
	var st protocol.State
	json.Unmarshal(viewer.event(protocol.TypeState), &st)
	if st.You.CanSend || st.You.User != nil {
		t.Fatalf("anonymous state %+v", st.You)
	}
	owner := mustDial(t, s.url, "sess-owner")
	owner.event(protocol.TypeHistory)
	owner.write(&protocol.Send{Text: "<script>alert(1)</script> 안녕"})
	var m protocol.Msg
	json.Unmarshal(viewer.event(protocol.TypeMsg), &m)
	if m.Text != "<script>alert(1)</script> 안녕" || m.User.ID != s.user("owner").ID || m.User.Badges[0] != protocol.BadgeOwner {
		t.Fatalf("viewer got %+v", m)
	}
	// The viewer cannot write, and cannot pretend to be someone else.
	viewer.write([]byte(`{"v":1,"t":"msg.send","text":"hi","user":{"id":1,"nick":"owner"}}`))
	var e protocol.Error
	json.Unmarshal(viewer.event(protocol.TypeError), &e)
	if e.Code != string(chat.CodeInvalid) {
		t.Fatalf("smuggled identity: %+v", e)
	}
	viewer.write(&protocol.Send{Text: "hi"})
	json.Unmarshal(viewer.event(protocol.TypeError), &e)
	if e.Code != string(chat.CodeNotLoggedIn) {
		t.Fatalf("anonymous send: %+v", e)
	}
	// Resume after a reconnect.
	again, _, err := dial(t, s.url+"?after="+strings.TrimSuffix(strings.TrimPrefix(string(mustJSON(m.ID)), `"`), `"`), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var h protocol.History
	json.Unmarshal(again.event(protocol.TypeHistory), &h)
	if !h.Complete {
		t.Fatalf("resume history %+v", h)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestOriginChecked(t *testing.T) {
	t.Parallel()
	s := newServer(t, ws.Options{OriginPatterns: []string{"app.example.com"}})
	_, resp, err := dial(t, s.url, "sess-owner", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v (response %v)", err, resp)
	}
	if _, _, err := dial(t, s.url, "sess-owner", http.Header{"Origin": {"https://app.example.com"}}); err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
}

func TestBannedUserRefusedAndKicked(t *testing.T) {
	t.Parallel()
	s := newServer(t, ws.Options{})
	ctx := context.Background()
	troll := mustDial(t, s.url, "sess-troll")
	troll.event(protocol.TypeHistory)
	if err := s.hub.Ban(ctx, s.user("owner"), s.ch.ID, s.user("troll").ID, "욕설"); err != nil {
		t.Fatal(err)
	}
	if code := troll.closed(); code != ws.StatusBanned {
		t.Fatalf("banned connection closed with %d, want %d", code, ws.StatusBanned)
	}
	second := mustDial(t, s.url, "sess-troll")
	var e protocol.Error
	json.Unmarshal(second.event(protocol.TypeError), &e)
	if e.Code != string(chat.CodeBanned) || e.TextKO == "" {
		t.Fatalf("second tab got %+v", e)
	}
	if code := second.closed(); code != ws.StatusBanned {
		t.Fatalf("second tab closed with %d", code)
	}
}

func TestBadRequestsClose(t *testing.T) {
	t.Parallel()
	s := newServer(t, ws.Options{MessageRate: 1, MessageBurst: 3})
	ctx := context.Background()

	big := mustDial(t, s.url, "sess-viewer")
	big.conn.Write(ctx, websocket.MessageText, []byte(strings.Repeat("a", protocol.MaxRequestBytes+1)))
	if code := big.closed(); code != websocket.StatusMessageTooBig {
		t.Fatalf("oversized message closed with %d", code)
	}

	bin := mustDial(t, s.url, "sess-viewer")
	bin.conn.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
	if code := bin.closed(); code != websocket.StatusUnsupportedData {
		t.Fatalf("binary message closed with %d", code)
	}

	flood := mustDial(t, s.url, "sess-viewer")
	for i := range 10 {
		if err := flood.conn.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"v":1,"t":"msg.send","text":"%d"}`, i))); err != nil {
			break
		}
	}
	if code := flood.closed(); code != websocket.StatusPolicyViolation {
		t.Fatalf("flood closed with %d", code)
	}

	noRoom, _, err := dial(t, s.url[:strings.LastIndex(s.url, "/")+1]+"999999", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := noRoom.closed(); code != ws.StatusNotFound {
		t.Fatalf("unknown channel closed with %d", code)
	}
	badAfter, _, err := dial(t, s.url+"?after=-1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := badAfter.closed(); code != websocket.StatusPolicyViolation {
		t.Fatalf("bad resume id closed with %d", code)
	}
}

func TestShutdownCloses(t *testing.T) {
	t.Parallel()
	s := newServer(t, ws.Options{})
	c := mustDial(t, s.url, "sess-viewer")
	c.event(protocol.TypeHistory)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := s.hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if code := c.closed(); code != websocket.StatusServiceRestart {
		t.Fatalf("shutdown closed with %d, want 1012", code)
	}
}

// A peer that stops answering pings is closed; one that answers stays.
func TestKeepalive(t *testing.T) {
	t.Parallel()
	s := newServer(t, ws.Options{PingInterval: 100 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	alive := mustDial(t, s.url, "sess-viewer")
	dead := mustDial(t, s.url, "sess-owner")
	alive.event(protocol.TypeHistory)
	dead.event(protocol.TypeHistory)
	// alive keeps reading (and so answering pings) while dead does nothing for a while.
	readErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _, err := alive.conn.Read(ctx)
		readErr <- err
	}()
	err := <-readErr
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pinged connection: %v, want it still open after a second", err)
	}
	if code := dead.closed(); code != -1 && code != websocket.StatusNormalClosure {
		// CloseNow drops the TCP connection without a close frame: status -1.
		t.Fatalf("unresponsive peer closed with %d", code)
	}
}
