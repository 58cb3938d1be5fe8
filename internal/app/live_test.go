package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	busredis "github.com/freelylive/freely/internal/bus/redis"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/media/mediatest"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// platformRun is one run of the whole platform for a test.
type platformRun struct {
	base, rtmp string
	logs       *logWatch
	stop       func() error
}

// startPlatform runs the platform on cfg's data directory with fresh loopback ports.
func startPlatform(t *testing.T, ctx context.Context, cfg config.Config) *platformRun {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = ln.Addr().String()
	cfg.HTTP.PublicURL = "http://" + ln.Addr().String()
	logs := newLogWatch()
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(runCtx, &cfg, slog.New(slog.NewTextHandler(logs, nil)), ln, nil) }()
	stopped := false
	p := &platformRun{base: cfg.HTTP.PublicURL, logs: logs}
	p.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("platform stopped with %v", err)
		}
		if t.Failed() {
			t.Logf("log of the platform on %s:\n%s", p.base, logs.String())
		}
	})
	p.rtmp = logs.wait(ctx, t, rtmpListeningRE)[1]
	return p
}

type liveStatusJSON struct {
	Live      bool      `json:"live"`
	Title     string    `json:"title"`
	StartedAt time.Time `json:"started_at"`
}

func getLiveStatus(t *testing.T, base, handle string) liveStatusJSON {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/channels/" + handle + "/live")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st liveStatusJSON
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// publishUntil publishes the committed fixture in a loop at real-time pace until ctx ends or
// the server drops the connection; the result arrives on the returned channel.
func publishUntil(ctx context.Context, url string) <-chan error {
	out := make(chan error, 1)
	go func() {
		tags, err := mediatest.LoadFixture(mediatest.H264AACFixture)
		if err != nil {
			out <- err
			return
		}
		out <- mediatest.Publish(ctx, url, tags, mediatest.SendOptions{Pace: 1, Loops: 100})
	}()
	return out
}

var sessionStartedRE = regexp.MustCompile(`msg="live: session started".* session_id=(\d+)`)

// TestGracefulRestartContinuesTheBroadcast checks the shutdown order of live video: stopping
// the platform (a deploy) disconnects the publisher but leaves its broadcast open, and a
// publisher that reconnects to the restarted platform within the grace period continues the
// same broadcast instead of starting a second one (which would alert followers again).
func TestGracefulRestartContinuesTheBroadcast(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg, err := config.Load(config.Sources{Overrides: map[string]string{
		"data_dir": t.TempDir(), "http.addr": "127.0.0.1:0", "rtmp.addr": "127.0.0.1:0", "live.grace_period": "60s",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	streamer := seedStreamer(t, cfg, "restart_caster", "재시작 테스트")

	first := startPlatform(t, ctx, *cfg)
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	published := publishUntil(pubCtx, "rtmp://"+first.rtmp+"/live/"+streamer.streamKey)
	sessionID := first.logs.wait(ctx, t, sessionStartedRE)[1]
	before := getLiveStatus(t, first.base, streamer.handle)
	if !before.Live || before.Title != "재시작 테스트" {
		t.Fatalf("status while publishing = %+v", before)
	}

	// A deploy: the platform stops gracefully while the streamer is live.
	if err := first.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	select {
	case err := <-published:
		if err == nil {
			t.Fatal("the publisher finished its 400 s of media although the server stopped")
		}
	case <-ctx.Done():
		t.Fatal("the publisher was not disconnected when the platform stopped")
	}
	db, err := sqlstore.Open(ctx, sqlstore.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	open, err := sqlstore.NewLiveStore(db).OpenSessions(ctx)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || sessionID != strconv.FormatInt(open[0].ID, 10) {
		t.Fatalf("after a graceful stop the open sessions are %+v, want session %s still open", open, sessionID)
	}

	// The new process resumes it when the publisher comes back.
	second := startPlatform(t, ctx, *cfg)
	published = publishUntil(pubCtx, "rtmp://"+second.rtmp+"/live/"+streamer.streamKey)
	second.logs.wait(ctx, t, regexp.MustCompile(`msg="live: session resumed".* session_id=`+sessionID+`\b`))
	after := getLiveStatus(t, second.base, streamer.handle)
	if !after.Live || !after.StartedAt.Equal(before.StartedAt) {
		t.Fatalf("status after the restart = %+v, want the broadcast that started at %v", after, before.StartedAt)
	}
	if strings.Contains(second.logs.String(), `msg="live: session started"`) {
		t.Fatal("the restarted platform started a second broadcast instead of continuing the first")
	}
	stopPub()
	if err := <-published; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
		t.Logf("publisher ended with %v", err)
	}
}

// TestLiveEventsGoOverRedis checks that with redis.url set, live video's events travel over
// Redis pub/sub, where the other nodes of a scale-out deployment hear them.
func TestLiveEventsGoOverRedis(t *testing.T) {
	redisURL := os.Getenv("FREELY_TEST_REDIS")
	if redisURL == "" {
		t.Skip("FREELY_TEST_REDIS is not set: skipping the live-over-Redis test (e.g. FREELY_TEST_REDIS=redis://127.0.0.1:6379/0)")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg, err := config.Load(config.Sources{Overrides: map[string]string{
		"data_dir": t.TempDir(), "http.addr": "127.0.0.1:0", "rtmp.addr": "127.0.0.1:0", "redis.url": redisURL,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	handle := "redis_" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	streamer := seedStreamer(t, cfg, handle, "레디스 방송")

	// Another node, as far as Redis can tell.
	other, err := busredis.New(ctx, busredis.Options{URL: redisURL})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sub, err := other.Subscribe(ctx, live.TopicLive)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	p := startPlatform(t, ctx, *cfg)
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	published := publishUntil(pubCtx, "rtmp://"+p.rtmp+"/live/"+streamer.streamKey)
	for {
		select {
		case msg := <-sub.C():
			ev, err := live.DecodeEvent(msg.Data)
			if err != nil {
				continue
			}
			if started, ok := ev.(*live.StartedEvent); ok && started.Handle == handle {
				if started.Title != "레디스 방송" {
					t.Errorf("live.started over Redis carries title %q", started.Title)
				}
				stopPub()
				<-published
				return
			}
		case err := <-published:
			t.Fatalf("publisher stopped before live.started reached Redis: %v", err)
		case <-ctx.Done():
			t.Fatal("no live.started for the channel on Redis")
		}
	}
}
