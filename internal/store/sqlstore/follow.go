package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/follow"
)

// FollowStore implements follow.Store on the tables of migrations/*/0400_follows_alerts.up.sql.
// The follower count is maintained by triggers in the same statement's transaction, so no
// method here touches it and deletes cascaded from users or channels keep it exact too.
type FollowStore struct{ db *DB }

var _ follow.Store = (*FollowStore)(nil)

// NewFollowStore returns the follow store of db.
func NewFollowStore(db *DB) *FollowStore { return &FollowStore{db: db} }

// AddFollow implements follow.Store.
func (fs *FollowStore) AddFollow(ctx context.Context, userID, channelID int64, at time.Time, maxFollows int) (bool, error) {
	created := false
	err := fs.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var one int
		err := tx.NewRaw(`SELECT 1 FROM follows WHERE channel_id = ? AND user_id = ?`, channelID, userID).Scan(ctx, &one)
		switch {
		case err == nil:
			return nil // already following: nothing changes
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var n int
		if err := tx.NewRaw(`SELECT COUNT(*) FROM follows WHERE user_id = ?`, userID).Scan(ctx, &n); err != nil {
			return err
		}
		if n >= maxFollows {
			return follow.ErrTooManyFollows
		}
		// Two first follows racing (double click, two tabs) both get here on PostgreSQL; the
		// loser's insert does nothing instead of failing.
		res, err := tx.NewRaw(`INSERT INTO follows (channel_id, user_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT (channel_id, user_id) DO NOTHING`, channelID, userID, dbTime(at)).Exec(ctx)
		if err != nil {
			return err
		}
		affected, err := res.RowsAffected()
		created = affected == 1
		return err
	})
	if err != nil {
		if errors.Is(err, follow.ErrTooManyFollows) {
			return false, err
		}
		return false, fmt.Errorf("add follow of channel %d by user %d: %w", channelID, userID, Translate(err))
	}
	return created, nil
}

// RemoveFollow implements follow.Store.
func (fs *FollowStore) RemoveFollow(ctx context.Context, userID, channelID int64) (bool, error) {
	res, err := fs.db.idb(ctx).NewRaw(`DELETE FROM follows WHERE channel_id = ? AND user_id = ?`, channelID, userID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("remove follow of channel %d by user %d: %w", channelID, userID, Translate(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("remove follow of channel %d by user %d: %w", channelID, userID, err)
	}
	return n == 1, nil
}

// FollowedSince implements follow.Store.
func (fs *FollowStore) FollowedSince(ctx context.Context, userID, channelID int64) (time.Time, error) {
	var since time.Time
	err := fs.db.idb(ctx).NewRaw(`SELECT created_at FROM follows WHERE channel_id = ? AND user_id = ?`,
		channelID, userID).Scan(ctx, &since)
	if err != nil {
		return time.Time{}, fmt.Errorf("follow of channel %d by user %d: %w", channelID, userID, Translate(err))
	}
	return readTime(since), nil
}

// FollowerCount implements follow.Store.
func (fs *FollowStore) FollowerCount(ctx context.Context, channelID int64) (int64, error) {
	var n int64
	err := fs.db.idb(ctx).NewRaw(`SELECT followers FROM channel_follower_counts WHERE channel_id = ?`, channelID).Scan(ctx, &n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("follower count of channel %d: %w", channelID, Translate(err))
	}
	return n, nil
}

type followedChannelRow struct {
	ChannelID        int64          `bun:"channel_id"`
	Handle           string         `bun:"handle"`
	DisplayName      string         `bun:"display_name"`
	ProfileKey       string         `bun:"profile_key"`
	FollowedAt       time.Time      `bun:"followed_at"`
	SessionID        sql.NullInt64  `bun:"session_id"`
	SessionTitle     sql.NullString `bun:"session_title"`
	SessionStartedAt bun.NullTime   `bun:"session_started_at"`
}

// FollowedChannels implements follow.Store. Suspended channels are left out: they cannot
// broadcast and their pages are closed.
func (fs *FollowStore) FollowedChannels(ctx context.Context, userID int64, limit int) ([]follow.FollowedChannel, error) {
	var rows []followedChannelRow
	err := fs.db.idb(ctx).NewRaw(`
		SELECT c.id AS channel_id, c.handle, c.display_name, c.profile_key, f.created_at AS followed_at,
		       ls.id AS session_id, ls.title AS session_title, ls.started_at AS session_started_at
		  FROM follows f
		  JOIN channels c ON c.id = f.channel_id
		  LEFT JOIN live_sessions ls ON ls.channel_id = f.channel_id AND ls.ended_at IS NULL
		 WHERE f.user_id = ? AND c.suspended = ?
		 ORDER BY CASE WHEN ls.id IS NULL THEN 1 ELSE 0 END, ls.started_at DESC, f.created_at DESC, c.id
		 LIMIT ?`, userID, false, limit).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("followed channels of user %d: %w", userID, Translate(err))
	}
	out := make([]follow.FollowedChannel, len(rows))
	for i, r := range rows {
		out[i] = follow.FollowedChannel{
			ChannelID:   r.ChannelID,
			Handle:      r.Handle,
			DisplayName: r.DisplayName,
			ProfileKey:  r.ProfileKey,
			FollowedAt:  readTime(r.FollowedAt),
		}
		if r.SessionID.Valid {
			out[i].Live = &follow.LiveNow{
				SessionID: r.SessionID.Int64,
				Title:     r.SessionTitle.String,
				StartedAt: readTime(r.SessionStartedAt.Time),
			}
		}
	}
	return out, nil
}
