package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// sqliteDriver opens River's own one-connection pool on the file appDB uses.
func sqliteDriver(ctx context.Context, appDB *sql.DB) (riverdriver.Driver[*sql.Tx], func(), error) {
	path, err := sqliteFile(ctx, appDB)
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	// The application writes to the same file; wait for its write lock rather than fail.
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	// Take the write lock when a transaction begins, so a read that turns into a write
	// never dead-ends on SQLITE_BUSY.
	q.Set("_txlock", "immediate")
	pool, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: open sqlite %s: %w", path, err)
	}
	pool.SetMaxOpenConns(1)
	pool.SetConnMaxIdleTime(0)
	pool.SetConnMaxLifetime(0)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("jobs: open sqlite %s: %w", path, err)
	}
	return riversqlite.New(pool), func() { pool.Close() }, nil
}

// sqliteFile returns the file behind the main database of a SQLite pool.
func sqliteFile(ctx context.Context, db *sql.DB) (string, error) {
	rows, err := db.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return "", fmt.Errorf("jobs: find the sqlite file: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", fmt.Errorf("jobs: find the sqlite file: %w", err)
		}
		if name == "main" {
			if file == "" {
				return "", errors.New("jobs: the sqlite database is in memory; River needs a file it can share")
			}
			return file, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("jobs: find the sqlite file: %w", err)
	}
	return "", errors.New("jobs: the sqlite pool has no main database")
}

// postgresDriver opens River's pools: one for its queries, one for LISTEN (whose connection
// River keeps for itself).
func postgresDriver(ctx context.Context, dbURL string) (riverdriver.Driver[*sql.Tx], func(), error) {
	if dbURL == "" {
		return nil, nil, errors.New("jobs: PostgreSQL needs PostgresURL")
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: parse PostgreSQL URL: %w", redactErr(err))
	}
	cfg.MaxConns = 10
	work, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: connect to PostgreSQL: %w", err)
	}
	listenCfg := cfg.Copy()
	listenCfg.MinConns, listenCfg.MaxConns = 0, 1
	listen, err := pgxpool.NewWithConfig(ctx, listenCfg)
	if err != nil {
		work.Close()
		return nil, nil, fmt.Errorf("jobs: connect to PostgreSQL: %w", err)
	}
	if err := work.Ping(ctx); err != nil {
		work.Close()
		listen.Close()
		return nil, nil, fmt.Errorf("jobs: connect to PostgreSQL: %w", err)
	}
	db := stdlib.OpenDBFromPool(work)
	release := func() {
		db.Close()
		work.Close()
		listen.Close()
	}
	return riverdatabasesql.NewWithPgxListener(db, listen), release, nil
}

// redactErr keeps a parse error from echoing a URL with its password: pgx's parse errors
// already redact, but the wrapped error is replaced by its message to be sure nothing else
// (a *url.Error, say) carries the raw string.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("invalid URL")
	}
	return err
}
