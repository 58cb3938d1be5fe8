package chat

import (
	"context"
	"time"

	"github.com/freelylive/freely/internal/chat/filter"
)

// Message is a chat message as stored. Nickname and Badges are the sender's at send time, so
// the log reads as the room saw it.
type Message struct {
	ID        int64
	ChannelID int64
	UserID    int64
	Nickname  string
	Badges    []string // protocol.BadgeOwner, BadgeManager, BadgeAdmin
	Text      string   // as delivered (masked when the filter masked it)
	Masked    bool
	SentAt    time.Time
	DeletedAt time.Time // zero unless deleted (by a moderator or a cleared chat)
}

// RestrictionKind is what a restriction stops.
type RestrictionKind string

const (
	// KindBan keeps the user out of the room (no joining, no sending) until unbanned.
	KindBan RestrictionKind = "ban"
	// KindTimeout stops the user sending until Until; they can still read.
	KindTimeout RestrictionKind = "timeout"
)

// Restriction is a ban or a timeout of one user in one channel. A user has at most one:
// a new one replaces the old.
type Restriction struct {
	ChannelID int64
	UserID    int64
	Kind      RestrictionKind
	Until     time.Time // end of a timeout; zero for a ban
	Reason    string
	ByUserID  int64
	CreatedAt time.Time
}

// Active reports whether the restriction still applies at now.
func (r *Restriction) Active(now time.Time) bool {
	return r.Kind == KindBan || now.Before(r.Until)
}

// Settings are a channel's chat settings. The zero value (no slow mode, no modes, filter
// off until an owner picks one) applies to channels that never saved any; see DefaultSettings.
type Settings struct {
	ChannelID     int64
	SlowSeconds   int
	FollowersOnly bool
	// MinFollowAge: in followers-only mode, how long a user must have followed the channel
	// before they may chat (0: any follower). Whole seconds, at most MaxMinFollowAge.
	MinFollowAge time.Duration
	VerifiedOnly bool
	FilterMode   filter.Mode
	Words        []string // words the owner added to the profanity filter
	AllowedWords []string // words the owner exempted from it
	UpdatedAt    time.Time
}

// Manager is a user the channel owner appointed to moderate the channel's chat.
type Manager struct {
	ChannelID   int64
	UserID      int64
	AppointedBy int64
	AppointedAt time.Time
}

// Action names a moderation action in the audit log.
type Action string

const (
	ActionDelete  Action = "delete"
	ActionTimeout Action = "timeout"
	ActionBan     Action = "ban"
	ActionUnban   Action = "unban"
	ActionSlow    Action = "slow"
	ActionMode    Action = "mode"
	ActionClear   Action = "clear"
	ActionAppoint Action = "appoint"
	ActionDismiss Action = "dismiss"
	ActionFilter  Action = "filter"
)

// AuditEntry records one moderation action. Detail is a short human-readable summary
// ("600s: spam", "followers_only=true min_follow=600s").
type AuditEntry struct {
	ID           int64 // assigned by the store
	ChannelID    int64
	ActorID      int64
	Action       Action
	TargetUserID int64 // 0 when the action has no target user
	MessageID    int64 // 0 when the action has no target message
	Detail       string
	At           time.Time
}

// Store is the persistence chat needs. Implementations return store.ErrNotFound for missing
// rows; every method is safe for concurrent use. Methods taking an *AuditEntry write it in
// the same transaction as the change, so the log never misses or invents an action.
type Store interface {
	// SaveMessages inserts a batch of messages. It is idempotent by ID: a batch retried after
	// an error inserts no message twice. Messages with DeletedAt set are stored deleted.
	SaveMessages(ctx context.Context, msgs []Message) error
	// DeleteMessages marks the messages of channelID with the given ids deleted at at. Ids
	// not stored (yet) are ignored.
	DeleteMessages(ctx context.Context, channelID int64, ids []int64, at time.Time) error
	// ClearMessages marks every message of channelID with id ≤ upToID deleted at at.
	ClearMessages(ctx context.Context, channelID, upToID int64, at time.Time) error
	// MessageByID returns one message, deleted or not.
	MessageByID(ctx context.Context, channelID, id int64) (*Message, error)
	// RecentMessages returns the newest limit messages of channelID that are not deleted,
	// oldest first.
	RecentMessages(ctx context.Context, channelID int64, limit int) ([]Message, error)
	// MessagesAfter returns up to limit messages of channelID with id > afterID that are not
	// deleted, oldest first.
	MessagesAfter(ctx context.Context, channelID, afterID int64, limit int) ([]Message, error)
	// UserMessages pages through one user's messages in channelID, deleted ones included,
	// newest first, with id < beforeID (0: from the newest).
	UserMessages(ctx context.Context, channelID, userID, beforeID int64, limit int) ([]Message, error)

	// ChatSettings returns the channel's settings, store.ErrNotFound if it never saved any.
	ChatSettings(ctx context.Context, channelID int64) (*Settings, error)
	// SaveChatSettings writes every field of s (insert or replace) and the audit entry.
	SaveChatSettings(ctx context.Context, s *Settings, audit *AuditEntry) error

	// Restrictions returns the bans and the timeouts not yet over at now in channelID.
	Restrictions(ctx context.Context, channelID int64, now time.Time) ([]Restriction, error)
	// PutRestriction sets the user's restriction in the channel, replacing any earlier one.
	PutRestriction(ctx context.Context, r *Restriction, audit *AuditEntry) error
	// DeleteRestriction lifts the user's restriction; store.ErrNotFound if there was none
	// (and then the audit entry is not written).
	DeleteRestriction(ctx context.Context, channelID, userID int64, audit *AuditEntry) error

	// Managers returns the channel's managers, earliest appointed first.
	Managers(ctx context.Context, channelID int64) ([]Manager, error)
	// AddManager appoints m.UserID; store.ErrAlreadyExists if already a manager.
	AddManager(ctx context.Context, m *Manager, audit *AuditEntry) error
	// RemoveManager dismisses a manager; store.ErrNotFound if the user is not one.
	RemoveManager(ctx context.Context, channelID, userID int64, audit *AuditEntry) error

	// AppendAudit records an action that changes no other row (delete, clear).
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditLog pages through the channel's audit log, newest first, with id < beforeID (0:
	// from the newest).
	AuditLog(ctx context.Context, channelID, beforeID int64, limit int) ([]AuditEntry, error)
}
