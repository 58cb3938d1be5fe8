// Command alerts measures the went-live fan-out: it seeds a channel with N followers (bulk
// loaded inside the database), subscribes a share of them as online pages on the push Hub,
// opens a live session through the real store with the alert hook (event + River job in
// the session's transaction) and times, on the real River queue and fan-out worker:
//
//   - pickup: session committed → worker started;
//   - rows:   session committed → every alert row written (the last batch committed);
//   - push:   session committed → every online follower's page received the alert;
//
// then checks that every follower has exactly one alert. Run it on SQLite and PostgreSQL:
//
//	go run ./bench/alerts -db sqlite,postgres -followers 10000,100000,1000000
//
// With -app PATH (a built freely binary) it measures page latency instead: it starts
// `freely serve` on the same database, requests the home and channel pages from -clients
// concurrent clients in -rounds alternating windows, idle and while fan-outs to every
// follower run, and reports p50/p99 of both.
//
// PostgreSQL runs use a fresh schema on the server named by -pg (default
// $FREELY_TEST_POSTGRES) and drop it afterwards.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alerttest"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/jobs"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

func main() {
	var (
		dbs       = flag.String("db", "sqlite,postgres", "databases to run on: sqlite, postgres or both")
		followers = flag.String("followers", "10000,100000,1000000", "comma-separated follower counts")
		batch     = flag.Int("batch", alert.DefaultBatchSize, "followers per fan-out transaction")
		online    = flag.Int("online", 10000, "followers with an open page (capped at the follower count)")
		pgURL     = flag.String("pg", os.Getenv("FREELY_TEST_POSTGRES"), "PostgreSQL server URL")
		dir       = flag.String("dir", "", "directory for SQLite files (default: a temporary directory)")
		prior     = flag.Int("prior", 0, "earlier alerts every follower already has (untimed), so inserts land in a populated index")
		appBin    = flag.String("app", "", "freely binary: measure page latency of a running app during a fan-out instead of the River timings")
		paths     = flag.String("pages", "/,/c/bench_streamer", "pages requested in -app mode")
		clients   = flag.Int("clients", 4, "concurrent page clients in -app mode")
		maxRate   = flag.Int("rate", 0, "fan-out rate cap in alerts/s (0: alert.DefaultMaxRate, negative: none)")
		rounds    = flag.Int("rounds", 3, "-app mode: alternating idle and fan-out windows")
		window    = flag.Duration("window", 5*time.Second, "-app mode: length of the idle window, and the least length of the fan-out window")
	)
	flag.Parse()
	var counts []int
	for _, s := range strings.Split(*followers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			log.Fatalf("bad follower count %q", s)
		}
		counts = append(counts, n)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "freely-bench-alerts-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}

	pm := pageMode{bin: *appBin, paths: strings.Split(*paths, ","), clients: *clients, window: *window, rate: *maxRate, rounds: *rounds}
	if pm.bin != "" {
		fmt.Println("| database | followers | prior alerts each | batch | rate cap | fan-outs | s each | idle p50 ms | idle p99 ms | fan-out p50 ms | fan-out p99 ms | p99 ratio | pages/s idle | pages/s fan-out | errors |")
		fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	} else {
		fmt.Println("| database | followers | prior alerts each | batch | rate cap | online | seed s | pickup s | rows s | push s | alerts/s |")
		fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	}
	for _, name := range strings.Split(*dbs, ",") {
		for _, n := range counts {
			r, err := runOnce(context.Background(), strings.TrimSpace(name), n, *batch, min(*online, n), *prior, *pgURL, *dir, pm)
			if err != nil {
				log.Fatalf("%s, %d followers: %v", name, n, err)
			}
			if p := r.pages; p != nil {
				ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
				fmt.Printf("| %s | %d | %d | %d | %s | %d | %.2f | %.1f | %.1f | %.1f | %.1f | %.2f | %.0f | %.0f | %d |\n",
					name, n, *prior, *batch, rateLabel(*maxRate), p.fanOuts, p.fanOut.Seconds(), ms(p.idleP50), ms(p.idleP99), ms(p.fanP50), ms(p.fanP99),
					float64(p.fanP99)/float64(p.idleP99), p.pagesPerSecondIdle, p.pagesPerSecondFanning, p.errors)
				continue
			}
			fmt.Printf("| %s | %d | %d | %d | %s | %d | %.2f | %.2f | %.2f | %.2f | %.0f |\n",
				name, n, *prior, *batch, rateLabel(*maxRate), r.online, r.seed.Seconds(), r.pickup.Seconds(), r.rows.Seconds(), r.push.Seconds(),
				float64(n)/r.rows.Seconds())
		}
	}
}

