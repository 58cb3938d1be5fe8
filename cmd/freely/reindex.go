package main

import (
	"context"
	"fmt"
	"time"

	"github.com/freelylive/freely/internal/app"
	"github.com/freelylive/freely/internal/config"
)

func init() {
	register(command{name: "reindex", summary: "rebuild the search index (after an analyzer or dictionary upgrade)", run: runReindex})
}

// runReindex rebuilds every search index row from the channels and live sessions. The site
// may keep running meanwhile: searches see old and new rows side by side until it is done.
func runReindex(ctx context.Context, inv invocation) error {
	fs := newFlagSet("reindex", inv)
	flags := config.RegisterFlags(fs)
	if err := parse(fs, inv.args); err != nil {
		return err
	}
	cfg, err := flags.Load(inv.environ)
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg, inv)
	if err != nil {
		return err
	}
	start := time.Now()
	progress := newProgress(inv.stdout, "검색 색인 중 / indexing")
	var indexed int
	err = app.Reindex(ctx, cfg, logger, func(done, total int) {
		indexed = done
		progress.update(done, total)
	})
	progress.finish()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(inv.stdout, "Search index rebuilt: %d documents in %s.\n", indexed, time.Since(start).Round(time.Millisecond))
	return err
}
