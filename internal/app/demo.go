package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/demo"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// Demo fills an empty database with demo users and channels built from the embedded Korean
// stream listings. progress, when set, hears (done, total) after each channel.
func Demo(ctx context.Context, cfg *config.Config, logger *slog.Logger, progress func(done, total int)) (demo.Result, error) {
	db, err := sqlstore.Open(ctx, sqlstore.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: logger})
	if err != nil {
		return demo.Result{}, err
	}
	defer db.Close()
	svc, err := buildServices(ctx, cfg, logger, db)
	if err != nil {
		return demo.Result{}, err
	}
	defer svc.blob.Close()
	res, err := demo.Seed(ctx, demo.Options{
		Accounts: svc.accounts,
		Channels: svc.channels,
		Store:    db,
		Progress: progress,
	})
	if err != nil {
		return res, fmt.Errorf("seed demo data: %w", err)
	}
	return res, nil
}