type result struct {
	online                   int
	seed, pickup, rows, push time.Duration
	pages                    *pageResult
}

// benchDB is a fresh, migrated database, with what `freely serve` needs to open the same one.
type benchDB struct {
	db      *sqlstore.DB
	jobs    jobs.Options
	dataDir string // for the app: SQLite's freely.db lives here
	appURL  string // for the app: "" (SQLite in dataDir) or the PostgreSQL URL with its schema
	cleanup func()
}

func database(ctx context.Context, name, pgURL, dir string) (*benchDB, error) {
	dataDir, err := os.MkdirTemp(dir, "run-")
	if err != nil {
		return nil, err
	}
	switch name {
	case sqlstore.DialectSQLite:
		db, err := sqlstore.Open(ctx, sqlstore.Options{DataDir: dataDir})
		if err != nil {
			return nil, err
		}
		return &benchDB{
			db: db, jobs: jobs.Options{DB: db.SQL(), Dialect: db.Dialect()}, dataDir: dataDir,
			cleanup: func() { db.Close(); os.RemoveAll(dataDir) },
		}, nil
	case sqlstore.DialectPostgres:
		if pgURL == "" {
			return nil, errors.New("no PostgreSQL URL: pass -pg or set FREELY_TEST_POSTGRES")
		}
		admin, err := sqlstore.Open(ctx, sqlstore.Options{URL: pgURL, MaxOpenConns: 2})
		if err != nil {
			return nil, err
		}
		var b [4]byte
		rand.Read(b[:])
		schema := "freely_bench_" + hex.EncodeToString(b[:])
		if _, err := admin.SQL().ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
			admin.Close()
			return nil, err
		}
		u, err := url.Parse(pgURL)
		if err != nil {
			admin.Close()
			return nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := sqlstore.Open(ctx, sqlstore.Options{URL: u.String()})
		if err != nil {
			admin.Close()
			return nil, err
		}
		cleanup := func() {
			db.Close()
			admin.SQL().ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
			admin.Close()
			os.RemoveAll(dataDir)
		}
		return &benchDB{
			db: db, jobs: jobs.Options{DB: db.SQL(), Dialect: db.Dialect(), PostgresURL: u.String()},
			dataDir: dataDir, appURL: u.String(), cleanup: cleanup,
		}, nil
	}
	return nil, fmt.Errorf("unknown database %q", name)
}

// timedWorker is the real fan-out worker, noting when the job started.
type timedWorker struct {
	river.WorkerDefaults[alert.FanOutArgs]
	inner   *alert.FanOutWorker
	started chan time.Time
}

func (w *timedWorker) Timeout(job *river.Job[alert.FanOutArgs]) time.Duration {
	return w.inner.Timeout(job)
}

func (w *timedWorker) Work(ctx context.Context, job *river.Job[alert.FanOutArgs]) error {
	select {
	case w.started <- time.Now():
	default:
	}
	return w.inner.Work(ctx, job)
}

// pageMode configures the page-latency measurement; bin == "" skips it.
type pageMode struct {
	bin     string
	paths   []string
	clients int
	window  time.Duration
	rate    int // fan-out rate cap, alerts/s
	rounds  int
}

