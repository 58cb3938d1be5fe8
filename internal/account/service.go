package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/blob"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/form"
	"github.com/freelylive/freely/internal/imageproc"
	"github.com/freelylive/freely/internal/mail"
	"github.com/freelylive/freely/internal/store"
)

// Errors the use-cases return besides *form.FieldError / form.Errors for bad input.
var (
	// ErrInvalidCredentials: unknown e-mail or wrong password; deliberately the same error.
	ErrInvalidCredentials = errors.New("account: wrong e-mail address or password")
	// ErrUnauthenticated: the session token is unknown, expired or logged out.
	ErrUnauthenticated = errors.New("account: not logged in")
	// ErrInvalidToken: a verification or reset link is unknown, expired or already used.
	ErrInvalidToken = errors.New("account: link is invalid, expired or already used")
	// ErrNotVerified: the action needs a verified e-mail address (streaming, chatting).
	ErrNotVerified = errors.New("account: e-mail address not verified")
)

// Type aliases so callers can say account.FieldError; both are the shared form types that
// channel returns too.
type (
	FieldError = form.FieldError
	FormError  = form.Errors
)

// Defaults for Options.
const (
	DefaultSessionTTL = 30 * 24 * time.Hour
	DefaultVerifyTTL  = 24 * time.Hour
	DefaultResetTTL   = time.Hour
	// sessionTouchInterval: a session's sliding expiry is written at most this often, so
	// every page view is not a database write.
	sessionTouchInterval = time.Minute
)

// Options configure a Service. Store and Mailer are required; Images and Blob are needed for
// avatars only.
type Options struct {
	Store      Store
	Mailer     Mailer
	Images     *imageproc.Processor
	Blob       blob.Store
	BaseURL    string        // e.g. "http://localhost:8080", no trailing slash; links in mails
	SessionTTL time.Duration // default 30 days, sliding
	VerifyTTL  time.Duration // default 24 h
	ResetTTL   time.Duration // default 1 h
	Now        func() time.Time
	Logger     *slog.Logger
	// PasswordParams default to DefaultPasswordParams; tests may pass cheaper ones.
	PasswordParams *PasswordParams
}

// Service holds the account use-cases. It is safe for concurrent use.
type Service struct {
	store      Store
	mailer     Mailer
	images     *imageproc.Processor
	blob       blob.Store
	baseURL    string
	sessionTTL time.Duration
	verifyTTL  time.Duration
	resetTTL   time.Duration
	now        func() time.Time
	log        *slog.Logger
	params     PasswordParams
	// dummyHash is verified when a log-in names an unknown address, so that answer takes as
	// long as a wrong password and timing does not reveal who has an account.
	dummyHash func() string
}

