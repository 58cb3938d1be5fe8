package live

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// OpenHook runs inside the transaction that inserts a new session, after the insert (s.ID is
// set). Returning an error rolls the session back and fails Publication.Started. Alerts use
// it to enqueue their fan-out job in the same transaction, so followers are told about a
// broadcast exactly when it is committed.
type OpenHook func(ctx context.Context, tx bun.Tx, s *Session) error

// Store is the persistence live needs. Implementations return store.ErrNotFound for missing
// rows. Times are stored with microsecond precision.
type Store interface {
	// StreamInfo returns the channel's saved stream information, store.ErrNotFound if the
	// streamer never saved any.
	StreamInfo(ctx context.Context, channelID int64) (*StreamInfo, error)
	// SaveStreamInfo writes info (title, category by Category.ID, tags by Tag.ID, UpdatedAt)
	// and, in the same transaction, copies title, category and tags onto the channel's open
	// session if there is one. It returns that session as updated, or nil when the channel
	// is offline. A category or tag that does not exist gives store.ErrNotFound.
	SaveStreamInfo(ctx context.Context, info *StreamInfo) (*Session, error)

	// OpenSession inserts s as the channel's open session (EndedAt must be zero) with its
	// tags and fills in s.ID; then it runs onOpen (when non-nil) in the same transaction.
	// A channel that already has an open session gives store.ErrAlreadyExists: the database
	// enforces one open session per channel.
	OpenSession(ctx context.Context, s *Session, onOpen OpenHook) error
	// OpenSessionByChannel returns the channel's open session, store.ErrNotFound if none.
	OpenSessionByChannel(ctx context.Context, channelID int64) (*Session, error)
	// OpenSessions returns every open session, oldest first.
	OpenSessions(ctx context.Context) ([]*Session, error)
	// SessionByID returns a session, open or ended.
	SessionByID(ctx context.Context, id int64) (*Session, error)
	// SessionsByChannel pages a channel's sessions newest first, starting below beforeID
	// (0 for the newest).
	SessionsByChannel(ctx context.Context, channelID, beforeID int64, limit int) ([]*Session, error)

	// TouchSession records that the open session id was running at lastSeen and raises its
	// peak viewers to peakViewers if higher. An ended session is left alone (no error).
	TouchSession(ctx context.Context, id int64, lastSeen time.Time, peakViewers int) error
	// CloseSession ends the open session id at endedAt: ended_at, duration and peak viewers
	// (raised to peakViewers if higher). It returns the ended session, or store.ErrNotFound
	// if no open session has that id (it was already closed).
	CloseSession(ctx context.Context, id int64, endedAt time.Time, peakViewers int) (*Session, error)
	// CloseStaleSession ends the open session id at its own LastSeenAt, but only if that is
	// not after seenBefore — that is, nobody has touched it since the caller looked. It
	// returns the ended session, store.ErrNotFound if it is no longer open, and
	// store.ErrConflict if it was touched after seenBefore (another node owns it).
	CloseStaleSession(ctx context.Context, id int64, seenBefore time.Time) (*Session, error)
}
