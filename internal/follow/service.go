package follow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store"
)

// Channels is what the service needs from the channel store: the channel being followed, to
// refuse following your own or a suspended channel.
type Channels interface {
	ChannelByID(ctx context.Context, id int64) (*channel.Channel, error)
}

// Options configures a Service. Store and Channels are required.
type Options struct {
	Store    Store
	Channels Channels
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service holds the follow use-cases. User ids come from the caller's server-side session,
// never from a request body.
type Service struct {
	store    Store
	channels Channels
	now      func() time.Time
}

// NewService checks opts and returns a Service.
func NewService(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Channels == nil {
		return nil, errors.New("follow: Store and Channels are required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Service{store: opts.Store, channels: opts.Channels, now: now}, nil
}

// Follow makes userID follow channelID. Following a channel you already follow is not an
// error and changes nothing (the follow keeps its original time). It returns the new status.
func (s *Service) Follow(ctx context.Context, userID, channelID int64) (Status, error) {
	if userID <= 0 {
		return Status{}, ErrNoUser
	}
	ch, err := s.channel(ctx, channelID)
	if err != nil {
		return Status{}, err
	}
	switch {
	case ch.OwnerID == userID:
		return Status{}, ErrOwnChannel
	case ch.Suspended:
		return Status{}, ErrChannelSuspended
	}
	if _, err := s.store.AddFollow(ctx, userID, channelID, s.now(), MaxFollows); err != nil {
		return Status{}, fmt.Errorf("follow channel %d: %w", channelID, err)
	}
	return s.Status(ctx, userID, channelID)
}

// Unfollow stops userID following channelID. Unfollowing a channel you do not follow is not
// an error. It returns the new status.
func (s *Service) Unfollow(ctx context.Context, userID, channelID int64) (Status, error) {
	if userID <= 0 {
		return Status{}, ErrNoUser
	}
	if channelID <= 0 {
		return Status{}, fmt.Errorf("unfollow channel %d: %w", channelID, store.ErrNotFound)
	}
	if _, err := s.store.RemoveFollow(ctx, userID, channelID); err != nil {
		return Status{}, fmt.Errorf("unfollow channel %d: %w", channelID, err)
	}
	return s.Status(ctx, userID, channelID)
}

// Status returns what the follow button of channelID shows to userID (0 for an anonymous
// viewer, who follows nothing).
func (s *Service) Status(ctx context.Context, userID, channelID int64) (Status, error) {
	var st Status
	n, err := s.store.FollowerCount(ctx, channelID)
	if err != nil {
		return Status{}, fmt.Errorf("follower count of channel %d: %w", channelID, err)
	}
	st.Followers = n
	if userID <= 0 {
		return st, nil
	}
	since, following, err := s.FollowedSince(ctx, userID, channelID)
	if err != nil {
		return Status{}, err
	}
	st.Following, st.Since = following, since
	return st, nil
}

// FollowerCount returns the channel's follower count.
func (s *Service) FollowerCount(ctx context.Context, channelID int64) (int64, error) {
	n, err := s.store.FollowerCount(ctx, channelID)
	if err != nil {
		return 0, fmt.Errorf("follower count of channel %d: %w", channelID, err)
	}
	return n, nil
}

// FollowedSince answers followers-only chat: whether userID follows channelID and since
// when. Not following is not an error: following is false and since is zero.
func (s *Service) FollowedSince(ctx context.Context, userID, channelID int64) (since time.Time, following bool, err error) {
	if userID <= 0 || channelID <= 0 {
		return time.Time{}, false, nil
	}
	since, err = s.store.FollowedSince(ctx, userID, channelID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("follow of channel %d by user %d: %w", channelID, userID, err)
	}
	return since, true, nil
}

// FollowedChannels lists the channels userID follows, live ones first; limit is capped at
// MaxListLimit (and values below 1 mean MaxListLimit).
func (s *Service) FollowedChannels(ctx context.Context, userID int64, limit int) ([]FollowedChannel, error) {
	if userID <= 0 {
		return nil, ErrNoUser
	}
	if limit < 1 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	list, err := s.store.FollowedChannels(ctx, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("followed channels of user %d: %w", userID, err)
	}
	return list, nil
}

func (s *Service) channel(ctx context.Context, id int64) (*channel.Channel, error) {
	if id <= 0 {
		return nil, fmt.Errorf("channel %d: %w", id, store.ErrNotFound)
	}
	ch, err := s.channels.ChannelByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("channel %d: %w", id, err)
	}
	return ch, nil
}
