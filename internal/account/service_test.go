package account_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/imageproc"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// cheap argon2id parameters keep the race-enabled suite fast; the code path is the real one.
var cheap = account.PasswordParams{Memory: 1024, Time: 1, Threads: 1}

type env struct {
	svc   *account.Service
	db    *sqlstore.DB
	mail  *recordingMailer
	clock *clock
	blob  *disk.Store
}

func newEnv(t *testing.T, db *sqlstore.DB) *env {
	t.Helper()
	e := &env{db: db, mail: &recordingMailer{}, clock: newClock(), blob: diskBlob(t)}
	e.svc = account.NewService(account.Options{
		Store:          db,
		Mailer:         e.mail,
		Images:         imageproc.New(),
		Blob:           e.blob,
		BaseURL:        "http://freely.test/",
		SessionTTL:     time.Hour,
		VerifyTTL:      24 * time.Hour,
		ResetTTL:       time.Hour,
		Now:            e.clock.Now,
		Logger:         quietLogger(),
		PasswordParams: &cheap,
	})
	return e
}

func (e *env) signUp(t *testing.T, n int) *account.User {
	t.Helper()
	u, err := e.svc.SignUp(context.Background(), account.SignUpInput{
		Email:    fmt.Sprintf("user%d@example.com", n),
		Password: fmt.Sprintf("password-%d", n),
		Nickname: fmt.Sprintf("사용자%d", n),
		Handle:   fmt.Sprintf("user_%d", n),
	})
	if err != nil {
		t.Fatalf("sign up user %d: %v", n, err)
	}
	return u
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestSignUpCreatesUserChannelAndVerificationMail(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u, err := e.svc.SignUp(ctx, account.SignUpInput{
			Email: "  MinSu@Example.com ", Password: "correct horse", Nickname: "민수", Handle: "MinSu_TV",
		})
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.Email != "minsu@example.com" || u.Nickname != "민수" || u.Verified() {
			t.Fatalf("user %+v", u)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Fatalf("password stored as %q", u.PasswordHash)
		}
		ch, err := db.ChannelByOwner(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ch.Handle != "minsu_tv" || ch.DisplayName != "민수" || !strings.HasPrefix(ch.StreamKey, channel.StreamKeyPrefix) {
			t.Fatalf("channel %+v", ch)
		}
		for _, public := range []string{fmt.Sprint(u.ID), fmt.Sprint(ch.ID), "minsu", u.Email} {
			if strings.Contains(strings.ToLower(ch.StreamKey[len(channel.StreamKeyPrefix):]), public) && len(public) > 2 {
				t.Errorf("stream key %q contains public value %q", ch.StreamKey, public)
			}
		}

		mails := e.mail.all()
		if len(mails) != 1 || mails[0].To != "minsu@example.com" || !strings.Contains(mails[0].Subject, "이메일") {
			t.Fatalf("mails %+v", mails)
		}
		if !strings.Contains(mails[0].Body, "민수님") || !strings.Contains(mails[0].Body, "Confirm") && !strings.Contains(mails[0].Body, "confirm") {
			t.Errorf("mail body lacks Korean greeting or English line:\n%s", mails[0].Body)
		}
		base, token := e.mail.lastLink(t, "minsu@example.com")
		if base != "http://freely.test/verify" || len(token) != 43 {
			t.Fatalf("link %s?token=%s", base, token)
		}

		// Only the token's hash is stored: the raw token is not a key of anything.
		if _, err := db.UseToken(ctx, token, account.PurposeVerifyEmail, e.clock.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("raw token usable as stored key: %v", err)
		}

		v, err := e.svc.VerifyEmail(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Verified() || !v.EmailVerifiedAt.Equal(e.clock.Now()) {
			t.Fatalf("after verify: %+v", v)
		}
		again, _ := e.svc.UserByID(ctx, u.ID)
		if !again.Verified() {
			t.Fatal("verification not stored")
		}
		_, err = e.svc.VerifyEmail(ctx, token)
		wantErr(t, err, account.ErrInvalidToken)
	})
}

func TestSignUpRefusesBadInputAllAtOnce(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		_, err := e.svc.SignUp(ctx, account.SignUpInput{Email: "not-an-address", Password: "short", Nickname: "x", Handle: "admin"})
		wantCodes(t, err, "email:email_invalid", "nickname:nickname_invalid", "handle:handle_reserved", "password:password_too_short")

		_, err = e.svc.SignUp(ctx, account.SignUpInput{Email: "a@example.com", Password: "a@example.com", Nickname: "관리자", Handle: "ok_handle"})
		wantCodes(t, err, "nickname:nickname_reserved", "password:password_same_as_email")

		if _, err := db.UserByEmail(ctx, "a@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("refused sign-up left a user: %v", err)
		}
		if n := len(e.mail.all()); n != 0 {
			t.Fatalf("%d mails sent for refused sign-ups", n)
		}
	})
}

