// Package sqltest gives tests a real, migrated, empty database in one call: a SQLite file in
// the test's temp dir, or a fresh schema on the PostgreSQL server named by
// FREELY_TEST_POSTGRES. It is for tests only and must not be imported by production code.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/freelylive/freely/internal/store/sqlstore"
)

// EnvPostgres names the environment variable holding the PostgreSQL URL for tests, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvPostgres = "FREELY_TEST_POSTGRES"

// SQLite opens a fresh database file in t.TempDir(), migrated, and closes it when the test ends.
func SQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), sqlstore.DefaultFileName)
	db, err := sqlstore.Open(context.Background(), sqlstore.Options{URL: "sqlite:" + path})
	if err != nil {
		t.Fatalf("open test sqlite database: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close test sqlite database: %v", err)
		}
	})
	return db
}

// Postgres opens a migrated database in a schema of its own on the server named by
// FREELY_TEST_POSTGRES, so tests can run in parallel and reruns start clean; the schema is
// dropped when the test ends. Without the variable the test is skipped, saying why.
func Postgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	u := PostgresURL(t)
	// Tests open many databases side by side; a small pool keeps them within the server's
	// connection limit.
	db, err := sqlstore.Open(context.Background(), sqlstore.Options{URL: u, MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open test postgres database: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close test postgres database: %v", err)
		}
	})
	return db
}

// PostgresURL creates an empty schema on the server named by FREELY_TEST_POSTGRES and returns
// a URL whose connections use it (search_path), for tests that open their own pools (River,
// pgx). The schema is dropped when the test ends, after cleanups registered later have run.
// Without the variable the test is skipped, saying why.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a server URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvPostgres)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	// The creation time in the name lets a later run sweep schemas a killed run left behind.
	schema := fmt.Sprintf("%s%d_%s", schemaPrefix, time.Now().Unix(), hex.EncodeToString(b[:]))

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvPostgres, err)
	}
	ctx := context.Background()
	sweepOnce.Do(func() { sweepStaleSchemas(ctx, t, admin) })
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`CREATE SCHEMA %q`, schema)); err != nil {
		admin.Close()
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), fmt.Sprintf(`DROP SCHEMA %q CASCADE`, schema)); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

const schemaPrefix = "freely_test_"

// staleAfter is how old a leftover test schema must be before a run drops it: far longer than
// any test, so schemas of test processes running right now are never touched.
const staleAfter = 2 * time.Hour

var sweepOnce sync.Once

// sweepStaleSchemas drops test schemas older than staleAfter, left by runs that were killed
// before their cleanups ran. Failures are logged, not fatal: they only cost disk space.
func sweepStaleSchemas(ctx context.Context, t testing.TB, admin *sql.DB) {
	rows, err := admin.QueryContext(ctx,
		`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, schemaPrefix)
	if err != nil {
		t.Logf("list stale test schemas: %v", err)
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			break
		}
		stamp, _, ok := strings.Cut(strings.TrimPrefix(name, schemaPrefix), "_")
		created, err := strconv.ParseInt(stamp, 10, 64)
		if ok && err == nil && time.Since(time.Unix(created, 0)) > staleAfter {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		if _, err := admin.ExecContext(ctx, fmt.Sprintf(`DROP SCHEMA IF EXISTS %q CASCADE`, name)); err != nil {
			t.Logf("drop stale test schema %s: %v", name, err)
		}
	}
}

// Each runs fn once per database, as subtests "sqlite" and "postgres" (the second skipped
// without FREELY_TEST_POSTGRES).
func Each(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
