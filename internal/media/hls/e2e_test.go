package hls_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/freelylive/freely/internal/media"
	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
	"github.com/freelylive/freely/internal/media/rtmp"
	"github.com/freelylive/freely/internal/media/rtmp/rtmptest"
)

// env is the whole pipeline in-process: RTMP listener → hub → HLS server over HTTP.
type env struct {
	hub     *media.Hub
	gk      *rtmptest.Gatekeeper
	rtmp    *rtmp.Server
	hls     *hls.Server
	http    *httptest.Server
	rtmpURL string

	mu      sync.Mutex
	viewers map[string]int
}

func newEnv(t *testing.T, opts hls.Options) *env {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("FREELY_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e := &env{viewers: map[string]int{}}
	if opts.OnViewer == nil {
		opts.OnViewer = func(channel, vs string) {
			e.mu.Lock()
			e.viewers[channel+"/"+vs]++
			e.mu.Unlock()
		}
	}
	opts.Logger = logger
	srv, err := hls.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.hls = srv
	e.hub = media.NewHub(media.HubOptions{Logger: logger})
	e.hub.AddConsumer(srv)
	e.gk = rtmptest.NewGatekeeper(map[string]string{"sk_alice": "alice", "sk_bob": "bob"})
	e.rtmp, err = rtmp.Listen(rtmp.Options{Addr: "127.0.0.1:0", Gatekeeper: e.gk, Hub: e.hub, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/hls/", srv.Handler())
	e.http = httptest.NewServer(mux)
	e.rtmpURL = "rtmp://" + e.rtmp.Addr().String() + "/live/"
	t.Cleanup(func() {
		e.rtmp.Close()
		e.http.Close()
		e.hls.Close()
	})
	return e
}

func fixture(t *testing.T) []mediatest.Tag {
	t.Helper()
	tags, err := mediatest.LoadFixture(mediatest.H264AACFixture)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func (e *env) get(t *testing.T, ctx context.Context, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp, body
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func parseMedia(t *testing.T, body []byte) *playlist.Media {
	t.Helper()
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		t.Fatalf("unparsable media playlist: %v\n%s", err, body)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		t.Fatalf("not a media playlist:\n%s", body)
	}
	return m
}

// follower reads an LL-HLS media playlist the way an LL player does: blocking reloads for the
// next part, downloading every new part and segment, and checking what it sees.
type follower struct {
	t    *testing.T
	e    *env
	base string // e.g. "/hls/alice/" ; playlist is base+name
	name string
	vs   string

	prevSeq   uint64
	pl        *playlist.Media
	segments  map[uint64]*playlist.MediaSegment
	objects   map[string][]byte
	maps      map[string]bool
	complete  []uint64 // MSNs of complete (non-gap) segments, in order
	blocked   int
	slowest   time.Duration
	discSeen  map[uint64]bool
	playlists int
}

func newFollower(t *testing.T, e *env, base, name, vs string) *follower {
	return &follower{t: t, e: e, base: base, name: name, vs: vs, segments: map[uint64]*playlist.MediaSegment{},
		objects: map[string][]byte{}, maps: map[string]bool{}, discSeen: map[uint64]bool{}}
}

func (f *follower) fetch(ctx context.Context, uri string) []byte {
	t := f.t
	if b, ok := f.objects[uri]; ok {
		return b
	}
	resp, body := f.e.get(t, ctx, f.base+uri)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", uri, resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=86400, immutable" {
		t.Fatalf("GET %s: Cache-Control %q", uri, cc)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/mp4" && ct != "audio/mp4" {
		t.Fatalf("GET %s: Content-Type %q", uri, ct)
	}
	f.objects[uri] = body
	return body
}

// step loads the playlist (blocking for the next part after the first load) and checks it.
func (f *follower) step(ctx context.Context) {
	t := f.t
	path := f.base + f.name + "?vs=" + f.vs
	blocking := f.pl != nil
	if blocking {
		next := uint64(f.pl.MediaSequence) + uint64(len(f.pl.Segments))
		path += fmt.Sprintf("&_HLS_msn=%d&_HLS_part=%d", next, len(f.pl.Parts))
	}
	start := time.Now()
	resp, body := f.e.get(t, ctx, path)
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Fatalf("media playlist Cache-Control %q", cc)
	}
	f.playlists++
	if blocking {
		f.blocked++
		f.slowest = max(f.slowest, took)
	}
	pl := parseMedia(t, body)
	if pl.ServerControl == nil || !pl.ServerControl.CanBlockReload || pl.PartInf == nil || pl.PreloadHint == nil {
		t.Fatalf("LL tags missing:\n%s", body)
	}
	if pl.TargetDuration != 1 {
		t.Fatalf("target duration %d, want 1", pl.TargetDuration)
	}
	if pt := pl.PartInf.PartTarget; pt < 150*time.Millisecond || pt > 250*time.Millisecond {
		t.Fatalf("part target %v", pt)
	}
	seq := uint64(pl.MediaSequence)
	if seq < f.prevSeq {
		t.Fatalf("media sequence went back from %d to %d", f.prevSeq, seq)
	}
	f.prevSeq = seq
	if pl.Map != nil {
		f.fetch(ctx, pl.Map.URI)
	}
	for i, s := range pl.Segments {
		msn := seq + uint64(i)
		if s.Gap {
			continue
		}
		if want := fmt.Sprintf("_s%d.m4s", msn); !strings.HasSuffix(s.URI, want) {
			t.Fatalf("segment %d has URI %s: media sequence not contiguous", msn, s.URI)
		}
		if s.Discontinuity {
			f.discSeen[msn] = true
		}
		for _, p := range s.Parts {
			f.checkPart(ctx, p)
		}
		if _, seen := f.segments[msn]; seen {
			continue
		}
		f.segments[msn] = s
		f.complete = append(f.complete, msn)
		data := f.fetch(ctx, s.URI)
		if len(s.Parts) > 0 {
			var joined []byte
			for _, p := range s.Parts {
				joined = append(joined, f.fetch(ctx, p.URI)...)
			}
			if !bytes.Equal(joined, data) {
				t.Fatalf("segment %d differs from the concatenation of its parts", msn)
			}
		}
	}
	for _, p := range pl.Parts {
		f.checkPart(ctx, p)
	}
	f.pl = pl
}

func (f *follower) checkPart(ctx context.Context, p *playlist.MediaPart) {
	if p.Duration <= 0 || p.Duration > 250*time.Millisecond {
		f.t.Fatalf("part %s lasts %v", p.URI, p.Duration)
	}
	f.fetch(ctx, p.URI)
}

// samples counts the fMP4 samples in the complete segments seen.
func (f *follower) samples() int {
	n := 0
	for _, msn := range f.complete {
		var parts fmp4.Parts
		if err := parts.Unmarshal(f.objects[f.segments[msn].URI]); err != nil {
			f.t.Fatalf("segment %d: %v", msn, err)
		}
		for _, p := range parts {
			for _, tr := range p.Tracks {
				n += len(tr.Samples)
			}
		}
	}
	return n
}

func TestLiveLowLatencyHLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hls.Options{})
	ctx := testContext(t, 60*time.Second)
	tags := fixture(t)

	publishStart := time.Now()
	published := make(chan error, 1)
	go func() {
		published <- mediatest.Publish(ctx, e.rtmpURL+"sk_alice", tags, mediatest.SendOptions{Pace: 1, Loops: 2})
	}()
	e.waitStarted(t, ctx, "alice", 1)

	// The multivariant playlist is answered as soon as the first segment is complete.
	resp, body := e.get(t, ctx, "/hls/alice/index.m3u8?vs=viewer-1")
	firstPlaylist := time.Since(publishStart)
	t.Logf("first playable playlist %v after publish start", firstPlaylist)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("multivariant: %d", resp.StatusCode)
	}
	if firstPlaylist > 2500*time.Millisecond {
		t.Fatalf("first playlist took %v (target 1.2 s)", firstPlaylist)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=2" {
		t.Fatalf("multivariant Cache-Control %q", cc)
	}
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		t.Fatal(err)
	}
	mv := pl.(*playlist.Multivariant)
	v := mv.Variants[0]
	if !slices.Contains(v.Codecs, "avc1.64001e") || !slices.Contains(v.Codecs, "mp4a.40.2") ||
		v.Resolution != "320x240" || v.URI != "video.m3u8?vs=viewer-1" || v.Bandwidth <= 0 {
		t.Fatalf("variant: %+v\n%s", v, body)
	}
	if len(mv.Renditions) != 1 || mv.Renditions[0].URI == nil || *mv.Renditions[0].URI != "audio.m3u8?vs=viewer-1" {
		t.Fatalf("audio rendition: %s", body)
	}

	video := newFollower(t, e, "/hls/alice/", "video.m3u8", "viewer-1")
	audio := newFollower(t, e, "/hls/alice/", "audio.m3u8", "viewer-1")
	video.step(ctx)
	audio.step(ctx)
	// Follow until seven 1 s segments are complete (the stream lasts 8 s).
	for len(video.complete) < 7 {
		video.step(ctx)
	}
	if err := <-published; err != nil {
		t.Fatalf("publisher: %v", err)
	}
	for len(audio.complete) < 7 {
		audio.step(ctx)
	}
	for _, msn := range video.complete[:7] {
		if d := video.segments[msn].Duration; d < 900*time.Millisecond || d > 1100*time.Millisecond {
			t.Fatalf("segment %d lasts %v, want ≈1 s", msn, d)
		}
	}
	for i := 1; i < len(video.complete); i++ {
		if video.complete[i] != video.complete[i-1]+1 {
			t.Fatalf("MSN gap: %v", video.complete)
		}
	}
	t.Logf("%d blocking reloads, slowest %v", video.blocked, video.slowest)

	// The init segment describes the publisher's H.264 stream.
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(video.objects[video.pl.Map.URI])); err != nil {
		t.Fatal(err)
	}
	if c, ok := init.Tracks[0].Codec.(*mp4codecs.H264); !ok || len(c.SPS) == 0 || c.SPS[1] != 100 || c.SPS[3] != 30 {
		t.Fatalf("init track codec %#v", init.Tracks[0].Codec)
	}

	// After the publisher left, the unfinished segment is sealed from the parts already listed,
	// so the media sequence goes on without a hole. Only the frames of the part gohlslib had not
	// closed yet (at most one part, ~200 ms) are lost with the connection.
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		_, body := e.get(t, ctx, "/hls/alice/video.m3u8")
		m := parseMedia(t, body)
		return uint64(m.MediaSequence)+uint64(len(m.Segments)) > video.complete[len(video.complete)-1]+1
	})
	video.pl = nil
	video.step(ctx)
	if n := video.samples(); n < 240-10 || n > 240 {
		t.Fatalf("%d of 240 video frames in the segments", n)
	}

	// Standard HLS: the same segments without LL tags and without the start gaps.
	resp, body = e.get(t, ctx, "/hls/alice/std.m3u8?vs=viewer-1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "std_video.m3u8?vs=viewer-1") {
		t.Fatalf("standard multivariant: %d\n%s", resp.StatusCode, body)
	}
	_, body = e.get(t, ctx, "/hls/alice/std_video.m3u8?vs=viewer-1")
	std := parseMedia(t, body)
	if std.PartInf != nil || std.ServerControl != nil || std.PreloadHint != nil || std.Version != 7 {
		t.Fatalf("standard playlist carries LL tags:\n%s", body)
	}
	for _, s := range std.Segments {
		if s.Gap || len(s.Parts) > 0 {
			t.Fatalf("standard playlist lists gaps or parts:\n%s", body)
		}
	}

	e.mu.Lock()
	views := e.viewers["alice/viewer-1"]
	e.mu.Unlock()
	if views < video.playlists {
		t.Fatalf("viewer hook called %d times for %d media playlist requests", views, video.playlists)
	}
	lat := e.hls.ListingLatency()
	t.Logf("frame arrived → listed in a blocking reply: parts %+v, segments %+v", lat.Parts, lat.Segments)
	if lat.Parts.Count == 0 {
		t.Fatal("no listing latency recorded")
	}
	if lat.Parts.P50 > 50*time.Millisecond {
		t.Fatalf("median listing latency %v", lat.Parts.P50)
	}
}

// waitStarted waits until the publisher's stream has started and reached the HLS server. The
// live service's Started (and its live.started event) comes just before the hub announces the
// ingest, so a request in between would get 404.
func (e *env) waitStarted(t *testing.T, ctx context.Context, channel string, n int) {
	t.Helper()
	if _, err := e.gk.Wait(ctx, "started", channel, n); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		for _, st := range e.hls.Stats() {
			if st.Channel == channel && st.Epochs >= n {
				return true
			}
		}
		return false
	})
}

func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met in time")
		case <-tick.C:
		}
	}
}