func TestSignUpDuplicatesAreFieldErrors(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.signUp(t, 1) // user1@example.com, 사용자1, user_1

		cases := []struct {
			name string
			in   account.SignUpInput
			want []string
		}{
			{"email in other case", account.SignUpInput{Email: "USER1@example.com", Password: "password-x", Nickname: "다른이름", Handle: "other_1"}, []string{"email:email_taken"}},
			{"nickname", account.SignUpInput{Email: "x1@example.com", Password: "password-x", Nickname: "사용자1", Handle: "other_2"}, []string{"nickname:nickname_taken"}},
			{"nickname full-width", account.SignUpInput{Email: "x2@example.com", Password: "password-x", Nickname: "사용자１", Handle: "other_3"}, []string{"nickname:nickname_taken"}},
			{"handle in other case", account.SignUpInput{Email: "x3@example.com", Password: "password-x", Nickname: "세번째", Handle: "USER_1"}, []string{"handle:handle_taken"}},
			{"email and nickname", account.SignUpInput{Email: "user1@example.com", Password: "password-x", Nickname: "사용자1", Handle: "other_4"}, []string{"email:email_taken", "nickname:nickname_taken"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.SignUp(ctx, c.in)
				wantCodes(t, err, c.want...)
			})
		}
		if n := len(e.mail.all()); n != 1 {
			t.Fatalf("%d mails, want only the first sign-up's", n)
		}
	})
}

// TestConcurrentSignUps races sign-ups that share one unique field: exactly one wins and every
// other gets that field's error, never a raw database error.
func TestConcurrentSignUps(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db)
		const n = 6
		for _, shared := range []string{"email", "nickname", "handle"} {
			t.Run(shared, func(t *testing.T) {
				var wg sync.WaitGroup
				errs := make([]error, n)
				for i := 0; i < n; i++ {
					in := account.SignUpInput{
						Email:    fmt.Sprintf("%s%d@example.com", shared, i),
						Password: "password-123",
						Nickname: fmt.Sprintf("%s닉%d", shared, i),
						Handle:   fmt.Sprintf("%s_h%d", shared, i),
					}
					switch shared {
					case "email":
						in.Email = "same@example.com"
					case "nickname":
						in.Nickname = "같은닉네임"
					case "handle":
						in.Handle = "same_handle"
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = e.svc.SignUp(context.Background(), in)
					}()
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					if err == nil {
						ok++
						continue
					}
					wantCodes(t, err, shared+":"+shared+"_taken")
				}
				if ok != 1 {
					t.Fatalf("%d sign-ups succeeded, want exactly 1", ok)
				}
			})
		}
	})
}

func TestSignUpSurvivesMailFailure(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.mail.fail = errors.New("smtp: connection refused")
		u, err := e.svc.SignUp(ctx, account.SignUpInput{Email: "m@example.com", Password: "password-1", Nickname: "메일실패", Handle: "mailfail"})
		if err != nil {
			t.Fatalf("sign-up failed because the mail did: %v", err)
		}
		// Resend reports the failure: the user asked for it.
		if err := e.svc.ResendVerification(ctx, u.ID); err == nil {
			t.Fatal("resend hid a mail failure")
		}
		e.mail.fail = nil
		if err := e.svc.ResendVerification(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, token := e.mail.lastLink(t, "m@example.com")
		if _, err := e.svc.VerifyEmail(ctx, token); err != nil {
			t.Fatal(err)
		}
		// Verified users get no more verification mails.
		if err := e.svc.ResendVerification(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(e.mail.all()); n != 1 {
			t.Fatalf("%d mails, want 1", n)
		}
	})
}

