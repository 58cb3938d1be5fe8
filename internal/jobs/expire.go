package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Expirer deletes what has expired before now and says how many rows went. account.Store
// implements it for sessions and one-time tokens.
type Expirer interface {
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// ExpireArgs is the maintenance job that removes expired sessions and tokens.
type ExpireArgs struct{}

// Kind names the job in River's table.
func (ExpireArgs) Kind() string { return "expire_sessions_and_tokens" }

// InsertOpts keep at most one such job unfinished: a backlog of identical sweeps is one sweep.
func (ExpireArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	store  Expirer
	logger *slog.Logger
}

func (w *expireWorker) Work(ctx context.Context, job *river.Job[ExpireArgs]) error {
	n, err := w.store.DeleteExpired(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("expire sessions and tokens: %w", err)
	}
	w.logger.Debug("jobs: expired sessions and tokens", "deleted", n)
	return nil
}

// AddExpiry registers the worker of the expiry job on workers and returns the periodic job
// that enqueues it every interval (and once at start, so a node that restarts often still
// sweeps). Pass the periodic job in Options.Periodic.
func AddExpiry(workers *river.Workers, store Expirer, every time.Duration, logger *slog.Logger) (*river.PeriodicJob, error) {
	if store == nil {
		return nil, fmt.Errorf("jobs: expiry needs a store")
	}
	if every <= 0 {
		return nil, fmt.Errorf("jobs: expiry interval must be positive, not %s", every)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := river.AddWorkerSafely(workers, &expireWorker{store: store, logger: logger}); err != nil {
		return nil, fmt.Errorf("jobs: register expiry worker: %w", err)
	}
	return river.NewPeriodicJob(
		river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return ExpireArgs{}, nil },
		&river.PeriodicJobOpts{ID: ExpireArgs{}.Kind(), RunOnStart: true},
	), nil
}
