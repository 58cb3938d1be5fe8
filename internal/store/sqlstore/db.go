// Package sqlstore is the relational storage adapter: one set of bun models and queries that
// runs on SQLite (the single-node default, pure-Go modernc driver) and on PostgreSQL (pgx).
// It owns the schema migrations, implements every capability's Store interface
// (account.Store, channel.Store, ...) and translates driver errors into the sentinels of
// package store, so nothing above it ever sees a dialect. It must not import net/http or any
// configuration package.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names returned by DB.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DefaultFileName is the SQLite database file created in Options.DataDir when no URL is given.
const DefaultFileName = "freely.db"

// sqliteBusyTimeout is how long a connection waits for the write lock before giving up. Writes
// are short, so a writer that waits this long means something is stuck, not busy.
const sqliteBusyTimeout = 10 * time.Second

// sqliteMmapSize is how much of the database file connections read through a memory map.
const sqliteMmapSize = 1 << 30

// Options says which database to open.
type Options struct {
	// URL selects the database:
	//   ""                       → SQLite at DataDir/freely.db
	//   "sqlite:/path/file.db"   → SQLite at that path ("sqlite:///path" also works)
	//   "/path/file.db"          → SQLite at that path
	//   "postgres://..." or "postgresql://..." → PostgreSQL
	URL string
	// DataDir holds the default SQLite file; it is created if missing.
	DataDir string
	// Logger receives migration and connection messages; nil discards them.
	Logger *slog.Logger
	// MaxOpenConns caps the connection pool; 0 picks a default suited to the dialect.
	MaxOpenConns int
}

// DB is an open, migrated database. It is safe for concurrent use.
type DB struct {
	bun     *bun.DB
	sql     *sql.DB
	dialect string
	log     *slog.Logger
	// searchIx indexes searchable writes (search_sync.go); nil stores them pending analysis.
	searchIx atomic.Pointer[SearchIndex]
	// genWatch keeps the search index generation in memory (PostgreSQL only; see
	// search_generation.go).
	genWatch *generationWatch
}

// Open opens the database named by opts, checks that it answers and applies every pending
// migration embedded in the binary.
func Open(ctx context.Context, opts Options) (*DB, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	db, err := openPool(opts, logger)
	if err != nil {
		return nil, err
	}
	if err := db.firstPing(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s database: %w", db.dialect, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s database: %w", db.dialect, err)
	}
	return db, nil
}

func openPool(opts Options, logger *slog.Logger) (*DB, error) {
	u := strings.TrimSpace(opts.URL)
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return openPostgres(u, opts.MaxOpenConns, logger)
	case strings.Contains(u, "://") && !strings.HasPrefix(u, "sqlite://"):
		return nil, fmt.Errorf("database URL: unsupported scheme in %q (want sqlite: or postgres://)", redactURL(u))
	}
	path, err := sqlitePath(u, opts.DataDir)
	if err != nil {
		return nil, err
	}
	return openSQLite(path, opts.MaxOpenConns, logger)
}

// sqlitePath turns the URL forms Options accepts into a file path.
func sqlitePath(u, dataDir string) (string, error) {
	var path string
	switch {
	case u == "":
		if dataDir == "" {
			return "", errors.New("database: neither URL nor data directory given")
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return "", fmt.Errorf("create data directory: %w", err)
		}
		path = filepath.Join(dataDir, DefaultFileName)
	case strings.HasPrefix(u, "sqlite://"):
		path = strings.TrimPrefix(u, "sqlite://")
	case strings.HasPrefix(u, "sqlite:"):
		path = strings.TrimPrefix(u, "sqlite:")
	default:
		path = u
	}
	if path == "" {
		return "", fmt.Errorf("database URL %q names no file", u)
	}
	// The driver reads everything after '?' as connection options; a file name holding one
	// would silently open a different file.
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("database path %q: '?' and '#' are not allowed in SQLite file names", path)
	}
	if path == ":memory:" {
		return "", errors.New("database path :memory: is not supported: every pooled connection would see its own empty database")
	}
	return path, nil
}

