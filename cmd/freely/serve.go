package main

import (
	"context"

	"github.com/freelylive/freely/internal/app"
	"github.com/freelylive/freely/internal/config"
)

func init() {
	register(command{name: "serve", summary: "run the platform (web, API, ingest, jobs) until interrupted", run: runServe})
	register(command{name: "config", summary: "print the effective configuration, secrets masked", run: runConfig})
}

func runServe(ctx context.Context, inv invocation) error {
	fs := newFlagSet("serve", inv)
	flags := config.RegisterFlags(fs)
	printConfig := fs.Bool("print-config", false, "print the effective configuration (secrets masked) and exit")
	if err := parse(fs, inv.args); err != nil {
		return err
	}
	cfg, err := flags.Load(inv.environ)
	if err != nil {
		return err
	}
	if *printConfig {
		return cfg.Print(inv.stdout)
	}
	logger, err := newLogger(cfg, inv)
	if err != nil {
		return err
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		return err
	}
	return app.Run(ctx, cfg, logger)
}

func runConfig(ctx context.Context, inv invocation) error {
	fs := newFlagSet("config", inv)
	flags := config.RegisterFlags(fs)
	if err := parse(fs, inv.args); err != nil {
		return err
	}
	cfg, err := flags.Load(inv.environ)
	if err != nil {
		return err
	}
	return cfg.Print(inv.stdout)
}
