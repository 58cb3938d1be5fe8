package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// withServices opens cfg's database and the platform's services, as an operator's script
// would before the server starts, runs fn and closes them again (SQLite's file is then free
// for the server).
func withServices(t *testing.T, cfg *config.Config, fn func(ctx context.Context, db *sqlstore.DB, svc *services)) {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	db, err := sqlstore.Open(ctx, sqlstore.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := buildServices(ctx, cfg, logger, db)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.blob.Close()
	fn(ctx, db, svc)
}

// importUser creates a verified user (with a channel) whose e-mail is handle@example.com.
func importUser(t *testing.T, ctx context.Context, svc *services, handle, nickname, password string) *account.User {
	t.Helper()
	hash, err := svc.accounts.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.accounts.ImportUser(ctx, account.SignUpInput{
		Email: handle + "@example.com", Password: password, Nickname: nickname, Handle: handle,
	}, hash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return u
}
