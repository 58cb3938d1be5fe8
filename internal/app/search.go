package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/search/analysis"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/searchweb"
)

// searchParts is Korean search wired into the platform: the analyzer (its dictionary loads
// in the background, so the first page is not delayed), the index in the database, the
// search service and the search pages.
//
// From newSearch on, every store write of a channel or live session rewrites its index row
// in the same transaction (sqlstore/search_sync.go). Writes made while the dictionary is
// still loading are stored pending; the service's Run analyses them once it is ready, and
// meanwhile search requests wait for the dictionary (bounded by their own deadline).
type searchParts struct {
	svc    *search.Service
	web    *searchweb.Web
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// newSearch builds search over db and starts its background work (autocomplete refreshes,
// catch-up analysis, live.* events from lv's bus). close stops it.
func newSearch(ctx context.Context, logger *slog.Logger, db *sqlstore.DB, lv *liveParts) (*searchParts, error) {
	log := logger.With("component", "search")
	an := analysis.New(analysis.Options{Logger: log})
	ix := sqlstore.NewSearchIndex(db, an)
	db.UseSearchIndex(ix)

	opts := search.Options{Store: ix, Analyzer: an, Logger: log}
	if lv != nil {
		opts.Bus = lv.bus
		// Live hits show, and tie-break on, the viewers watching now.
		opts.LiveViewers = func(channelID int64) (int, bool) {
			lc, ok := lv.manager.LiveByChannel(channelID)
			return lc.Viewers, ok
		}
	}
	svc, err := search.New(opts)
	if err != nil {
		return nil, fmt.Errorf("build search: %w", err)
	}
	sw, err := searchweb.New(searchweb.Options{Search: svc, Categories: db, ImageURL: imageURLFunc(lv), Logger: logger.With("component", "searchweb")})
	if err != nil {
		return nil, fmt.Errorf("build search pages: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sp := &searchParts{svc: svc, web: sw, cancel: cancel}
	sp.done.Add(1)
	go func() {
		defer sp.done.Done()
		if err := svc.Run(runCtx); err != nil {
			log.Error("search stopped", "err", err)
		}
	}()
	return sp, nil
}

// imageURLFunc turns a blob key into its public URL with live's blob store ("" for none).
func imageURLFunc(lv *liveParts) func(key string) string {
	return func(key string) string {
		if key == "" || lv == nil || lv.blob == nil {
			return ""
		}
		return lv.blob.URL(key)
	}
}

func (sp *searchParts) extension() web.Extension { return sp.web.Extension() }

// close stops the background work and waits for it; it runs before the database closes.
func (sp *searchParts) close() {
	sp.cancel()
	sp.done.Wait()
}

// Reindex rebuilds the whole search index from the channels and live sessions (after an
// analyzer or dictionary upgrade, or to repair it). It waits for the dictionary, then calls
// progress (when set) with (done, total) after each batch. The site may keep serving
// meanwhile.
func Reindex(ctx context.Context, cfg *config.Config, logger *slog.Logger, progress func(done, total int)) error {
	db, err := sqlstore.Open(ctx, sqlstore.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: logger})
	if err != nil {
		return err
	}
	defer db.Close()
	// Categories are indexed by name; make sure a fresh database has them.
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		return fmt.Errorf("seed categories: %w", err)
	}
	an := analysis.New(analysis.Options{Logger: logger})
	ix := sqlstore.NewSearchIndex(db, an)
	if err := ix.Reindex(ctx, progress); err != nil {
		return fmt.Errorf("reindex search: %w", err)
	}
	return nil
}
