package thumbnail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers the decoder used to check ffmpeg's output
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

const (
	// maxFrameBytes bounds what is read from ffmpeg; a 640-pixel JPEG is ~20–80 KB.
	maxFrameBytes = 4 << 20
	// maxStderrBytes is how much of ffmpeg's error output an error quotes.
	maxStderrBytes = 2 << 10
	// waitDelay is how long Wait lingers for ffmpeg's pipes after the process was killed.
	waitDelay = 2 * time.Second
)

// ErrNoFFmpeg is returned by Grab when the ffmpeg program was not found.
var ErrNoFFmpeg = errors.New("thumbnail: ffmpeg not found")

// Grab runs ffmpeg once to take the newest frame of the HLS stream at source, scaled to the
// configured width, as JPEG. The run is bounded by ctx and by Options.Timeout; when either
// runs out the process is killed through its handle.
func (g *Grabber) Grab(ctx context.Context, source string) ([]byte, error) {
	if g.ffmpeg == "" {
		return nil, ErrNoFFmpeg
	}
	if !strings.HasPrefix(source, "http://") && !strings.HasPrefix(source, "https://") {
		return nil, fmt.Errorf("thumbnail: source %q is not an http(s) URL", source)
	}
	ctx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, g.ffmpeg,
		"-hide_banner", "-nostdin", "-loglevel", "error",
		// Only network protocols: a playlist can never make ffmpeg open a local file.
		"-protocol_whitelist", "http,https,tcp,tls",
		// Start at the newest segment: the freshest picture, and the least to download.
		"-live_start_index", "-1",
		"-i", source,
		"-an", "-sn", "-dn",
		"-frames:v", "1",
		"-vf", "scale="+strconv.Itoa(g.opts.Width)+":-2",
		"-c:v", "mjpeg", "-q:v", "5",
		"-f", "image2pipe", "pipe:1",
	)
	// CommandContext kills the process (SIGKILL through its handle) when ctx ends; WaitDelay
	// stops Wait from hanging on pipes a stuck child still holds.
	cmd.WaitDelay = waitDelay
	var stdout limitedBuffer
	stdout.limit = maxFrameBytes
	var stderr limitedBuffer
	stderr.limit = maxStderrBytes
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("thumbnail: ffmpeg on %s: killed after %s: %w", source, g.opts.Timeout, ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("thumbnail: ffmpeg on %s: %w: %s", source, err, strings.TrimSpace(stderr.String()))
	}
	if stdout.overflow {
		return nil, fmt.Errorf("thumbnail: ffmpeg on %s: frame larger than %d bytes", source, maxFrameBytes)
	}
	frame := stdout.Bytes()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(frame))
	if err != nil || format != "jpeg" {
		return nil, fmt.Errorf("thumbnail: ffmpeg on %s: output is not a JPEG (%d bytes): %v", source, len(frame), err)
	}
	if cfg.Width != g.opts.Width || cfg.Height <= 0 || cfg.Height > 4*g.opts.Width {
		return nil, fmt.Errorf("thumbnail: ffmpeg on %s: unexpected frame size %dx%d", source, cfg.Width, cfg.Height)
	}
	return frame, nil
}

// limitedBuffer keeps the first limit bytes written and notes that more came.
type limitedBuffer struct {
	bytes.Buffer
	limit    int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.limit - b.Len()
	if len(p) > room {
		b.overflow = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil // keep ffmpeg from blocking; the result is refused anyway
	}
	return b.Buffer.Write(p)
}

var _ io.Writer = (*limitedBuffer)(nil)
