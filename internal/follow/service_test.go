package follow_test

import (
	"errors"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/alert/alerttest"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

func TestService(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		svc, err := follow.NewService(follow.Options{
			Store:    sqlstore.NewFollowStore(db),
			Channels: db,
			Now:      func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		owner, ch, err := alerttest.NewStreamer(ctx, db, "streamer")
		if err != nil {
			t.Fatal(err)
		}
		fan, _, err := alerttest.NewStreamer(ctx, db, "fan")
		if err != nil {
			t.Fatal(err)
		}

		st, err := svc.Follow(ctx, fan.ID, ch.ID)
		if err != nil || !st.Following || st.Followers != 1 || !st.Since.Equal(now) {
			t.Fatalf("Follow = %+v, %v", st, err)
		}
		now = now.Add(time.Hour)
		if st, err = svc.Follow(ctx, fan.ID, ch.ID); err != nil || st.Followers != 1 || !st.Since.Equal(now.Add(-time.Hour)) {
			t.Errorf("second Follow = %+v, %v; want unchanged", st, err)
		}

		since, following, err := svc.FollowedSince(ctx, fan.ID, ch.ID)
		if err != nil || !following || !follow.FollowedLongEnough(since, now, time.Hour) || follow.FollowedLongEnough(since, now, 61*time.Minute) {
			t.Errorf("FollowedSince = %v, %v, %v", since, following, err)
		}
		if _, following, err := svc.FollowedSince(ctx, owner.ID, ch.ID); err != nil || following {
			t.Errorf("owner follows own channel? %v, %v", following, err)
		}

		if _, err := svc.Follow(ctx, owner.ID, ch.ID); !errors.Is(err, follow.ErrOwnChannel) {
			t.Errorf("following your own channel: %v", err)
		}
		if _, err := svc.Follow(ctx, fan.ID, 424242); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("following a missing channel: %v", err)
		}
		if _, err := svc.Follow(ctx, 0, ch.ID); !errors.Is(err, follow.ErrNoUser) {
			t.Errorf("anonymous follow: %v", err)
		}
		if anon, err := svc.Status(ctx, 0, ch.ID); err != nil || anon.Following || anon.Followers != 1 {
			t.Errorf("anonymous status = %+v, %v", anon, err)
		}

		_, sus, err := alerttest.NewStreamer(ctx, db, "suspended")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Bun().NewRaw(`UPDATE channels SET suspended = ? WHERE id = ?`, true, sus.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Follow(ctx, fan.ID, sus.ID); !errors.Is(err, follow.ErrChannelSuspended) {
			t.Errorf("following a suspended channel: %v", err)
		}

		list, err := svc.FollowedChannels(ctx, fan.ID, 0)
		if err != nil || len(list) != 1 || list[0].Handle != "streamer" || list[0].Live != nil {
			t.Errorf("FollowedChannels = %+v, %v", list, err)
		}

		for range 2 {
			if st, err = svc.Unfollow(ctx, fan.ID, ch.ID); err != nil || st.Following || st.Followers != 0 {
				t.Errorf("Unfollow = %+v, %v", st, err)
			}
		}
	})
}

func TestFollowedLongEnough(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		since  time.Time
		minAge time.Duration
		want   bool
	}{
		{time.Time{}, 0, false},
		{now, 0, true},
		{now.Add(-10 * time.Minute), 10 * time.Minute, true},
		{now.Add(-10*time.Minute + time.Nanosecond), 10 * time.Minute, false},
		{now.Add(time.Minute), 0, false}, // a follow dated in the future is not old enough yet
	} {
		if got := follow.FollowedLongEnough(c.since, now, c.minAge); got != c.want {
			t.Errorf("FollowedLongEnough(%v, %v) = %v, want %v", c.since, c.minAge, got, c.want)
		}
	}
}
