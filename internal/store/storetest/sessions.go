package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

func testSessions(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	u, _ := signUp(t, db, 1)
	s := &account.Session{
		TokenHash:  "a3f1c2",
		UserID:     u.ID,
		CSRFSecret: "csrf-secret",
		CreatedAt:  epoch,
		LastSeenAt: epoch,
		ExpiresAt:  epoch.Add(time.Hour),
		UserAgent:  "Mozilla/5.0 (OBS)",
		IP:         "203.0.113.7",
	}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, err := db.SessionByTokenHash(ctx, s.TokenHash, epoch.Add(time.Minute))
	if err != nil {
		t.Fatalf("SessionByTokenHash: %v", err)
	}
	if *got != *s {
		t.Errorf("SessionByTokenHash returned\n %+v\nwant\n %+v", *got, *s)
	}

	dup := *s
	wantConflict(t, "CreateSession with a used token hash", db.CreateSession(ctx, &dup), "session")

	// Expired at and after ExpiresAt.
	_, err = db.SessionByTokenHash(ctx, s.TokenHash, s.ExpiresAt)
	wantNotFound(t, "session at its expiry", err)
	_, err = db.SessionByTokenHash(ctx, s.TokenHash, s.ExpiresAt.Add(time.Second))
	wantNotFound(t, "session after its expiry", err)

	// Sliding expiry moves both times forward.
	seen, newExpiry := epoch.Add(30*time.Minute), epoch.Add(3*time.Hour)
	if err := db.TouchSession(ctx, s.TokenHash, seen, newExpiry); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	got, err = db.SessionByTokenHash(ctx, s.TokenHash, epoch.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("session after touch: %v", err)
	}
	if !got.LastSeenAt.Equal(seen) || !got.ExpiresAt.Equal(newExpiry) || !got.CreatedAt.Equal(epoch) {
		t.Errorf("after touch: last seen %v expires %v created %v", got.LastSeenAt, got.ExpiresAt, got.CreatedAt)
	}

	// An expired session cannot be revived by touching it.
	wantNotFound(t, "TouchSession on an expired session",
		db.TouchSession(ctx, s.TokenHash, newExpiry.Add(time.Second), newExpiry.Add(time.Hour)))

	// Deleting is idempotent.
	if err := db.DeleteSession(ctx, s.TokenHash); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	_, err = db.SessionByTokenHash(ctx, s.TokenHash, epoch)
	wantNotFound(t, "deleted session", err)
	if err := db.DeleteSession(ctx, s.TokenHash); err != nil {
		t.Errorf("DeleteSession twice: %v", err)
	}

	// Zero CreatedAt/LastSeenAt are filled in.
	s2 := &account.Session{TokenHash: "b4", UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateSession(ctx, s2); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if s2.CreatedAt.IsZero() || s2.LastSeenAt.IsZero() {
		t.Errorf("times not filled in: %+v", s2)
	}
	if err := db.CreateSession(ctx, &account.Session{TokenHash: "", UserID: u.ID, ExpiresAt: epoch}); err == nil {
		t.Error("CreateSession accepted an empty token hash")
	}
}

func testTokens(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	u, _ := signUp(t, db, 1)
	tok := &account.OneTimeToken{
		TokenHash: "tok1",
		UserID:    u.ID,
		Purpose:   account.PurposeVerifyEmail,
		CreatedAt: epoch,
		ExpiresAt: epoch.Add(24 * time.Hour),
	}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	wantConflict(t, "CreateToken with a used hash", db.CreateToken(ctx, &account.OneTimeToken{
		TokenHash: "tok1", UserID: u.ID, Purpose: account.PurposeResetPassword, ExpiresAt: epoch.Add(time.Hour),
	}), "token")

	_, err := db.UseToken(ctx, "tok1", account.PurposeResetPassword, epoch)
	wantNotFound(t, "UseToken with the wrong purpose", err)
	_, err = db.UseToken(ctx, "tok1", account.PurposeVerifyEmail, tok.ExpiresAt)
	wantNotFound(t, "UseToken at expiry", err)

	usedAt := epoch.Add(time.Hour)
	got, err := db.UseToken(ctx, "tok1", account.PurposeVerifyEmail, usedAt)
	if err != nil {
		t.Fatalf("UseToken: %v", err)
	}
	want := *tok
	want.UsedAt = usedAt
	if *got != want {
		t.Errorf("UseToken returned\n %+v\nwant\n %+v", *got, want)
	}
	_, err = db.UseToken(ctx, "tok1", account.PurposeVerifyEmail, usedAt)
	wantNotFound(t, "UseToken a second time", err)

	for name, bad := range map[string]*account.OneTimeToken{
		"no hash":    {UserID: u.ID, Purpose: account.PurposeVerifyEmail, ExpiresAt: epoch},
		"no purpose": {TokenHash: "x", UserID: u.ID, ExpiresAt: epoch},
		"no expiry":  {TokenHash: "y", UserID: u.ID, Purpose: account.PurposeVerifyEmail},
	} {
		if err := db.CreateToken(ctx, bad); err == nil {
			t.Errorf("CreateToken with %s accepted", name)
		}
	}
}

func testUseTokenConcurrent(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	u, _ := signUp(t, db, 1)
	for round := range 3 {
		hash := fmt.Sprintf("reset-%d", round)
		if err := db.CreateToken(ctx, &account.OneTimeToken{
			TokenHash: hash, UserID: u.ID, Purpose: account.PurposeResetPassword, ExpiresAt: epoch.Add(time.Hour),
		}); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		const n = 10
		errs := race(n, func(int) error {
			_, err := db.UseToken(ctx, hash, account.PurposeResetPassword, epoch)
			return err
		})
		ok, notFound := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case isNotFound(err):
				notFound++
			default:
				t.Errorf("UseToken: unexpected error %v", err)
			}
		}
		if ok != 1 || notFound != n-1 {
			t.Errorf("round %d: %d concurrent UseToken calls succeeded, %d found nothing; want 1 and %d", round, ok, notFound, n-1)
		}
	}
}

