// Package app is the composition root: it builds every part of Freely from the configuration,
// wires them together, and owns their start and orderly stop. It is the only package besides
// cmd/freely that reads config.Config; everything it builds takes plain options.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/obs"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// Run starts Freely and blocks until ctx is cancelled (SIGINT/SIGTERM in main) or a part
// fails. On the way out, in-flight HTTP requests finish (up to http.shutdown_timeout) and the
// database closes last, after everything that uses it has stopped.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen for HTTP on %s: %w", cfg.HTTP.Addr, err)
	}
	return run(ctx, cfg, logger, ln, nil)
}

// run is Run on a listener the caller opened, so tests can use 127.0.0.1:0; testRoutes, when
// not nil, adds routes a test needs (such as a deliberately slow one).
func run(ctx context.Context, cfg *config.Config, logger *slog.Logger, ln net.Listener, testRoutes func(*http.ServeMux)) error {
	defer ln.Close()

	db, err := sqlstore.Open(ctx, sqlstore.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: logger})
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			logger.Error("close database", "err", err)
		}
	}()

	reg := obs.NewRegistry()
	httpMetrics, err := obs.NewHTTPMetrics(reg)
	if err != nil {
		return fmt.Errorf("register HTTP metrics: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		pingCtx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(pingCtx); err != nil {
			logger.Warn("readiness check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "database unavailable")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", obs.MetricsHandler(reg))

	// Live video (live.go): built before the web front, which takes its pages as an
	// extension; started once the routes exist; ingest stops as soon as ctx ends, the rest
	// after HTTP has shut down and before the database closes.
	// The services (blob store, mail, accounts, channels) are built once and shared by every
	// feature below and by the web front; the blob store closes after all of them.
	svc, err := buildServices(ctx, cfg, logger, db)
	if err != nil {
		return err
	}
	defer func() {
		if err := svc.blob.Close(); err != nil {
			logger.Error("close blob store", "err", err)
		}
	}()
	lv, err := newLive(ctx, cfg, logger, db, svc, ln.Addr())
	if err != nil {
		return err
	}
	defer lv.close()
	// Follows and alerts (alerts.go): built before live starts (they hand it the went-live
	// hook), before the web front (their pages) and before the features that ask who follows
	// whom (followers-only chat); the fan-out worker joins the job queue below.
	al, err := newAlerts(ctx, logger, db, lv)
	if err != nil {
		return err
	}
	defer al.close()
	// Search (search.go): from here on every store write keeps the search index in sync (the
	// Korean dictionary loads in the background; writes made meanwhile are analysed once it
	// is ready); its pages join the web front as an extension. Deferred after lv.close, so it
	// stops before the bus and the database go.
	sr, err := newSearch(ctx, logger, db, lv)
	if err != nil {
		return err
	}
	defer sr.close()
	// Live chat (chat.go): the hub rides live video's bus; followers-only mode asks the follow
	// service; its pages join the web front as an extension. Deferred after lv.close, al.close
	// and the database's Close, so it runs before them: sockets close and every accepted
	// message is written before the bus and the database go.
	ct, err := newChat(cfg, logger, db, svc.channels, lv.bus, al.follows)
	if err != nil {
		return err
	}
	defer ct.close(ctx)
	if err := reg.Register(&platformMetrics{media: lv.hub, hls: lv.hls, chat: ct.hub, search: sr.svc}); err != nil {
		return fmt.Errorf("register platform metrics: %w", err)
	}
	plat, err := buildPlatform(cfg, logger, svc, append(append(append(lv.extensions(), ct.extensions()...), al.extensions()...), sr.extension()))
	if err != nil {
		return err
	}
	defer plat.close()
	plat.routes(mux)
	// The job queue starts (and applies River's migrations) before ingest opens: a broadcast
	// opening enqueues its alert job in the same transaction, so the queue's tables must
	// exist and no migration may hold SQLite's write lock while a session opens.
	queue, err := startJobs(ctx, cfg, logger, db, al.queueUser())
	if err != nil {
		return err
	}
	// Deferred after the database's Close, so it runs before it: jobs finish first.
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		if err := queue.Stop(stopCtx); err != nil {
			logger.Error("stop job queue", "err", err)
		}
	}()
	if err := lv.start(ctx, mux); err != nil {
		return err
	}

	if testRoutes != nil {
		testRoutes(mux)
	}

	srv := &http.Server{
		Handler:           httpMetrics.Wrap(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("freely started", "http", ln.Addr().String(), "public_url", cfg.HTTP.PublicURL,
		"database", db.Dialect(), "data_dir", cfg.DataDir)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.HTTP.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve HTTP: %w", err)
	}
	logger.Info("stopped")
	return nil
}
