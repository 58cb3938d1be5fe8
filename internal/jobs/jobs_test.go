package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/jobs"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// waitLimit bounds every wait for a job; reaching it fails the test.
const waitLimit = 30 * time.Second

// eachDatabase runs fn on SQLite and, with FREELY_TEST_POSTGRES, on PostgreSQL, giving it the
// application's store and the queue options that point River at the same database.
func eachDatabase(t *testing.T, fn func(t *testing.T, db *sqlstore.DB, opts jobs.Options)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db := sqltest.SQLite(t)
		fn(t, db, jobs.Options{DB: db.SQL(), Dialect: db.Dialect()})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := sqltest.PostgresURL(t)
		db, err := sqlstore.Open(t.Context(), sqlstore.Options{URL: u, MaxOpenConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db, jobs.Options{DB: db.SQL(), Dialect: db.Dialect(), PostgresURL: u})
	})
}

// openQueue opens and starts a queue, stopping it when the test ends.
func openQueue(t *testing.T, opts jobs.Options) *jobs.Queue {
	t.Helper()
	q, err := jobs.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := q.Start(t.Context()); err != nil {
		q.Stop(context.Background())
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return q
}

type echoArgs struct {
	Note string `json:"note"`
}

func (echoArgs) Kind() string { return "test_echo" }

// echoWorker reports each job's note on a channel.
type echoWorker struct {
	river.WorkerDefaults[echoArgs]
	done chan string
}

func (w *echoWorker) Work(ctx context.Context, job *river.Job[echoArgs]) error {
	w.done <- job.Args.Note
	return nil
}

func newEcho(t *testing.T) (*river.Workers, chan string) {
	workers := river.NewWorkers()
	done := make(chan string, 16)
	if err := river.AddWorkerSafely(workers, &echoWorker{done: done}); err != nil {
		t.Fatal(err)
	}
	return workers, done
}

func waitNote(t *testing.T, done <-chan string) string {
	t.Helper()
	select {
	case note := <-done:
		return note
	case <-time.After(waitLimit):
		t.Fatalf("no job ran within %s", waitLimit)
		return ""
	}
}

func TestInsertedJobRuns(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *sqlstore.DB, opts jobs.Options) {
		workers, done := newEcho(t)
		opts.Workers = workers
		q := openQueue(t, opts)
		if _, err := q.Insert(t.Context(), echoArgs{Note: "안녕"}, nil); err != nil {
			t.Fatal(err)
		}
		if note := waitNote(t, done); note != "안녕" {
			t.Errorf("ran %q", note)
		}
	})
}

