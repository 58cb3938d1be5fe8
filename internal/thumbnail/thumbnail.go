// Package thumbnail grabs preview frames of live channels with the ffmpeg program (when it is
// installed) and keeps them in the blob store under versioned keys, so a CDN may cache each
// one briefly and a new frame is a new URL. Without ffmpeg it hands out a placeholder and says
// so once in the log. It implements live.Thumbnails without importing live; it imports no
// HTTP server, SQL or configuration package.
package thumbnail

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/blob"
)

// Defaults for Options.
const (
	DefaultInterval      = 20 * time.Second
	DefaultFirstDelay    = 3 * time.Second
	DefaultTimeout       = 15 * time.Second
	DefaultWidth         = 640
	DefaultKeep          = 2
	DefaultMaxConcurrent = 2
	// CacheControl is sent with every frame: its key never changes content, but a short
	// lifetime keeps deleted versions from living on in caches.
	CacheControl = "public, max-age=60"
	// PlaceholderKey is where the built-in placeholder image is stored.
	PlaceholderKey = "thumbnails/placeholder.svg"
)

//go:embed placeholder.svg
var placeholderSVG []byte

// Options configures a Grabber. Blob and Source are required.
type Options struct {
	Blob blob.Store
	// Source returns the URL ffmpeg reads a channel from: normally the channel's own HLS
	// playlist on loopback, e.g. "http://127.0.0.1:8080/hls/{handle}/index.m3u8" (without a
	// ?vs= viewing session, so grabs are not counted as viewers).
	Source func(handle string) string
	// Interval between grabs while a channel is live; DefaultInterval when 0.
	Interval time.Duration
	// FirstDelay is the wait before the first grab of a session, so the stream has a
	// segment to read; DefaultFirstDelay when 0.
	FirstDelay time.Duration
	// Timeout bounds each ffmpeg run; DefaultTimeout when 0.
	Timeout time.Duration
	// Width of the frames in pixels (height keeps the aspect ratio); DefaultWidth when 0.
	Width int
	// Keep is how many frames per session stay in the blob store (older ones are deleted,
	// the last one stays as the broadcast's poster); DefaultKeep when 0.
	Keep int
	// MaxConcurrent caps simultaneous ffmpeg runs across channels; DefaultMaxConcurrent
	// when 0.
	MaxConcurrent int
	// FFmpegPath names the program; "" looks "ffmpeg" up in PATH.
	FFmpegPath string
	// PlaceholderURL is handed out when a channel has no frame yet (or ffmpeg is missing);
	// "" stores the built-in placeholder under PlaceholderKey and uses its URL.
	PlaceholderURL string
	Logger         *slog.Logger
}

// Grabber takes periodic frames of live channels. Create it with New; Close stops it.
type Grabber struct {
	opts        Options
	log         *slog.Logger
	ffmpeg      string // resolved program path, "" when not installed
	placeholder string
	slots       chan struct{} // semaphore for concurrent ffmpeg runs

	mu       sync.Mutex
	chans    map[int64]*channelLoop
	closed   bool
	onStored func(channelID int64, key string) // tests only
	wg       sync.WaitGroup
}

type channelLoop struct {
	sessionID int64
	handle    string
	cancel    context.CancelFunc
	latest    string // URL of the newest frame, "" before the first
}

