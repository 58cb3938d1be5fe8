package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

func signUp(t *testing.T, db *sqlstore.DB, name string) (*account.User, *channel.Channel) {
	t.Helper()
	u := &account.User{Email: name + "@example.com", Nickname: name, PasswordHash: "h"}
	ch := &channel.Channel{Handle: name, DisplayName: name}
	if err := db.CreateUserWithChannel(context.Background(), u, ch); err != nil {
		t.Fatalf("sign up %s: %v", name, err)
	}
	return u, ch
}

// Store methods called with the context InTx hands to fn run in that transaction: they
// commit or roll back with it.
func TestInTxCarriesTransactionToStoreMethods(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		u, _ := signUp(t, db, "txuser")
		tok := &account.OneTimeToken{TokenHash: "verify-1", UserID: u.ID, Purpose: account.PurposeVerifyEmail, ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		errStop := errors.New("stop")

		// Spend the token and verify the address, then fail: both must be undone.
		err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := db.UseToken(ctx, "verify-1", account.PurposeVerifyEmail, time.Now()); err != nil {
				return err
			}
			if err := db.MarkEmailVerified(ctx, u.ID, time.Now()); err != nil {
				return err
			}
			// A nested InTx joins the same transaction.
			return db.InTx(ctx, func(ctx context.Context, _ bun.Tx) error {
				if got, err := db.UserByID(ctx, u.ID); err != nil || !got.Verified() {
					return errors.New("the transaction does not see its own write")
				}
				return errStop
			})
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("InTx returned %v, want the error of fn", err)
		}
		if got, err := db.UserByID(ctx, u.ID); err != nil || got.Verified() {
			t.Errorf("rolled-back verification persisted: %+v, %v", got, err)
		}

		// The same steps committed.
		err = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := db.UseToken(ctx, "verify-1", account.PurposeVerifyEmail, time.Now()); err != nil {
				return err
			}
			return db.MarkEmailVerified(ctx, u.ID, time.Now())
		})
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
		if got, err := db.UserByID(ctx, u.ID); err != nil || !got.Verified() {
			t.Errorf("committed verification missing: %+v, %v", got, err)
		}
		if _, err := db.UseToken(ctx, "verify-1", account.PurposeVerifyEmail, time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token usable after a committed use: %v", err)
		}

		// A panic in fn rolls back and propagates.
		func() {
			defer func() {
				if recover() == nil {
					t.Error("panic in fn was swallowed")
				}
			}()
			_ = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				if err := db.SetSuspended(ctx, 1, true); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		if ch, err := db.ChannelByOwner(ctx, u.ID); err != nil || ch.Suspended {
			t.Errorf("write before a panic persisted: %+v, %v", ch, err)
		}
	})
}

// Rows that cannot outlive their user go with it.
func TestDeleteUserCascades(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
			t.Fatal(err)
		}
		lol, err := db.CategoryBySlug(ctx, "league-of-legends")
		if err != nil {
			t.Fatal(err)
		}
		u, ch := signUp(t, db, "leaver")
		keep, _ := signUp(t, db, "stayer")
		ch.Categories = []channel.Category{*lol}
		if err := db.UpdateChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
		for _, uid := range []int64{u.ID, keep.ID} {
			if err := db.CreateSession(ctx, &account.Session{TokenHash: "s" + string(rune('a'+uid)), UserID: uid, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateToken(ctx, &account.OneTimeToken{TokenHash: "t" + string(rune('a'+uid)), UserID: uid, Purpose: account.PurposeVerifyEmail, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Bun().NewDelete().Table("users").Where("id = ?", u.ID).Exec(ctx); err != nil {
			t.Fatalf("delete user: %v", err)
		}
		for table, want := range map[string]int{"users": 1, "channels": 1, "sessions": 1, "one_time_tokens": 1, "channel_categories": 0} {
			var n int
			if err := db.Bun().NewSelect().Table(table).ColumnExpr("COUNT(*)").Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s: %d rows after deleting a user, want %d", table, n, want)
			}
		}
		if _, err := db.CategoryBySlug(ctx, "league-of-legends"); err != nil {
			t.Errorf("deleting a channel removed its category: %v", err)
		}
	})
}

// SQLite has no time type: times are text, and comparisons are text comparisons, which order
// correctly only if every value is UTC in one format. Check what lands on disk.
func TestSQLiteStoresUTCText(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	ctx := context.Background()
	kst := time.FixedZone("KST", 9*3600)
	u := &account.User{Email: "kst@example.com", Nickname: "서울", PasswordHash: "h", CreatedAt: time.Date(2026, 11, 25, 21, 0, 0, 0, kst)}
	if err := db.CreateUserWithChannel(ctx, u, &channel.Channel{Handle: "seoul", DisplayName: "서울"}); err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := db.SQL().QueryRowContext(ctx, "SELECT CAST(created_at AS TEXT) FROM users WHERE id = ?", u.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != "2026-11-25 12:00:00+00:00" {
		t.Errorf("created_at stored as %q, want UTC text 2026-11-25 12:00:00+00:00", raw)
	}

	// Sub-second expiries compare correctly although fractions have different lengths.
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i, exp := range []time.Duration{0, 100 * time.Millisecond, 123456 * time.Microsecond, 500 * time.Millisecond} {
		if err := db.CreateSession(ctx, &account.Session{TokenHash: "frac" + string(rune('0'+i)), UserID: u.ID, ExpiresAt: base.Add(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.DeleteExpired(ctx, base.Add(123456*time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("DeleteExpired at .123456 removed %d of expiries .0, .1, .123456, .5; want 3", n)
	}
	if _, err := db.SessionByTokenHash(ctx, "frac3", base.Add(499*time.Millisecond)); err != nil {
		t.Errorf("session expiring at .5 not found at .499: %v", err)
	}
	if !strings.HasSuffix(raw, "+00:00") {
		t.Errorf("stored time %q is not UTC", raw)
	}
}
