// Package alerttest builds follower populations in bulk for the alert and follow tests and
// the alert benchmark: a streamer's channel and any number of users following it, loaded
// server-side with one INSERT … SELECT per table. It is for tests and benchmarks only and must
// not be imported by production code.
package alerttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// fakeHash is a syntactically valid argon2id hash no password matches; seeded users never log in.
const fakeHash = "$argon2id$v=19$m=65536,t=1,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

// NewStreamer creates a verified user with a channel named handle.
func NewStreamer(ctx context.Context, db *sqlstore.DB, handle string) (*account.User, *channel.Channel, error) {
	u := &account.User{
		Email:           handle + "@example.test",
		Nickname:        handle,
		PasswordHash:    fakeHash,
		EmailVerifiedAt: time.Now(),
	}
	ch := &channel.Channel{Handle: handle, DisplayName: handle}
	if err := db.CreateUserWithChannel(ctx, u, ch); err != nil {
		return nil, nil, fmt.Errorf("create streamer %s: %w", handle, err)
	}
	return u, ch, nil
}

// SeedFollowers creates n users that follow channelID, generated inside the database (a
// recursive CTE on SQLite, generate_series on PostgreSQL) so a million rows load in seconds.
// Follows are dated at followedAt. Each call uses fresh e-mail addresses, so it can run
// several times on one database.
func SeedFollowers(ctx context.Context, db *sqlstore.DB, channelID int64, n int, followedAt time.Time) error {
	if n <= 0 {
		return nil
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	tag := "fan" + hex.EncodeToString(b[:])
	now := followedAt.UTC().Truncate(time.Microsecond)
	bdb := db.Bun()

	var before int64
	if err := bdb.NewRaw(`SELECT COALESCE(MAX(id), 0) FROM users`).Scan(ctx, &before); err != nil {
		return fmt.Errorf("seed followers: %w", err)
	}
	var insertUsers string
	switch db.Dialect() {
	case sqlstore.DialectSQLite:
		insertUsers = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
			INSERT INTO users (email, nickname, nickname_key, password_hash, created_at, updated_at)
			SELECT ? || '-' || i || '@example.test', ? || '-' || i, ? || '-' || i, ?, ?, ? FROM seq`
	default:
		insertUsers = `INSERT INTO users (email, nickname, nickname_key, password_hash, created_at, updated_at)
			SELECT ? || '-' || i || '@example.test', ? || '-' || i, ? || '-' || i, ?, ?, ?
			  FROM generate_series(1, ?::bigint) AS i`
	}
	args := []any{tag, tag, tag, fakeHash, now, now}
	if db.Dialect() == sqlstore.DialectSQLite {
		args = append([]any{n}, args...)
	} else {
		args = append(args, n)
	}
	if _, err := bdb.NewRaw(insertUsers, args...).Exec(ctx); err != nil {
		return fmt.Errorf("seed %d users: %w", n, err)
	}
	if _, err := bdb.NewRaw(`INSERT INTO follows (channel_id, user_id, created_at)
		SELECT ?, id, ? FROM users WHERE id > ? AND nickname_key LIKE ?`,
		channelID, now, before, tag+"-%").Exec(ctx); err != nil {
		return fmt.Errorf("seed %d follows: %w", n, err)
	}
	if db.Dialect() == sqlstore.DialectPostgres {
		// Fresh statistics and visibility map, as autovacuum keeps them for a table that
		// changes slowly, so the fan-out's range scans are index-only.
		if _, err := bdb.ExecContext(ctx, `VACUUM ANALYZE users, follows`); err != nil {
			return fmt.Errorf("analyze after seeding: %w", err)
		}
	}
	return nil
}

// FollowerIDs returns the ids of channelID's followers in ascending order.
func FollowerIDs(ctx context.Context, db *sqlstore.DB, channelID int64) ([]int64, error) {
	var ids []int64
	if err := db.Bun().NewRaw(`SELECT user_id FROM follows WHERE channel_id = ? ORDER BY user_id`, channelID).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("followers of channel %d: %w", channelID, err)
	}
	return ids, nil
}

// AlertCounts returns, for event eventID, how many alert rows each user has (a correct
// fan-out gives every follower exactly 1).
func AlertCounts(ctx context.Context, db *sqlstore.DB, eventID int64) (map[int64]int, error) {
	var rows []struct {
		UserID int64 `bun:"user_id"`
		N      int   `bun:"n"`
	}
	if err := db.Bun().NewRaw(`SELECT user_id, COUNT(*) AS n FROM alerts WHERE event_id = ? GROUP BY user_id`, eventID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("alerts of event %d: %w", eventID, err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.UserID] = r.N
	}
	return out, nil
}
