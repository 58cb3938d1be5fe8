package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alerttest"
	"github.com/freelylive/freely/internal/jobs"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

var _ jobs.AlertPruner = (*sqlstore.AlertStore)(nil)

// countingPruner is the real alert store, counting the steps the job takes and reporting on
// swept when a sweep's last step (an events step short of the batch) has run.
type countingPruner struct {
	*sqlstore.AlertStore
	batch int
	swept chan struct{}

	mu          sync.Mutex
	alertSteps  int
	eventSteps  int
	largestStep int64
}

func (p *countingPruner) DeleteAlertsBefore(ctx context.Context, before time.Time, afterUser int64, limit int) (int64, int64, bool, error) {
	n, next, done, err := p.AlertStore.DeleteAlertsBefore(ctx, before, afterUser, limit)
	p.mu.Lock()
	p.alertSteps++
	p.largestStep = max(p.largestStep, n)
	p.mu.Unlock()
	return n, next, done, err
}

func (p *countingPruner) DeleteAlertEventsBefore(ctx context.Context, before time.Time, limit int) (int64, error) {
	n, err := p.AlertStore.DeleteAlertEventsBefore(ctx, before, limit)
	p.mu.Lock()
	p.eventSteps++
	p.mu.Unlock()
	if err == nil && n < int64(p.batch) {
		p.swept <- struct{}{}
	}
	return n, err
}

// alertFixture is a channel whose followers each have one alert from 40 days ago and one
// from yesterday, all unread.
type alertFixture struct {
	followers []int64
	old, kept *alert.Event
}

func newAlertFixture(t *testing.T, db *sqlstore.DB, followers int) alertFixture {
	t.Helper()
	ctx := t.Context()
	as := sqlstore.NewAlertStore(db)
	_, ch, err := alerttest.NewStreamer(ctx, db, "retained")
	if err != nil {
		t.Fatal(err)
	}
	if err := alerttest.SeedFollowers(ctx, db, ch.ID, followers, time.Now()); err != nil {
		t.Fatal(err)
	}
	ids, err := alerttest.FollowerIDs(ctx, db, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	f := alertFixture{followers: ids}
	for i, age := range []time.Duration{40 * 24 * time.Hour, 24 * time.Hour} {
		e := &alert.Event{Kind: alert.KindNotice, ChannelID: ch.ID, SourceID: int64(i + 1), OccurredAt: time.Now().Add(-age)}
		err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := as.CreateEvent(ctx, tx, e, time.Time{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for done := false; !done; {
			b, err := as.FanOutBatch(ctx, e.ID, 100, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			done = b.Done
		}
		if i == 0 {
			f.old = e
		} else {
			f.kept = e
		}
	}
	return f
}

// alertsOf counts the alert rows of an event.
func alertsOf(t *testing.T, db *sqlstore.DB, eventID int64) int {
	t.Helper()
	counts, err := alerttest.AlertCounts(t.Context(), db, eventID)
	if err != nil {
		t.Fatal(err)
	}
	return len(counts)
}

func TestAlertRetentionJobDeletesOldAlerts(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *sqlstore.DB, opts jobs.Options) {
		ctx := t.Context()
		const followers, batch = 23, 5
		f := newAlertFixture(t, db, followers)
		as := sqlstore.NewAlertStore(db)
		if n, err := as.UnreadCount(ctx, f.followers[0], alert.UnreadCap); err != nil || n != 2 {
			t.Fatalf("unread before the sweep: %d, %v", n, err)
		}

		pruner := &countingPruner{AlertStore: as, batch: batch, swept: make(chan struct{}, 4)}
		workers := river.NewWorkers()
		periodic, err := jobs.AddAlertRetention(workers, pruner, jobs.AlertRetentionOptions{
			Retention: 30 * 24 * time.Hour,
			BatchSize: batch,
			Pause:     time.Millisecond,
		})
		if err != nil || periodic == nil {
			t.Fatalf("AddAlertRetention: %v, %v", periodic, err)
		}
		opts.Workers, opts.Periodic = workers, []*river.PeriodicJob{periodic}
		openQueue(t, opts)

		select {
		case <-pruner.swept:
		case <-time.After(waitLimit):
			t.Fatal("the alert retention job did not run at start")
		}
		if n := alertsOf(t, db, f.old.ID); n != 0 {
			t.Errorf("%d alerts older than the retention remain", n)
		}
		if n := alertsOf(t, db, f.kept.ID); n != followers {
			t.Errorf("%d recent alerts remain, want %d", n, followers)
		}
		var events []int64
		if err := db.Bun().NewRaw(`SELECT id FROM alert_events ORDER BY id`).Scan(ctx, &events); err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0] != f.kept.ID {
			t.Errorf("events left %v, want only %d", events, f.kept.ID)
		}
		for _, u := range []int64{f.followers[0], f.followers[followers-1]} {
			if n, err := as.UnreadCount(ctx, u, alert.UnreadCap); err != nil || n != 1 {
				t.Errorf("unread of user %d after the sweep: %d, %v; want 1", u, n, err)
			}
		}
		pruner.mu.Lock()
		defer pruner.mu.Unlock()
		// 23 rows in steps of at most 5, over windows of 5 of the 24 users.
		if pruner.alertSteps < followers/batch || pruner.largestStep > batch || pruner.eventSteps != 1 {
			t.Errorf("%d alert steps (largest %d rows), %d event steps: want batches of at most %d looping to the end",
				pruner.alertSteps, pruner.largestStep, pruner.eventSteps, batch)
		}
	})
}

// With retention 0 nothing is scheduled, and a job left from when it was on deletes nothing.
func TestAlertRetentionDisabled(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *sqlstore.DB, opts jobs.Options) {
		f := newAlertFixture(t, db, 4)
		pruner := &countingPruner{AlertStore: sqlstore.NewAlertStore(db), batch: 5, swept: make(chan struct{}, 4)}
		workers := river.NewWorkers()
		periodic, err := jobs.AddAlertRetention(workers, pruner, jobs.AlertRetentionOptions{})
		if err != nil || periodic != nil {
			t.Fatalf("AddAlertRetention with retention 0: %v, %v; want no periodic job", periodic, err)
		}
		opts.Workers = workers
		q := openQueue(t, opts)
		events, cancel := q.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		if _, err := q.Insert(t.Context(), jobs.AlertRetentionArgs{}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.Kind != river.EventKindJobCompleted || ev.Job.Kind != (jobs.AlertRetentionArgs{}).Kind() {
				t.Errorf("job event %s for %s, want %s completed", ev.Kind, ev.Job.Kind, (jobs.AlertRetentionArgs{}).Kind())
			}
		case <-time.After(waitLimit):
			t.Fatal("the enqueued retention job did not finish")
		}
		pruner.mu.Lock()
		steps := pruner.alertSteps + pruner.eventSteps
		pruner.mu.Unlock()
		if steps != 0 {
			t.Errorf("disabled retention ran %d steps", steps)
		}
		if n := alertsOf(t, db, f.old.ID); n != 4 {
			t.Errorf("disabled retention left %d of 4 old alerts", n)
		}
	})
}

