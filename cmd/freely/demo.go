package main

import (
	"context"
	"fmt"

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
	progress := newProgress(inv.stdout, "채널 만드는 중 / creating channels")
	res, err := app.Demo(ctx, cfg, logger, progress.update)
	progress.finish()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(inv.stdout, "Demo data ready: %d channels created, %d brought up to date.\nLog in as %s (demo002, demo003, … too) with password %q.\n",
		res.Created, res.Resumed, res.Email, res.Password)
	return err
}
