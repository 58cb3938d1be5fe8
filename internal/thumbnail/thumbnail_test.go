package thumbnail_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/thumbnail"
)

// The grabber is what live starts and stops with sessions.
var _ live.Thumbnails = (*thumbnail.Grabber)(nil)

// needFFmpeg skips unless end-to-end tests with external programs were asked for
// (FREELY_E2E=1); then ffmpeg must be installed.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if os.Getenv("FREELY_E2E") == "" {
		t.Skip("ffmpeg thumbnail tests skipped: set FREELY_E2E=1 (with ffmpeg installed) to run them")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("FREELY_E2E is set but ffmpeg is not installed")
	}
}

// hlsStream writes a 3-second 1280x720 test pattern as a live-looking HLS stream (no
// ENDLIST) in the given segment format and serves it on loopback.
func hlsStream(t *testing.T, segmentType string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "3",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p",
		"-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_segment_type", segmentType,
		"-hls_flags", "omit_endlist", filepath.Join(dir, "index.m3u8"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make test stream: %v: %s", err, out)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL + "/index.m3u8"
}

type env struct {
	blob *disk.Store
	logs *syncBuffer
	g    *thumbnail.Grabber
}

func newEnv(t *testing.T, mutate func(*thumbnail.Options)) *env {
	t.Helper()
	store, err := disk.New(disk.Options{Dir: t.TempDir(), URLPrefix: "/media/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{blob: store, logs: &syncBuffer{}}
	opts := thumbnail.Options{
		Blob:   store,
		Source: func(handle string) string { return "http://127.0.0.1:9/hls/" + handle + "/index.m3u8" },
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	}
	if mutate != nil {
		mutate(&opts)
	}
	e.g, err = thumbnail.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.g.Close() })
	return e
}

func TestGrabTakesAFrame(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	for _, segmentType := range []string{"mpegts", "fmp4"} {
		t.Run(segmentType, func(t *testing.T) {
			t.Parallel()
			src := hlsStream(t, segmentType)
			e := newEnv(t, nil)
			frame, err := e.g.Grab(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			img, err := jpeg.Decode(bytes.NewReader(frame))
			if err != nil {
				t.Fatalf("not a JPEG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 360 {
				t.Fatalf("frame is %dx%d, want 640x360", b.Dx(), b.Dy())
			}
			if colourful(img) < 6 {
				t.Fatal("frame looks blank; the test pattern has many colours")
			}
		})
	}
}

func TestGrabKillsAStuckFFmpeg(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	released := make(chan struct{})
	var once sync.Once
	// A source that accepts the request and never answers.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // ffmpeg's connection closed: the process is gone
		once.Do(func() { close(released) })
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t, func(o *thumbnail.Options) { o.Timeout = time.Second })

	start := time.Now()
	_, err := e.g.Grab(context.Background(), srv.URL+"/index.m3u8")
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Grab on a stuck source: %v, want a deadline error", err)
	}
	if took > 4*time.Second {
		t.Fatalf("Grab returned after %v, want about the 1 s timeout", took)
	}
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("ffmpeg still holds its connection after the timeout: it was not killed")
	}
}

