package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/jobs"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// expiryInterval is how often expired sessions and one-time tokens are swept.
const expiryInterval = time.Hour

// queueUser is a feature that runs workers on the job queue or enqueues on it (alerts.go):
// addWorkers registers its workers before the queue opens; opened, when set, receives the
// open queue before it starts working.
type queueUser struct {
	addWorkers func(*river.Workers) error
	opened     func(*jobs.Queue)
}

// startJobs opens the job queue on the application database, registers every worker this
// node runs (the platform's and the users') and starts working.
func startJobs(ctx context.Context, cfg *config.Config, logger *slog.Logger, db *sqlstore.DB, users ...queueUser) (*jobs.Queue, error) {
	workers := river.NewWorkers()
	for _, u := range users {
		if u.addWorkers == nil {
			continue
		}
		if err := u.addWorkers(workers); err != nil {
			return nil, fmt.Errorf("register workers: %w", err)
		}
	}
	expiry, err := jobs.AddExpiry(workers, db, expiryInterval, logger.With("component", "expiry"))
	if err != nil {
		return nil, fmt.Errorf("register expiry job: %w", err)
	}
	periodic := []*river.PeriodicJob{expiry}
	alertRetention, err := jobs.AddAlertRetention(workers, sqlstore.NewAlertStore(db), jobs.AlertRetentionOptions{
		Retention: cfg.Alerts.Retention,
		Logger:    logger.With("component", "alert-retention"),
	})
	if err != nil {
		return nil, fmt.Errorf("register alert retention job: %w", err)
	}
	if alertRetention != nil { // nil: alerts.retention is 0, alerts are kept
		periodic = append(periodic, alertRetention)
	}
	opts := jobs.Options{
		DB:         db.SQL(),
		Dialect:    db.Dialect(),
		Logger:     logger.With("component", "jobs"),
		Workers:    workers,
		Periodic:   periodic,
		MaxWorkers: cfg.Jobs.MaxWorkers,
	}
	if db.Dialect() == sqlstore.DialectPostgres {
		opts.PostgresURL = cfg.Database.URL
	}
	queue, err := jobs.Open(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("open job queue: %w", err)
	}
	for _, u := range users {
		if u.opened != nil {
			u.opened(queue)
		}
	}
	if err := queue.Start(ctx); err != nil {
		return nil, fmt.Errorf("start job queue: %w", err)
	}
	return queue, nil
}
