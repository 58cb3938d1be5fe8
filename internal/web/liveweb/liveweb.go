package liveweb

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/web"
)

//go:embed templates
var templateFS embed.FS

// Live is what the pages need from the live-session manager (live.Manager implements it).
type Live interface {
	Live(handle string) (live.LiveChannel, bool)
	LiveByChannel(channelID int64) (live.LiveChannel, bool)
	LiveNow(ctx context.Context, limit int) []live.LiveChannel
	Viewers(handle string) int
	StreamInfo(ctx context.Context, channelID int64) (*live.StreamInfo, error)
	SetStreamInfo(ctx context.Context, channelID int64, in live.StreamInfoInput) (*live.StreamInfo, error)
	EndBroadcast(ctx context.Context, channelID int64) error
}

// Channels is what the pages need from the channel service (channel.Service implements it).
type Channels interface {
	ByHandle(ctx context.Context, handle string) (*channel.Channel, error)
	ByOwner(ctx context.Context, ownerID int64) (*channel.Channel, error)
	RegenerateStreamKey(ctx context.Context, ownerID int64) (*channel.Channel, error)
	Categories(ctx context.Context) ([]channel.Category, error)
	ImageURL(key string) string
}

// Options configure the extension. Live and Channels are required.
type Options struct {
	Live     Live
	Channels Channels
	// Bus carries live.* events to open watch pages (live.TopicLive). Nil: pages still get
	// the status when they connect and viewer counts every few seconds, but title changes
	// and starts/ends only when the stream reconnects.
	Bus bus.Bus
	// RTMPURL returns the server address streamers put in OBS, e.g.
	// "rtmp://live.example.com:1935/live". It is a function because the port may only be
	// known once ingest listens (tests listen on port 0).
	RTMPURL func() string
	// BaseURL is the site's public URL; the JSON API gives absolute playlist URLs with it.
	BaseURL string
	// HLSPrefix is where the HLS server is mounted. Default "/hls/".
	HLSPrefix string
	// HomeLimit caps the cards of the home page's "live now" grid. Default 24.
	HomeLimit int
	// StatusInterval is how often open pages get the viewer count when it changed. Default 5 s.
	StatusInterval time.Duration
	Logger         *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Web holds the extension's handlers and the status stream's fan-out. Create it with New,
// give Extension() to web.New, call Start once and Close at shutdown.
type Web struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	router *web.Router
	watch  *watchHub
	// hlsJS is the hashed URL of the embedded hls.js, "" when the build has none.
	hlsJS string
}

// New checks opts and returns the extension's state. It does no I/O; Start does.
func New(opts Options) (*Web, error) {
	if opts.Live == nil || opts.Channels == nil || opts.RTMPURL == nil {
		return nil, errors.New("liveweb: Options.Live, Channels and RTMPURL are required")
	}
	if opts.HLSPrefix == "" {
		opts.HLSPrefix = "/hls/"
	}
	if !strings.HasPrefix(opts.HLSPrefix, "/") || !strings.HasSuffix(opts.HLSPrefix, "/") {
		return nil, errors.New("liveweb: HLSPrefix must start and end with /")
	}
	if opts.HomeLimit <= 0 {
		opts.HomeLimit = 24
	}
	if opts.StatusInterval <= 0 {
		opts.StatusInterval = 5 * time.Second
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	w := &Web{opts: opts, log: opts.Logger, now: opts.Now}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.now == nil {
		w.now = time.Now
	}
	w.watch = newWatchHub(w, opts.StatusInterval)
	return w, nil
}

// Extension is what web.New takes to add the live pages, routes and sections.
func (w *Web) Extension() web.Extension {
	tmpl, _ := fs.Sub(templateFS, "templates")
	return web.Extension{
		Name:      "live",
		Routes:    w.routes,
		Templates: tmpl,
		Messages:  messages,
		Nav:       []web.NavLink{{Href: "/dashboard", Label: "live.nav_dashboard"}},
		Sections: []web.Section{
			{Slot: web.SlotChannelPlayer, Template: "live_player", Load: w.loadPlayer},
			{Slot: web.SlotHomeLive, Template: "live_grid", Load: w.loadLiveGrid},
		},
	}
}

// Start subscribes the status stream to live.* events. ctx bounds the subscription call.
func (w *Web) Start(ctx context.Context) error { return w.watch.start(ctx) }

// Close ends every open status stream (so HTTP shutdown does not wait for them) and stops the
// fan-out. It is idempotent.
func (w *Web) Close() { w.watch.close() }

func (w *Web) routes(r *web.Router) {
	w.router = r
	w.hlsJS, _ = r.AssetURL("vendor/hls.light.min.js")
	if w.hlsJS == "" {
		w.log.Warn("liveweb: hls.js is not embedded (run `make assets`): the player works only in browsers with native HLS")
	}
	r.Handle("GET /dashboard", w.dashboardPage, web.LoggedIn())
	r.Handle("POST /dashboard/stream-info", w.saveStreamInfo, web.Verified())
	r.Handle("POST /dashboard/stream-key", w.regenerateStreamKey, web.Verified())
	r.Handle("POST /dashboard/end", w.endBroadcast, web.Verified())
	r.Handle("GET /api/v1/channels/{handle}/live", w.apiLiveStatus, web.JSON())
	r.Handle("GET /api/v1/channels/{handle}/live/events", w.liveEvents, web.JSON())
}

// playlistPath is the channel's LL-HLS multivariant playlist on this site.
func (w *Web) playlistPath(handle string) string { return w.opts.HLSPrefix + handle + "/index.m3u8" }