func TestGrabberKeepsVersionedFrames(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	src := hlsStream(t, "mpegts")
	e := newEnv(t, func(o *thumbnail.Options) {
		o.Source = func(handle string) string {
			if handle != "caster" {
				t.Errorf("source asked for %q", handle)
			}
			return src
		}
		o.FirstDelay = 10 * time.Millisecond
		o.Interval = 50 * time.Millisecond
	})
	stored := make(chan string, 16)
	e.g.SetOnStored(func(channelID int64, key string) {
		if channelID == 7 {
			select {
			case stored <- key:
			default: // the test has seen enough
			}
		}
	})
	placeholder, grabbed := e.g.URL(7)
	if grabbed || placeholder != "/media/"+thumbnail.PlaceholderKey {
		t.Fatalf("before the first frame URL = %q, %v; want the placeholder", placeholder, grabbed)
	}

	e.g.Start(7, 42, "caster")
	e.g.Start(7, 42, "caster") // the same session again changes nothing
	var keys []string
	for len(keys) < 3 {
		select {
		case k := <-stored:
			keys = append(keys, k)
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d frames stored", len(keys))
		}
	}
	for i, k := range keys {
		if want := thumbnail.Key(7, 42, i+1); k != want {
			t.Fatalf("frame %d stored as %q, want %q", i+1, k, want)
		}
	}
	if url, grabbed := e.g.URL(7); !grabbed || !strings.HasPrefix(url, "/media/thumbnails/7/42-") {
		t.Errorf("while grabbing URL = %q, %v", url, grabbed)
	}
	e.g.Stop(7)
	if url, grabbed := e.g.URL(7); grabbed || url != placeholder {
		t.Errorf("after Stop URL = %q, %v", url, grabbed)
	}
	e.g.Close() // waits for a grab in flight to finish its clean-up

	// Only the newest two frames are kept, served with a short cache lifetime.
	objs, err := e.blob.List(context.Background(), "thumbnails/7/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Key)
	}
	if len(got) != 2 || slices.Contains(got, thumbnail.Key(7, 42, 1)) {
		t.Fatalf("stored frames %v: want the newest two kept, the first gone", got)
	}
	srv := httptest.NewServer(e.blob.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/media/" + got[len(got)-1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("Cache-Control") != thumbnail.CacheControl {
		t.Fatalf("served frame: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := jpeg.Decode(bytes.NewReader(body)); err != nil {
		t.Fatalf("served frame is not a JPEG: %v", err)
	}
}

func TestWithoutFFmpeg(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *thumbnail.Options) { o.FFmpegPath = "ffmpeg-that-is-not-installed" })
	if e.g.Available() {
		t.Fatal("Available with no ffmpeg")
	}
	for i := range 3 {
		e.g.Start(int64(i), 1, "caster")
	}
	url, grabbed := e.g.URL(1)
	if grabbed || url != "/media/"+thumbnail.PlaceholderKey {
		t.Fatalf("URL = %q, %v; want the placeholder", url, grabbed)
	}
	rc, obj, err := e.blob.Get(context.Background(), thumbnail.PlaceholderKey)
	if err != nil {
		t.Fatalf("placeholder not stored: %v", err)
	}
	svg, _ := io.ReadAll(rc)
	rc.Close()
	if obj.ContentType != "image/svg+xml" || !bytes.HasPrefix(svg, []byte("<svg")) || bytes.Contains(svg, []byte("script")) {
		t.Fatalf("placeholder %q: %s", obj.ContentType, svg)
	}
	if _, err := e.g.Grab(context.Background(), "http://127.0.0.1:9/x.m3u8"); !errors.Is(err, thumbnail.ErrNoFFmpeg) {
		t.Fatalf("Grab without ffmpeg: %v", err)
	}
	if n := strings.Count(e.logs.String(), "ffmpeg not found: thumbnails use a placeholder"); n != 1 {
		t.Fatalf("the missing ffmpeg was logged %d times, want once:\n%s", n, e.logs.String())
	}

	// A configured placeholder is used as given and nothing is stored.
	custom := newEnv(t, func(o *thumbnail.Options) {
		o.FFmpegPath = "ffmpeg-that-is-not-installed"
		o.PlaceholderURL = "https://cdn.example.com/offline.png"
	})
	if url, _ := custom.g.URL(1); url != "https://cdn.example.com/offline.png" {
		t.Fatalf("custom placeholder: %q", url)
	}
	if _, err := custom.blob.Stat(context.Background(), thumbnail.PlaceholderKey); err == nil {
		t.Fatal("built-in placeholder stored although one was configured")
	}
}

func TestGrabRefusesNonHTTPSources(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	e := newEnv(t, nil)
	for _, src := range []string{"file:///etc/passwd", "/etc/passwd", "concat:a|b", ""} {
		if _, err := e.g.Grab(context.Background(), src); err == nil {
			t.Errorf("Grab(%q) succeeded", src)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	store, err := disk.New(disk.Options{Dir: t.TempDir(), URLPrefix: "/media/"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	src := func(string) string { return "" }
	for _, opts := range []thumbnail.Options{
		{Source: src},
		{Blob: store},
		{Blob: store, Source: src, Width: 641},
		{Blob: store, Source: src, Interval: -time.Second},
	} {
		if _, err := thumbnail.New(context.Background(), opts); err == nil {
			t.Errorf("New(%+v) accepted bad options", opts)
		}
	}
}

// colourful counts distinct coarse colours in a sample of the image.
func colourful(img image.Image) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 12 {
		for x := b.Min.X; x < b.Max.X; x += 12 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 13, g >> 13, bl >> 13}] = true
		}
	}
	return len(seen)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