func runOnce(ctx context.Context, name string, n, batch, online, prior int, pgURL, dir string, pm pageMode) (*result, error) {
	bdb, err := database(ctx, name, pgURL, dir)
	if err != nil {
		return nil, err
	}
	defer bdb.cleanup()
	db, jobOpts := bdb.db, bdb.jobs
	res := &result{online: online}

	_, ch, err := alerttest.NewStreamer(ctx, db, "bench_streamer")
	if err != nil {
		return nil, err
	}
	t := time.Now()
	if err := alerttest.SeedFollowers(ctx, db, ch.ID, n, time.Now().Add(-time.Hour)); err != nil {
		return nil, err
	}
	res.seed = time.Since(t)
	ids, err := alerttest.FollowerIDs(ctx, db, ch.ID)
	if err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("seeded %d followers, want %d", len(ids), n)
	}

	if err := priorAlerts(ctx, db, ch.ID, prior); err != nil {
		return nil, err
	}
	if pm.bin != "" {
		res.pages, err = measurePages(ctx, db, pm.bin, bdb.dataDir, bdb.appURL, ch.ID, pm.paths, pm.clients, batch, pm.rate, pm.rounds, pm.window)
		return res, err
	}

	b := mem.New(mem.Options{})
	defer b.Close()
	hub := alert.NewHub(b, alert.HubOptions{})
	if err := hub.Start(ctx); err != nil {
		return nil, err
	}
	defer hub.Close()
	// Online followers spread evenly over the id range, so every batch has some.
	var (
		pushed   sync.WaitGroup
		lastPush atomic.Int64
	)
	for i := range online {
		sub, err := hub.Subscribe(ctx, ids[i*n/online])
		if err != nil {
			return nil, err
		}
		pushed.Add(1)
		go func() {
			defer pushed.Done()
			if _, ok := <-sub.C(); ok {
				now := time.Now().UnixNano()
				for {
					prev := lastPush.Load()
					if now <= prev || lastPush.CompareAndSwap(prev, now) {
						break
					}
				}
			}
			sub.Close()
		}()
	}

	var done atomic.Int64
	fan, err := alert.NewFanOut(alert.FanOutOptions{
		Store:     sqlstore.NewAlertStore(db),
		Bus:       b,
		BatchSize: batch,
		MaxRate:   pm.rate,
		AfterBatch: func(_ context.Context, _, written int64) {
			if written == int64(n) {
				done.Store(time.Now().UnixNano())
			}
		},
	})
	if err != nil {
		return nil, err
	}
	tw := &timedWorker{inner: fan.Worker(), started: make(chan time.Time, 1)}
	workers := river.NewWorkers()
	river.AddWorker(workers, tw)
	jobOpts.Workers = workers
	queue, err := jobs.Open(ctx, jobOpts)
	if err != nil {
		return nil, err
	}
	completed, cancelSub := queue.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancelSub()
	if err := queue.Start(ctx); err != nil {
		return nil, err
	}
	defer queue.Stop(context.Background())
	svc, err := alert.NewService(alert.Options{Store: sqlstore.NewAlertStore(db), Jobs: queue, Bus: b})
	if err != nil {
		return nil, err
	}

	sess := &live.Session{ChannelID: ch.ID, Title: "벤치마크 방송", StartedAt: time.Now(), LastSeenAt: time.Now()}
	if err := sqlstore.NewLiveStore(db).OpenSession(ctx, sess, svc.OnLiveOpen); err != nil {
		return nil, err
	}
	opened := time.Now()

	select {
	case ev := <-completed:
		if ev.Kind != river.EventKindJobCompleted {
			return nil, fmt.Errorf("fan-out job failed: %+v", ev.Job.Errors)
		}
	case <-time.After(10 * time.Minute):
		return nil, errors.New("fan-out did not finish within 10 minutes")
	}
	started := <-tw.started
	pushed.Wait()
	res.pickup = started.Sub(opened)
	res.rows = time.Unix(0, done.Load()).Sub(opened)
	res.push = time.Unix(0, lastPush.Load()).Sub(opened)

	var written, users int
	if err := db.Bun().NewRaw(`SELECT COUNT(*), COUNT(DISTINCT user_id) FROM alerts WHERE event_id = (SELECT MAX(id) FROM alert_events)`).Scan(ctx, &written, &users); err != nil {
		return nil, err
	}
	if written != n || users != n {
		return nil, fmt.Errorf("%d alert rows for %d users, want %d each", written, users, n)
	}
	if delivered, dropped := hub.Stats(); int(delivered) != online || dropped != 0 {
		return nil, fmt.Errorf("hub delivered %d pushes and dropped %d, want %d and 0", delivered, dropped, online)
	}
	return res, nil
}

// priorAlerts gives every follower k earlier alerts (notices of the channel), written by the
// fan-out itself but untimed, so the timed run inserts into an index that already holds rows
// for the same users, as it does in production.
func priorAlerts(ctx context.Context, db *sqlstore.DB, channelID int64, k int) error {
	as := sqlstore.NewAlertStore(db)
	fan, err := alert.NewFanOut(alert.FanOutOptions{Store: as, MaxRate: -1})
	if err != nil {
		return err
	}
	for i := range k {
		e := &alert.Event{Kind: alert.KindNotice, ChannelID: channelID, SourceID: int64(i + 1), Title: "공지", OccurredAt: time.Now()}
		if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := as.CreateEvent(ctx, tx, e, time.Time{})
			return err
		}); err != nil {
			return err
		}
		if _, err := fan.Run(ctx, e.ID); err != nil {
			return err
		}
	}
	if k > 0 && db.Dialect() == sqlstore.DialectPostgres {
		// What autovacuum would have done by the next broadcast.
		if _, err := db.SQL().ExecContext(ctx, `VACUUM ANALYZE alerts`); err != nil {
			return err
		}
	}
	return nil
}

func rateLabel(rate int) string {
	switch {
	case rate < 0:
		return "none"
	case rate == 0:
		return strconv.Itoa(alert.DefaultMaxRate)
	}
	return strconv.Itoa(rate)
}