func testDeleteExpired(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	u, _ := signUp(t, db, 1)
	now := epoch
	for i, exp := range []time.Duration{-time.Hour, -time.Second, 0, time.Second, time.Hour} {
		if err := db.CreateSession(ctx, &account.Session{
			TokenHash: fmt.Sprintf("s%d", i), UserID: u.ID, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(exp),
		}); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if err := db.CreateToken(ctx, &account.OneTimeToken{
			TokenHash: fmt.Sprintf("t%d", i), UserID: u.ID, Purpose: account.PurposeVerifyEmail, ExpiresAt: now.Add(exp),
		}); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
	}
	n, err := db.DeleteExpired(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	// -1h, -1s and the one expiring exactly now, for sessions and tokens.
	if n != 6 {
		t.Errorf("DeleteExpired removed %d rows, want 6", n)
	}
	for i, alive := range []bool{false, false, false, true, true} {
		var count int
		if err := db.Bun().NewSelect().Table("sessions").ColumnExpr("COUNT(*)").
			Where("token_hash = ?", fmt.Sprintf("s%d", i)).Scan(ctx, &count); err != nil {
			t.Fatal(err)
		}
		if (count == 1) != alive {
			t.Errorf("session s%d: present=%t, want %t", i, count == 1, alive)
		}
		_, err := db.UseToken(ctx, fmt.Sprintf("t%d", i), account.PurposeVerifyEmail, now.Add(-3*time.Hour))
		if alive && err != nil {
			t.Errorf("token t%d should remain: %v", i, err)
		}
		if !alive && !isNotFound(err) {
			t.Errorf("token t%d should be gone, UseToken said %v", i, err)
		}
	}
	n, err = db.DeleteExpired(ctx, now)
	if err != nil || n != 0 {
		t.Errorf("second DeleteExpired: %d rows, %v; want 0, nil", n, err)
	}
}
