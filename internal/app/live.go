package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/bus/mem"
	busredis "github.com/freelylive/freely/internal/bus/redis"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/live/livertmp"
	"github.com/freelylive/freely/internal/media"
	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/rtmp"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/thumbnail"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/liveweb"
)

// hlsPrefix is where the HLS server is mounted on the app's mux, beside (not inside) the web
// front: media requests skip sessions, language and page headers.
const hlsPrefix = "/hls/"

// liveParts is live video wired into the platform: the event bus, the media hub with its
// HLS output, RTMP ingest, the live-session manager, thumbnails and the live web pages.
//
// Life cycle, as run() drives it:
//
//	newLive    builds everything (no listener yet); its pages go to the web front as an extension
//	start      mounts /hls/, starts the manager (which resumes sessions a restart left open),
//	           then opens RTMP ingest
//	ctx done   RTMP stops accepting and drops its publishers, and open status streams end, so
//	           the HTTP shutdown that runs meanwhile does not wait for them
//	close      after HTTP has shut down: the manager records how far each broadcast ran and
//	           leaves it open, so a restart within the grace period continues it (no second
//	           "went live", viewers resume); then thumbnails, HLS and the bus stop
type liveParts struct {
	cfg     *config.Config
	log     *slog.Logger
	bus     bus.Bus
	blob    *disk.Store
	hub     *media.Hub
	hls     *hls.Server
	thumbs  *thumbnail.Grabber
	manager *live.Manager
	web     *liveweb.Web
	// onOpen runs in the transaction that opens a broadcast (alerts.go sets it before start:
	// the went-live fan-out job is enqueued there). nil opens sessions with no hook.
	onOpen live.OpenHook

	ingest    *rtmp.Server
	stopOnce  sync.Once
	watchDone chan struct{} // closed when the shutdown watcher has returned
	cancel    context.CancelFunc
}

