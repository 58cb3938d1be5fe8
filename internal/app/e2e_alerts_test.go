package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/e2etest"
)

// TestBrowserFollowsAndGetsAlerted drives Chromium through the follow and alert pages of the
// running platform: follow with the button (the script's JSON call), see the followed channel
// in the side panel, get a toast and a bell count the moment the channel goes live over RTMP,
// and mark the alert read on the alert list.
func TestBrowserFollowsAndGetsAlerted(t *testing.T) {
	e2etest.Require(t, "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cfg, err := config.Load(config.Sources{Overrides: map[string]string{
		"data_dir": t.TempDir(), "http.addr": "127.0.0.1:0", "rtmp.addr": "127.0.0.1:0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	streamer := seedStreamer(t, cfg, "toast_caster", "토스트 <i>테스트</i> 방송")
	seedFollower(t, cfg, "toast_fan")
	base, rtmpAddr, _ := runAlertPlatform(ctx, t, cfg)

	browser := e2etest.Browser(t)
	e2etest.ScreenshotOnFailure(t, browser, "follows-and-alerts")
	bctx, bcancel := context.WithTimeout(browser, 90*time.Second)
	defer bcancel()
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	step("log in",
		chromedp.Navigate(base+"/login?lang=ko"), // Korean pages, whatever the browser asks for
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "toast_fan@example.com"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`form[action="/logout"]`)),
	)
	step("follow with the button",
		chromedp.Navigate(base+"/c/"+streamer.handle),
		chromedp.WaitVisible(chromedp.CSS(`[data-follow-form] button[aria-pressed="false"]`)),
		chromedp.Click(chromedp.CSS(`[data-follow-form] button`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-follow-form] button[aria-pressed="true"]`)),
	)
	if got := text("[data-follow-count]"); got != "팔로워 1명" {
		t.Errorf("follower count after following = %q", got)
	}
	// The follow is the server's: a fresh page shows it, and the side panel lists the channel.
	step("reload",
		chromedp.Navigate(base+"/c/"+streamer.handle),
		chromedp.WaitVisible(chromedp.CSS(`[data-follow-form] button[aria-pressed="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-followed-panel] a[href="/c/`+streamer.handle+`"]`)),
	)

	step("open the home page with its alert socket",
		chromedp.Navigate(base+"/"),
		chromedp.WaitReady(chromedp.CSS(`[data-alert-bell][data-socket="open"]`)),
	)
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	published := publishFixture(pubCtx, t, "rtmp://"+rtmpAddr+"/live/"+streamer.streamKey)
	step("toast", chromedp.WaitVisible(chromedp.CSS(".toast")))
	toast := text(".toast")
	if !strings.Contains(toast, "방송인님이 방송을 시작했어요") || !strings.Contains(toast, "토스트 <i>테스트</i> 방송") {
		t.Errorf("toast text = %q", toast)
	}
	// The side panel marks the channel live without a reload.
	step("panel shows the channel live",
		chromedp.WaitVisible(chromedp.CSS(`[data-followed-panel] a[href="/c/`+streamer.handle+`"] .live-dot`)))
	if got := text(".bell-count"); got != "1" {
		t.Errorf("bell count after the alert = %q", got)
	}
	saveAlertShots(t, bctx, "alerts-toast")

	step("mark the alert read on the list",
		chromedp.Navigate(base+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS(".alert-item.is-unread [data-alert-read] button")),
		chromedp.Click(chromedp.CSS(".alert-item.is-unread [data-alert-read] button")),
		chromedp.WaitNotPresent(chromedp.CSS(".alert-item.is-unread")),
		chromedp.WaitNotVisible(chromedp.CSS(".bell-count")),
	)
	saveAlertShots(t, bctx, "alerts-list")
	stopPub()
	<-published
}

// saveAlertShots writes a screenshot of the page to FREELY_E2E_ARTIFACTS when it is set.
func saveAlertShots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FREELY_E2E_ARTIFACTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}
