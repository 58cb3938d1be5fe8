package livertmp_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/live/livertmp"
	"github.com/freelylive/freely/internal/media"
	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
	"github.com/freelylive/freely/internal/media/rtmp"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/thumbnail"
)

// TestBroadcastEndToEnd runs the real pipeline in-process: a Go RTMP client publishes the
// committed H.264/AAC fixture to the RTMP listener, which admits it through live.Manager;
// the hub feeds the HLS server, whose playlist requests count viewers; when the publisher
// leaves and the grace period passes, the session ends in the database and the HLS stream
// goes away.
func TestBroadcastEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := sqltest.SQLite(t)
	b := mem.New(mem.Options{})
	t.Cleanup(func() { b.Close() })
	events, err := b.Subscribe(ctx, live.TopicLive)
	if err != nil {
		t.Fatal(err)
	}

	hub := media.NewHub(media.HubOptions{Logger: logger})
	var m *live.Manager
	hlsSrv, err := hls.NewServer(hls.Options{
		OnViewer: func(channel, vs string) { m.CountViewer(channel, vs) },
		Logger:   logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hlsSrv.Close() })
	hub.AddConsumer(hlsSrv)
	mux := http.NewServeMux()
	mux.Handle("/hls/", hlsSrv.Handler())
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)

	m, err = live.New(live.Options{
		Store:       sqlstore.NewLiveStore(db),
		Channels:    db,
		Accounts:    db,
		Bus:         b,
		Media:       hub,
		GracePeriod: 300 * time.Millisecond,
		Logger:      logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	ingest, err := rtmp.Listen(rtmp.Options{Addr: "127.0.0.1:0", Gatekeeper: livertmp.Gatekeeper(m), Hub: hub, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ingest.Close() })
	rtmpURL := "rtmp://" + ingest.Addr().String() + "/live/"

	u := &account.User{Email: "e2e@example.com", Nickname: "종단간", PasswordHash: "x"}
	ch := &channel.Channel{Handle: "e2e_caster", DisplayName: "종단간 방송"}
	if err := db.CreateUserWithChannel(ctx, u, ch); err != nil {
		t.Fatal(err)
	}
	key := channel.NewStreamKey()
	if err := db.SetStreamKey(ctx, ch.ID, key); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkEmailVerified(ctx, u.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SetStreamInfo(ctx, ch.ID, live.StreamInfoInput{Title: "파이프라인 점검", Tags: []string{"테스트"}}); err != nil {
		t.Fatal(err)
	}

	if c, err := mediatest.Dial(ctx, rtmpURL+"live_not_a_real_key"); err == nil {
		c.Close()
		t.Fatal("the listener accepted an unknown stream key")
	}

	tags, err := mediatest.LoadFixture(mediatest.H264AACFixture)
	if err != nil {
		t.Fatal(err)
	}
	e2e := os.Getenv("FREELY_E2E") != ""
	loops := 2
	if e2e {
		loops = 4 // time for ffmpeg to take a frame
	}
	published := make(chan error, 1)
	go func() {
		published <- mediatest.Publish(ctx, rtmpURL+key, tags, mediatest.SendOptions{Pace: 1, Loops: loops})
	}()

	started := nextEvent[*live.StartedEvent](t, events)
	if started.ChannelID != ch.ID || started.Title != "파이프라인 점검" {
		t.Fatalf("live.started = %+v", started)
	}
	if c, err := mediatest.Dial(ctx, rtmpURL+key); err == nil {
		c.Close()
		t.Fatal("a second publisher was accepted while the first is live")
	}

	// A viewer loads the multivariant playlist and then its media playlist.
	master := get(t, web.URL+"/hls/e2e_caster/index.m3u8?vs=viewer-1", http.StatusOK)
	if !strings.Contains(master, "video.m3u8?vs=viewer-1") {
		t.Fatalf("multivariant playlist does not carry the viewing session:\n%s", master)
	}
	get(t, web.URL+"/hls/e2e_caster/video.m3u8?vs=viewer-1", http.StatusOK)
	if got := m.Viewers("e2e_caster"); got != 1 {
		t.Fatalf("Viewers = %d after one viewer's playlist requests, want 1", got)
	}
	if now := m.LiveNow(ctx, 10); len(now) != 1 || now[0].Handle != "e2e_caster" || now[0].Viewers != 1 {
		t.Fatalf("LiveNow = %+v", now)
	}

	if e2e {
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			t.Fatal("FREELY_E2E is set but ffmpeg is not installed")
		}
		blobs, err := disk.New(disk.Options{Dir: t.TempDir(), URLPrefix: "/media/"})
		if err != nil {
			t.Fatal(err)
		}
		defer blobs.Close()
		thumbs, err := thumbnail.New(ctx, thumbnail.Options{
			Blob:   blobs,
			Source: func(handle string) string { return web.URL + "/hls/" + handle + "/std.m3u8" },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer thumbs.Close()
		frame, err := thumbs.Grab(ctx, web.URL+"/hls/e2e_caster/std.m3u8")
		if err != nil {
			t.Fatalf("ffmpeg could not take a frame of our own HLS output: %v", err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(frame)); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("thumbnail grab from the live HLS output skipped: set FREELY_E2E=1 with ffmpeg installed")
	}

	if err := <-published; err != nil {
		t.Fatalf("publish: %v", err)
	}
	ended := nextEvent[*live.EndedEvent](t, events)
	if ended.SessionID != started.SessionID || ended.PeakViewers < 1 {
		t.Fatalf("live.ended = %+v", ended)
	}
	row, err := sqlstore.NewLiveStore(db).SessionByID(ctx, started.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Duration(loops) * mediatest.Duration(tags)
	if row.Open() || row.Duration < want/2 || row.Duration > want+10*time.Second {
		t.Fatalf("stored session: open=%v duration %v, want about %v", row.Open(), row.Duration, want)
	}
	if _, err := sqlstore.NewLiveStore(db).OpenSessionByChannel(ctx, ch.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session still open: %v", err)
	}
	get(t, web.URL+"/hls/e2e_caster/index.m3u8", http.StatusNotFound)
}

// nextEvent returns the next event of type T on sub, skipping others.
func nextEvent[T any](t *testing.T, sub bus.Subscription) T {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case msg := <-sub.C():
			ev, err := live.DecodeEvent(msg.Data)
			if err != nil {
				t.Fatalf("undecodable event %s: %v", msg.Data, err)
			}
			if e, ok := ev.(T); ok {
				return e
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T event within 20 s", zero)
			return zero
		}
	}
}

func get(t *testing.T, url string, wantStatus int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: %d, want %d\n%s", url, resp.StatusCode, wantStatus, body)
	}
	return string(body)
}
