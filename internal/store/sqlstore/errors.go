package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/freelylive/freely/internal/store"
)

// conflictFields names the form field behind each unique constraint. SQLite reports a
// violated constraint as "table.column[, table.column]"; PostgreSQL reports the constraint
// name given in the migrations. Both spellings map to the same field.
var conflictFields = map[string]string{
	"users.email":                "email",
	"uq_users_email":             "email",
	"users.nickname_key":         "nickname",
	"uq_users_nickname_key":      "nickname",
	"channels.handle":            "handle",
	"uq_channels_handle":         "handle",
	"channels.stream_key":        "stream_key",
	"uq_channels_stream_key":     "stream_key",
	"channels.owner_id":          "channel",
	"uq_channels_owner_id":       "channel",
	"categories.slug":            "slug",
	"uq_categories_slug":         "slug",
	"tags.name":                  "tag",
	"uq_tags_name":               "tag",
	"sessions.token_hash":        "session",
	"sessions_pkey":              "session",
	"one_time_tokens.token_hash": "token",
	"one_time_tokens_pkey":       "token",
}

// RegisterConflictField maps a unique constraint added by a later migration to the field name
// its ConflictError reports. key is the PostgreSQL constraint name or SQLite's
// "table.column" list. Call it from an init function, before the store is used.
func RegisterConflictField(key, field string) { conflictFields[key] = field }

// Translate turns driver errors into the sentinels of package store: sql.ErrNoRows becomes
// store.ErrNotFound, a unique violation a store.ConflictError naming the field, and a
// foreign-key violation (a referenced row is missing) store.ErrNotFound. Other errors pass
// through unchanged. Packages that run their own queries through Bun() call it at their edge.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return store.AlreadyExists(conflictField(sqliteConstraintColumns(se.Error())))
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("referenced row: %w", store.ErrNotFound)
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return store.AlreadyExists(conflictField(pe.ConstraintName))
		case "23503": // foreign_key_violation
			return fmt.Errorf("referenced row (%s): %w", pe.ConstraintName, store.ErrNotFound)
		}
	}
	return err
}

// sqliteConstraintColumns extracts "users.email" from SQLite's
// "UNIQUE constraint failed: users.email" message. For an index on expressions SQLite names
// the index instead ("... failed: index 'uq_x'"); that gives "uq_x", the same key as
// PostgreSQL's constraint name.
func sqliteConstraintColumns(msg string) string {
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ""
	}
	cols := msg[i+len(marker):]
	if j := strings.IndexAny(cols, "()"); j >= 0 {
		cols = cols[:j]
	}
	cols = strings.TrimSpace(cols)
	if name, ok := strings.CutPrefix(cols, "index '"); ok {
		return strings.TrimSuffix(name, "'")
	}
	return cols
}

func conflictField(key string) string {
	if f, ok := conflictFields[key]; ok {
		return f
	}
	if key == "" {
		return "unknown"
	}
	return key
}

// isSQLiteBusy reports whether err is SQLite's "database is locked" (any extended code).
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
