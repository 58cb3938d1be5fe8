package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store"
)

var _ account.Store = (*DB)(nil)

// CreateUserWithChannel implements account.Store. The e-mail and handle are stored lower-cased
// and written back to u and ch, together with IDs and timestamps (zero times become now).
func (db *DB) CreateUserWithChannel(ctx context.Context, u *account.User, ch *channel.Channel) error {
	if u == nil || ch == nil {
		return errors.New("create user with channel: user and channel are required")
	}
	now := dbTime(time.Now())
	ur := userRow{
		Email:           normalizeEmail(u.Email),
		Nickname:        u.Nickname,
		NicknameKey:     nicknameKey(u.Nickname),
		PasswordHash:    u.PasswordHash,
		EmailVerifiedAt: dbTime(u.EmailVerifiedAt),
		AvatarKey:       u.AvatarKey,
		IsAdmin:         u.IsAdmin,
		CreatedAt:       orNow(u.CreatedAt, now),
		UpdatedAt:       orNow(u.UpdatedAt, now),
	}
	cr := channelRow{
		Handle:       normalizeHandle(ch.Handle),
		DisplayName:  ch.DisplayName,
		Introduction: ch.Introduction,
		ProfileKey:   ch.ProfileKey,
		BannerKey:    ch.BannerKey,
		StreamKey:    ch.StreamKey,
		Suspended:    ch.Suspended,
		CreatedAt:    orNow(ch.CreatedAt, now),
		UpdatedAt:    orNow(ch.UpdatedAt, now),
	}
	switch {
	case ur.Email == "":
		return errors.New("create user with channel: empty e-mail")
	case ur.NicknameKey == "":
		return errors.New("create user with channel: empty nickname")
	case ur.PasswordHash == "":
		return errors.New("create user with channel: empty password hash")
	case cr.Handle == "":
		return errors.New("create user with channel: empty handle")
	}
	catIDs, err := categoryIDs(ch.Categories)
	if err != nil {
		return fmt.Errorf("create user with channel: %w", err)
	}

	var cats []channel.Category
	err = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&ur).Exec(ctx); err != nil {
			return err
		}
		cr.OwnerID = ur.ID
		if _, err := tx.NewInsert().Model(&cr).Exec(ctx); err != nil {
			return err
		}
		var err error
		if cats, err = replaceChannelCategories(ctx, tx, cr.ID, catIDs); err != nil {
			return err
		}
		return db.indexChannelTx(ctx, tx, cr.ID) // search_sync.go
	})
	if err != nil {
		return fmt.Errorf("create user with channel: %w", Translate(err))
	}
	u.ID, u.Email, u.CreatedAt, u.UpdatedAt = ur.ID, ur.Email, ur.CreatedAt, ur.UpdatedAt
	u.EmailVerifiedAt = ur.EmailVerifiedAt
	ch.ID, ch.OwnerID, ch.Handle, ch.CreatedAt, ch.UpdatedAt = cr.ID, cr.OwnerID, cr.Handle, cr.CreatedAt, cr.UpdatedAt
	ch.Categories = cats
	return nil
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return dbTime(t)
}

// UserByID implements account.Store.
func (db *DB) UserByID(ctx context.Context, id int64) (*account.User, error) {
	return db.userWhere(ctx, fmt.Sprintf("user %d", id), "u.id = ?", id)
}

// UserByEmail implements account.Store; the address is compared lower-cased.
func (db *DB) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	return db.userWhere(ctx, "user by e-mail", "u.email = ?", normalizeEmail(email))
}

// UserByNickname implements account.Store; nicknames match case-insensitively (NFC + lower).
func (db *DB) UserByNickname(ctx context.Context, nickname string) (*account.User, error) {
	return db.userWhere(ctx, fmt.Sprintf("user by nickname %q", nickname), "u.nickname_key = ?", nicknameKey(nickname))
}

func (db *DB) userWhere(ctx context.Context, what, where string, arg any) (*account.User, error) {
	var r userRow
	if err := db.idb(ctx).NewSelect().Model(&r).Where(where, arg).Scan(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", what, Translate(err))
	}
	return r.toDomain(), nil
}

// UpdateProfile implements account.Store: it writes Nickname and AvatarKey and sets
// u.UpdatedAt. A taken nickname gives a ConflictError for "nickname".
func (db *DB) UpdateProfile(ctx context.Context, u *account.User) error {
	if u == nil {
		return errors.New("update profile: nil user")
	}
	key := nicknameKey(u.Nickname)
	if key == "" {
		return fmt.Errorf("update profile of user %d: empty nickname", u.ID)
	}
	now := dbTime(time.Now())
	res, err := db.idb(ctx).NewUpdate().Model((*userRow)(nil)).
		Set("nickname = ?", u.Nickname).
		Set("nickname_key = ?", key).
		Set("avatar_key = ?", u.AvatarKey).
		Set("updated_at = ?", now).
		Where("id = ?", u.ID).
		Exec(ctx)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("update profile of user %d: %w", u.ID, err)
	}
	u.UpdatedAt = now
	return nil
}

// SetPasswordHash implements account.Store: the new hash and the deletion of every session of
// the user commit together.
func (db *DB) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	if hash == "" {
		return fmt.Errorf("set password of user %d: empty hash", userID)
	}
	err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*userRow)(nil)).
			Set("password_hash = ?", hash).
			Set("updated_at = ?", dbTime(time.Now())).
			Where("id = ?", userID).
			Exec(ctx)
		if err := oneRow(res, err); err != nil {
			return err
		}
		_, err = tx.NewDelete().Model((*sessionRow)(nil)).Where("user_id = ?", userID).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, Translate(err))
	}
	return nil
}

