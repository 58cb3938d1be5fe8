package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/chatweb"
)

// chatFlushInterval is the persistence batching interval; 0 is the hub's default. A test
// makes it long so that only the final flush at shutdown can store its messages.
var chatFlushInterval time.Duration

// chatParts is live chat wired into the platform: the chat hub (rooms, rules, moderation,
// batched persistence) on the app's event bus, and its web pages.
//
// Life cycle, as run() drives it: newChat builds the hub (its batch writer starts with it)
// and the pages, which go to the web front as an extension; close runs after HTTP has shut
// down and before the bus and the database close: it disconnects every chat socket (clients
// reconnect and resume, on this node after a restart or on another) and writes every
// accepted message still waiting for the database, so nothing acknowledged is lost.
type chatParts struct {
	cfg *config.Config
	log *slog.Logger
	hub *chat.Hub
	web *chatweb.Web
}

// newChat builds the chat hub on b, the bus live video already built (one bus per node:
// in-process, or Redis pub/sub so rooms span nodes). follows (the follow service) answers
// followers-only chat; nil leaves that mode unavailable.
func newChat(cfg *config.Config, logger *slog.Logger, db *sqlstore.DB, channels *channel.Service, b bus.Bus, follows chat.Follows) (*chatParts, error) {
	cp := &chatParts{cfg: cfg, log: logger}
	var err error
	cp.hub, err = chat.NewHub(chat.Options{
		Store:         sqlstore.NewChatStore(db),
		Bus:           b,
		Channels:      db,
		Users:         db,
		Follows:       follows,
		FlushInterval: chatFlushInterval,
		NodeID:        cfg.Redis.NodeID,
		Logger:        logger.With("component", "chat"),
	})
	if err != nil {
		return nil, fmt.Errorf("build chat hub: %w", err)
	}
	if cfg.Redis.URL != "" && cfg.Redis.NodeID == 0 {
		logger.Warn("redis.node_id is not set: this node picked a random one; give each node sharing Redis its own to keep chat message ids unique",
			"node_id", cp.hub.NodeID())
	}
	cp.web, err = chatweb.New(chatweb.Options{
		Hub:            cp.hub,
		Channels:       channels,
		OriginPatterns: chatOrigins(cfg),
		Users:          db,
		Logger:         logger.With("component", "chatweb"),
	})
	if err != nil {
		cp.close(context.Background())
		return nil, fmt.Errorf("build chat pages: %w", err)
	}
	return cp, nil
}

// extensions are the chat pages for the web front.
func (cp *chatParts) extensions() []web.Extension { return []web.Extension{cp.web.Extension()} }

// close disconnects every chat connection and writes the messages still queued for the
// database, waiting up to http.shutdown_timeout. ctx's cancellation (the shutdown signal)
// does not cut the flush short.
func (cp *chatParts) close(ctx context.Context) {
	if cp.hub == nil {
		return
	}
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cp.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := cp.hub.Close(flushCtx); err != nil {
		cp.log.Error("close chat hub: some accepted messages may not be stored", "err", err)
	}
}

// chatOrigins allows the site's public host to open chat sockets besides the host a request
// names (pages served behind a proxy under the public name). No other origin may: a chat
// socket carries the visitor's session.
func chatOrigins(cfg *config.Config) []string {
	if u, err := url.Parse(cfg.HTTP.PublicURL); err == nil && u.Host != "" {
		return []string{u.Host}
	}
	return nil
}