// NewService applies defaults to opts and returns the Service.
func NewService(opts Options) *Service {
	s := &Service{
		store:      opts.Store,
		mailer:     opts.Mailer,
		images:     opts.Images,
		blob:       opts.Blob,
		baseURL:    trimSlash(opts.BaseURL),
		sessionTTL: orDefault(opts.SessionTTL, DefaultSessionTTL),
		verifyTTL:  orDefault(opts.VerifyTTL, DefaultVerifyTTL),
		resetTTL:   orDefault(opts.ResetTTL, DefaultResetTTL),
		now:        opts.Now,
		log:        opts.Logger,
		params:     DefaultPasswordParams,
	}
	if opts.PasswordParams != nil {
		s.params = *opts.PasswordParams
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.mailer == nil {
		s.mailer = mail.NewLogMailer(s.log)
	}
	s.dummyHash = sync.OnceValue(func() string {
		_, secret, err := newToken()
		if err == nil {
			var h string
			if h, err = HashPassword(secret, s.params); err == nil {
				return h
			}
		}
		s.log.Error("make dummy password hash", "err", err)
		return ""
	})
	return s
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// SignUpInput is what the sign-up form sends. Handle is the channel's URL id.
type SignUpInput struct{ Email, Password, Nickname, Handle string }

// SignUp validates the input, creates the user and their channel in one transaction, and mails
// a verification link. Bad or taken fields come back together as form.Errors (codes such as
// email_invalid, email_taken, nickname_taken, handle_taken). A failed mail is logged, not
// returned: the account exists and the user can ask for the mail again.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (*User, error) {
	u, err := s.createUser(ctx, in, "", time.Time{})
	if err != nil {
		return nil, err
	}
	if err := s.sendVerification(ctx, u); err != nil {
		s.log.WarnContext(ctx, "send verification mail after sign-up", "user", u.ID, "err", err)
	}
	return u, nil
}

// ImportUser creates a user and their channel from trusted data (the demo seeder, admin
// tools): the same rules as SignUp for e-mail, nickname and handle, a ready argon2id hash
// (see HashPassword) instead of in.Password, no mail, and verified at verifiedAt unless that
// is zero. Sharing one hash between imported users avoids paying for argon2 once per user.
func (s *Service) ImportUser(ctx context.Context, in SignUpInput, passwordHash string, verifiedAt time.Time) (*User, error) {
	if _, _, _, err := decodeHash(passwordHash); err != nil {
		return nil, fmt.Errorf("import user: %w", err)
	}
	return s.createUser(ctx, in, passwordHash, verifiedAt)
}

// HashPassword hashes with the Service's argon2id parameters.
func (s *Service) HashPassword(password string) (string, error) {
	return HashPassword(password, s.params)
}

// createUser validates in and stores the user and channel. With readyHash == "" it checks and
// hashes in.Password; otherwise it stores readyHash as is.
func (s *Service) createUser(ctx context.Context, in SignUpInput, readyHash string, verifiedAt time.Time) (*User, error) {
	var errs form.Errors
	email, err := NormalizeEmail(in.Email)
	addFieldErr(&errs, err)
	nickname, err := NormalizeNickname(in.Nickname)
	addFieldErr(&errs, err)
	handle, err := channel.NormalizeHandle(in.Handle)
	addFieldErr(&errs, err)
	if readyHash == "" {
		addFieldErr(&errs, CheckPassword(in.Password, email))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	// Looking the e-mail and nickname up first reports both when both are taken and spares
	// an argon2 hash; the unique constraints below still decide races.
	if err := s.taken(ctx, &errs, email, nickname); err != nil {
		return nil, err
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	pw := readyHash
	if pw == "" {
		if pw, err = s.HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	u := &User{Email: email, Nickname: nickname, PasswordHash: pw}
	ch := &channel.Channel{Handle: handle, DisplayName: nickname, StreamKey: channel.NewStreamKey()}
	if err := s.store.CreateUserWithChannel(ctx, u, ch); err != nil {
		if fe := conflictFieldError(err); fe != nil {
			return nil, form.Errors{fe}
		}
		return nil, fmt.Errorf("create user %q: %w", email, err)
	}
	if !verifiedAt.IsZero() {
		if err := s.store.MarkEmailVerified(ctx, u.ID, verifiedAt); err != nil {
			return nil, fmt.Errorf("mark user %d verified: %w", u.ID, err)
		}
		u.EmailVerifiedAt = verifiedAt
	}
	return u, nil
}

func (s *Service) taken(ctx context.Context, errs *form.Errors, email, nickname string) error {
	if _, err := s.store.UserByEmail(ctx, email); err == nil {
		errs.Add("email", "email_taken")
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("look up e-mail: %w", err)
	}
	if _, err := s.store.UserByNickname(ctx, nickname); err == nil {
		errs.Add("nickname", "nickname_taken")
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("look up nickname: %w", err)
	}
	return nil
}

// conflictFieldError turns a unique-constraint refusal into the form error for its field.
func conflictFieldError(err error) *form.FieldError {
	switch store.ConflictField(err) {
	case "email":
		return form.New("email", "email_taken")
	case "nickname":
		return form.New("nickname", "nickname_taken")
	case "handle":
		return form.New("handle", "handle_taken")
	}
	return nil
}

func addFieldErr(errs *form.Errors, err error) {
	if err == nil {
		return
	}
	for _, fe := range form.FieldErrors(err) {
		errs.AddError(fe)
	}
}

// UserByID returns the user; store.ErrNotFound passes through.
func (s *Service) UserByID(ctx context.Context, id int64) (*User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// RequireVerified returns ErrNotVerified for a user who has not confirmed their address;
// streaming and chat call it.
func RequireVerified(u *User) error {
	if u == nil || !u.Verified() {
		return ErrNotVerified
	}
	return nil
}

// PurgeExpired deletes expired sessions and one-time tokens; the maintenance job calls it.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	n, err := s.store.DeleteExpired(ctx, s.now())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions and tokens: %w", err)
	}
	return n, nil
}