// MarkEmailVerified implements account.Store. The first verification time is kept when the
// address is confirmed again.
func (db *DB) MarkEmailVerified(ctx context.Context, userID int64, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("mark e-mail of user %d verified: zero time", userID)
	}
	res, err := db.idb(ctx).NewUpdate().Model((*userRow)(nil)).
		Set("email_verified_at = COALESCE(email_verified_at, ?)", dbTime(at)).
		Set("updated_at = ?", dbTime(time.Now())).
		Where("id = ?", userID).
		Exec(ctx)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("mark e-mail of user %d verified: %w", userID, err)
	}
	return nil
}

// CreateSession implements account.Store. An unknown user gives store.ErrNotFound; a token
// hash already in use gives a ConflictError for "session".
func (db *DB) CreateSession(ctx context.Context, s *account.Session) error {
	if s == nil || s.TokenHash == "" {
		return errors.New("create session: empty token hash")
	}
	if s.ExpiresAt.IsZero() {
		return errors.New("create session: no expiry")
	}
	now := dbTime(time.Now())
	r := sessionRow{
		TokenHash:  s.TokenHash,
		UserID:     s.UserID,
		CSRFSecret: s.CSRFSecret,
		CreatedAt:  orNow(s.CreatedAt, now),
		LastSeenAt: orNow(s.LastSeenAt, now),
		ExpiresAt:  dbTime(s.ExpiresAt),
		UserAgent:  s.UserAgent,
		IP:         s.IP,
	}
	if _, err := db.idb(ctx).NewInsert().Model(&r).Exec(ctx); err != nil {
		return fmt.Errorf("create session for user %d: %w", s.UserID, Translate(err))
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = r.CreatedAt, r.LastSeenAt, r.ExpiresAt
	return nil
}

// SessionByTokenHash implements account.Store: a session whose ExpiresAt is not after now is
// treated as gone.
func (db *DB) SessionByTokenHash(ctx context.Context, tokenHash string, now time.Time) (*account.Session, error) {
	var r sessionRow
	err := db.idb(ctx).NewSelect().Model(&r).
		Where("s.token_hash = ?", tokenHash).
		Where("s.expires_at > ?", dbTime(now)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("session by token: %w", Translate(err))
	}
	return r.toDomain(), nil
}

// TouchSession implements account.Store. It does not revive a session that had already
// expired at lastSeen: that gives store.ErrNotFound, like an unknown token.
func (db *DB) TouchSession(ctx context.Context, tokenHash string, lastSeen, expires time.Time) error {
	res, err := db.idb(ctx).NewUpdate().Model((*sessionRow)(nil)).
		Set("last_seen_at = ?", dbTime(lastSeen)).
		Set("expires_at = ?", dbTime(expires)).
		Where("token_hash = ?", tokenHash).
		Where("expires_at > ?", dbTime(lastSeen)).
		Exec(ctx)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession implements account.Store. It is idempotent: deleting a session that no
// longer exists (logged out twice, already expired and swept) succeeds.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.idb(ctx).NewDelete().Model((*sessionRow)(nil)).Where("token_hash = ?", tokenHash).Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", Translate(err))
	}
	return nil
}

// CreateToken implements account.Store. An unknown user gives store.ErrNotFound.
func (db *DB) CreateToken(ctx context.Context, t *account.OneTimeToken) error {
	switch {
	case t == nil || t.TokenHash == "":
		return errors.New("create token: empty token hash")
	case t.Purpose == "":
		return errors.New("create token: empty purpose")
	case t.ExpiresAt.IsZero():
		return errors.New("create token: no expiry")
	}
	r := tokenRow{
		TokenHash: t.TokenHash,
		UserID:    t.UserID,
		Purpose:   string(t.Purpose),
		CreatedAt: orNow(t.CreatedAt, dbTime(time.Now())),
		ExpiresAt: dbTime(t.ExpiresAt),
		UsedAt:    dbTime(t.UsedAt),
	}
	if _, err := db.idb(ctx).NewInsert().Model(&r).Exec(ctx); err != nil {
		return fmt.Errorf("create %s token for user %d: %w", t.Purpose, t.UserID, Translate(err))
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = r.CreatedAt, r.ExpiresAt, r.UsedAt
	return nil
}

// UseToken implements account.Store. One conditional UPDATE … RETURNING both checks and
// spends the token, so of concurrent callers exactly one gets it.
func (db *DB) UseToken(ctx context.Context, tokenHash string, purpose account.TokenPurpose, now time.Time) (*account.OneTimeToken, error) {
	var r tokenRow
	err := db.idb(ctx).NewUpdate().Model(&r).
		Set("used_at = ?", dbTime(now)).
		Where("token_hash = ?", tokenHash).
		Where("purpose = ?", string(purpose)).
		Where("used_at IS NULL").
		Where("expires_at > ?", dbTime(now)).
		Returning("*").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("use %s token: %w", purpose, Translate(err))
	}
	return r.toDomain(), nil
}

// DeleteExpired implements account.Store.
func (db *DB) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	cutoff := dbTime(now)
	err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, model := range []any{(*sessionRow)(nil), (*tokenRow)(nil)} {
			res, err := tx.NewDelete().Model(model).Where("expires_at <= ?", cutoff).Exec(ctx)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions and tokens: %w", Translate(err))
	}
	return total, nil
}

// oneRow turns an UPDATE's result into store.ErrNotFound when it touched no row.
func oneRow(res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return Translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
