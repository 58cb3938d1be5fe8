// Command search-bench loads a large synthetic directory (channels and live sessions
// recombined from the Korean stream snapshot) into SQLite or PostgreSQL, builds the search
// index with the reindex code, and measures search and autocomplete over HTTP on loopback
// with concurrent clients. Figures go to bench/README.md.
//
//	go run ./bench/search -db /tmp/bench.db
//	go run ./bench/search -db 'postgres://postgres@127.0.0.1:5432/bench?sslmode=disable'
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/search/analysis"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

func main() {
	var (
		dbURL    = flag.String("db", filepath.Join(os.TempDir(), "freely-search-bench.db"), "SQLite file or postgres:// URL (an empty database is filled; a filled one is reused)")
		channels = flag.Int("channels", 50_000, "channels to generate")
		sessions = flag.Int("sessions", 100_000, "live sessions to generate")
		liveN    = flag.Int("live", 2_000, "sessions still live (one per channel)")
		clients  = flag.Int("clients", 32, "concurrent HTTP clients")
		dur      = flag.Duration("duration", 15*time.Second, "length of each measured run")
		rate     = flag.Float64("rate", 2000, "search requests per second for the fixed-rate run")
		acRate   = flag.Float64("ac-rate", 2000, "autocomplete requests per second for the fixed-rate run")
		window   = flag.Int("window", 0, "cap on the documents a section ranks, twice the page size below it (0: the service default, 50)")
		reindex  = flag.Bool("reindex", false, "rebuild the index even when the database is already filled")
		profile  = flag.String("cpuprofile", "", "write a CPU profile of the in-process search run to this file")
		noHTTP   = flag.Bool("no-http", false, "stop after the in-process runs")
		noBatch  = flag.Bool("no-batch", false, "fetch each section's candidates with a statement of its own")
	)
	flag.Parse()
	cpuProfile = *profile
	skipHTTP = *noHTTP
	oneByOne = *noBatch
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := bench(ctx, *dbURL, *channels, *sessions, *liveN, *clients, *dur, *rate, *acRate, *window, *reindex); err != nil {
		log.Fatal(err)
	}
}

// cpuProfile, when set, profiles the in-process search runs, one HTTP search run back to
// back and one at the fixed rate (to cpuProfile, .cached, .http and .rate, with the
// fixed-rate run's allocations in .allocs), then stops.
var cpuProfile string

// skipHTTP makes the run stop after the in-process runs.
var skipHTTP bool

// oneByOne hides the store's batch query from the service (to compare).
var oneByOne bool

// plainStore is a search.Store without CandidatesBatch.
type plainStore struct{ search.Store }

