package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/e2etest"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// logWatch collects the server's log and lets a test wait for a line.
type logWatch struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func newLogWatch() *logWatch { return &logWatch{changed: make(chan struct{})} }

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

// wait returns the submatches of the first log text matching re, waiting for it.
func (l *logWatch) wait(ctx context.Context, t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for {
		l.mu.Lock()
		m := re.FindStringSubmatch(l.buf.String())
		changed := l.changed
		l.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("the log never matched %s", re)
		}
	}
}

func (l *logWatch) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// liveStreamer is a verified user made through the services, with a log-in session.
type liveStreamer struct {
	handle, streamKey, sessionToken string
}

// seedStreamer creates a verified streamer with a stream title in the server's database
// before the server starts, the way an operator's script would: through the services.
func seedStreamer(t *testing.T, cfg *config.Config, handle, title string) liveStreamer {
	t.Helper()
	const password = "correct horse battery"
	var st liveStreamer
	withServices(t, cfg, func(ctx context.Context, db *sqlstore.DB, svc *services) {
		u := importUser(t, ctx, svc, handle, "방송인", password)
		ch, err := svc.channels.ByOwner(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		m, err := live.New(live.Options{Store: sqlstore.NewLiveStore(db), Channels: db, Accounts: db, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.SetStreamInfo(ctx, ch.ID, live.StreamInfoInput{Title: title, CategorySlug: "just-chatting", Tags: []string{"테스트", "e2e"}}); err != nil {
			t.Fatal(err)
		}
		token, _, _, err := svc.accounts.LogIn(ctx, u.Email, password, account.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}
		st = liveStreamer{handle: ch.Handle, streamKey: ch.StreamKey, sessionToken: token}
	})
	return st
}

// clockFilter draws the wall clock (milliseconds mod 2^24) into each frame as it is
// generated, as 24 black or white 40×40 cells along the bottom left, so the browser can read
// when the frame it shows was made: glass-to-glass latency, measured.
const clockFilter = `[0:v]format=yuv420p,settb=1/1000,setpts='mod(floor(RTCTIME/1000),16777216)',split[main][strip];` +
	`[strip]crop=960:40:0:0,geq=lum='if(mod(floor((T*1000+0.5)/pow(2,floor(X/40))),2),235,16)':cb=128:cr=128[bits];` +
	`[main][bits]overlay=0:680,setpts='N/(30*TB)'[v]`

// measureJS records, for every frame the video shows, when it was shown; every fifth frame
// it reads the clock cells and keeps shown-minus-made.
const measureJS = `(() => {
  const v = document.querySelector(".lp-video");
  const m = window.__e2e = {first: 0, frames: 0, samples: [], stalls: 0};
  v.addEventListener("waiting", () => { if (m.first) m.stalls++; });
  const c = document.createElement("canvas");
  c.width = 960; c.height = 40;
  const g = c.getContext("2d", {willReadFrequently: true});
  const M = 16777216;
  const cb = (now, meta) => {
    const shown = performance.timeOrigin + meta.expectedDisplayTime;
    if (!m.first) m.first = shown;
    m.frames++;
    if (m.frames % 5 === 0 && v.videoWidth === 1280) {
      g.drawImage(v, 0, 680, 960, 40, 0, 0, 960, 40);
      const px = g.getImageData(0, 0, 960, 40).data;
      let made = 0;
      for (let k = 0; k < 24; k++) if (px[(20 * 960 + k * 40 + 20) * 4] > 128) made += 2 ** k;
      const lat = ((Math.round(shown) % M - made) % M + M) % M;
      if (lat < 60000) m.samples.push(lat);
    }
    v.requestVideoFrameCallback(cb);
  };
  v.requestVideoFrameCallback(cb);
  return true;
})()`

var rtmpListeningRE = regexp.MustCompile(`msg="RTMP ingest listening" addr=(\S+)`)

// TestBrowserWatchesALiveBroadcast is the real-client check of live video: the whole
// platform on 127.0.0.1:0, ffmpeg publishing a test pattern over RTMP with a streamer's key,
// and Chromium on the channel page, opened before the broadcast starts. The page must switch
// to the video by itself; the video must play on (currentTime advances ≥ 3 s) at a live
// latency under 3 s as hls.js reports it; a title changed on the dashboard must reach the
// page without a reload; and when the publisher stops, the page must go back to offline.
// Glass-to-glass latency is measured from a clock drawn into the frames and logged.
func TestBrowserWatchesALiveBroadcast(t *testing.T) {
	ffmpeg := e2etest.Require(t, "ffmpeg")
	browser := e2etest.Browser(t)
	ctx, cancel := context.WithTimeout(browser, 150*time.Second)
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := config.Load(config.Sources{Overrides: map[string]string{
		"data_dir": t.TempDir(), "http.addr": ln.Addr().String(), "http.public_url": base,
		"rtmp.addr": "127.0.0.1:0", "live.grace_period": "2s",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	const title = "e2e 라이브 <테스트>"
	streamer := seedStreamer(t, cfg, "e2e_caster", title)

	logs := newLogWatch()
	serverCtx, stopServer := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(serverCtx, cfg, slog.New(slog.NewTextHandler(logs, nil)), ln, nil) }()
	t.Cleanup(func() {
		stopServer()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	rtmpAddr := logs.wait(ctx, t, rtmpListeningRE)[1]
	e2etest.ScreenshotOnFailure(t, browser, "live-watch")

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	eval := func(expr string) float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	poll := func(name, expr string, timeout time.Duration) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
			t.Fatalf("%s (%s): %v", name, expr, err)
		}
	}

	// The viewer opens the channel page while the channel is offline.
	step("open the offline channel page",
		chromedp.Navigate(base+"/c/"+streamer.handle),
		chromedp.WaitVisible(chromedp.CSS(".lp-offline")),
	)
	if live := eval(`document.getElementById("player").dataset.live === "true" ? 1 : 0`); live != 0 {
		t.Fatal("the channel page says live before anything was published")
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](measureJS)); err != nil {
		t.Fatalf("install the frame clock reader: %v", err)
	}

	// The streamer starts publishing.
	var ffmpegOut bytes.Buffer
	pub := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
		"-re", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-filter_complex", clockFilter, "-map", "[v]", "-map", "1:a",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-keyint_min", "30",
		"-sc_threshold", "0", "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000",
		"-f", "flv", "rtmp://"+rtmpAddr+"/live/"+streamer.streamKey)
	pub.Stdout, pub.Stderr = &ffmpegOut, &ffmpegOut
	publishStart := time.Now()
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	published := true
	stopPublisher := func() {
		if published {
			published = false
			pub.Process.Kill() //nolint:errcheck // it may have exited already; Wait reports
			pub.Wait()         //nolint:errcheck // killed on purpose
		}
	}
	defer func() {
		stopPublisher()
		if t.Failed() {
			t.Logf("ffmpeg output:\n%s", ffmpegOut.String())
		}
	}()

	// The page switches to the video by itself and plays.
	poll("the page shows the first frame of the broadcast", `window.__e2e.first > 0`, 40*time.Second)
	firstFrame := time.UnixMilli(int64(eval(`window.__e2e.first`)))
	t.Logf("publish start → first frame on screen: %.2f s", firstFrame.Sub(publishStart).Seconds())
	poll("the live header is shown", `!document.querySelector(".lp-top").hidden && document.querySelector(".lp-title").textContent === `+jsString(title), 5*time.Second)

	start := eval(`document.querySelector(".lp-video").currentTime`)
	poll("video time advances by 3 s", fmt.Sprintf(`document.querySelector(".lp-video").currentTime >= %f`, start+3), 30*time.Second)
	latency := eval(`window.freelyPlayer.hls ? window.freelyPlayer.hls.latency : -1`)
	if latency <= 0 || latency >= 3 {
		t.Fatalf("hls.js reports a live latency of %.3f s, want (0, 3)", latency)
	}
	t.Logf("hls.js live latency: %.3f s (target %.3f s)", latency, eval(`window.freelyPlayer.hls.targetLatency`))

	// Glass to glass, from the clock in the frames.
	poll("clock samples", `window.__e2e.samples.length >= 30`, 30*time.Second)
	samples, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`window.__e2e.samples`))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(samples)
	t.Logf("glass-to-glass: median %.0f ms, p10 %.0f ms, p90 %.0f ms over %d frames; %v stalls since the first frame",
		samples[len(samples)/2], samples[len(samples)/10], samples[len(samples)*9/10], len(samples), eval(`window.__e2e.stalls`))
	if med := samples[len(samples)/2]; med > 10000 {
		t.Errorf("median glass-to-glass latency %.0f ms: the player drifted far behind the live edge", med)
	}

	// The viewer is counted, through the ?vs= on the playlist requests.
	poll("the page counts its own viewer", `document.querySelector("[data-viewers]").textContent !== "0"`, 20*time.Second)

	// The streamer changes the title on the dashboard; the viewer's page follows.
	const newTitle = "제목이 바뀌었어요 & <b>굵게 아님</b>"
	dash, closeDash := chromedp.NewContext(ctx)
	defer closeDash()
	if _, err := chromedp.Call(dash, network.SetCookie, network.SetCookieParams{
		Name: "freely_session", Value: streamer.sessionToken, URL: base, HTTPOnly: ptr(true),
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(dash,
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS(".dash-state-live")),
		chromedp.SetValue(chromedp.CSS("#f-title"), newTitle),
		chromedp.Click(chromedp.CSS(`form[action="/dashboard/stream-info"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	); err != nil {
		t.Fatalf("change the title on the dashboard: %v", err)
	}
	poll("the channel page shows the new title without a reload", `document.querySelector(".lp-title").textContent === `+jsString(newTitle), 20*time.Second)
	if n := eval(`document.querySelectorAll(".lp-title b").length`); n != 0 {
		t.Error("the title's markup became HTML on the channel page")
	}
	saveScreenshots(t, ctx, dash, base)

	// The publisher stops; after the grace period the page goes back to offline by itself.
	stopPublisher()
	poll("the page goes offline after the broadcast ends", `!document.querySelector(".lp-offline").hidden && document.querySelector(".lp-video").hidden`, 30*time.Second)
}

// saveScreenshots keeps pictures of the live pages (desktop and phone width) in
// FREELY_E2E_ARTIFACTS when it is set, so changes to them can be looked at.
func saveScreenshots(t *testing.T, watch, dash context.Context, base string) {
	t.Helper()
	dir := os.Getenv("FREELY_E2E_ARTIFACTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shoot := func(ctx context.Context, name string) {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Error(err)
		}
	}
	shoot(watch, "live-channel-desktop")
	shoot(dash, "live-dashboard-desktop")
	if err := chromedp.Do(dash, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".live-card"))); err != nil {
		t.Errorf("open the home page: %v", err)
	}
	shoot(dash, "live-home-desktop")
	for _, ctx := range []context.Context{watch, dash} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2))); err != nil {
			t.Errorf("phone viewport: %v", err)
		}
	}
	shoot(watch, "live-channel-phone")
	shoot(dash, "live-home-phone")
	if err := chromedp.Do(dash, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS(".dash-state-live"))); err == nil {
		shoot(dash, "live-dashboard-phone")
	}
	for _, ctx := range []context.Context{watch, dash} {
		chromedp.Do(ctx, chromedp.ResetViewport()) //nolint:errcheck // best effort
	}
	t.Logf("screenshots of the live pages in %s", dir)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == '<' || r == '>' || r == '&':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func ptr[T any](v T) *T { return &v }
