package hls_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/media/hls"
)

// TestFFmpegPublishFFprobeReads is the real-client check: ffmpeg publishes a generated test
// pattern over RTMP and ffprobe reads the HLS output. It runs when FREELY_E2E is set.
func TestFFmpegPublishFFprobeReads(t *testing.T) {
	if os.Getenv("FREELY_E2E") == "" {
		t.Skip("FREELY_E2E not set: skipping the ffmpeg/ffprobe end-to-end test")
	}
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("FREELY_E2E is set but %s is missing: %v", bin, err)
		}
	}
	t.Parallel()
	e := newEnv(t, hls.Options{})
	ctx := testContext(t, 90*time.Second)

	pubCtx, stopPublisher := context.WithCancel(ctx)
	pub := exec.CommandContext(pubCtx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "12", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
		"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "96k", "-f", "flv", e.rtmpURL+"sk_alice")
	pub.Stderr = os.Stderr
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopPublisher() // ends ffmpeg (it would run 12 s) once the probes are done
		_ = pub.Wait()
	}()
	e.waitStarted(t, ctx, "alice", 1)
	// Let a few segments accumulate so ffprobe sees a live window.
	waitFor(t, ctx, func() bool { return e.hls.Stats()[0].Segments >= 2*3 })

	for _, playlist := range []string{"index.m3u8", "std.m3u8"} {
		out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries",
			"stream=codec_name,codec_type,width,height,sample_rate", "-of", "json",
			e.http.URL+"/hls/alice/"+playlist).Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v", playlist, err)
		}
		var probe struct {
			Streams []struct {
				CodecName  string `json:"codec_name"`
				CodecType  string `json:"codec_type"`
				Width      int    `json:"width"`
				Height     int    `json:"height"`
				SampleRate string `json:"sample_rate"`
			} `json:"streams"`
		}
		if err := json.Unmarshal(out, &probe); err != nil {
			t.Fatal(err)
		}
		var video, audio bool
		for _, s := range probe.Streams {
			switch {
			case s.CodecType == "video" && s.CodecName == "h264" && s.Width == 640 && s.Height == 360:
				video = true
			case s.CodecType == "audio" && s.CodecName == "aac" && s.SampleRate == "48000":
				audio = true
			}
		}
		if !video || !audio {
			t.Fatalf("ffprobe %s found: %s", playlist, out)
		}
		t.Logf("ffprobe %s: %s", playlist, out)
	}
}