func openSQLite(path string, maxOpen int, logger *slog.Logger) (*DB, error) {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	// BEGIN IMMEDIATE takes the write lock at the start of every transaction, so concurrent
	// writers queue on busy_timeout instead of failing with SQLITE_BUSY when a read
	// transaction tries to upgrade to a write.
	q.Set("_txlock", "immediate")
	// Times passed as driver arguments (callers using SQL() directly) are written in the
	// same sortable text form bun uses.
	q.Set("_time_format", "sqlite")
	// Reads map the file instead of copying each page in with pread: every connection has
	// its own small page cache, so a busy reader (search walks hundreds of pages per query)
	// otherwise spends a third of its time in system calls. The mapping is address space,
	// not memory; past the limit SQLite falls back to pread.
	q.Add("_pragma", fmt.Sprintf("mmap_size=%d", sqliteMmapSize))
	sqldb, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// In WAL mode readers never block each other or the writer, so several connections let
	// reads run in parallel; writers take turns on the database lock.
	if maxOpen <= 0 {
		maxOpen = max(4, 2*runtime.GOMAXPROCS(0))
	}
	sqldb.SetMaxOpenConns(maxOpen)
	sqldb.SetMaxIdleConns(maxOpen)
	sqldb.SetConnMaxIdleTime(0)
	sqldb.SetConnMaxLifetime(0)
	logger.Debug("database: sqlite", "path", path, "max_open_conns", maxOpen)
	return &DB{
		bun:     bun.NewDB(sqldb, sqlitedialect.New()),
		sql:     sqldb,
		dialect: DialectSQLite,
		log:     logger,
	}, nil
}

func openPostgres(u string, maxOpen int, logger *slog.Logger) (*DB, error) {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("parse postgres URL %s: %w", redactURL(u), err)
	}
	// bun writes argument values into the SQL text itself, so nearly every statement is
	// unique; caching a prepared statement for each would only churn the server. The
	// unnamed-statement mode runs each in one round trip and also works behind poolers.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	// The few statements prepared on purpose (search's) are written so that one plan suits
	// every argument; by default PostgreSQL would still plan their first five runs on each
	// connection for the arguments given, which for a text search costs more than running it
	// and can pick a far worse plan. Unnamed statements (everything else) are not affected.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	sqldb := stdlib.OpenDB(*cfg)
	if maxOpen <= 0 {
		maxOpen = 20
	}
	sqldb.SetMaxOpenConns(maxOpen)
	// Every connection may stay idle: with fewer idle slots than open ones, a load above
	// the idle count closed connections as they were released and opened new ones for the
	// next queries — a server process forked, authenticated and its statements prepared
	// again, many times a second. Idle connections still close after five minutes.
	sqldb.SetMaxIdleConns(maxOpen)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	sqldb.SetConnMaxLifetime(time.Hour)
	logger.Debug("database: postgres", "url", redactURL(u), "max_open_conns", maxOpen)
	watch := newGenerationWatch(cfg, logger)
	bundb := bun.NewDB(sqldb, pgdialect.New())
	bundb.AddQueryHook(writeHook{watch})
	return &DB{
		bun:      bundb,
		sql:      sqldb,
		dialect:  DialectPostgres,
		log:      logger,
		genWatch: watch,
	}, nil
}

// redactURL hides a password in a database URL so it can be logged.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Bun returns the bun handle, for packages that add their own queries and models.
func (db *DB) Bun() *bun.DB { return db.bun }

// SQL returns the underlying pool (for River and other database/sql users).
func (db *DB) SQL() *sql.DB { return db.sql }

// Dialect reports "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// firstPing is Ping for a pool just opened. Connecting to a new SQLite file switches it to WAL,
// which needs the file to itself for a moment; when several processes open the same new file
// at once, SQLite reports SQLITE_BUSY for that switch without waiting on busy_timeout. The
// switch is brief, so a busy first connection is retried for up to the busy timeout.
func (db *DB) firstPing(ctx context.Context) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		err := db.Ping(ctx)
		if err == nil || db.dialect != DialectSQLite || !isSQLiteBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// Ping checks that the database answers; /readyz calls it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, err)
	}
	return nil
}

// Close closes the pool; SQLite checkpoints its write-ahead log when the last connection goes.
func (db *DB) Close() error {
	if db.genWatch != nil {
		db.genWatch.stop()
	}
	if err := db.bun.Close(); err != nil {
		return fmt.Errorf("close %s database: %w", db.dialect, err)
	}
	return nil
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling back otherwise
// (also when fn panics). The context passed to fn carries the transaction: store methods of
// this DB called with that context run inside it, so a use-case can combine several of them
// (and its own queries on tx, or a River InsertTx) atomically. An InTx called with such a
// context joins the outer transaction instead of starting another.
//
// On SQLite the transaction holds the database's write lock from its start, so keep it
// short, and never call this DB with a context that does not carry the transaction from
// inside fn: that call would wait for the lock fn holds.
//
// Errors from fn are returned unchanged; wrap driver errors from your own queries with
// Translate.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if tx, ok := ctx.Value(txKey{db}).(bun.Tx); ok {
		return fn(ctx, tx)
	}
	return db.bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(context.WithValue(ctx, txKey{db}, tx), tx)
	})
}

// txKey marks a context that carries a transaction of one DB.
type txKey struct{ db *DB }

// idb is where a store method runs its queries: the transaction carried by ctx, if any,
// otherwise the pool.
func (db *DB) idb(ctx context.Context) bun.IDB {
	if tx, ok := ctx.Value(txKey{db}).(bun.Tx); ok {
		return tx
	}
	return db.bun
}
