package account

import (
	"context"
	"time"

	"github.com/freelylive/freely/internal/channel"
)

// Store is the persistence account needs. Implementations return store.ErrNotFound for missing
// rows and a store.ConflictError (matching store.ErrAlreadyExists) naming the field — "email",
// "nickname" or "handle" — when a unique constraint refuses a write.
type Store interface {
	// CreateUserWithChannel inserts u and its channel ch in one transaction, filling in IDs,
	// ch.OwnerID and timestamps. Either both rows exist afterwards or neither.
	CreateUserWithChannel(ctx context.Context, u *User, ch *channel.Channel) error
	UserByID(ctx context.Context, id int64) (*User, error)
	// UserByEmail matches the lower-cased address.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// UserByNickname matches case-insensitively (by NicknameKey).
	UserByNickname(ctx context.Context, nickname string) (*User, error)
	// UpdateProfile writes Nickname and AvatarKey.
	UpdateProfile(ctx context.Context, u *User) error
	// SetPasswordHash replaces the password hash and deletes every session of the user, in
	// one transaction (a reset logs out everywhere).
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	MarkEmailVerified(ctx context.Context, userID int64, at time.Time) error

	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash returns store.ErrNotFound for unknown or expired sessions.
	SessionByTokenHash(ctx context.Context, tokenHash string, now time.Time) (*Session, error)
	// TouchSession moves LastSeenAt and ExpiresAt forward (sliding expiry).
	TouchSession(ctx context.Context, tokenHash string, lastSeen, expires time.Time) error
	DeleteSession(ctx context.Context, tokenHash string) error

	CreateToken(ctx context.Context, t *OneTimeToken) error
	// UseToken marks an unused, unexpired token of the purpose as used and returns it, atomically:
	// of two concurrent calls only one succeeds. Unknown, used or expired tokens give
	// store.ErrNotFound.
	UseToken(ctx context.Context, tokenHash string, purpose TokenPurpose, now time.Time) (*OneTimeToken, error)

	// DeleteExpired removes sessions and one-time tokens that expired before now and returns
	// how many rows went. The maintenance job calls it.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
