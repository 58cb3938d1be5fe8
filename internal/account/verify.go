package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/freelylive/freely/internal/store"
)

// Paths of the links mailed to users; the web layer serves them.
const (
	VerifyPath = "/verify"
	ResetPath  = "/reset"
)

// issueToken stores a new one-time token for u and returns the link carrying it.
func (s *Service) issueToken(ctx context.Context, u *User, purpose TokenPurpose, path string) (string, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	ttl := s.verifyTTL
	if purpose == PurposeResetPassword {
		ttl = s.resetTTL
	}
	t := &OneTimeToken{TokenHash: hash, UserID: u.ID, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", fmt.Errorf("store %s token for user %d: %w", purpose, u.ID, err)
	}
	return s.baseURL + path + "?token=" + url.QueryEscape(token), nil
}

func (s *Service) sendVerification(ctx context.Context, u *User) error {
	link, err := s.issueToken(ctx, u, PurposeVerifyEmail, VerifyPath)
	if err != nil {
		return err
	}
	subject, body := verificationMail(u.Nickname, link, s.verifyTTL)
	if err := s.mailer.Send(ctx, u.Email, subject, body); err != nil {
		return fmt.Errorf("send verification mail to user %d: %w", u.ID, err)
	}
	return nil
}

// ResendVerification mails a new verification link (earlier links stay valid until they
// expire). It does nothing for a user who is already verified. A failed mail is returned: the
// user asked for it and should see that it did not go out.
func (s *Service) ResendVerification(ctx context.Context, userID int64) error {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.Verified() {
		return nil
	}
	return s.sendVerification(ctx, u)
}

// VerifyEmail consumes a verification token and marks the address verified. Unknown, expired
// and already used tokens give ErrInvalidToken.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*User, error) {
	t, err := s.useToken(ctx, token, PurposeVerifyEmail)
	if err != nil {
		return nil, err
	}
	u, err := s.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if !u.Verified() {
		now := s.now()
		if err := s.store.MarkEmailVerified(ctx, u.ID, now); err != nil {
			return nil, fmt.Errorf("mark user %d verified: %w", u.ID, err)
		}
		u.EmailVerifiedAt = now
	}
	return u, nil
}

func (s *Service) useToken(ctx context.Context, token string, purpose TokenPurpose) (*OneTimeToken, error) {
	if !plausibleToken(token) {
		return nil, ErrInvalidToken
	}
	t, err := s.store.UseToken(ctx, hashToken(token), purpose, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("use %s token: %w", purpose, err)
	}
	return t, nil
}

// RequestPasswordReset mails a reset link if the address belongs to an account. It returns
// nil for unknown addresses, and logs rather than returns a failed mail, so the answer never
// tells whether an account exists. A malformed address is a *form.FieldError (that reveals
// nothing).
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	e, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	u, err := s.store.UserByEmail(ctx, e)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up e-mail for reset: %w", err)
	}
	link, err := s.issueToken(ctx, u, PurposeResetPassword, ResetPath)
	if err != nil {
		return err
	}
	subject, body := resetMail(u.Nickname, link, s.resetTTL)
	if err := s.mailer.Send(ctx, u.Email, subject, body); err != nil {
		s.log.WarnContext(ctx, "send password reset mail", "user", u.ID, "err", err)
	}
	return nil
}

// ResetPassword consumes a reset token and sets the new password, logging the user out of
// every session. The password's length is checked before the token is spent; the rule that it
// must differ from the e-mail address can only be checked after, so breaking that rule costs
// the link (the user asks for another). A successful reset also verifies the address: the
// link could only be read from that inbox.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) error {
	if err := CheckPassword(newPassword, ""); err != nil {
		return err
	}
	t, err := s.useToken(ctx, token, PurposeResetPassword)
	if err != nil {
		return err
	}
	u, err := s.UserByID(ctx, t.UserID)
	if err != nil {
		return err
	}
	if err := CheckPassword(newPassword, u.Email); err != nil {
		return err
	}
	hash, err := s.HashPassword(newPassword)
	if err != nil {
		return err
	}
	if err := s.store.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return fmt.Errorf("set password of user %d: %w", u.ID, err)
	}
	if !u.Verified() {
		if err := s.store.MarkEmailVerified(ctx, u.ID, s.now()); err != nil {
			return fmt.Errorf("mark user %d verified: %w", u.ID, err)
		}
	}
	return nil
}
