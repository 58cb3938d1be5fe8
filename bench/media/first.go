package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"time"

	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
)

// benchFirstPlaylist measures publish start (the publisher starts connecting) → the first 200
// answer to the multivariant playlist, which the server gives as soon as one segment is complete.
func benchFirstPlaylist(ctx context.Context, runs int, publisher string) error {
	tags, err := mediatest.LoadFixture(mediatest.H264AACFixture)
	if err != nil {
		return err
	}
	var samples, fromAdmit []time.Duration
	for i := range runs {
		d, a, err := firstPlaylistOnce(ctx, tags, publisher)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Printf("run %d: first playable playlist %v after publish start, %v after the RTMP publish was admitted\n",
			i+1, round(d), round(a))
		samples = append(samples, d)
		fromAdmit = append(fromAdmit, a)
	}
	fmt.Printf("publish start → first playable playlist (%s publisher, 1 s GOP): %s\n", publisher, summary(samples))
	fmt.Printf("RTMP publish admitted → first playable playlist: %s\n", summary(fromAdmit))
	return nil
}

func firstPlaylistOnce(ctx context.Context, tags []mediatest.Tag, publisher string) (time.Duration, time.Duration, error) {
	p, err := newPipeline("127.0.0.1:0", "127.0.0.1:0", hls.Options{}, map[string]string{"bench": "bench"})
	if err != nil {
		return 0, 0, err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	start := time.Now()
	pubErr := make(chan error, 1)
	switch publisher {
	case "go":
		go func() {
			pubErr <- mediatest.Publish(ctx, p.rtmpURL+"bench", tags, mediatest.SendOptions{Pace: 1})
		}()
	case "ffmpeg":
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			return 0, 0, errNoFFmpeg
		}
		cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
			"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=sample_rate=48000",
			"-t", "5", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30",
			"-keyint_min", "30", "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac",
			"-f", "flv", p.rtmpURL+"bench")
		start = time.Now()
		if err := cmd.Start(); err != nil {
			return 0, 0, err
		}
		go func() { pubErr <- cmd.Wait() }()
		defer func() {
			cancel()
			<-pubErr
		}()
	default:
		return 0, 0, fmt.Errorf("unknown publisher %q", publisher)
	}
	if err := p.waitStream(ctx, "bench"); err != nil {
		return 0, 0, err
	}
	// The stream exists now; this request is held until the first segment is complete.
	code, _, err := get(ctx, p.baseURL+"/hls/bench/index.m3u8")
	answered := time.Now()
	elapsed := answered.Sub(start)
	if err != nil {
		return 0, 0, err
	}
	if code != http.StatusOK {
		return 0, 0, fmt.Errorf("multivariant playlist: HTTP %d", code)
	}
	admitted, err := p.gk.Wait(ctx, "admitted", "bench", 1)
	if err != nil {
		return 0, 0, err
	}
	return elapsed, answered.Sub(admitted.At), nil
}