// newLive builds the live-video parts. httpAddr is the HTTP listener's address: the
// thumbnailer reads the channels' HLS output from it over loopback.
func newLive(ctx context.Context, cfg *config.Config, logger *slog.Logger, db *sqlstore.DB, svc *services, httpAddr net.Addr) (lp *liveParts, err error) {
	lp = &liveParts{cfg: cfg, log: logger}
	defer func() {
		if err != nil {
			lp.close()
		}
	}()

	if lp.bus, err = newBus(ctx, cfg, logger); err != nil {
		return nil, err
	}
	// The platform's blob store and channel service; their owner (run) closes them.
	lp.blob = svc.blob
	channels := svc.channels

	lp.hub = media.NewHub(media.HubOptions{Logger: logger.With("component", "media")})
	lp.hls, err = hls.NewServer(hls.Options{
		PathPrefix:      hlsPrefix,
		SegmentCount:    cfg.HLS.SegmentCount,
		SegmentDuration: cfg.HLS.SegmentDuration,
		PartDuration:    cfg.HLS.PartDuration,
		AllowedOrigins:  hlsOrigins(cfg),
		CDNOrigin:       cfg.HLS.CDNOrigin,
		// Playlist requests carry the page's viewing session (?vs=); the manager counts them.
		OnViewer: func(handle, viewer string) { lp.manager.CountViewer(handle, viewer) },
		Logger:   logger.With("component", "hls"),
	})
	if err != nil {
		return nil, fmt.Errorf("build HLS server: %w", err)
	}
	lp.hub.AddConsumer(lp.hls)

	source := loopbackURL(httpAddr)
	lp.thumbs, err = thumbnail.New(ctx, thumbnail.Options{
		Blob: lp.blob,
		// The standard-HLS playlist (whole segments), without ?vs= so grabs are not viewers.
		Source:   func(handle string) string { return source + hlsPrefix + handle + "/std.m3u8" },
		Interval: cfg.Thumbnail.Interval,
		Logger:   logger.With("component", "thumbnail"),
	})
	if err != nil {
		return nil, fmt.Errorf("build thumbnailer: %w", err)
	}

	lp.manager, err = live.New(live.Options{
		Store:       sqlstore.NewLiveStore(db),
		Channels:    db,
		Accounts:    db,
		Bus:         lp.bus,
		Media:       lp.hub,
		Thumbnails:  lp.thumbs,
		GracePeriod: cfg.Live.GracePeriod,
		Logger:      logger.With("component", "live"),

		// Late-bound: alerts are built after live (they need its bus) but before start.
		OnOpen: func(ctx context.Context, tx bun.Tx, s *live.Session) error {
			if lp.onOpen == nil {
				return nil
			}
			return lp.onOpen(ctx, tx, s)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("build live manager: %w", err)
	}

	lp.web, err = liveweb.New(liveweb.Options{
		Live:      lp.manager,
		Channels:  channels,
		Bus:       lp.bus,
		RTMPURL:   lp.obsServer,
		BaseURL:   publicURL(cfg),
		HLSPrefix: hlsPrefix,
		Logger:    logger.With("component", "liveweb"),
	})
	if err != nil {
		return nil, fmt.Errorf("build live pages: %w", err)
	}
	return lp, nil
}

// extensions are the live pages for the web front.
func (lp *liveParts) extensions() []web.Extension { return []web.Extension{lp.web.Extension()} }

// start mounts the HLS server on mux, starts the manager and the status streams, and opens
// RTMP ingest. When ctx ends, ingest stops at once (see liveParts).
func (lp *liveParts) start(ctx context.Context, mux *http.ServeMux) error {
	mux.Handle(hlsPrefix, lp.hls.Handler())
	if err := lp.manager.Start(ctx); err != nil {
		return fmt.Errorf("start live manager: %w", err)
	}
	if err := lp.web.Start(ctx); err != nil {
		return fmt.Errorf("start live status streams: %w", err)
	}
	ingest, err := rtmp.Listen(rtmp.Options{
		Addr:       lp.cfg.RTMP.Addr,
		Gatekeeper: livertmp.Gatekeeper(lp.manager),
		Hub:        lp.hub,
		Logger:     lp.log.With("component", "rtmp"),
	})
	if err != nil {
		return fmt.Errorf("listen for RTMP on %s: %w", lp.cfg.RTMP.Addr, err)
	}
	lp.ingest = ingest
	lp.log.Info("RTMP ingest listening", "addr", ingest.Addr().String(),
		"obs_server", lp.obsServer(), "thumbnails", lp.thumbs.Available())

	watchCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	lp.cancel, lp.watchDone = cancel, make(chan struct{})
	go func() {
		defer close(lp.watchDone)
		select {
		case <-ctx.Done():
			lp.stopIngest()
		case <-watchCtx.Done():
		}
	}()
	return nil
}

// obsServer is the Server address the dashboard shows for OBS: rtmp://{rtmp.public_host}/live,
// with the port ingest actually listens on when rtmp.addr asked for any free port.
func (lp *liveParts) obsServer() string {
	host := lp.cfg.RTMP.PublicHost
	if h, port, err := net.SplitHostPort(host); err == nil && port == "0" && lp.ingest != nil {
		if tcp, ok := lp.ingest.Addr().(*net.TCPAddr); ok {
			host = net.JoinHostPort(h, strconv.Itoa(tcp.Port))
		}
	}
	return "rtmp://" + host + "/live"
}

// stopIngest stops accepting publishers, disconnects the connected ones (their broadcasts
// enter the grace period) and ends the pages' status streams. It runs once.
func (lp *liveParts) stopIngest() {
	lp.stopOnce.Do(func() {
		if lp.ingest != nil {
			if err := lp.ingest.Close(); err != nil {
				lp.log.Error("close RTMP listener", "err", err)
			}
		}
		if lp.web != nil {
			lp.web.Close()
		}
	})
}

// close stops everything newLive built, in dependency order; safe on a partly built value.
func (lp *liveParts) close() {
	if lp.cancel != nil {
		lp.cancel()
		<-lp.watchDone
	}
	lp.stopIngest()
	if lp.manager != nil {
		if err := lp.manager.Close(); err != nil {
			lp.log.Error("close live manager", "err", err)
		}
	}
	if lp.thumbs != nil {
		if err := lp.thumbs.Close(); err != nil {
			lp.log.Error("close thumbnailer", "err", err)
		}
	}
	if lp.hls != nil {
		lp.hls.Close()
	}
	if lp.bus != nil {
		if err := lp.bus.Close(); err != nil {
			lp.log.Error("close event bus", "err", err)
		}
	}
}

// newBus is Redis pub/sub when redis.url is set (several nodes), otherwise in-process.
func newBus(ctx context.Context, cfg *config.Config, logger *slog.Logger) (bus.Bus, error) {
	if cfg.Redis.URL == "" {
		return mem.New(mem.Options{}), nil
	}
	b, err := busredis.New(ctx, busredis.Options{URL: cfg.Redis.URL, Logger: logger.With("component", "bus")})
	if err != nil {
		return nil, fmt.Errorf("connect event bus to Redis: %w", err)
	}
	return b, nil
}

// hlsOrigins are the origins allowed to fetch streams cross-origin: the configured ones and
// the site's own public origin (pages reached under another name than the one they were
// served as, e.g. behind a proxy, still play).
func hlsOrigins(cfg *config.Config) []string {
	origins := append([]string(nil), cfg.HLS.AllowedOrigins...)
	if u, err := url.Parse(cfg.HTTP.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		origins = append(origins, u.Scheme+"://"+u.Host)
	}
	return origins
}

// loopbackURL is "http://host:port" for reaching this process's own HTTP listener.
func loopbackURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		// Listening on every interface (":8080" is dual-stack in Go): IPv4 loopback reaches it.
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}
