package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// TestChatMessagesSurviveShutdown sends messages over the running platform's chat socket,
// waits until each came back (the server accepted it), stops the server at once and then
// reads the database: every accepted message was written on the way out. The batching
// interval is an hour, so only the flush at shutdown can have written them. (Not parallel:
// it sets the package's interval while no other test runs.)
func TestChatMessagesSurviveShutdown(t *testing.T) {
	chatFlushInterval = time.Hour
	t.Cleanup(func() { chatFlushInterval = 0 })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := config.Load(config.Sources{Overrides: map[string]string{
		"data_dir": t.TempDir(), "http.addr": ln.Addr().String(), "http.public_url": base,
		"rtmp.addr": "127.0.0.1:0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	seedChatUsers(t, cfg, [2]string{"saver_park", "저장하는박씨"})
	token := logInThroughServices(t, cfg, "saver_park@example.com")

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.DiscardHandler), ln, nil) }()

	dialCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conn *websocket.Conn
	for {
		conn, _, err = websocket.Dial(dialCtx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/chat/saver_park/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{
				"Origin": {base}, "Cookie": {"freely_session=" + token},
			}})
		if err == nil {
			break
		}
		if dialCtx.Err() != nil {
			t.Fatalf("dial chat: %v", err)
		}
		select { // the listener is open before run() serves; retry until it answers
		case <-time.After(20 * time.Millisecond):
		case err := <-done:
			t.Fatalf("server stopped: %v", err)
		}
	}
	defer conn.CloseNow()

	// The user's rate allows a short burst; five distinct messages fit in it.
	const n = 5
	for i := range n {
		msg, _ := json.Marshal(map[string]any{"v": 1, "t": "msg.send", "text": fmt.Sprintf("저장 확인 %d번", i)})
		if err := conn.Write(dialCtx, websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for got < n {
		_, data, err := conn.Read(dialCtx)
		if err != nil {
			t.Fatalf("after %d of %d acknowledgements: %v", got, n, err)
		}
		if strings.Contains(string(data), `"code"`) && strings.Contains(string(data), `"t":"error"`) {
			t.Fatalf("a message was refused: %s", data)
		}
		got += strings.Count(string(data), `"t":"msg"`)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	db, err := sqlstore.Open(context.Background(), sqlstore.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ch, err := db.ChannelByHandle(context.Background(), "saver_park")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := sqlstore.NewChatStore(db).RecentMessages(context.Background(), ch.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != n {
		t.Fatalf("%d messages stored after shutdown, want %d", len(stored), n)
	}
}

// logInThroughServices opens a session for a seeded user and returns its cookie token.
func logInThroughServices(t *testing.T, cfg *config.Config, email string) string {
	t.Helper()
	var token string
	withServices(t, cfg, func(ctx context.Context, _ *sqlstore.DB, svc *services) {
		var err error
		if token, _, _, err = svc.accounts.LogIn(ctx, email, chatPassword, account.SessionMeta{}); err != nil {
			t.Fatal(err)
		}
	})
	return token
}
