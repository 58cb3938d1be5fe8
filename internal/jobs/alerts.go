package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// AlertPruner deletes alerts whose event occurred before a time, in bounded steps: each call
// is one short statement that deletes at most limit rows. sqlstore's AlertStore implements it.
type AlertPruner interface {
	// DeleteAlertsBefore deletes at most limit alerts of the next users after afterUser, in
	// user-id order, returning how many, the user to continue after and whether the last
	// user has been swept.
	DeleteAlertsBefore(ctx context.Context, before time.Time, afterUser int64, limit int) (deleted, next int64, done bool, err error)
	// DeleteAlertEventsBefore deletes at most limit of the events alerts point at, oldest
	// first, returning how many. Called once every user's alerts have been swept.
	DeleteAlertEventsBefore(ctx context.Context, before time.Time, limit int) (int64, error)
}

// Defaults of AlertRetentionOptions.
const (
	DefaultAlertRetentionEvery = time.Hour
	// DefaultAlertRetentionBatch: a step of up to 10,000 rows took about 20 ms on SQLite
	// (holding the write lock) and 65 ms on PostgreSQL.
	DefaultAlertRetentionBatch = 10_000
	// DefaultAlertRetentionPause between steps leaves SQLite's write lock to other writers
	// (fan-outs, chat, sign-ins) for most of a sweep.
	DefaultAlertRetentionPause = 50 * time.Millisecond
	// DefaultAlertRetentionMaxRun bounds one run; a backlog (retention turned on for a
	// year of alerts) is worked off over several runs.
	DefaultAlertRetentionMaxRun = 10 * time.Minute
)

// AlertRetentionOptions configure the job that deletes old alerts.
type AlertRetentionOptions struct {
	// Retention: alerts whose event (broadcast start, notice) is older are deleted. Zero
	// disables the job.
	Retention time.Duration
	// Every is the time between sweeps; DefaultAlertRetentionEvery when zero.
	Every time.Duration
	// BatchSize is the most rows one statement deletes; DefaultAlertRetentionBatch when zero.
	BatchSize int
	// Pause is the rest between two statements; DefaultAlertRetentionPause when zero.
	Pause time.Duration
	// MaxRun bounds one sweep; the next run continues what is left. DefaultAlertRetentionMaxRun
	// when zero.
	MaxRun time.Duration
	// Logger discards when nil.
	Logger *slog.Logger
}

// AlertRetentionArgs is the maintenance job that deletes alerts older than the retention.
type AlertRetentionArgs struct{}

// Kind names the job in River's table.
func (AlertRetentionArgs) Kind() string { return "delete_old_alerts" }

// InsertOpts keep at most one such job unfinished, as for ExpireArgs.
func (AlertRetentionArgs) InsertOpts() river.InsertOpts { return ExpireArgs{}.InsertOpts() }

type alertRetentionWorker struct {
	river.WorkerDefaults[AlertRetentionArgs]
	store  AlertPruner
	opts   AlertRetentionOptions
	logger *slog.Logger
}

// Timeout gives a sweep its MaxRun and a minute for the statement under way; River's
// default of one minute would cut a large sweep short every time.
func (w *alertRetentionWorker) Timeout(*river.Job[AlertRetentionArgs]) time.Duration {
	return w.opts.MaxRun + time.Minute
}

func (w *alertRetentionWorker) Work(ctx context.Context, job *river.Job[AlertRetentionArgs]) error {
	if w.opts.Retention == 0 {
		return nil // enqueued while retention was on; it is off now
	}
	start := time.Now()
	before := start.Add(-w.opts.Retention)
	alerts, events, finished, err := w.sweep(ctx, before, start.Add(w.opts.MaxRun))
	if err != nil {
		return fmt.Errorf("delete alerts before %s: %w (%d alerts and %d events deleted so far)",
			before.UTC().Format(time.RFC3339), err, alerts, events)
	}
	level := slog.LevelDebug
	if alerts+events > 0 || !finished {
		level = slog.LevelInfo
	}
	w.logger.Log(ctx, level, "jobs: deleted old alerts", "alerts", alerts, "events", events,
		"before", before.UTC().Format(time.RFC3339), "took", time.Since(start).Round(time.Millisecond),
		"finished", finished)
	return nil
}

// sweep deletes every user's old alerts, then the old events, one bounded statement at a
// time with a pause after each. It stops early, with finished false, once deadline has
// passed; the next run starts over, and the users already swept cost it one probe each.
func (w *alertRetentionWorker) sweep(ctx context.Context, before, deadline time.Time) (alerts, events int64, finished bool, err error) {
	batch := w.opts.BatchSize
	for after := int64(0); ; {
		n, next, done, err := w.store.DeleteAlertsBefore(ctx, before, after, batch)
		if err != nil {
			return alerts, events, false, err
		}
		alerts += n
		if done {
			break
		}
		after = next
		if time.Now().After(deadline) {
			return alerts, events, false, nil
		}
		if err := w.rest(ctx); err != nil {
			return alerts, events, false, err
		}
	}
	for {
		n, err := w.store.DeleteAlertEventsBefore(ctx, before, batch)
		if err != nil {
			return alerts, events, false, err
		}
		events += n
		if n < int64(batch) {
			return alerts, events, true, nil
		}
		if time.Now().After(deadline) {
			return alerts, events, false, nil
		}
		if err := w.rest(ctx); err != nil {
			return alerts, events, false, err
		}
	}
}

// rest pauses between two statements, so other writers get the database.
func (w *alertRetentionWorker) rest(ctx context.Context) error {
	t := time.NewTimer(w.opts.Pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// AddAlertRetention registers the worker of the alert retention job on workers and returns
// the periodic job that enqueues it every opts.Every (and once at start). With
// opts.Retention zero it returns no periodic job; the worker is registered anyway, so a job
// enqueued while retention was on finds it and ends without deleting anything.
func AddAlertRetention(workers *river.Workers, store AlertPruner, opts AlertRetentionOptions) (*river.PeriodicJob, error) {
	if store == nil {
		return nil, fmt.Errorf("jobs: alert retention needs a store")
	}
	switch {
	case opts.Retention < 0:
		return nil, fmt.Errorf("jobs: alert retention must not be negative, not %s", opts.Retention)
	case opts.Every < 0, opts.BatchSize < 0, opts.Pause < 0, opts.MaxRun < 0:
		return nil, fmt.Errorf("jobs: alert retention options must not be negative: %+v", opts)
	}
	if opts.Every == 0 {
		opts.Every = DefaultAlertRetentionEvery
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultAlertRetentionBatch
	}
	if opts.Pause == 0 {
		opts.Pause = DefaultAlertRetentionPause
	}
	if opts.MaxRun == 0 {
		opts.MaxRun = DefaultAlertRetentionMaxRun
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := river.AddWorkerSafely(workers, &alertRetentionWorker{store: store, opts: opts, logger: logger}); err != nil {
		return nil, fmt.Errorf("jobs: register alert retention worker: %w", err)
	}
	if opts.Retention == 0 {
		return nil, nil
	}
	return river.NewPeriodicJob(
		river.PeriodicInterval(opts.Every),
		func() (river.JobArgs, *river.InsertOpts) { return AlertRetentionArgs{}, nil },
		&river.PeriodicJobOpts{ID: AlertRetentionArgs{}.Kind(), RunOnStart: true},
	), nil
}
