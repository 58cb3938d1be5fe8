package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/store"
)

// SessionMeta describes the client that logs in, for the user's "where am I logged in" list.
type SessionMeta struct{ UserAgent, IP string }

// LogIn checks the credentials and opens a session. It returns the session token for the
// cookie (only its hash is stored), the user and the session (whose CSRFSecret the web layer
// uses). Unknown addresses and wrong passwords both give ErrInvalidCredentials after the same
// amount of argon2 work. Unverified users can log in; callers check u.Verified() before
// streaming or chat.
func (s *Service) LogIn(ctx context.Context, email, password string, meta SessionMeta) (string, *User, *Session, error) {
	e, err := NormalizeEmail(email)
	var u *User
	if err == nil {
		u, err = s.store.UserByEmail(ctx, e)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", nil, nil, fmt.Errorf("look up e-mail for log-in: %w", err)
		}
	}
	if u == nil {
		_, _ = VerifyPassword(password, s.dummyHash())
		return "", nil, nil, ErrInvalidCredentials
	}
	ok, err := VerifyPassword(password, u.PasswordHash)
	if err != nil {
		return "", nil, nil, fmt.Errorf("verify password of user %d: %w", u.ID, err)
	}
	if !ok {
		return "", nil, nil, ErrInvalidCredentials
	}
	token, sess, err := s.openSession(ctx, u.ID, meta)
	if err != nil {
		return "", nil, nil, err
	}
	return token, u, sess, nil
}

func (s *Service) openSession(ctx context.Context, userID int64, meta SessionMeta) (string, *Session, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", nil, err
	}
	csrf, _, err := newToken()
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	sess := &Session{
		TokenHash:  hash,
		UserID:     userID,
		CSRFSecret: csrf,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(s.sessionTTL),
		UserAgent:  clip(meta.UserAgent, 512),
		IP:         clip(meta.IP, 64),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", nil, fmt.Errorf("create session for user %d: %w", userID, err)
	}
	return token, sess, nil
}

// clip shortens client-supplied text to at most n bytes of valid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Authenticate resolves a session token to its user and session, extending the sliding expiry
// (written at most once a minute). Unknown, expired and logged-out tokens, and sessions of
// deleted users, give ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (*User, *Session, error) {
	if !plausibleToken(token) {
		return nil, nil, ErrUnauthenticated
	}
	now := s.now()
	sess, err := s.store.SessionByTokenHash(ctx, hashToken(token), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up session: %w", err)
	}
	if !now.Before(sess.ExpiresAt) {
		return nil, nil, ErrUnauthenticated
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, nil, fmt.Errorf("user %d of session: %w", sess.UserID, err)
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchInterval {
		expires := now.Add(s.sessionTTL)
		if err := s.store.TouchSession(ctx, sess.TokenHash, now, expires); err != nil {
			// The request is still authenticated; the session just slides later.
			s.log.WarnContext(ctx, "extend session", "user", u.ID, "err", err)
		} else {
			sess.LastSeenAt, sess.ExpiresAt = now, expires
		}
	}
	return u, sess, nil
}

// LogOut ends the session of token. Unknown tokens are fine: logging out twice is not an error.
func (s *Service) LogOut(ctx context.Context, token string) error {
	if !plausibleToken(token) {
		return nil
	}
	err := s.store.DeleteSession(ctx, hashToken(token))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
