package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
)

// serve runs one live channel ("bench") published in real time from a looping FLV file, for
// load tests with wrk (bench/media/serve.sh). It prints the URLs to load and "ready", then serves
// until interrupted.
func serve(ctx context.Context, httpAddr, rtmpAddr string, window int, input string) error {
	tags, err := loadInput(input)
	if err != nil {
		return err
	}
	p, err := newPipeline(httpAddr, rtmpAddr, hls.Options{SegmentCount: window}, map[string]string{"bench": "bench"})
	if err != nil {
		return err
	}
	defer p.Close()
	go func() {
		_ = mediatest.Publish(ctx, p.rtmpURL+"bench", tags, mediatest.SendOptions{Pace: 1, Loops: 1 << 20})
	}()
	if err := p.waitStream(ctx, "bench"); err != nil {
		return err
	}
	// Wait for three complete segments so the playlist has its steady-state size.
	var segment string
	for {
		code, body, err := get(ctx, p.baseURL+"/hls/bench/std_video.m3u8")
		if err != nil {
			return err
		}
		if code == http.StatusOK {
			var segs []string
			for _, line := range strings.Split(string(body), "\n") {
				if strings.HasSuffix(line, ".m4s") {
					segs = append(segs, line)
				}
			}
			if len(segs) >= 3 {
				segment = segs[len(segs)-1]
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	fmt.Printf("playlist %s/hls/bench/video.m3u8\n", p.baseURL)
	fmt.Printf("segment %s/hls/bench/%s\n", p.baseURL, segment)
	fmt.Println("ready")
	<-ctx.Done()
	return nil
}

// loadInput reads an FLV file, or the committed fixture when path is "".
func loadInput(path string) ([]mediatest.Tag, error) {
	if path == "" {
		return mediatest.LoadFixture(mediatest.H264AACFixture)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return mediatest.ParseFLV(b)
}