// endlessPruner always has more to delete; it records when each step ran.
type endlessPruner struct {
	mu    sync.Mutex
	steps []time.Time
}

func (p *endlessPruner) DeleteAlertsBefore(ctx context.Context, before time.Time, afterUser int64, limit int) (int64, int64, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.steps = append(p.steps, time.Now())
	return int64(limit), afterUser, false, nil
}

func (p *endlessPruner) DeleteAlertEventsBefore(ctx context.Context, before time.Time, limit int) (int64, error) {
	return 0, nil
}

// A sweep pauses between statements and stops at its time limit, finishing the job (the
// next run continues) rather than failing it.
func TestAlertRetentionPausesAndStopsAtMaxRun(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	const pause, maxRun = 20 * time.Millisecond, 300 * time.Millisecond
	pruner := &endlessPruner{}
	workers := river.NewWorkers()
	if _, err := jobs.AddAlertRetention(workers, pruner, jobs.AlertRetentionOptions{
		Retention: 24 * time.Hour, Pause: pause, MaxRun: maxRun,
	}); err != nil {
		t.Fatal(err)
	}
	q := openQueue(t, jobs.Options{DB: db.SQL(), Dialect: db.Dialect(), Workers: workers})
	events, cancel := q.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if _, err := q.Insert(t.Context(), jobs.AlertRetentionArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Kind != river.EventKindJobCompleted {
			t.Errorf("job event %s, want completed", ev.Kind)
		}
	case <-time.After(waitLimit):
		t.Fatal("the sweep did not stop at its time limit")
	}
	pruner.mu.Lock()
	defer pruner.mu.Unlock()
	if n := len(pruner.steps); n < 2 || n > int(maxRun/pause)+1 {
		t.Errorf("%d steps in a %s run with %s pauses", n, maxRun, pause)
	}
	for i := 1; i < len(pruner.steps); i++ {
		if gap := pruner.steps[i].Sub(pruner.steps[i-1]); gap < pause {
			t.Errorf("steps %d and %d were %s apart, less than the %s pause", i-1, i, gap, pause)
		}
	}
}

func TestAddAlertRetentionRefusesBadOptions(t *testing.T) {
	t.Parallel()
	store := &endlessPruner{}
	if _, err := jobs.AddAlertRetention(river.NewWorkers(), nil, jobs.AlertRetentionOptions{Retention: time.Hour}); err == nil {
		t.Error("AddAlertRetention without a store succeeded")
	}
	for name, opts := range map[string]jobs.AlertRetentionOptions{
		"negative retention": {Retention: -time.Hour},
		"negative interval":  {Retention: time.Hour, Every: -time.Hour},
		"negative batch":     {Retention: time.Hour, BatchSize: -1},
		"negative pause":     {Retention: time.Hour, Pause: -time.Second},
		"negative max run":   {Retention: time.Hour, MaxRun: -time.Second},
	} {
		if _, err := jobs.AddAlertRetention(river.NewWorkers(), store, opts); err == nil {
			t.Errorf("%s: AddAlertRetention succeeded", name)
		}
	}
}
