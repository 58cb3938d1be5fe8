package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Migrations live in migrations/<dialect>/NNNN_name.up.sql, one file per step and dialect,
// applied in version order and recorded in migrationsTable. Version ranges belong to
// features so files never collide:
//
//	0001–0099 foundation (accounts, channels, categories, tags)
//	0100–0199 live video
//	0200–0299 chat
//	0300–0399 search
//	0400–0499 alerts
//
// Every version must exist for both dialects (a test checks this). Applied files must never
// change: add a new version instead.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationsTable records applied versions. Its name stays clear of River's river_* tables,
// which share the database.
const migrationsTable = "freely_schema_migrations"

var migrationFileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.up\.sql$`)

type migration struct {
	Version int
	Name    string
	SQL     string
}

// loadMigrations returns the embedded migrations of a dialect in version order.
func loadMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var migs []migration
	seen := map[int]string{}
	for _, e := range entries {
		m := migrationFileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %s/%s: name must look like 0001_name.up.sql", dir, e.Name())
		}
		version, _ := strconv.Atoi(m[1])
		if version == 0 {
			return nil, fmt.Errorf("migration file %s/%s: version 0000 is reserved", dir, e.Name())
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("migration version %04d used twice in %s: %s and %s", version, dir, other, e.Name())
		}
		seen[version] = e.Name()
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		migs = append(migs, migration{Version: version, Name: m[2], SQL: string(body)})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].Version < migs[j].Version })
	return migs, nil
}

// migrate applies every embedded migration not yet recorded, each in its own transaction
// together with its record, so a failed step leaves the schema at the previous version.
// Several processes may start at once: SQLite's immediate transactions and a PostgreSQL
// advisory lock make them take turns, and each re-checks what is applied under the lock.
func (db *DB) migrate(ctx context.Context) error {
	migs, err := loadMigrations(db.dialect)
	if err != nil {
		return err
	}
	createTable := `CREATE TABLE IF NOT EXISTS ` + migrationsTable + ` (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMP NOT NULL)`
	if db.dialect == DialectPostgres {
		createTable = `CREATE TABLE IF NOT EXISTS ` + migrationsTable + ` (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL)`
	}
	if err := db.migrationTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, createTable)
		return err
	}); err != nil {
		return fmt.Errorf("create %s: %w", migrationsTable, err)
	}

	for _, m := range migs {
		applied := false
		err := db.migrationTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx,
				`SELECT COUNT(*) FROM `+migrationsTable+` WHERE version = $1`, m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO `+migrationsTable+` (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now().UTC()); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if applied {
			db.log.Info("database migration applied", "dialect", db.dialect, "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// migrationTx runs fn in a transaction that holds the migration lock.
func (db *DB) migrationTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if db.dialect == DialectPostgres {
		// One lock per schema, so isolated test schemas migrate in parallel while
		// processes sharing a schema take turns.
		if _, err := tx.ExecContext(ctx,
			`SELECT pg_advisory_xact_lock(hashtext('`+migrationsTable+`:' || current_schema()))`); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// AppliedMigrations lists the versions recorded in the database, in order.
func (db *DB) AppliedMigrations(ctx context.Context) ([]int, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT version FROM `+migrationsTable+` ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("list applied migrations: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("list applied migrations: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
