package sqlstore

import (
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
)

// Row types mirror the tables of migrations/*/0001_foundation.up.sql. They stay private: the
// domain types of account and channel are what callers see.

type userRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID              int64     `bun:"id,pk,autoincrement"`
	Email           string    `bun:"email,notnull"`
	Nickname        string    `bun:"nickname,notnull"`
	NicknameKey     string    `bun:"nickname_key,notnull"`
	PasswordHash    string    `bun:"password_hash,notnull"`
	EmailVerifiedAt time.Time `bun:"email_verified_at,nullzero"`
	AvatarKey       string    `bun:"avatar_key,notnull"`
	IsAdmin         bool      `bun:"is_admin,notnull"`
	CreatedAt       time.Time `bun:"created_at,notnull"`
	UpdatedAt       time.Time `bun:"updated_at,notnull"`
}

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	TokenHash  string    `bun:"token_hash,pk"`
	UserID     int64     `bun:"user_id,notnull"`
	CSRFSecret string    `bun:"csrf_secret,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastSeenAt time.Time `bun:"last_seen_at,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,notnull"`
	UserAgent  string    `bun:"user_agent,notnull"`
	IP         string    `bun:"ip,notnull"`
}

type tokenRow struct {
	bun.BaseModel `bun:"table:one_time_tokens,alias:t"`

	TokenHash string    `bun:"token_hash,pk"`
	UserID    int64     `bun:"user_id,notnull"`
	Purpose   string    `bun:"purpose,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
	UsedAt    time.Time `bun:"used_at,nullzero"`
}

type channelRow struct {
	bun.BaseModel `bun:"table:channels,alias:ch"`

	ID           int64     `bun:"id,pk,autoincrement"`
	OwnerID      int64     `bun:"owner_id,notnull"`
	Handle       string    `bun:"handle,notnull"`
	DisplayName  string    `bun:"display_name,notnull"`
	Introduction string    `bun:"introduction,notnull"`
	ProfileKey   string    `bun:"profile_key,notnull"`
	BannerKey    string    `bun:"banner_key,notnull"`
	StreamKey    string    `bun:"stream_key,nullzero"` // NULL until a key is set, so keyless channels do not collide
	Suspended    bool      `bun:"suspended,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`
}

type categoryRow struct {
	bun.BaseModel `bun:"table:categories,alias:cat"`

	ID     int64  `bun:"id,pk,autoincrement"`
	Slug   string `bun:"slug,notnull"`
	NameKO string `bun:"name_ko,notnull"`
	NameEN string `bun:"name_en,notnull"`
}

type channelCategoryRow struct {
	bun.BaseModel `bun:"table:channel_categories,alias:cc"`

	ChannelID  int64 `bun:"channel_id,pk"`
	CategoryID int64 `bun:"category_id,pk"`
	Position   int   `bun:"position,notnull"`
}

type tagRow struct {
	bun.BaseModel `bun:"table:tags,alias:tg"`

	ID   int64  `bun:"id,pk,autoincrement"`
	Name string `bun:"name,notnull"`
}

// dbTime is how a time is stored: UTC, at the microsecond precision both databases keep, so
// a value read back equals the value written.
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// readTime normalises a time read from either driver (pgx returns local time, SQLite a fixed
// zone) to UTC.
func readTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// nicknameKey is the identity under which nicknames are unique; the account package defines
// it, the nickname_key column stores it.
func nicknameKey(nickname string) string { return account.NicknameKey(nickname) }

// normalizeEmail is the stored form of an address: lower case, so lookups need no function
// index.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// normalizeHandle is the stored form of a channel handle.
func normalizeHandle(handle string) string { return strings.ToLower(strings.TrimSpace(handle)) }

func (r *userRow) toDomain() *account.User {
	return &account.User{
		ID:              r.ID,
		Email:           r.Email,
		Nickname:        r.Nickname,
		PasswordHash:    r.PasswordHash,
		EmailVerifiedAt: readTime(r.EmailVerifiedAt),
		AvatarKey:       r.AvatarKey,
		IsAdmin:         r.IsAdmin,
		CreatedAt:       readTime(r.CreatedAt),
		UpdatedAt:       readTime(r.UpdatedAt),
	}
}

func (r *sessionRow) toDomain() *account.Session {
	return &account.Session{
		TokenHash:  r.TokenHash,
		UserID:     r.UserID,
		CSRFSecret: r.CSRFSecret,
		CreatedAt:  readTime(r.CreatedAt),
		LastSeenAt: readTime(r.LastSeenAt),
		ExpiresAt:  readTime(r.ExpiresAt),
		UserAgent:  r.UserAgent,
		IP:         r.IP,
	}
}

func (r *tokenRow) toDomain() *account.OneTimeToken {
	return &account.OneTimeToken{
		TokenHash: r.TokenHash,
		UserID:    r.UserID,
		Purpose:   account.TokenPurpose(r.Purpose),
		CreatedAt: readTime(r.CreatedAt),
		ExpiresAt: readTime(r.ExpiresAt),
		UsedAt:    readTime(r.UsedAt),
	}
}

func (r *channelRow) toDomain() *channel.Channel {
	return &channel.Channel{
		ID:           r.ID,
		OwnerID:      r.OwnerID,
		Handle:       r.Handle,
		DisplayName:  r.DisplayName,
		Introduction: r.Introduction,
		ProfileKey:   r.ProfileKey,
		BannerKey:    r.BannerKey,
		StreamKey:    r.StreamKey,
		Suspended:    r.Suspended,
		CreatedAt:    readTime(r.CreatedAt),
		UpdatedAt:    readTime(r.UpdatedAt),
	}
}

func (r *categoryRow) toDomain() channel.Category {
	return channel.Category{ID: r.ID, Slug: r.Slug, NameKO: r.NameKO, NameEN: r.NameEN}
}
