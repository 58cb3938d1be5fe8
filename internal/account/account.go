// Package account owns users, their log-in sessions, e-mail verification and password reset.
// It holds the use-cases (Service) and declares the storage it needs (Store); it imports no
// HTTP, SQL driver or configuration package.
package account

import "time"

// User is a registered person. Email and PasswordHash are private: they never leave the server
// in a public response.
type User struct {
	ID              int64
	Email           string // lower-cased, unique
	Nickname        string // NFC, unique case-insensitively (see NicknameKey)
	PasswordHash    string
	EmailVerifiedAt time.Time // zero until verified
	AvatarKey       string    // blob key of the avatar, "" for none
	IsAdmin         bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Verified reports whether the user confirmed their e-mail address. Unverified users can
// browse but cannot stream or chat.
func (u *User) Verified() bool { return !u.EmailVerifiedAt.IsZero() }

// Session is a server-side log-in session. The browser holds only the random token; the
// store keys the session by the token's SHA-256 hash, so a leaked database does not leak
// usable cookies.
type Session struct {
	TokenHash  string // hex SHA-256 of the cookie token
	UserID     int64
	CSRFSecret string // per-session secret for CSRF tokens
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string
}

// TokenPurpose says what a one-time token is for.
type TokenPurpose string

const (
	PurposeVerifyEmail   TokenPurpose = "verify_email"
	PurposeResetPassword TokenPurpose = "reset_password"
)

// OneTimeToken is a single-use, expiring token sent by e-mail (verification link, password
// reset link). Only its hash is stored.
type OneTimeToken struct {
	TokenHash string // hex SHA-256 of the token in the link
	UserID    int64
	Purpose   TokenPurpose
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until used
}
