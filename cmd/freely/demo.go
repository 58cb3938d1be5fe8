package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/freelylive/freely/internal/app"
	"github.com/freelylive/freely/internal/config"
)

func init() {
	register(command{name: "demo", summary: "fill an empty database with demo users and channels", run: runDemo})
}

func runDemo(ctx context.Context, inv invocation) error {
	fs := newFlagSet("demo", inv)
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
	if err := cfg.EnsureSecretKey(); err != nil {
		return err
	}
	progress := demoProgress(inv.stdout)
	res, err := app.Demo(ctx, cfg, logger, progress.update)
	progress.finish()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(inv.stdout, "Demo data ready: %d channels created, %d brought up to date.\nLog in as %s (demo002, demo003, … too) with password %q.\n",
		res.Created, res.Resumed, res.Email, res.Password)
	return err
}

// progressReporter draws a progress bar when stdout is a terminal and stays quiet otherwise,
// so logs and CI output are not filled with control characters.
type progressReporter struct {
	bar *progressbar.ProgressBar
	out io.Writer
}

func demoProgress(out io.Writer) *progressReporter {
	f, ok := out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progressReporter{}
	}
	return &progressReporter{out: out}
}

func (p *progressReporter) update(done, total int) {
	if p.out == nil {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription("채널 만드는 중 / creating channels"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(done)
}

func (p *progressReporter) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.out)
	}
}
