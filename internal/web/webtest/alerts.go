package webtest

import (
	"context"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/jobs"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// Alerts is the follow and alert back end the alert pages and API sit on, over an in-process
// bus. Its job queue only inserts: tests run the fan-out themselves (GoLive).
type Alerts struct {
	db      *sqlstore.DB
	Hub     *alert.Hub
	Service *alert.Service
	FanOut  *alert.FanOut
	Follows *follow.Service
}

// NewAlerts builds the alert back end on db; pgURL is the PostgreSQL schema URL River opens
// its pools with ("" on SQLite). fan's Store and Bus are filled in.
func NewAlerts(t testing.TB, db *sqlstore.DB, pgURL string, fan alert.FanOutOptions) *Alerts {
	t.Helper()
	ctx := t.Context()
	a := &Alerts{db: db}
	b := mem.New(mem.Options{})
	t.Cleanup(func() { b.Close() })
	a.Hub = alert.NewHub(b, alert.HubOptions{})
	if err := a.Hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Hub.Close() })
	queue, err := jobs.Open(ctx, jobs.Options{DB: db.SQL(), Dialect: db.Dialect(), PostgresURL: pgURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { queue.Stop(context.Background()) })
	as := sqlstore.NewAlertStore(db)
	if a.Service, err = alert.NewService(alert.Options{Store: as, Jobs: queue, Bus: b}); err != nil {
		t.Fatal(err)
	}
	fan.Store, fan.Bus = as, b
	if a.FanOut, err = alert.NewFanOut(fan); err != nil {
		t.Fatal(err)
	}
	if a.Follows, err = follow.NewService(follow.Options{Store: sqlstore.NewFollowStore(db), Channels: db}); err != nil {
		t.Fatal(err)
	}
	return a
}

// GoLive opens a live session of the channel handle through the alert hook and runs its
// fan-out, as the platform does; it returns the alert (event) id.
func (a *Alerts) GoLive(t testing.TB, handle, title string) int64 {
	t.Helper()
	ctx := t.Context()
	ch, err := a.db.ChannelByHandle(ctx, handle)
	if err != nil {
		t.Fatal(err)
	}
	sess := &live.Session{ChannelID: ch.ID, Title: title, StartedAt: time.Now(), LastSeenAt: time.Now()}
	if err := sqlstore.NewLiveStore(a.db).OpenSession(ctx, sess, a.Service.OnLiveOpen); err != nil {
		t.Fatal(err)
	}
	var eventID int64
	if err := a.db.Bun().NewRaw(`SELECT id FROM alert_events WHERE source_id = ?`, sess.ID).Scan(ctx, &eventID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FanOut.Run(ctx, eventID); err != nil {
		t.Fatal(err)
	}
	return eventID
}
