package alert

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store"
)

// Jobs enqueues River jobs inside the caller's transaction (jobs.Queue implements it).
type Jobs interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Options configures a Service. Store and Jobs are required.
type Options struct {
	Store Store
	Jobs  Jobs
	// Bus carries pushes to online users; nil sends none (alerts are still written).
	Bus bus.Bus
	// QuietPeriod is the spam window for went-live alerts; DefaultQuietPeriod when 0.
	QuietPeriod time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger discards when nil.
	Logger *slog.Logger
}

// Service holds the alert use-cases: raising events (hooks called inside the transaction of
// what happened) and each user's bell. FanOut does the writing.
type Service struct {
	store Store
	jobs  Jobs
	bus   bus.Bus
	quiet time.Duration
	now   func() time.Time
	log   *slog.Logger
}

// NewService checks opts and returns a Service.
func NewService(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Jobs == nil {
		return nil, errors.New("alert: Store and Jobs are required")
	}
	s := &Service{
		store: opts.Store,
		jobs:  opts.Jobs,
		bus:   opts.Bus,
		quiet: opts.QuietPeriod,
		now:   opts.Now,
		log:   opts.Logger,
	}
	switch {
	case s.quiet < 0:
		return nil, fmt.Errorf("alert: negative quiet period %v", s.quiet)
	case s.quiet == 0:
		s.quiet = DefaultQuietPeriod
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// OnLiveOpen is the live.OpenHook that alerts a channel's followers: inside the transaction
// that inserts the session it stores the went-live event and enqueues its fan-out, so the
// job exists exactly when the session does. A session starting within the quiet period of
// the channel's last alerted session alerts nobody. (A reconnect within the grace period
// continues its session and never reaches this hook.)
func (s *Service) OnLiveOpen(ctx context.Context, tx bun.Tx, sess *live.Session) error {
	if sess == nil || sess.ID <= 0 || sess.ChannelID <= 0 {
		return errors.New("alert: went-live hook needs a stored session")
	}
	e := &Event{
		Kind:       KindWentLive,
		ChannelID:  sess.ChannelID,
		SourceID:   sess.ID,
		Title:      sess.Title,
		OccurredAt: sess.StartedAt,
	}
	return s.raise(ctx, tx, e, sess.StartedAt.Add(-s.quiet))
}

var _ live.OpenHook = (*Service)(nil).OnLiveOpen

// Notice is a channel notice that alerts the channel's followers.
type Notice struct {
	ChannelID int64
	NoticeID  int64
	Title     string
	PostedAt  time.Time
}

// NoticePosted alerts the channel's followers of a notice. Call it inside the transaction
// that stores the notice (tx), so the alert exists exactly when the notice does. Notices
// have no quiet period: posting is deliberate, and the notice feature limits its own rate.
func (s *Service) NoticePosted(ctx context.Context, tx bun.Tx, n Notice) error {
	if n.ChannelID <= 0 || n.NoticeID <= 0 {
		return errors.New("alert: notice hook needs a stored notice")
	}
	at := n.PostedAt
	if at.IsZero() {
		at = s.now()
	}
	e := &Event{Kind: KindNotice, ChannelID: n.ChannelID, SourceID: n.NoticeID, Title: n.Title, OccurredAt: at}
	return s.raise(ctx, tx, e, time.Time{})
}

func (s *Service) raise(ctx context.Context, tx bun.Tx, e *Event, quietAfter time.Time) error {
	e.Title = truncateRunes(strings.TrimSpace(e.Title), MaxTitleRunes)
	outcome, err := s.store.CreateEvent(ctx, tx, e, quietAfter)
	if err != nil {
		return fmt.Errorf("alert: store %s event of channel %d: %w", e.Kind, e.ChannelID, err)
	}
	switch outcome {
	case Suppressed:
		s.log.InfoContext(ctx, "alert: not alerting followers again within the quiet period",
			"kind", e.Kind, "channel_id", e.ChannelID, "source_id", e.SourceID, "quiet_period", s.quiet)
		return nil
	case Existing:
		return nil
	}
	if _, err := s.jobs.InsertTx(ctx, tx.Tx, FanOutArgs{EventID: e.ID}, nil); err != nil {
		return fmt.Errorf("alert: enqueue fan-out of event %d: %w", e.ID, err)
	}
	return nil
}

// List returns a page of userID's alerts, newest first, with IDs below beforeID (0 for the
// newest page). limit is DefaultListLimit when below 1 and at most MaxListLimit.
func (s *Service) List(ctx context.Context, userID, beforeID int64, limit int) ([]*Alert, error) {
	if userID <= 0 {
		return nil, ErrNoUser
	}
	if limit < 1 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	if beforeID < 0 {
		beforeID = 0
	}
	list, err := s.store.Alerts(ctx, userID, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("alert: list alerts of user %d: %w", userID, err)
	}
	return list, nil
}

// UnreadCount returns how many unread alerts userID has, at most UnreadCap.
func (s *Service) UnreadCount(ctx context.Context, userID int64) (int, error) {
	if userID <= 0 {
		return 0, ErrNoUser
	}
	n, err := s.store.UnreadCount(ctx, userID, UnreadCap)
	if err != nil {
		return 0, fmt.Errorf("alert: unread count of user %d: %w", userID, err)
	}
	return n, nil
}

// MarkRead marks one of userID's alerts read and tells the user's other pages the new
// unread count. An alert that is not the user's gives store.ErrNotFound.
func (s *Service) MarkRead(ctx context.Context, userID, alertID int64) (unread int, err error) {
	if userID <= 0 {
		return 0, ErrNoUser
	}
	if alertID <= 0 {
		return 0, fmt.Errorf("alert %d: %w", alertID, store.ErrNotFound)
	}
	if err := s.store.MarkRead(ctx, userID, alertID, s.now()); err != nil {
		return 0, fmt.Errorf("alert: mark alert %d of user %d read: %w", alertID, userID, err)
	}
	return s.unreadChanged(ctx, userID)
}

// MarkAllRead marks every alert of userID read and tells the user's other pages.
func (s *Service) MarkAllRead(ctx context.Context, userID int64) error {
	if userID <= 0 {
		return ErrNoUser
	}
	if _, err := s.store.MarkAllRead(ctx, userID, s.now()); err != nil {
		return fmt.Errorf("alert: mark all alerts of user %d read: %w", userID, err)
	}
	_, err := s.unreadChanged(ctx, userID)
	return err
}

// unreadChanged publishes the user's new unread count to their pages. The count is the
// answer either way; a failed publish only means other tabs update on their next load.
func (s *Service) unreadChanged(ctx context.Context, userID int64) (int, error) {
	n, err := s.UnreadCount(ctx, userID)
	if err != nil {
		return 0, err
	}
	if s.bus == nil {
		return n, nil
	}
	data, err := encodeUser(Push{Type: PushUnread, Unread: &n})
	if err == nil {
		err = s.bus.Publish(ctx, UserTopic(userID), data)
	}
	if err != nil {
		s.log.WarnContext(ctx, "alert: push unread count", "user_id", userID, "err", err)
	}
	return n, nil
}