func bench(ctx context.Context, dbURL string, channels, sessions, liveN, clients int, dur time.Duration, rate, acRate float64, window int, forceReindex bool) error {
	fmt.Printf("go %s, %d CPUs (GOMAXPROCS %d)\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	start := time.Now()
	an := analysis.New(analysis.Options{})
	if err := an.Wait(ctx); err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	fmt.Printf("analyzer: dictionary loaded in %v, heap %d MB\n", an.LoadDuration().Round(time.Millisecond), ms.HeapAlloc>>20)
	_ = start

	// The pool the platform opens by default (4 connections on SQLite, 20 on PostgreSQL).
	db, err := sqlstore.Open(ctx, sqlstore.Options{URL: dbURL})
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Printf("database: %s\n", db.Dialect())
	if db.Dialect() == sqlstore.DialectPostgres {
		backends = func() []int {
			var pids []int
			_ = db.Bun().NewRaw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`).Scan(ctx, &pids)
			return pids
		}
	}
	c, err := loadCorpus()
	if err != nil {
		return err
	}
	n, err := db.Bun().NewSelect().TableExpr("live_sessions").Count(ctx)
	if err != nil {
		return err
	}
	ix := sqlstore.NewSearchIndex(db, an)
	if n == 0 {
		t := time.Now()
		if err := generate(ctx, db, c, channels, sessions, liveN, 42); err != nil {
			return err
		}
		fmt.Printf("generated %d channels and %d sessions (%d live) in %v\n", channels, sessions, liveN, time.Since(t).Round(time.Millisecond))
		forceReindex = true
	}
	if forceReindex {
		before, err := indexSize(ctx, db)
		if err != nil {
			return err
		}
		bar := progressbar.NewOptions(1, progressbar.OptionSetDescription("reindex"), progressbar.OptionShowCount(),
			progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond))
		t := time.Now()
		if err := ix.Reindex(ctx, func(done, total int) {
			bar.ChangeMax(total)
			_ = bar.Set(done)
		}); err != nil {
			return err
		}
		_ = bar.Finish()
		took := time.Since(t)
		after, err := indexSize(ctx, db)
		if err != nil {
			return err
		}
		docs, _ := db.Bun().NewSelect().TableExpr("search_docs").Count(ctx)
		fmt.Printf("\nindexed %d documents in %v (%.0f documents/s); index size %s (before %s)\n",
			docs, took.Round(time.Millisecond), float64(docs)/took.Seconds(), mib(after), mib(before))
	}

	var store search.Store = ix
	if oneByOne {
		store = plainStore{ix}
	}
	svc, err := search.New(search.Options{Store: store, Analyzer: an, Window: window})
	if err != nil {
		return err
	}
	uncached, err := search.New(search.Options{Store: store, Analyzer: an, Window: window, RankCache: -1})
	if err != nil {
		return err
	}
	t := time.Now()
	if err := svc.RefreshAutocomplete(ctx); err != nil {
		return err
	}
	fmt.Printf("autocomplete built in %v\n", time.Since(t).Round(time.Millisecond))
	if err := warnSmallBuffers(ctx, db); err != nil {
		return err
	}

	if dur <= 0 {
		return nil
	}
	w := newWorkload(c)
	base, handler, stop, err := serve(ctx, svc)
	if err != nil {
		return err
	}
	defer stop()
	base = "http://" + base

	// step runs f, under the CPU profiler writing to cpuProfile+suffix when profiling.
	step := func(suffix string, f func()) error {
		if cpuProfile == "" {
			f()
			return nil
		}
		return profiled(cpuProfile+suffix, f)
	}

	fmt.Println("\nin process, one caller:")
	if err := step("", func() {
		fmt.Println("  search, no rank cache ", cpuTimed(func() result { return inProcess(ctx, uncached, w, 2000, false) }))
	}); err != nil {
		return err
	}
	if err := step(".cached", func() {
		fmt.Println("  search                ", cpuTimed(func() result { return inProcess(ctx, svc, w, 4000, false) }))
	}); err != nil {
		return err
	}
	fmt.Println("  autocomplete          ", cpuTimed(func() result { return inProcess(ctx, svc, w, 20000, true) }))
	if skipHTTP {
		return nil
	}

	searchURL := func(r *rand.Rand) string { return w.searchURL(r, base) }
	acURL := func(r *rand.Rand) string { return w.autocompleteURL(r, base) }
	searchAtRate := func() {
		handler.take()
		before := svc.Stats()
		fmt.Printf("  search at %.0f/s:                  %v\n", rate, cpuTimed(func() result { return run(ctx, dur, clients*4, rate, searchURL) }))
		fmt.Printf("                                     %s\n", handler.take())
		fmt.Printf("                                     %s\n", storeReads(before, svc.Stats()))
	}
	fmt.Println("\nHTTP on loopback:")
	run(ctx, 3*time.Second, clients, 0, searchURL) // warm caches and connections
	if err := step(".http", func() {
		fmt.Printf("  search, %d clients back to back:   %v\n", clients, cpuTimed(func() result { return run(ctx, dur, clients, 0, searchURL) }))
	}); err != nil {
		return err
	}
	if cpuProfile != "" {
		// Profiled: the runs above and the fixed-rate run with its allocations, then stop.
		runtime.MemProfileRate = 64 << 10
		if err := profiled(cpuProfile+".rate", searchAtRate); err != nil {
			return err
		}
		f, err := os.Create(cpuProfile + ".allocs") // go tool pprof -sample_index=alloc_space
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	uncachedBase, _, stopUncached, err := serve(ctx, uncached)
	if err != nil {
		return err
	}
	defer stopUncached()
	uncachedURL := func(r *rand.Rand) string { return w.searchURL(r, "http://"+uncachedBase) }
	fmt.Printf("  search without rank cache, %d clients back to back: %v\n", clients, cpuTimed(func() result { return run(ctx, dur, clients, 0, uncachedURL) }))
	searchAtRate()
	fmt.Printf("  autocomplete, %d clients:          %v\n", clients, cpuTimed(func() result { return run(ctx, dur, clients, 0, acURL) }))
	fmt.Printf("  autocomplete at %.0f/s:            %v\n", acRate, cpuTimed(func() result { return run(ctx, dur, clients*4, acRate, acURL) }))
	return nil
}

// storeReads says what the searches between two Stats read from the store.
func storeReads(before, after search.Stats) string {
	n := after.Searches - before.Searches
	if n == 0 {
		return "no searches"
	}
	pct := func(v uint64) float64 { return 100 * float64(v) / float64(n) }
	return fmt.Sprintf("result cache hits %.0f %%; sections ranked from the store %.2f, cards read %.2f a search",
		pct(after.ResultHits-before.ResultHits),
		float64(after.StoreSections-before.StoreSections)/float64(n),
		float64(after.StoreCards-before.StoreCards)/float64(n))
}

// profiled runs f under the CPU profiler, writing the profile to path.
func profiled(path string, f func()) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return err
	}
	f()
	pprof.StopCPUProfile()
	return out.Close()
}

// indexSize reports the bytes the search index occupies: on SQLite the pages of the
// search_* tables and indexes (dbstat), on PostgreSQL search_docs and search_postings with
// their indexes and TOAST.
// warnSmallBuffers says so when PostgreSQL's shared buffers cannot hold the index: every
// search then reads pages through the kernel, and the figures are not those of
// bench/README.md, which raised shared_buffers to 1 GB.
func warnSmallBuffers(ctx context.Context, db *sqlstore.DB) error {
	if db.Dialect() != sqlstore.DialectPostgres {
		return nil
	}
	var buffers int64
	if err := db.Bun().NewRaw(`SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'`).Scan(ctx, &buffers); err != nil {
		return fmt.Errorf("shared_buffers: %w", err)
	}
	size, err := indexSize(ctx, db)
	if err != nil {
		return err
	}
	if buffers < size {
		fmt.Printf("warning: shared_buffers is %s, the index %s; for figures comparable to bench/README.md run\n"+
			"  psql -c \"ALTER SYSTEM SET shared_buffers = '1GB'\" and restart PostgreSQL\n", mib(buffers), mib(size))
	}
	return nil
}

func indexSize(ctx context.Context, db *sqlstore.DB) (int64, error) {
	var n int64
	q := `SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'search%' OR name LIKE 'ix_search%' OR name LIKE 'sqlite_autoindex_search%'`
	if db.Dialect() == sqlstore.DialectPostgres {
		q = `SELECT pg_total_relation_size('search_docs') + pg_total_relation_size('search_postings')`
	}
	if err := db.Bun().NewRaw(q).Scan(ctx, &n); err != nil {
		if strings.Contains(err.Error(), "dbstat") {
			return -1, nil
		}
		return 0, fmt.Errorf("index size: %w", err)
	}
	return n, nil
}

func mib(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// cpuTimed runs f and adds the process CPU time it used per request: on a shared machine the
// wall clock says more about the neighbours than about the code. On PostgreSQL it adds the
// CPU time of the server's backends serving this database (read from /proc: the server
// runs on this machine).
func cpuTimed(f func() result) string {
	before, server := cpuTime(), serverCPU()
	r := f()
	used, served := cpuTime()-before, serverCPU().since(server)
	n := time.Duration(max(1, r.Requests))
	out := fmt.Sprintf("%v; CPU %v per request", r, (used / n).Round(time.Microsecond))
	if served > 0 {
		out += fmt.Sprintf(" + server %v", (served / n).Round(time.Microsecond))
	}
	return out
}

// backends lists the PostgreSQL backend processes of the bench database (nil on SQLite).
var backends func() []int

// serverTimes are the CPU times of backend processes by PID.
type serverTimes map[int]time.Duration

func serverCPU() serverTimes {
	if backends == nil {
		return nil
	}
	out := serverTimes{}
	for _, pid := range backends() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command (which is in parentheses): utime and stime are the
		// 12th and 13th, in clock ticks (100 per second on Linux).
		i := strings.LastIndexByte(string(b), ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}

// since is the CPU time the backends used after start (a backend started since counts
// whole).
func (t serverTimes) since(start serverTimes) time.Duration {
	var d time.Duration
	for pid, v := range t {
		d += v - start[pid]
	}
	return d
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
