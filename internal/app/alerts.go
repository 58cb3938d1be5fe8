package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alertweb"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/jobs"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/web"
	"github.com/freelylive/freely/internal/web/followweb"
)

// alertParts is follows and "went live" alerts wired into the platform: the follow and alert
// services on the database, the fan-out worker for the job queue, the push hub on the
// live parts' event bus, and their web extensions (JSON API + alert WebSocket, and the
// pages: follow button, followed-channels panel, bell, alert list).
//
// Life cycle, as run() drives it:
//
//	newAlerts   builds everything and hands live the session-open hook, so the fan-out job
//	            is enqueued in the transaction that opens a broadcast; starts the push hub
//	queueUser   registers the fan-out worker before the queue opens and, once it is open,
//	            lets the hook enqueue on it
//	close       stops the push hub (before live closes the bus it reads)
type alertParts struct {
	follows *follow.Service
	alerts  *alert.Service
	fanOut  *alert.FanOut
	hub     *alert.Hub
	queue   lateQueue
	exts    []web.Extension
}

// newAlerts builds follows and alerts on db and lv's bus, and sets lv's session-open hook. It
// must run before lv.start (no publisher can open a session before the hook is in place).
func newAlerts(ctx context.Context, logger *slog.Logger, db *sqlstore.DB, lv *liveParts) (al *alertParts, err error) {
	al = &alertParts{}
	follows, err := follow.NewService(follow.Options{Store: sqlstore.NewFollowStore(db), Channels: db})
	if err != nil {
		return nil, fmt.Errorf("build follow service: %w", err)
	}
	alertStore := sqlstore.NewAlertStore(db)
	alerts, err := alert.NewService(alert.Options{
		Store:  alertStore,
		Jobs:   &al.queue,
		Bus:    lv.bus,
		Logger: logger.With("component", "alert"),
	})
	if err != nil {
		return nil, fmt.Errorf("build alert service: %w", err)
	}
	// Fan-outs are paced on SQLite, where the inserts share this process's cores with page
	// requests, and run flat out on PostgreSQL, where the database server does the work.
	maxRate := 0
	if db.Dialect() == sqlstore.DialectPostgres {
		maxRate = -1
	}
	fanOut, err := alert.NewFanOut(alert.FanOutOptions{
		Store:   alertStore,
		Bus:     lv.bus,
		MaxRate: maxRate,
		Logger:  logger.With("component", "alert-fanout"),
	})
	if err != nil {
		return nil, fmt.Errorf("build alert fan-out: %w", err)
	}
	hub := alert.NewHub(lv.bus, alert.HubOptions{Logger: logger.With("component", "alert-hub")})
	if err := hub.Start(ctx); err != nil {
		return nil, fmt.Errorf("start alert push hub: %w", err)
	}
	al.follows, al.alerts, al.fanOut, al.hub = follows, alerts, fanOut, hub

	// Channel pictures are blob keys; live's view of the blob directory turns them into URLs.
	imageURL := func(key string) string {
		if key == "" {
			return ""
		}
		return lv.blob.URL(key)
	}
	pages, err := followweb.New(followweb.Options{
		Follows:  follows,
		Alerts:   alerts,
		Channels: db,
		ImageURL: imageURL,
		Logger:   logger.With("component", "followweb"),
	})
	if err != nil {
		hub.Close()
		return nil, fmt.Errorf("build follow pages: %w", err)
	}
	al.exts = []web.Extension{
		alertweb.Extension(alertweb.Options{
			Follows:  follows,
			Alerts:   alerts,
			Hub:      hub,
			Channels: db,
			MediaURL: imageURL,
			Logger:   logger.With("component", "alertweb"),
		}),
		pages.Extension(),
	}
	lv.onOpen = alerts.OnLiveOpen
	return al, nil
}

// extensions are the follow and alert web parts for the web front.
func (al *alertParts) extensions() []web.Extension { return al.exts }

// queueUser registers the fan-out worker and receives the open queue for the hook.
func (al *alertParts) queueUser() queueUser {
	return queueUser{
		addWorkers: func(w *river.Workers) error { return river.AddWorkerSafely(w, al.fanOut.Worker()) },
		opened:     al.queue.set,
	}
}

// FollowedSince reports whether userID follows channelID and since when: what followers-only
// chat (with an optional minimum follow age, see follow.FollowedLongEnough) asks. Not
// following is not an error.
func (al *alertParts) FollowedSince(ctx context.Context, userID, channelID int64) (since time.Time, following bool, err error) {
	return al.follows.FollowedSince(ctx, userID, channelID)
}

func (al *alertParts) close() {
	if al.hub != nil {
		al.hub.Close()
	}
}

// errQueueNotOpen refuses a session opened in the moment between RTMP ingest starting and
// the job queue opening (run starts live before jobs). The session rolls back and the
// encoder's retry succeeds: an alert is never lost for a session that did open.
var errQueueNotOpen = errors.New("job queue is not open yet")

// lateQueue is alert.Jobs on a queue opened after the alert service is built (the worker
// must be registered before the queue opens, and the service before live starts).
type lateQueue struct{ q atomic.Pointer[jobs.Queue] }

func (l *lateQueue) set(q *jobs.Queue) { l.q.Store(q) }

// InsertTx implements alert.Jobs.
func (l *lateQueue) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	q := l.q.Load()
	if q == nil {
		return nil, errQueueNotOpen
	}
	return q.InsertTx(ctx, tx, args, opts)
}
