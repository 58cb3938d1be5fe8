package hls_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/gortmplib"
	rtmpcodecs "github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"

	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
)

// TestEnhancedRTMPHEVCAndOpus publishes H.265 video and Opus audio over Enhanced RTMP (as OBS 30+
// does for HEVC) with gortmplib's own writer, and checks that they come out as HLS.
func TestEnhancedRTMPHEVCAndOpus(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hls.Options{})
	ctx := testContext(t, 60*time.Second)
	aus, err := mediatest.LoadHEVCAccessUnits(mediatest.HEVCFixture)
	if err != nil {
		t.Fatal(err)
	}
	var vps, sps, pps []byte
	for _, n := range aus[0] {
		switch (n[0] >> 1) & 0x3f {
		case 32:
			vps = n
		case 33:
			sps = n
		case 34:
			pps = n
		}
	}
	video := &gortmplib.Track{Codec: &rtmpcodecs.H265{VPS: vps, SPS: sps, PPS: pps}}
	audio := &gortmplib.Track{Codec: &rtmpcodecs.Opus{IDHeader: &opus.IDHeader{
		Version: 1, ChannelCount: 2, PreSkip: 312, InputSampleRate: 48000}}}

	u, _ := url.Parse(e.rtmpURL[:len(e.rtmpURL)-1] + "#sk_alice")
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{video, audio}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}

	published := make(chan error, 1)
	go func() {
		published <- writeHEVCAndOpus(ctx, w, video, audio, aus)
	}()
	e.waitStarted(t, ctx, "alice", 1)
	resp, body := e.get(t, ctx, "/hls/alice/index.m3u8")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("multivariant: %d", resp.StatusCode)
	}
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		t.Fatal(err)
	}
	v := pl.(*playlist.Multivariant).Variants[0]
	if len(v.Codecs) != 2 || !strings.HasPrefix(v.Codecs[0], "hvc1.") || !slices.Contains(v.Codecs, "opus") ||
		v.Resolution != "160x120" {
		t.Fatalf("variant %+v\n%s", v, body)
	}
	_, body = e.get(t, ctx, "/hls/alice/video.m3u8")
	m := parseMedia(t, body)
	seg := m.Segments[len(m.Segments)-1]
	if resp, data := e.get(t, ctx, "/hls/alice/"+seg.URI); resp.StatusCode != http.StatusOK || len(data) == 0 {
		t.Fatalf("HEVC segment: %d", resp.StatusCode)
	}
	_, body = e.get(t, ctx, "/hls/alice/audio.m3u8")
	if m := parseMedia(t, body); len(m.Segments) == 0 {
		t.Fatalf("no Opus segments:\n%s", body)
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	if st := e.hls.Stats(); st[0].EncodeErrors != 0 {
		t.Fatalf("%d encode errors", st[0].EncodeErrors)
	}
}

// writeHEVCAndOpus sends 30 fps video and 20 ms Opus packets at twice real time.
func writeHEVCAndOpus(ctx context.Context, w *gortmplib.Writer, video, audio *gortmplib.Track, aus [][][]byte) error {
	const frame = time.Second / 30
	const packet = 20 * time.Millisecond
	// An Opus packet: TOC for CELT fullband 20 ms, stereo, one frame; the muxer does not decode it.
	opusPacket := []byte{0xfc, 0xff, 0xfe}
	start := time.Now()
	var audioPTS time.Duration
	for i, au := range aus {
		pts := time.Duration(i) * frame
		if d := time.Until(start.Add(pts / 2)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := w.WriteH265(video, pts, pts, au); err != nil {
			return err
		}
		for ; audioPTS <= pts; audioPTS += packet {
			if err := w.WriteOpus(audio, audioPTS, opusPacket); err != nil {
				return err
			}
		}
	}
	return nil
}
