// Package storetest is the conformance suite for the relational store: one body of tests
// that every database the store supports must pass (SQLite always, PostgreSQL in CI). It
// checks the contracts written on account.Store and channel.Store, not implementation
// details. It is for tests only.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// Opener returns a fresh, migrated, empty database owned by t (closed in t.Cleanup), or skips t.
type Opener func(t testing.TB) *sqlstore.DB

// Run runs the whole suite; every subtest opens its own database and runs in parallel.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *sqlstore.DB)
	}{
		{"CreateUserWithChannel", testCreateUserWithChannel},
		{"NotFound", testNotFound},
		{"SignUpConflicts", testSignUpConflicts},
		{"ConcurrentSignUps", testConcurrentSignUps},
		{"UpdateProfile", testUpdateProfile},
		{"SetPasswordHash", testSetPasswordHash},
		{"MarkEmailVerified", testMarkEmailVerified},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"UseTokenConcurrent", testUseTokenConcurrent},
		{"DeleteExpired", testDeleteExpired},
		{"UpsertCategories", testUpsertCategories},
		{"UpsertCategoriesConcurrent", testUpsertCategoriesConcurrent},
		{"UpdateChannel", testUpdateChannel},
		{"StreamKeyAndSuspension", testStreamKeyAndSuspension},
		{"ListChannels", testListChannels},
		{"EnsureTags", testEnsureTags},
		{"EnsureTagsConcurrent", testEnsureTagsConcurrent},
		{"ConcurrentWrites", testConcurrentWrites},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// epoch is a fixed, microsecond-precise instant for time fields the suite chooses itself.
var epoch = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

// signUp creates user n with its channel and fails the test on error.
func signUp(t testing.TB, db *sqlstore.DB, n int) (*account.User, *channel.Channel) {
	t.Helper()
	u, ch := newUser(n)
	if err := db.CreateUserWithChannel(context.Background(), u, ch); err != nil {
		t.Fatalf("sign up user %d: %v", n, err)
	}
	return u, ch
}

func newUser(n int) (*account.User, *channel.Channel) {
	u := &account.User{
		Email:        fmt.Sprintf("User%d@Example.com", n),
		Nickname:     fmt.Sprintf("시청자%d", n),
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
	}
	ch := &channel.Channel{
		Handle:      fmt.Sprintf("User_%d", n),
		DisplayName: fmt.Sprintf("시청자%d의 방송", n),
	}
	return u, ch
}

// seedCategories upserts channel.SeedCategories and returns them as stored, by slug.
func seedCategories(t testing.TB, db *sqlstore.DB) map[string]channel.Category {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		t.Fatalf("UpsertCategories: %v", err)
	}
	cats, err := db.Categories(ctx)
	if err != nil {
		t.Fatalf("Categories: %v", err)
	}
	out := make(map[string]channel.Category, len(cats))
	for _, c := range cats {
		out[c.Slug] = c
	}
	return out
}

func wantNotFound(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: got error %v, want store.ErrNotFound", what, err)
	}
}

func wantConflict(t testing.TB, what string, err error, field string) {
	t.Helper()
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("%s: got error %v, want store.ErrAlreadyExists", what, err)
		return
	}
	if got := store.ConflictField(err); got != field {
		t.Errorf("%s: conflict on field %q, want %q (error %v)", what, got, field, err)
	}
}

// race runs fn(i) for i in [0,n) in n goroutines released at the same moment and returns
// their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// countOutcomes splits errs into successes and conflicts on field; any other error fails t.
func countOutcomes(t testing.TB, what string, errs []error, field string) (ok, conflicts int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrAlreadyExists) && store.ConflictField(err) == field:
			conflicts++
		default:
			t.Errorf("%s: unexpected error %v", what, err)
		}
	}
	return ok, conflicts
}

// testConcurrentWrites checks that many writers at once all succeed (SQLite queues them on
// its write lock instead of failing with "database is locked").
func testConcurrentWrites(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	u, _ := signUp(t, db, 1)
	const writers, each = 16, 10
	var written atomic.Int64
	errs := race(writers, func(i int) error {
		for j := range each {
			s := &account.Session{
				TokenHash:  fmt.Sprintf("w%02d-%02d", i, j),
				UserID:     u.ID,
				CSRFSecret: "csrf",
				ExpiresAt:  epoch.Add(time.Hour),
			}
			if err := db.CreateSession(ctx, s); err != nil {
				return err
			}
			if err := db.TouchSession(ctx, s.TokenHash, epoch, epoch.Add(2*time.Hour)); err != nil {
				return err
			}
			// A read-modify-write transaction: the pattern that fails with SQLITE_BUSY
			// unless transactions take the write lock up front.
			if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				var n int
				if err := tx.NewSelect().Table("sessions").ColumnExpr("COUNT(*)").Scan(ctx, &n); err != nil {
					return err
				}
				_, err := tx.NewUpdate().Table("users").Set("avatar_key = ?", fmt.Sprint(n)).Where("id = ?", u.ID).Exec(ctx)
				return err
			}); err != nil {
				return err
			}
			written.Add(1)
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if got := written.Load(); got != writers*each {
		t.Errorf("%d write rounds finished, want %d", got, writers*each)
	}
	n, err := db.DeleteExpired(ctx, epoch.Add(3*time.Hour))
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if n != writers*each {
		t.Errorf("DeleteExpired removed %d sessions, want %d", n, writers*each)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