// New checks opts, finds ffmpeg and, when no PlaceholderURL is given, stores the built-in
// placeholder in the blob store.
func New(ctx context.Context, opts Options) (*Grabber, error) {
	if opts.Blob == nil || opts.Source == nil {
		return nil, errors.New("thumbnail: Options.Blob and Source are required")
	}
	if opts.Interval < 0 || opts.FirstDelay < 0 || opts.Timeout < 0 || opts.Width < 0 || opts.Keep < 0 || opts.MaxConcurrent < 0 {
		return nil, errors.New("thumbnail: negative values in Options")
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.FirstDelay == 0 {
		opts.FirstDelay = DefaultFirstDelay
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Width == 0 {
		opts.Width = DefaultWidth
	}
	if opts.Width%2 != 0 || opts.Width > 3840 {
		return nil, fmt.Errorf("thumbnail: width %d must be even and at most 3840", opts.Width)
	}
	if opts.Keep == 0 {
		opts.Keep = DefaultKeep
	}
	if opts.MaxConcurrent == 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	g := &Grabber{
		opts:        opts,
		log:         logger,
		placeholder: opts.PlaceholderURL,
		slots:       make(chan struct{}, opts.MaxConcurrent),
		chans:       map[int64]*channelLoop{},
	}
	name := opts.FFmpegPath
	if name == "" {
		name = "ffmpeg"
	}
	if path, err := exec.LookPath(name); err == nil {
		g.ffmpeg = path
	} else {
		logger.Warn("ffmpeg not found: thumbnails use a placeholder", "program", name)
	}
	if g.placeholder == "" {
		err := opts.Blob.Put(ctx, PlaceholderKey, bytes.NewReader(placeholderSVG),
			blob.PutOptions{ContentType: "image/svg+xml", CacheControl: "public, max-age=86400"})
		if err != nil {
			return nil, fmt.Errorf("thumbnail: store placeholder: %w", err)
		}
		g.placeholder = opts.Blob.URL(PlaceholderKey)
	}
	return g, nil
}

// Available reports whether ffmpeg was found, i.e. whether real frames are grabbed.
func (g *Grabber) Available() bool { return g.ffmpeg != "" }

// Start begins grabbing frames of a session that is live on this node. Starting the session
// already running does nothing; a new session of the channel replaces the old loop.
func (g *Grabber) Start(channelID, sessionID int64, handle string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.ffmpeg == "" {
		return
	}
	if cl, ok := g.chans[channelID]; ok {
		if cl.sessionID == sessionID {
			return
		}
		cl.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cl := &channelLoop{sessionID: sessionID, handle: handle, cancel: cancel}
	g.chans[channelID] = cl
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.run(ctx, channelID, cl)
	}()
}

// Stop ends the channel's grabs; the last frame stays in the blob store.
func (g *Grabber) Stop(channelID int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cl, ok := g.chans[channelID]; ok {
		cl.cancel()
		delete(g.chans, channelID)
	}
}

// URL returns the channel's newest frame and true, or the placeholder and false when there
// is none (not live here, no frame yet, or no ffmpeg).
func (g *Grabber) URL(channelID int64) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cl, ok := g.chans[channelID]; ok && cl.latest != "" {
		return cl.latest, true
	}
	return g.placeholder, false
}

// Close stops every loop and waits for running ffmpeg processes to be killed and reaped.
func (g *Grabber) Close() error {
	g.mu.Lock()
	g.closed = true
	for id, cl := range g.chans {
		cl.cancel()
		delete(g.chans, id)
	}
	g.mu.Unlock()
	g.wg.Wait()
	return nil
}

// run grabs a frame after FirstDelay (plus jitter, so channels that went live together do
// not run ffmpeg together) and then every Interval until ctx ends.
func (g *Grabber) run(ctx context.Context, channelID int64, cl *channelLoop) {
	delay := g.opts.FirstDelay + time.Duration(rand.Int64N(int64(g.opts.FirstDelay)/4+1))
	timer := time.NewTimer(delay)
	defer timer.Stop()
	n := 0
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		// n counts stored frames, so a failed grab leaves no gap in the keys and the
		// delete window always finds the frame it should remove.
		if err := g.grabOnce(ctx, channelID, cl, n+1); err != nil {
			if ctx.Err() != nil {
				return // stopped mid-grab: not a failure worth reporting
			}
			failures++
			// The first failure and then every tenth: a stalled stream must not flood the log.
			if failures == 1 || failures%10 == 0 {
				g.log.Warn("thumbnail: grab failed", "channel_id", channelID, "session_id", cl.sessionID,
					"failures", failures, "err", err)
			}
		} else if ctx.Err() == nil {
			n++
			failures = 0
		}
		timer.Reset(g.opts.Interval)
	}
}

// grabOnce takes frame n, stores it and forgets the version that fell out of the window.
func (g *Grabber) grabOnce(ctx context.Context, channelID int64, cl *channelLoop, n int) error {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	frame, err := g.Grab(ctx, g.opts.Source(cl.handle))
	<-g.slots
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while grabbing
		}
		return err
	}
	key := Key(channelID, cl.sessionID, n)
	if err := g.opts.Blob.Put(ctx, key, bytes.NewReader(frame), blob.PutOptions{ContentType: "image/jpeg", CacheControl: CacheControl}); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	g.mu.Lock()
	if g.chans[channelID] == cl {
		cl.latest = g.opts.Blob.URL(key)
	}
	onStored := g.onStored
	g.mu.Unlock()
	if old := n - g.opts.Keep; old > 0 {
		// Finish the clean-up even when the loop is being stopped, so exactly Keep frames
		// remain.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.opts.Timeout)
		err := g.opts.Blob.Delete(dctx, Key(channelID, cl.sessionID, old))
		cancel()
		if err != nil {
			return fmt.Errorf("delete old frame: %w", err)
		}
	}
	if onStored != nil {
		onStored(channelID, key)
	}
	return nil
}

// Key is the blob key of frame n of a session: thumbnails/{channelID}/{sessionID}-{n}.jpg.
func Key(channelID, sessionID int64, n int) string {
	return "thumbnails/" + strconv.FormatInt(channelID, 10) + "/" + strconv.FormatInt(sessionID, 10) + "-" + strconv.Itoa(n) + ".jpg"
}