// A job inserted in a transaction exists only if the transaction commits.
func TestInsertTxFollowsTheTransaction(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *sqlstore.DB, opts jobs.Options) {
		workers, done := newEcho(t)
		opts.Workers = workers
		q := openQueue(t, opts)
		ctx := t.Context()

		for _, commit := range []bool{false, true} {
			tx, err := db.SQL().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.InsertTx(ctx, tx, echoArgs{Note: fmt.Sprintf("committed=%v", commit)}, nil); err != nil {
				tx.Rollback()
				t.Fatal(err)
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if note := waitNote(t, done); note != "committed=true" {
			t.Errorf("ran %q, want only the committed job", note)
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx,
			`SELECT count(*) FROM river_job WHERE CAST(args AS TEXT) LIKE '%committed=false%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the rolled-back job left %d rows", n)
		}
	})
}

// notifyingStore is the real store; each sweep's result is also reported on a channel so
// the test can wait for it.
type notifyingStore struct {
	*sqlstore.DB
	swept chan int64
}

func (s notifyingStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.DB.DeleteExpired(ctx, now)
	if err == nil {
		s.swept <- n
	}
	return n, err
}

func TestExpiryJobDeletesExpiredSessions(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *sqlstore.DB, opts jobs.Options) {
		ctx := t.Context()
		u := &account.User{Email: "minji@example.com", Nickname: "민지", PasswordHash: "x"}
		if err := db.CreateUserWithChannel(ctx, u, &channel.Channel{Handle: "minji", DisplayName: "민지"}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for hash, expires := range map[string]time.Time{"expired": now.Add(-time.Hour), "valid": now.Add(time.Hour)} {
			if err := db.CreateSession(ctx, &account.Session{TokenHash: hash, UserID: u.ID, ExpiresAt: expires}); err != nil {
				t.Fatal(err)
			}
		}

		store := notifyingStore{DB: db, swept: make(chan int64, 8)}
		workers := river.NewWorkers()
		periodic, err := jobs.AddExpiry(workers, store, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		opts.Workers, opts.Periodic = workers, []*river.PeriodicJob{periodic}
		openQueue(t, opts)

		// The periodic job runs once at start.
		select {
		case n := <-store.swept:
			if n != 1 {
				t.Errorf("first sweep deleted %d rows, want 1", n)
			}
		case <-time.After(waitLimit):
			t.Fatal("the expiry job did not run at start")
		}
		if _, err := db.SessionByTokenHash(ctx, "valid", time.Now()); err != nil {
			t.Errorf("valid session: %v", err)
		}
		if n, err := db.DeleteExpired(ctx, time.Now()); err != nil || n != 0 {
			t.Errorf("after the sweep, %d expired rows remain (%v)", n, err)
		}
	})
}

// The periodic schedule keeps firing after the first run.
func TestPeriodicJobRepeats(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *sqlstore.DB, opts jobs.Options) {
		store := notifyingStore{DB: db, swept: make(chan int64, 16)}
		workers := river.NewWorkers()
		periodic, err := jobs.AddExpiry(workers, store, time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		opts.Workers, opts.Periodic = workers, []*river.PeriodicJob{periodic}
		openQueue(t, opts)
		for i := range 3 {
			select {
			case <-store.swept:
			case <-time.After(waitLimit):
				t.Fatalf("sweep %d did not happen", i+1)
			}
		}
	})
}

type blockArgs struct{}

func (blockArgs) Kind() string { return "test_block" }

// blockWorker holds its job until released or cancelled and reports which happened.
type blockWorker struct {
	river.WorkerDefaults[blockArgs]
	started  chan struct{}
	release  chan struct{}
	finished chan error
}

func (w *blockWorker) Work(ctx context.Context, job *river.Job[blockArgs]) error {
	w.started <- struct{}{}
	select {
	case <-w.release:
		w.finished <- nil
		return nil
	case <-ctx.Done():
		w.finished <- ctx.Err()
		return ctx.Err()
	}
}

func TestStopWaitsForRunningJobsAndCancelsWhenOutOfTime(t *testing.T) {
	t.Parallel()
	for _, patient := range []bool{true, false} {
		t.Run(fmt.Sprintf("patient=%v", patient), func(t *testing.T) {
			t.Parallel()
			db := sqltest.SQLite(t)
			w := &blockWorker{started: make(chan struct{}, 1), release: make(chan struct{}), finished: make(chan error, 1)}
			workers := river.NewWorkers()
			river.AddWorker(workers, w)
			q, err := jobs.Open(t.Context(), jobs.Options{DB: db.SQL(), Dialect: db.Dialect(), Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Insert(t.Context(), blockArgs{}, nil); err != nil {
				t.Fatal(err)
			}
			select {
			case <-w.started:
			case <-time.After(waitLimit):
				t.Fatal("job did not start")
			}

			stopCtx, cancel := context.WithTimeout(context.Background(), waitLimit)
			if !patient {
				stopCtx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
			}
			defer cancel()
			stopErr := make(chan error, 1)
			go func() { stopErr <- q.Stop(stopCtx) }()
			if patient {
				// Stop is under way; the job is released and must finish normally, not be
				// cancelled by the stop.
				close(w.release)
				if err := <-w.finished; err != nil {
					t.Errorf("job ended with %v, want it to finish", err)
				}
			} else if err := <-w.finished; !errors.Is(err, context.Canceled) {
				t.Errorf("job ended with %v, want it cancelled", err)
			}
			select {
			case err := <-stopErr:
				if err != nil {
					t.Errorf("Stop: %v", err)
				}
			case <-time.After(waitLimit):
				t.Fatal("Stop did not return")
			}
		})
	}
}

func TestOpenRefusesBadOptions(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	for name, opts := range map[string]jobs.Options{
		"no database":          {Dialect: jobs.DialectSQLite},
		"unknown dialect":      {DB: db.SQL(), Dialect: "mysql"},
		"postgres without URL": {DB: db.SQL(), Dialect: jobs.DialectPostgres},
	} {
		if q, err := jobs.Open(t.Context(), opts); err == nil {
			q.Stop(context.Background())
			t.Errorf("%s: Open succeeded", name)
		}
	}
	if _, err := jobs.AddExpiry(river.NewWorkers(), nil, time.Hour, nil); err == nil {
		t.Error("AddExpiry without a store succeeded")
	}
	if _, err := jobs.AddExpiry(river.NewWorkers(), db, 0, nil); err == nil {
		t.Error("AddExpiry with a zero interval succeeded")
	}
}