func TestVerificationTokenExpires(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u := e.signUp(t, 1)
		_, token := e.mail.lastLink(t, u.Email)
		e.clock.Advance(24*time.Hour + time.Second)
		_, err := e.svc.VerifyEmail(ctx, token)
		wantErr(t, err, account.ErrInvalidToken)

		for _, bad := range []string{"", "garbage", strings.Repeat("A", 43), strings.Repeat("x", 10000)} {
			_, err := e.svc.VerifyEmail(ctx, bad)
			wantErr(t, err, account.ErrInvalidToken)
		}
		if err := e.svc.ResendVerification(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, fresh := e.mail.lastLink(t, u.Email)
		if fresh == token {
			t.Fatal("resend reused the old token")
		}
		if _, err := e.svc.VerifyEmail(ctx, fresh); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLogIn(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u := e.signUp(t, 1) // unverified: may still log in

		for _, c := range []struct{ email, pw string }{
			{"user1@example.com", "password-2"},
			{"user1@example.com", ""},
			{"nobody@example.com", "password-1"},
			{"not an address", "password-1"},
		} {
			_, _, _, err := e.svc.LogIn(ctx, c.email, c.pw, account.SessionMeta{})
			wantErr(t, err, account.ErrInvalidCredentials)
		}

		token, lu, sess, err := e.svc.LogIn(ctx, " USER1@example.com", "password-1", account.SessionMeta{UserAgent: "Mozilla/5.0 " + strings.Repeat("x", 1000), IP: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		if lu.ID != u.ID || lu.Verified() {
			t.Fatalf("logged in as %+v", lu)
		}
		if len(token) != 43 || sess.TokenHash != sha(token) || len(sess.CSRFSecret) < 43 || sess.CSRFSecret == token {
			t.Fatalf("session %+v for token %q", sess, token)
		}
		if len(sess.UserAgent) > 512 || sess.IP != "127.0.0.1" {
			t.Fatalf("session meta %q %q", sess.UserAgent, sess.IP)
		}
		if !sess.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
			t.Fatalf("expires %v", sess.ExpiresAt)
		}
		au, as, err := e.svc.Authenticate(ctx, token)
		if err != nil || au.ID != u.ID || as.CSRFSecret != sess.CSRFSecret {
			t.Fatalf("authenticate: %v %+v %+v", err, au, as)
		}
		// The stored key is the hash, never the token.
		if _, err := db.SessionByTokenHash(ctx, token, e.clock.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session found by raw token: %v", err)
		}
		if err := account.RequireVerified(au); !errors.Is(err, account.ErrNotVerified) {
			t.Fatalf("RequireVerified(unverified) = %v", err)
		}
	})
}

func TestSessionSlidingExpiryAndLogOut(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db) // SessionTTL 1 h
		e.signUp(t, 1)
		start := e.clock.Now()
		token, _, _, err := e.svc.LogIn(ctx, "user1@example.com", "password-1", account.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}

		e.clock.Advance(30 * time.Second)
		_, s, err := e.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if !s.LastSeenAt.Equal(start) {
			t.Fatalf("session touched after 30 s (last seen %v): should wait a minute", s.LastSeenAt)
		}

		e.clock.Advance(59 * time.Minute) // 59.5 min in: slides to 1 h from now
		_, s, err = e.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if !s.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
			t.Fatalf("expiry %v did not slide", s.ExpiresAt)
		}
		stored, err := db.SessionByTokenHash(ctx, sha(token), e.clock.Now())
		if err != nil || !stored.ExpiresAt.Equal(s.ExpiresAt) {
			t.Fatalf("slide not stored: %v %+v", err, stored)
		}

		e.clock.Advance(50 * time.Minute) // past the original expiry, inside the slid one
		if _, _, err := e.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("slid session refused: %v", err)
		}
		e.clock.Advance(time.Hour + time.Second) // idle longer than the TTL
		_, _, err = e.svc.Authenticate(ctx, token)
		wantErr(t, err, account.ErrUnauthenticated)

		// Log out ends a live session; twice is fine; junk tokens are refused.
		token2, _, _, err := e.svc.LogIn(ctx, "user1@example.com", "password-1", account.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.LogOut(ctx, token2); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.LogOut(ctx, token2); err != nil {
			t.Fatalf("second log-out: %v", err)
		}
		_, _, err = e.svc.Authenticate(ctx, token2)
		wantErr(t, err, account.ErrUnauthenticated)
		for _, junk := range []string{"", "x", strings.Repeat("y", 5000)} {
			_, _, err = e.svc.Authenticate(ctx, junk)
			wantErr(t, err, account.ErrUnauthenticated)
		}

		n, err := e.svc.PurgeExpired(ctx)
		if err != nil || n < 1 {
			t.Fatalf("purge removed %d rows, err %v; the expired session should go", n, err)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u := e.signUp(t, 1)
		before := len(e.mail.all())

		// Unknown addresses get the same nil answer and no mail.
		if err := e.svc.RequestPasswordReset(ctx, "nobody@example.com"); err != nil {
			t.Fatal(err)
		}
		if n := len(e.mail.all()); n != before {
			t.Fatalf("reset for unknown address sent mail")
		}
		wantCodes(t, e.svc.RequestPasswordReset(ctx, "nonsense"), "email:email_invalid")

		s1, _, _, err := e.svc.LogIn(ctx, u.Email, "password-1", account.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}
		s2, _, _, err := e.svc.LogIn(ctx, u.Email, "password-1", account.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}

		if err := e.svc.RequestPasswordReset(ctx, "USER1@example.com"); err != nil {
			t.Fatal(err)
		}
		base, token := e.mail.lastLink(t, u.Email)
		if base != "http://freely.test/reset" {
			t.Fatalf("reset link base %q", base)
		}
		if last := e.mail.all()[len(e.mail.all())-1]; !strings.Contains(last.Subject, "비밀번호") {
			t.Fatalf("reset subject %q", last.Subject)
		}

		// A too-short password is refused before the token is spent.
		wantCodes(t, e.svc.ResetPassword(ctx, token, "short"), "password:password_too_short")
		if err := e.svc.ResetPassword(ctx, token, "new password 1"); err != nil {
			t.Fatalf("reset with a good password after a refused one: %v", err)
		}
		for _, s := range []string{s1, s2} {
			_, _, err := e.svc.Authenticate(ctx, s)
			wantErr(t, err, account.ErrUnauthenticated)
		}
		_, _, _, err = e.svc.LogIn(ctx, u.Email, "password-1", account.SessionMeta{})
		wantErr(t, err, account.ErrInvalidCredentials)
		if _, _, _, err := e.svc.LogIn(ctx, u.Email, "new password 1", account.SessionMeta{}); err != nil {
			t.Fatalf("log-in with new password: %v", err)
		}
		// The reset link proved the inbox, so the address is verified now.
		if v, _ := e.svc.UserByID(ctx, u.ID); !v.Verified() {
			t.Error("reset did not verify the address")
		}

		wantErr(t, e.svc.ResetPassword(ctx, token, "another password"), account.ErrInvalidToken)

		// Expired reset links do nothing.
		if err := e.svc.RequestPasswordReset(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		_, late := e.mail.lastLink(t, u.Email)
		e.clock.Advance(time.Hour + time.Second)
		wantErr(t, e.svc.ResetPassword(ctx, late, "late password 1"), account.ErrInvalidToken)
		// A verification token is not a reset token.
		if err := e.svc.RequestPasswordReset(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		_, resetTok := e.mail.lastLink(t, u.Email)
		_, err = e.svc.VerifyEmail(ctx, resetTok)
		wantErr(t, err, account.ErrInvalidToken)
		if _, _, _, err := e.svc.LogIn(ctx, u.Email, "new password 1", account.SessionMeta{}); err != nil {
			t.Fatalf("password changed by an expired link: %v", err)
		}
	})
}

func TestResetMailFailureIsNotReported(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db)
		e.signUp(t, 1)
		e.mail.fail = errors.New("smtp down")
		if err := e.svc.RequestPasswordReset(context.Background(), "user1@example.com"); err != nil {
			t.Fatalf("reset for a known address reported %v; an unknown one reports nil", err)
		}
	})
}

