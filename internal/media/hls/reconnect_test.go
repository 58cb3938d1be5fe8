package hls_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
)

func TestReconnectContinuesWithDiscontinuity(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hls.Options{})
	ctx := testContext(t, 60*time.Second)
	tags := fixture(t)

	if err := mediatest.Publish(ctx, e.rtmpURL+"sk_alice", tags, mediatest.SendOptions{Pace: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}
	// Wait until the first ingest's last segment is sealed: four segments of the 4 s stream.
	var sealed uint64
	waitFor(t, ctx, func() bool {
		resp, body := e.get(t, ctx, "/hls/alice/video.m3u8")
		if resp.StatusCode != http.StatusOK {
			return false
		}
		m := parseMedia(t, body)
		real := 0
		for _, s := range m.Segments {
			if !s.Gap {
				real++
			}
		}
		sealed = uint64(m.MediaSequence) + uint64(len(m.Segments)) - 1
		return real == 4
	})
	_, before := e.get(t, ctx, "/hls/alice/video.m3u8")
	oldSegment := parseMedia(t, before).Segments[len(parseMedia(t, before).Segments)-1].URI

	// The publisher comes back within the grace period.
	if err := mediatest.Publish(ctx, e.rtmpURL+"sk_alice", tags, mediatest.SendOptions{Pace: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gk.Wait(ctx, "ended", "alice", 2); err != nil {
		t.Fatal(err)
	}
	var body []byte
	waitFor(t, ctx, func() bool {
		_, body = e.get(t, ctx, "/hls/alice/video.m3u8")
		m := parseMedia(t, body)
		return uint64(m.MediaSequence)+uint64(len(m.Segments))-1 >= sealed+4
	})
	m := parseMedia(t, body)
	for i, s := range m.Segments {
		msn := uint64(m.MediaSequence) + uint64(i)
		if s.Gap {
			continue
		}
		if !strings.HasSuffix(s.URI, "_s"+itoa(msn)+".m4s") {
			t.Fatalf("media sequence not contiguous across the reconnect at %d:\n%s", msn, body)
		}
		if s.Discontinuity != (msn == sealed+1) {
			t.Fatalf("discontinuity on segment %d (want only on %d):\n%s", msn, sealed+1, body)
		}
	}
	text := string(body)
	if !strings.Contains(text, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"") ||
		!strings.Contains(text, "_video_init1.mp4") {
		t.Fatalf("no new init segment after the discontinuity:\n%s", body)
	}
	// Objects of both ingests are served.
	for _, s := range m.Segments {
		if s.Gap {
			continue
		}
		if resp, _ := e.get(t, ctx, "/hls/alice/"+s.URI); resp.StatusCode != http.StatusOK {
			t.Fatalf("segment %s: %d", s.URI, resp.StatusCode)
		}
	}
	_, stdBody := e.get(t, ctx, "/hls/alice/std_video.m3u8")
	if !strings.Contains(string(stdBody), "#EXT-X-DISCONTINUITY\n") {
		t.Fatalf("standard playlist lacks the discontinuity:\n%s", stdBody)
	}
	if st := e.hls.Stats(); len(st) != 1 || st[0].Epochs != 2 {
		t.Fatalf("stats: %+v", st)
	}

	// A request blocked on a future part is released when the session ends.
	next := uint64(m.MediaSequence) + uint64(len(m.Segments))
	blocked := make(chan int, 1)
	go func() {
		resp, _ := e.get(t, ctx, "/hls/alice/video.m3u8?_HLS_msn="+itoa(next)+"&_HLS_part=0")
		blocked <- resp.StatusCode
	}()
	waitFor(t, ctx, func() bool { return e.hls.Stats()[0].Waiting == 1 })
	e.hub.EndSession("alice")
	select {
	case code := <-blocked:
		if code != http.StatusNotFound {
			t.Fatalf("blocked request after the session ended: %d", code)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocked request not released by the end of the session")
	}
	for _, p := range []string{"/hls/alice/video.m3u8", "/hls/alice/index.m3u8", "/hls/alice/" + oldSegment} {
		if resp, _ := e.get(t, ctx, p); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s after the session ended: %d", p, resp.StatusCode)
		}
	}
}

func TestWindowBoundsMemory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hls.Options{})
	ctx := testContext(t, 60*time.Second)
	// 20 s of stream at 10× real time.
	if err := mediatest.Publish(ctx, e.rtmpURL+"sk_alice", fixture(t), mediatest.SendOptions{Pace: 10, Loops: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		st := e.hls.Stats()
		return len(st) == 1 && st[0].NextMSN >= 6+20
	})
	st := e.hls.Stats()[0]
	if st.Segments > 2*7 {
		t.Fatalf("%d segments held, window is 7 per rendition", st.Segments)
	}
	// 7 s of a ~350 kbit/s stream is ~300 KB; a window leak would hold ~870 KB.
	if st.Bytes > 500_000 {
		t.Fatalf("%d bytes held", st.Bytes)
	}
	_, body := e.get(t, ctx, "/hls/alice/video.m3u8")
	if m := parseMedia(t, body); len(m.Segments) != 7 {
		t.Fatalf("%d segments listed, want 7", len(m.Segments))
	}
	if st.Dropped != 0 || st.EncodeErrors != 0 {
		t.Fatalf("dropped %d units, %d encode errors", st.Dropped, st.EncodeErrors)
	}
}

func itoa(v uint64) string {
	const digits = "0123456789"
	if v == 0 {
		return "0"
	}
	var b []byte
	for v > 0 {
		b = append([]byte{digits[v%10]}, b...)
		v /= 10
	}
	return string(b)
}
