package hls_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
)

func (e *env) do(t *testing.T, ctx context.Context, method, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, e.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// liveStream publishes the fixture quickly and waits until its segments are listed; the stream
// then stays served (the publisher left but the session is not over).
func liveStream(t *testing.T, opts hls.Options) (*env, context.Context) {
	e := newEnv(t, opts)
	ctx := testContext(t, 60*time.Second)
	if err := mediatest.Publish(ctx, e.rtmpURL+"sk_alice", fixture(t), mediatest.SendOptions{Pace: 8}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		st := e.hls.Stats()
		return len(st) == 1 && st[0].Segments == 8 // four per rendition, the last one sealed
	})
	return e, ctx
}

func TestRequestValidation(t *testing.T) {
	t.Parallel()
	e, ctx := liveStream(t, hls.Options{})
	_, body := e.get(t, ctx, "/hls/alice/video.m3u8")
	m := parseMedia(t, body)
	next := uint64(m.MediaSequence) + uint64(len(m.Segments))
	seg := m.Segments[len(m.Segments)-1].URI

	cases := []struct {
		method, path string
		want         int
	}{
		{"GET", "/hls/nobody/index.m3u8", 404},
		{"GET", "/hls/alice/", 404},
		{"GET", "/hls/alice/x/video.m3u8", 404},
		{"GET", "/hls/alice/../bob/index.m3u8", 404},
		{"GET", "/hls/alice/unknown.m4s", 404},
		{"GET", "/hls/alice/gap.mp4", 404},
		{"POST", "/hls/alice/video.m3u8", 405},
		{"DELETE", "/hls/alice/" + seg, 405},
		{"GET", "/hls/alice/video.m3u8?_HLS_part=1", 400},
		{"GET", "/hls/alice/video.m3u8?_HLS_msn=abc", 400},
		{"GET", "/hls/alice/video.m3u8?_HLS_msn=-1", 400},
		{"GET", "/hls/alice/video.m3u8?_HLS_msn=" + itoa(next+2), 400},
		{"GET", "/hls/alice/video.m3u8?_HLS_msn=99999999999999999999999", 400},
		{"GET", "/hls/alice/video.m3u8?_HLS_msn=" + itoa(next-1), 200},
		{"GET", "/hls/alice/std_audio.m3u8?_HLS_msn=" + itoa(next+5), 200}, // standard playlists ignore LL parameters
		{"GET", "/hls/alice/" + seg, 200},
		{"HEAD", "/hls/alice/" + seg, 200},
		{"HEAD", "/hls/alice/video.m3u8", 200},
	}
	for _, c := range cases {
		resp, body := e.do(t, ctx, c.method, c.path, nil)
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
		if c.want >= 400 && resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: error cacheable: %q", c.method, c.path, resp.Header.Get("Cache-Control"))
		}
		if c.method == "HEAD" && (len(body) != 0 || resp.ContentLength <= 0) {
			t.Errorf("HEAD %s: body %d bytes, Content-Length %d", c.path, len(body), resp.ContentLength)
		}
	}

	// Only well-formed viewing session ids reach the hook and the multivariant URIs.
	for _, vs := range []string{"a\"b", strings.Repeat("x", 65), "%0A", "ok_id-1"} {
		_, body := e.get(t, ctx, "/hls/alice/index.m3u8?vs="+vs)
		if propagated := strings.Contains(string(body), "?vs="); propagated != (vs == "ok_id-1") {
			t.Errorf("vs=%q propagated=%v:\n%s", vs, propagated, body)
		}
		e.get(t, ctx, "/hls/alice/video.m3u8?vs="+vs)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.viewers) != 1 || e.viewers["alice/ok_id-1"] != 1 {
		t.Errorf("viewer hook calls: %v", e.viewers)
	}
}

func TestPreloadHintIsHeldUntilThePartExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hls.Options{})
	ctx := testContext(t, 60*time.Second)
	go func() {
		_ = mediatest.Publish(ctx, e.rtmpURL+"sk_alice", fixture(t), mediatest.SendOptions{Pace: 1})
	}()
	e.waitStarted(t, ctx, "alice", 1)
	_, body := e.get(t, ctx, "/hls/alice/video.m3u8")
	hint := parseMedia(t, body).PreloadHint.URI
	start := time.Now()
	resp, part := e.get(t, ctx, "/hls/alice/"+hint)
	if resp.StatusCode != http.StatusOK || len(part) == 0 {
		t.Fatalf("preload hint %s: %d", hint, resp.StatusCode)
	}
	t.Logf("preload hint answered after %v", time.Since(start))
	_, body = e.get(t, ctx, "/hls/alice/video.m3u8")
	if !strings.Contains(string(body), `URI="`+hint+`"`) {
		t.Fatalf("hinted part %s not listed afterwards:\n%s", hint, body)
	}
}

func TestCORSAndCDNHeaders(t *testing.T) {
	t.Parallel()
	e, ctx := liveStream(t, hls.Options{AllowedOrigins: []string{"https://freely.example", "https://cdn.example/"}, CDNOrigin: true})
	_, body := e.get(t, ctx, "/hls/alice/video.m3u8")
	next := uint64(parseMedia(t, body).MediaSequence) + uint64(len(parseMedia(t, body).Segments))

	for origin, allowed := range map[string]bool{
		"https://freely.example": true, "https://cdn.example": true, "https://evil.example": false,
	} {
		resp, _ := e.do(t, ctx, "GET", "/hls/alice/video.m3u8", http.Header{"Origin": {origin}})
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if (got == origin) != allowed || (!allowed && got != "") {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q", origin, got)
		}
		if resp.Header.Get("Vary") != "Origin" {
			t.Errorf("origin %s: Vary %q", origin, resp.Header.Get("Vary"))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=1" {
			t.Errorf("CDN origin media playlist Cache-Control %q", cc)
		}
	}
	resp, _ := e.do(t, ctx, "OPTIONS", "/hls/alice/video.m3u8",
		http.Header{"Origin": {"https://freely.example"}, "Access-Control-Request-Method": {"GET"}})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = e.get(t, ctx, "/hls/alice/video.m3u8?_HLS_msn="+itoa(next-1)+"&_HLS_part=0")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=6" {
		t.Errorf("CDN origin blocking reply Cache-Control %q", cc)
	}
}

func TestUnknownChannelAnswersAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hls.Options{})
	ctx := testContext(t, 10*time.Second)
	start := time.Now()
	for _, p := range []string{"index.m3u8", "video.m3u8?_HLS_msn=1&_HLS_part=0", "x_video_p1.0.m4s"} {
		if resp, _ := e.get(t, ctx, "/hls/nobody/"+p); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("404s took %v", d)
	}
}