func TestUpdateNickname(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u1, u2 := e.signUp(t, 1), e.signUp(t, 2)
		_, err := e.svc.UpdateNickname(ctx, u2.ID, "사용자1")
		wantCodes(t, err, "nickname:nickname_taken")
		_, err = e.svc.UpdateNickname(ctx, u2.ID, "운영자")
		wantCodes(t, err, "nickname:nickname_reserved")
		got, err := e.svc.UpdateNickname(ctx, u1.ID, "  새이름_1 ")
		if err != nil || got.Nickname != "새이름_1" {
			t.Fatalf("update: %v %+v", err, got)
		}
		byNick, err := db.UserByNickname(ctx, "새이름_1")
		if err != nil || byNick.ID != u1.ID {
			t.Fatalf("lookup by new nickname: %v", err)
		}
		// The freed nickname is available again.
		if _, err := e.svc.UpdateNickname(ctx, u2.ID, "사용자1"); err != nil {
			t.Fatalf("take freed nickname: %v", err)
		}
	})
}

func TestSetAvatar(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u := e.signUp(t, 1)
		if e.svc.AvatarURL(u) != "" {
			t.Fatal("new user has an avatar URL")
		}
		got, err := e.svc.SetAvatar(ctx, u.ID, strings.NewReader(pngBytes(t, 600, 400)))
		if err != nil {
			t.Fatal(err)
		}
		first := got.AvatarKey
		if !strings.HasPrefix(first, fmt.Sprintf("avatars/%d/", u.ID)) || !strings.HasSuffix(first, ".jpg") {
			t.Fatalf("avatar key %q", first)
		}
		if url := e.svc.AvatarURL(got); url != "/media/"+first {
			t.Fatalf("avatar URL %q", url)
		}
		if o, err := e.blob.Stat(ctx, first); err != nil || o.ContentType != "image/jpeg" {
			t.Fatalf("stored avatar %+v %v", o, err)
		}
		stored, _ := e.svc.UserByID(ctx, u.ID)
		if stored.AvatarKey != first {
			t.Fatalf("stored key %q", stored.AvatarKey)
		}

		second, err := e.svc.SetAvatar(ctx, u.ID, strings.NewReader(pngBytes(t, 300, 300)))
		if err != nil {
			t.Fatal(err)
		}
		if second.AvatarKey == first {
			t.Fatal("new avatar reused the old key: cached copies would go stale")
		}
		if objs, _ := e.blob.List(ctx, "avatars/"); len(objs) != 1 || objs[0].Key != second.AvatarKey {
			t.Fatalf("objects after replacing the avatar: %+v", objs)
		}

		_, err = e.svc.SetAvatar(ctx, u.ID, strings.NewReader("<svg onload=alert(1)>"))
		wantCodes(t, err, "avatar:image_type")
		if now, _ := e.svc.UserByID(ctx, u.ID); now.AvatarKey != second.AvatarKey {
			t.Fatal("refused upload changed the avatar")
		}
	})
}

func TestImportUser(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		hash, err := e.svc.HashPassword("demo-password")
		if err != nil {
			t.Fatal(err)
		}
		at := e.clock.Now()
		u, err := e.svc.ImportUser(ctx, account.SignUpInput{Email: "demo001@example.com", Nickname: "데모001", Handle: "demo_001"}, hash, at)
		if err != nil {
			t.Fatal(err)
		}
		if !u.Verified() || len(e.mail.all()) != 0 {
			t.Fatalf("imported user verified=%v, mails=%d", u.Verified(), len(e.mail.all()))
		}
		if _, _, _, err := e.svc.LogIn(ctx, "demo001@example.com", "demo-password", account.SessionMeta{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ImportUser(ctx, account.SignUpInput{Email: "x@example.com", Nickname: "엑스엑스", Handle: "xxx"}, "plain", at); err == nil {
			t.Fatal("import accepted a non-argon2 hash")
		}
		_, err = e.svc.ImportUser(ctx, account.SignUpInput{Email: "demo001@example.com", Nickname: "데모002", Handle: "demo_002"}, hash, at)
		wantCodes(t, err, "email:email_taken")
	})
}
