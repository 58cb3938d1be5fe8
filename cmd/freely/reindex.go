package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

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
	progress := reindexProgress(inv.stdout)
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

// reindexBar draws a progress bar when stdout is a terminal and stays quiet otherwise.
type reindexBar struct {
	bar *progressbar.ProgressBar
	out io.Writer
}

func reindexProgress(out io.Writer) *reindexBar {
	f, ok := out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &reindexBar{}
	}
	return &reindexBar{out: out}
}

func (p *reindexBar) update(done, total int) {
	if p.out == nil {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription("검색 색인 중 / indexing"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(done)
}

func (p *reindexBar) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.out)
	}
}
