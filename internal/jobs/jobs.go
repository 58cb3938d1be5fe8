// Package jobs is the durable background-job queue: River, on SQLite in the single-node
// deployment and on PostgreSQL when scaled out, in the same database as the application's
// data so a job can be enqueued in the transaction that caused it. It owns River's pools,
// migrations, start and stop, and the platform's maintenance jobs. It takes options (never the
// config package) and imports no other Freely package; capability packages bring their own
// workers.
//
// Drivers, and why:
//   - SQLite: riversqlite on a pool of its own with one connection, as River recommends (its
//     internal services run in parallel and SQLite has one writer). The pool opens the file
//     the application's pool uses, found with PRAGMA database_list, so the two share tables.
//   - PostgreSQL: riverdatabasesql with a pgx listener (NewWithPgxListener). River runs on a
//     pgx pool of its own (wrapped as *sql.DB) and LISTENs on another, so new jobs start at
//     once without polling, while InsertTx still takes the application's *sql.Tx. The client
//     type is river.Client[*sql.Tx] for both dialects, which keeps this package to one code
//     path. (riverpgxv5 alone would need a pgx.Tx, which the bun-based store does not have.)
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Dialects accepted in Options.Dialect (the values sqlstore's DB.Dialect returns).
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Options configure the queue.
type Options struct {
	// DB is the application's pool. River's tables are created in this database, and
	// InsertTx takes transactions begun on it.
	DB *sql.DB
	// Dialect is DialectSQLite or DialectPostgres.
	Dialect string
	// PostgresURL is DB's connection URL; required for PostgreSQL, where River opens its
	// own pools from it (one for work, one for LISTEN).
	PostgresURL string
	// Logger receives River's messages; nil discards them.
	Logger *slog.Logger
	// Workers holds a worker for every job kind this node runs; nil makes an insert-only
	// queue (Start then fails).
	Workers *river.Workers
	// Periodic jobs are enqueued by whichever node is River's leader.
	Periodic []*river.PeriodicJob
	// MaxWorkers is how many jobs run at once on this node; zero means 10.
	MaxWorkers int
}

// Queue is an open job queue. Start runs the workers; Stop ends them and releases the pools.
type Queue struct {
	client  *river.Client[*sql.Tx]
	logger  *slog.Logger
	release func() // closes the pools jobs opened itself
	started bool
}

// Open connects River to the database, applies River's migrations and builds the client. It
// does not start working jobs; call Start.
func Open(ctx context.Context, opts Options) (*Queue, error) {
	if opts.DB == nil {
		return nil, errors.New("jobs: no database given")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var (
		driver  riverdriver.Driver[*sql.Tx]
		release func()
		err     error
	)
	switch opts.Dialect {
	case DialectSQLite:
		driver, release, err = sqliteDriver(ctx, opts.DB)
	case DialectPostgres:
		driver, release, err = postgresDriver(ctx, opts.PostgresURL)
	default:
		return nil, fmt.Errorf("jobs: dialect %q: want %q or %q", opts.Dialect, DialectSQLite, DialectPostgres)
	}
	if err != nil {
		return nil, err
	}

	if err := migrate(ctx, driver, logger); err != nil {
		release()
		return nil, err
	}

	maxWorkers := opts.MaxWorkers
	if maxWorkers <= 0 {
		maxWorkers = 10
	}
	cfg := &river.Config{
		Logger:       logger,
		PeriodicJobs: opts.Periodic,
		// A job still running this long after Stop was asked is cancelled, so a shutdown
		// cannot hang on one stuck job.
		SoftStopTimeout: 20 * time.Second,
	}
	if opts.Workers != nil {
		cfg.Workers = opts.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}}
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		release()
		return nil, fmt.Errorf("jobs: create River client: %w", err)
	}
	return &Queue{client: client, logger: logger, release: release}, nil
}

func migrate(ctx context.Context, driver riverdriver.Driver[*sql.Tx], logger *slog.Logger) error {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("jobs: River migrations: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: apply River migrations: %w", err)
	}
	for _, v := range res.Versions {
		logger.Info("jobs: applied River migration", "version", v.Version, "name", v.Name)
	}
	return nil
}

// Start begins fetching and working jobs, and (on the leader) enqueuing periodic jobs.
// Jobs run until Stop; ctx only bounds starting.
func (q *Queue) Start(ctx context.Context) error {
	// River cancels running jobs when the context given to Start ends; the queue's life is
	// governed by Stop instead, so the caller's start-up context must not end it.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	q.started = true
	return nil
}

// Stop stops fetching, waits for running jobs to finish (cancelling them if ctx ends
// first), and closes the pools jobs opened. It does not close Options.DB. Call it once.
func (q *Queue) Stop(ctx context.Context) error {
	defer q.release()
	if !q.started {
		return nil
	}
	err := q.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		q.logger.Warn("jobs: running jobs did not finish in time; cancelling them")
		hardCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(hardCtx)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Insert enqueues a job on its own.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}

// InsertTx enqueues a job in tx, a transaction on Options.DB: the job exists if and only if
// tx commits, so the job and the data that caused it are never out of step. With the bun
// store, pass bunTx.Tx.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s in transaction: %w", args.Kind(), err)
	}
	return res, nil
}

// Client returns the River client, for what this package does not wrap (subscriptions to
// job events, cancelling jobs). Its lifecycle belongs to the Queue.
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }
