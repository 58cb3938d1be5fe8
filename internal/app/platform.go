package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/imageproc"
	"github.com/freelylive/freely/internal/mail"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/web"
)

// services are the use-cases built on top of the database: blob storage, mail, accounts
// and channels. Both the server and one-shot commands (demo) build them the same way.
type services struct {
	blob     *disk.Store
	accounts *account.Service
	channels *channel.Service
}

// platform is the services plus the web front that serves them.
type platform struct {
	*services
	web *web.Server
}

// buildServices wires the services. Categories are seeded on every start (the upsert is
// idempotent), so a new release's categories appear without a migration.
func buildServices(ctx context.Context, cfg *config.Config, logger *slog.Logger, db *sqlstore.DB) (*services, error) {
	blobStore, err := disk.New(disk.Options{Dir: cfg.Blob.Dir, URLPrefix: cfg.Blob.URLPrefix})
	if err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	mailer, err := newMailer(cfg, logger)
	if err != nil {
		return nil, err
	}
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		return nil, fmt.Errorf("seed categories: %w", err)
	}
	images := imageproc.New()
	accounts := account.NewService(account.Options{
		Store:      db,
		Mailer:     mailer,
		Images:     images,
		Blob:       blobStore,
		BaseURL:    publicURL(cfg),
		SessionTTL: cfg.Session.Lifetime,
		Logger:     logger.With("component", "account"),
	})
	channels := channel.NewService(channel.Options{
		Store:  db,
		Images: images,
		Blob:   blobStore,
		Logger: logger.With("component", "channel"),
	})
	return &services{blob: blobStore, accounts: accounts, channels: channels}, nil
}

// buildPlatform puts the web front, with the features' extensions, on the services.
func buildPlatform(cfg *config.Config, logger *slog.Logger, svc *services, extensions []web.Extension) (*platform, error) {
	baseURL := publicURL(cfg)
	webServer, err := web.New(web.Options{
		Accounts:      svc.accounts,
		Channels:      svc.channels,
		Blob:          svc.blob.Handler(),
		Logger:        logger.With("component", "web"),
		BaseURL:       baseURL,
		SecureCookies: strings.HasPrefix(baseURL, "https://"),
		TrustProxy:    cfg.HTTP.TrustProxy,
		SecretKey:     []byte(cfg.SecretKey.Reveal()),
		MediaOrigins:  mediaOrigins(cfg.Blob.URLPrefix),
		Extensions:    extensions,
	})
	if err != nil {
		return nil, fmt.Errorf("build web front: %w", err)
	}
	return &platform{services: svc, web: webServer}, nil
}

func publicURL(cfg *config.Config) string { return strings.TrimRight(cfg.HTTP.PublicURL, "/") }

// routes mounts the web front on mux; /healthz, /readyz and /metrics stay with the app.
func (p *platform) routes(mux *http.ServeMux) {
	mux.Handle("/", p.web)
}

func (p *platform) close() { p.web.Close() }

// newMailer sends over SMTP when it is configured and otherwise writes mails (with their
// links) to the log, so sign-up and password reset work on a fresh install.
func newMailer(cfg *config.Config, logger *slog.Logger) (account.Mailer, error) {
	if !cfg.SMTPConfigured() {
		logger.Info("SMTP is not configured: verification and reset mails are written to this log")
		return mail.NewLogMailer(logger.With("component", "mail")), nil
	}
	sender, err := mail.NewSMTP(mail.SMTPOptions{
		Host:     cfg.SMTP.Host,
		Port:     cfg.SMTP.Port,
		Username: cfg.SMTP.Username,
		Password: cfg.SMTP.Password.Reveal(),
		From:     cfg.SMTP.From,
		TLS:      cfg.SMTP.TLS,
	})
	if err != nil {
		return nil, fmt.Errorf("configure SMTP: %w", err)
	}
	return sender, nil
}

// mediaOrigins lists the origin of an absolute blob URL prefix (a CDN or bucket) so the
// Content-Security-Policy lets pages load images from it.
func mediaOrigins(prefix string) []string {
	u, err := url.Parse(prefix)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}
