package hls_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
)

// TestGohlslibClientDecodes plays the live stream with gohlslib's HLS client (an independent
// reader of playlists, init segments and fMP4) and checks the decoded access units.
func TestGohlslibClientDecodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hls.Options{})
	ctx := testContext(t, 30*time.Second)
	go func() {
		_ = mediatest.Publish(ctx, e.rtmpURL+"sk_alice", fixture(t), mediatest.SendOptions{Pace: 1, Loops: 3})
	}()
	e.waitStarted(t, ctx, "alice", 1)

	var mu sync.Mutex
	var trackErr error
	var videoAUs, audioAUs, idrs int
	var lastPTS int64 = -1
	enough := make(chan struct{})
	var once sync.Once
	c := &gohlslib.Client{URI: e.http.URL + "/hls/alice/index.m3u8"}
	c.OnTracks = func(tracks []*gohlslib.Track) error {
		var sawVideo, sawAudio bool
		for _, tr := range tracks {
			switch codec := tr.Codec.(type) {
			case *codecs.H264:
				sawVideo = true
				var sps h264.SPS
				if err := sps.Unmarshal(codec.SPS); err != nil || sps.Width() != 320 || sps.Height() != 240 {
					trackErr = fmt.Errorf("SPS: %v %dx%d", err, sps.Width(), sps.Height())
				}
				c.OnDataH26x(tr, func(pts, dts int64, au [][]byte) {
					mu.Lock()
					defer mu.Unlock()
					videoAUs++
					if h264.IsRandomAccess(au) {
						idrs++
					}
					if dts > pts {
						trackErr = fmt.Errorf("DTS %d after PTS %d", dts, pts)
					}
					lastPTS = pts
					if videoAUs >= 90 && audioAUs >= 100 {
						once.Do(func() { close(enough) })
					}
				})
			case *codecs.MPEG4Audio:
				sawAudio = true
				if codec.Config.SampleRate != 48000 {
					trackErr = fmt.Errorf("AAC sample rate %d", codec.Config.SampleRate)
				}
				c.OnDataMPEG4Audio(tr, func(_ int64, aus [][]byte) {
					mu.Lock()
					defer mu.Unlock()
					audioAUs += len(aus)
				})
			}
		}
		if !sawVideo || !sawAudio {
			return errors.New("client did not find H.264 and AAC tracks")
		}
		return nil
	}
	c.OnDecodeError = func(err error) {
		mu.Lock()
		defer mu.Unlock()
		trackErr = fmt.Errorf("client decode error: %w", err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-enough:
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("client decoded only %d video and %d audio units", videoAUs, audioAUs)
	}
	mu.Lock()
	defer mu.Unlock()
	if trackErr != nil {
		t.Fatal(trackErr)
	}
	if idrs < 2 {
		t.Fatalf("%d keyframes in %d access units", idrs, videoAUs)
	}
	t.Logf("gohlslib client decoded %d video (%d keyframes) and %d audio units, last PTS %d",
		videoAUs, idrs, audioAUs, lastPTS)
}
