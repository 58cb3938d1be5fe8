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
	"testing"

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
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	schema := "freely_test_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvPostgres, err)
	}
	ctx := context.Background()
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

// Each runs fn once per database, as subtests "sqlite" and "postgres" (the second skipped
// without FREELY_TEST_POSTGRES).
func Each(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
