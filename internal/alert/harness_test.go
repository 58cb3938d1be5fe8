package alert_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/jobs"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// waitLimit bounds every wait; reaching it fails the test.
const waitLimit = 60 * time.Second

var epoch = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

// env is the real stack on one database: stores, an in-process bus, River on the same
// database, the fan-out worker and the service.
type env struct {
	db      *sqlstore.DB
	as      *sqlstore.AlertStore
	ls      *sqlstore.LiveStore
	bus     *mem.Bus
	jobOpts jobs.Options
	svc     *alert.Service
}

// eachDatabase runs fn on SQLite and, with FREELY_TEST_POSTGRES, on PostgreSQL.
func eachDatabase(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db := sqltest.SQLite(t)
		fn(t, newEnv(t, db, jobs.Options{DB: db.SQL(), Dialect: db.Dialect()}))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := sqltest.PostgresURL(t)
		db, err := sqlstore.Open(t.Context(), sqlstore.Options{URL: u, MaxOpenConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, newEnv(t, db, jobs.Options{DB: db.SQL(), Dialect: db.Dialect(), PostgresURL: u}))
	})
}

func newEnv(t *testing.T, db *sqlstore.DB, jobOpts jobs.Options) *env {
	t.Helper()
	b := mem.New(mem.Options{})
	t.Cleanup(func() { b.Close() })
	return &env{db: db, as: sqlstore.NewAlertStore(db), ls: sqlstore.NewLiveStore(db), bus: b, jobOpts: jobOpts}
}

// worker is one River client working fan-out jobs, as one node runs it.
type worker struct {
	queue     *jobs.Queue
	completed <-chan *river.Event
	stopped   bool
}

// stop stops the queue with ctx: a cancelled ctx cancels the running jobs, as a node shutting
// down in a hurry does.
func (w *worker) stop(t *testing.T, ctx context.Context) {
	t.Helper()
	w.stopped = true
	if err := w.queue.Stop(ctx); err != nil {
		t.Logf("stop queue: %v", err)
	}
}

func jobEventID(t *testing.T, encoded []byte) int64 {
	t.Helper()
	var args alert.FanOutArgs
	if err := json.Unmarshal(encoded, &args); err != nil {
		t.Fatalf("decode fan-out args %s: %v", encoded, err)
	}
	return args.EventID
}

// startWorker opens a queue with a fan-out worker and starts it; the test's cleanup stops it
// unless the test stopped it first.
func (e *env) startWorker(t *testing.T, opts alert.FanOutOptions) *worker {
	t.Helper()
	opts.Store = e.as
	if opts.Bus == nil {
		opts.Bus = e.bus
	}
	fan, err := alert.NewFanOut(opts)
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, fan.Worker())
	jo := e.jobOpts
	jo.Workers = workers
	q, err := jobs.Open(t.Context(), jo)
	if err != nil {
		t.Fatalf("open queue: %v", err)
	}
	completed, cancel := q.Client().Subscribe(river.EventKindJobCompleted)
	t.Cleanup(cancel)
	if err := q.Start(t.Context()); err != nil {
		t.Fatalf("start queue: %v", err)
	}
	w := &worker{queue: q, completed: completed}
	t.Cleanup(func() {
		if !w.stopped {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := q.Stop(ctx); err != nil {
				t.Errorf("stop queue: %v", err)
			}
		}
	})
	return w
}

// service builds the alert service enqueuing on q.
func (e *env) service(t *testing.T, q alert.Jobs) *alert.Service {
	t.Helper()
	svc, err := alert.NewService(alert.Options{Store: e.as, Jobs: q, Bus: e.bus})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// waitFanOut waits until w completes the fan-out job of eventID.
func (w *worker) waitFanOut(t *testing.T, eventID int64) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case ev := <-w.completed:
			if ev.Job != nil && ev.Job.Kind == (alert.FanOutArgs{}).Kind() && jobEventID(t, ev.Job.EncodedArgs) == eventID {
				return
			}
		case <-deadline:
			t.Fatalf("fan-out of event %d not completed within %s", eventID, waitLimit)
		}
	}
}

// openSession opens a live session of channelID at at with hook, as the live manager does.
func (e *env) openSession(ctx context.Context, channelID int64, at time.Time, hook live.OpenHook) (*live.Session, error) {
	s := &live.Session{ChannelID: channelID, Title: "오늘도 랭크", StartedAt: at, LastSeenAt: at}
	return s, e.ls.OpenSession(ctx, s, hook)
}

// eventOf returns the went-live event id stored for session id, 0 if none.
func (e *env) eventOf(t *testing.T, sessionID int64) int64 {
	t.Helper()
	var ids []int64
	if err := e.db.Bun().NewRaw(`SELECT id FROM alert_events WHERE kind = ? AND source_id = ?`,
		string(alert.KindWentLive), sessionID).Scan(t.Context(), &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		return 0
	}
	return ids[0]
}

// count runs a COUNT(*) query.
func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Bun().NewRaw(query, args...).Scan(t.Context(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
