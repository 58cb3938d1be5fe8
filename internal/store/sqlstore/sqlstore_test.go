package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/store/storetest"
)

func TestConformanceSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, sqltest.SQLite)
}

func TestConformancePostgres(t *testing.T) {
	t.Parallel()
	// Skip here once, with the reason, rather than in every subtest.
	sqltest.PostgresURL(t)
	storetest.Run(t, sqltest.Postgres)
}

func TestOpenURLForms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opts sqlstore.Options
		file string
	}{
		{"default in data dir", sqlstore.Options{DataDir: filepath.Join(dir, "data")}, filepath.Join(dir, "data", "freely.db")},
		{"sqlite: prefix", sqlstore.Options{URL: "sqlite:" + filepath.Join(dir, "a.db")}, filepath.Join(dir, "a.db")},
		{"sqlite:// prefix", sqlstore.Options{URL: "sqlite://" + filepath.Join(dir, "b.db")}, filepath.Join(dir, "b.db")},
		{"plain path", sqlstore.Options{URL: filepath.Join(dir, "c.db")}, filepath.Join(dir, "c.db")},
	} {
		db, err := sqlstore.Open(ctx, tc.opts)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if db.Dialect() != "sqlite" {
			t.Errorf("%s: dialect %q", tc.name, db.Dialect())
		}
		var file string
		if err := db.SQL().QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if file != tc.file {
			t.Errorf("%s: opened %s, want %s", tc.name, file, tc.file)
		}
		db.Close()
	}
	for _, bad := range []sqlstore.Options{
		{},
		{URL: "mysql://localhost/db"},
		{URL: "sqlite:"},
		{URL: "sqlite:" + filepath.Join(dir, "x.db?mode=ro")},
		{URL: ":memory:"},
		{URL: "postgres://%zz"},
	} {
		if db, err := sqlstore.Open(ctx, bad); err == nil {
			db.Close()
			t.Errorf("Open(%+v) succeeded, want an error", bad)
		}
	}
}

func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	ctx := context.Background()
	// Hold several connections at once so the pool has to open fresh ones.
	var conns []interface{ Close() error }
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 4 {
		c, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var journal string
		var fk, sync, busy int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if journal != "wal" || fk != 1 || sync != 1 || busy < 5000 {
			t.Errorf("connection settings: journal_mode=%s foreign_keys=%d synchronous=%d busy_timeout=%d; want wal, 1, 1 (NORMAL), ≥5000",
				journal, fk, sync, busy)
		}
	}
}

// TestSQLiteReadersDuringWrite shows the pool lets reads proceed while a write transaction
// holds the lock (WAL), instead of queueing them behind it.
func TestSQLiteReadersDuringWrite(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	ctx := context.Background()
	u := &account.User{Email: "a@example.com", Nickname: "가", PasswordHash: "h"}
	if err := db.CreateUserWithChannel(ctx, u, &channel.Channel{Handle: "aaa", DisplayName: "A"}); err != nil {
		t.Fatal(err)
	}
	err := db.InTx(ctx, func(txCtx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Table("users").Set("avatar_key = 'writing'").Where("id = ?", u.ID).Exec(txCtx); err != nil {
			return err
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				// ctx, not txCtx: these are other connections' reads.
				rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				got, err := db.UserByID(rctx, u.ID)
				if err == nil && got.AvatarKey != "" {
					err = errors.New("reader saw uncommitted data")
				}
				errs[i] = err
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("reads during a write transaction: %v", err)
	}
}

func TestMigrationsRecordedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	var versions [][]int
	for range 2 {
		db, err := sqlstore.Open(ctx, sqlstore.Options{URL: path})
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.AppliedMigrations(ctx)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if len(versions[0]) == 0 || versions[0][0] != 1 || !slices.Equal(versions[0], versions[1]) {
		t.Errorf("applied migrations %v then %v; want the same non-empty list starting at 1", versions[0], versions[1])
	}
}

// TestConcurrentOpen starts several processes' worth of Open on one fresh database at once;
// migrations must apply exactly once and every Open must succeed.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		// Each gives an already migrated database; for SQLite also race fresh files.
		if db.Dialect() != "sqlite" {
			return
		}
		path := filepath.Join(t.TempDir(), "race.db")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				d, err := sqlstore.Open(context.Background(), sqlstore.Options{URL: path})
				if err == nil {
					d.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	})
}

func TestPingAndClose(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if !strings.Contains("sqlite postgres", db.Dialect()) {
			t.Errorf("Dialect() = %q", db.Dialect())
		}
	})
}
