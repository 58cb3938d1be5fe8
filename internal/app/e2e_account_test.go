package app

import (
	"context"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/e2etest"
)

// mailLog collects the server's log and hands out verification links as the development
// mailer writes them, the way a person running Freely without SMTP would find them.
type mailLog struct {
	mu    sync.Mutex
	buf   strings.Builder
	links chan string
}

var verifyLinkRE = regexp.MustCompile(`https?://[^\s"\\]+/verify\?token=[A-Za-z0-9_-]+`)

func (l *mailLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for _, link := range verifyLinkRE.FindAllString(string(p), -1) {
		select {
		case l.links <- link:
		default:
		}
	}
	return len(p), nil
}

// startServer runs the whole platform on 127.0.0.1:0 with a fresh data directory and returns
// its base URL; it stops when the test ends.
func startServer(t *testing.T, logs *mailLog) string {
	t.Helper()
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
	logger := slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, logger, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	return base
}

// TestBrowserAccountJourney drives Chromium through sign-up, e-mail verification (link read
// from the log, as without SMTP), log-out, log-in and a channel edit, then checks the public
// channel page shows the new introduction.
func TestBrowserAccountJourney(t *testing.T) {
	e2etest.Require(t, "chromium")
	logs := &mailLog{links: make(chan string, 4)}
	base := startServer(t, logs)
	browser := e2etest.Browser(t)
	e2etest.ScreenshotOnFailure(t, browser, "account-journey")
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()

	const (
		email    = "viewer@example.com"
		password = "correct horse battery"
		nickname = "시청자한명"
		handle   = "viewer_one"
		intro    = "안녕하세요! 매일 저녁 9시에 방송합니다 <b>not bold</b>"
	)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	step("sign up",
		chromedp.Navigate(base+"/signup"),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.SendKeys(chromedp.CSS("#f-nickname"), nickname),
		chromedp.SendKeys(chromedp.CSS("#f-handle"), handle),
		chromedp.Click(chromedp.CSS(`form[action="/signup"] button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`form[action="/logout"]`)),
	)

	var link string
	select {
	case link = <-logs.links:
	case <-ctx.Done():
		t.Fatal("no verification link was written to the log")
	}
	step("verify e-mail",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/verify"] button[type=submit]`)),
		chromedp.Click(chromedp.CSS(`form[action="/verify"] button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action="/verify"]`)),
	)

	step("log out",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`details.menu summary`)),
		chromedp.Click(chromedp.CSS(`details.menu summary`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)),
	)
	step("log in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`form[action="/logout"]`)),
	)
	step("edit channel introduction",
		chromedp.Navigate(base+"/settings/channel"),
		chromedp.WaitVisible(chromedp.CSS("#f-introduction")),
		chromedp.SetValue(chromedp.CSS("#f-introduction"), intro),
		chromedp.Click(chromedp.CSS(`form[action="/settings/channel"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/c/"+handle), chromedp.WaitVisible(chromedp.CSS("body"))); err != nil {
		t.Fatalf("open channel page: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("read channel page: %v", err)
	}
	if !strings.Contains(text, intro) {
		t.Fatalf("public channel page does not show the new introduction %q; page text:\n%s", intro, text)
	}
	if !strings.Contains(text, nickname) {
		t.Errorf("public channel page does not show the display name %q", nickname)
	}
	if strings.Contains(text, email) {
		t.Errorf("public channel page shows the owner's e-mail address")
	}
	// The markup in the introduction must arrive as text, not as an element.
	bold, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main b").length`))
	if err != nil {
		t.Fatalf("count <b> elements: %v", err)
	}
	if bold != 0 {
		t.Errorf("introduction markup was rendered as HTML (%d <b> elements)", bold)
	}
}
