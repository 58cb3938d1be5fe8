// Package follow owns follows: a user following a channel, the channel's maintained follower
// count, the "followed channels" list (live ones first) and the follow age that
// followers-only chat asks about. It holds the use-cases (Service) and declares the storage
// it needs (Store); it imports no net/http, no SQL driver and no configuration package.
package follow

import (
	"context"
	"errors"
	"time"
)

// MaxFollows is how many channels one user may follow. It keeps a scripted account from
// filling the follows table; people follow far fewer.
const MaxFollows = 2000

// MaxListLimit caps one page of the followed-channels list.
const MaxListLimit = 200

// Refusals of Follow. Unknown channels give store.ErrNotFound.
var (
	ErrOwnChannel       = errors.New("follow: you cannot follow your own channel")
	ErrChannelSuspended = errors.New("follow: channel is suspended")
	ErrTooManyFollows   = errors.New("follow: you follow too many channels")
	// ErrNoUser is returned when a use-case is called without a logged-in user.
	ErrNoUser = errors.New("follow: no user")
)

// Status is what a follow button shows: whether the viewer follows the channel, since when,
// and how many followers the channel has.
type Status struct {
	Following bool
	Since     time.Time // zero when not following
	Followers int64
}

// FollowedChannel is one entry of a user's followed-channels list: public channel fields, when
// the user followed it and, if it is live, the open broadcast.
type FollowedChannel struct {
	ChannelID   int64
	Handle      string
	DisplayName string
	ProfileKey  string // blob key of the profile image, "" for none
	FollowedAt  time.Time
	Live        *LiveNow // nil while offline
}

// LiveNow is the open broadcast of a followed channel. Viewer counts live in memory (the live
// directory); the page merges them in by ChannelID.
type LiveNow struct {
	SessionID int64
	Title     string
	StartedAt time.Time
}

// Store is the persistence follows need. Implementations keep the follower count in the same
// transaction as the follow row, so it is always exact.
type Store interface {
	// AddFollow records that userID follows channelID since at, unless it already does.
	// created reports whether a row was added. A user who already follows max channels gets
	// ErrTooManyFollows (checked only when a row would be added); a missing user or channel
	// gives store.ErrNotFound.
	AddFollow(ctx context.Context, userID, channelID int64, at time.Time, max int) (created bool, err error)
	// RemoveFollow deletes the follow if there is one; removed reports whether there was.
	RemoveFollow(ctx context.Context, userID, channelID int64) (removed bool, err error)
	// FollowedSince returns when userID started following channelID, store.ErrNotFound if
	// they do not follow it.
	FollowedSince(ctx context.Context, userID, channelID int64) (time.Time, error)
	// FollowerCount returns the channel's maintained follower count (0 for none).
	FollowerCount(ctx context.Context, channelID int64) (int64, error)
	// FollowedChannels lists up to limit channels userID follows: live ones first (most
	// recently started first), then the rest by follow time, newest first.
	FollowedChannels(ctx context.Context, userID int64, limit int) ([]FollowedChannel, error)
}

// FollowedLongEnough reports whether a follow that started at since is at least minAge old at
// now: the followers-only chat rule. A zero since (not following) never is; a zero minAge
// accepts every follower.
func FollowedLongEnough(since, now time.Time, minAge time.Duration) bool {
	if since.IsZero() {
		return false
	}
	return !now.Before(since.Add(minAge))
}
