package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/e2etest"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

const chatPassword = "correct horse battery"

// seedChatUsers creates verified users (each gets a channel) through the services, before
// the server starts, and returns their e-mail addresses.
func seedChatUsers(t *testing.T, cfg *config.Config, users ...[2]string) {
	t.Helper()
	withServices(t, cfg, func(ctx context.Context, _ *sqlstore.DB, svc *services) {
		for _, u := range users {
			importUser(t, ctx, svc, u[0], u[1], chatPassword)
		}
	})
}

// TestBrowserChat opens the streamer's channel page in two browsers (the streamer's and a
// viewer's, separate cookies): messages cross both ways, and a ban the streamer issues from
// the panel disables the viewer's composer without a reload and keeps the viewer's later
// messages out of the streamer's chat.
func TestBrowserChat(t *testing.T) {
	e2etest.Require(t, "chromium")
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
	seedChatUsers(t, cfg, [2]string{"streamer_kim", "방송하는김씨"}, [2]string{"viewer_lee", "보는이씨"})

	logs := newLogWatch()
	srvCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(srvCtx, cfg, slog.New(slog.NewTextHandler(logs, nil)), ln, nil) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})

	streamer, viewer := e2etest.Browser(t), e2etest.Browser(t)
	e2etest.ScreenshotOnFailure(t, streamer, "chat-streamer")
	e2etest.ScreenshotOnFailure(t, viewer, "chat-viewer")
	sctx, scancel := context.WithTimeout(streamer, 90*time.Second)
	defer scancel()
	vctx, vcancel := context.WithTimeout(viewer, 90*time.Second)
	defer vcancel()

	do := func(ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// The streamer reads the site in Korean, the viewer in English: both catalogs are used.
	logIn := func(ctx context.Context, handle, lang string) {
		t.Helper()
		do(ctx, "log in "+handle,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#f-email")),
			chromedp.SendKeys(chromedp.CSS("#f-email"), handle+"@example.com"),
			chromedp.SendKeys(chromedp.CSS("#f-password"), chatPassword),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitReady(chromedp.CSS(`form[action="/logout"]`)),
			chromedp.Navigate(base+"/c/streamer_kim?lang="+lang),
			// The composer is enabled once the socket's state event says this user may send.
			chromedp.WaitEnabled(chromedp.CSS("#chat-input")),
		)
	}
	logIn(sctx, "streamer_kim", "ko")
	logIn(vctx, "viewer_lee", "en")

	say := func(ctx context.Context, who, text string) {
		t.Helper()
		do(ctx, who+" sends "+text,
			chromedp.SendKeys(chromedp.CSS("#chat-input"), text),
			chromedp.Click(chromedp.CSS("[data-composer] button")),
		)
	}
	// msgSel matches a shown message by its exact text.
	hasMsg := func(ctx context.Context, text string) bool {
		t.Helper()
		js := `[...document.querySelectorAll("#chat .cp-msg .cp-text")].some(e => e.textContent === ` + chatJS(text) + `)`
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	waitMsg := func(ctx context.Context, who, text string) {
		t.Helper()
		js := `[...document.querySelectorAll("#chat .cp-msg .cp-text")].some(e => e.textContent === ` + chatJS(text) + `)`
		do(ctx, who+" sees "+text, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second)))
	}

	const hello = "안녕하세요 <b>방장님</b> 👋"
	say(vctx, "viewer", hello)
	waitMsg(sctx, "streamer", hello)
	waitMsg(vctx, "viewer", hello)
	const reply = "반가워요! 오늘은 발로란트 합니다"
	say(sctx, "streamer", reply)
	waitMsg(vctx, "viewer", reply)

	// The viewer's text is text: the <b> arrived as characters, not as an element.
	bolds, err := chromedp.Run(sctx, chromedp.Evaluate[int](`document.querySelectorAll("#chat .cp-text b").length`))
	if err != nil {
		t.Fatal(err)
	}
	if bolds != 0 {
		t.Fatalf("a chat message was rendered as HTML (%d <b> elements)", bolds)
	}
	// The streamer's own message carries the owner badge.
	ownerBadge, err := chromedp.Run(vctx, chromedp.Evaluate[bool](`!!document.querySelector("#chat .cp-msg .cp-badge-owner")`))
	if err != nil {
		t.Fatal(err)
	}
	if !ownerBadge {
		t.Error("the streamer's message has no owner badge in the viewer's chat")
	}
	saveShots(t, sctx, vctx)

	// The streamer bans the viewer from the panel: nickname → ban.
	do(sctx, "ban the viewer",
		chromedp.Click(chromedp.CSS(`#chat .cp-msg button.cp-who`)), // the viewer's message is the first
		chromedp.WaitVisible(chromedp.CSS(`[data-modbar] [data-act="ban"]`)),
		chromedp.Click(chromedp.CSS(`[data-modbar] [data-act="ban"]`)),
	)
	// Without a reload, the viewer's composer is disabled and says why.
	do(vctx, "viewer's composer disabled",
		chromedp.WaitVisible(chromedp.CSS(`[data-refusal]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector("#chat-input").disabled`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	refusal, err := chromedp.Run(vctx, chromedp.Text(chromedp.CSS(`[data-refusal]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refusal, "차단") && !strings.Contains(refusal, "banned") {
		t.Errorf("the viewer's refusal %q does not say they are banned", refusal)
	}
	// The streamer's chat announces the ban.
	do(sctx, "ban announced", chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#chat .cp-system")].some(e => e.textContent.includes("보는이씨"))`,
		chromedp.WithPollingTimeout(20*time.Second)))

	// Even forcing the composer open and sending, the viewer's message never reaches the room:
	// the socket is closed and a new one is refused. A marker from the streamer afterwards
	// proves the streamer's chat is live and ordered past that point.
	const sneaky = "차단됐지만 몰래 보내기"
	do(vctx, "force a send",
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector("#chat-input"); i.disabled = false;
			i.value = `+chatJS(sneaky)+`; document.querySelector("[data-composer] button").disabled = false;
			document.querySelector("[data-composer] button").click(); })()`),
	)
	const marker = "차단 후 확인 메시지"
	say(sctx, "streamer", marker)
	waitMsg(sctx, "streamer", marker)
	if hasMsg(sctx, sneaky) {
		t.Fatal("a banned viewer's message appeared in the streamer's chat")
	}
	// And after a reload the banned viewer still cannot write.
	do(vctx, "viewer reloads",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-refusal]`)),
	)
	disabled, err := chromedp.Run(vctx, chromedp.Evaluate[bool](`document.querySelector("#chat-input").disabled`))
	if err != nil {
		t.Fatal(err)
	}
	if !disabled {
		t.Error("the banned viewer's composer is enabled after a reload")
	}

	// The streamer's moderation tools, and the chat dashboard with the ban in its lists.
	do(sctx, "open the moderation tools",
		// A script click: scrolled into view, the button can sit under the sticky header.
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-mod-toggle]").click()`),
		chromedp.WaitVisible(chromedp.CSS(`#chat-tools`)),
	)
	shot(t, sctx, "chat-streamer-tools")
	shot(t, vctx, "chat-viewer-banned")
	do(sctx, "open the chat dashboard",
		chromedp.Navigate(base+"/dashboard/chat"),
		chromedp.WaitVisible(chromedp.CSS(`#bans form[action="/dashboard/chat/unban"]`)),
	)
	page, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(page, "보는이씨") < 2 { // in the bans list and as the audit log's target
		t.Errorf("the dashboard does not list the ban:\n%s", page)
	}
	shot(t, sctx, "chat-dashboard")
	do(sctx, "unban from the dashboard",
		chromedp.Click(chromedp.CSS(`#bans form[action="/dashboard/chat/unban"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#bans form[action="/dashboard/chat/unban"]`)),
	)
	// The viewer may write again (after a reload: the ban closed their socket).
	do(vctx, "viewer writes again",
		chromedp.Reload(),
		chromedp.WaitEnabled(chromedp.CSS("#chat-input")),
	)
}

// shot saves a screenshot as name.png in FREELY_E2E_ARTIFACTS, when that names a directory,
// for people reviewing the panel's look.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("FREELY_E2E_ARTIFACTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".jpg"), png, 0o644); err != nil {
		t.Logf("save screenshot %s: %v", name, err)
	}
}

// saveShots writes desktop and mobile screenshots of the chats (see shot).
func saveShots(t *testing.T, sctx, vctx context.Context) {
	shot(t, sctx, "chat-streamer-desktop")
	if os.Getenv("FREELY_E2E_ARTIFACTS") == "" {
		return
	}
	if err := chromedp.Do(vctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2))); err != nil {
		t.Logf("mobile viewport: %v", err)
		return
	}
	shot(t, vctx, "chat-viewer-mobile")
	chromedp.Do(vctx, chromedp.ResetViewport()) //nolint:errcheck // best effort
}

// chatJS quotes s as a JavaScript string literal (JSON is one).
func chatJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
