package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/alert/alerttest"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

var followEpoch = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

func streamer(t *testing.T, db *sqlstore.DB, handle string) (*account.User, *channel.Channel) {
	t.Helper()
	u, ch, err := alerttest.NewStreamer(context.Background(), db, handle)
	if err != nil {
		t.Fatal(err)
	}
	return u, ch
}

func followerCount(t *testing.T, fs *sqlstore.FollowStore, channelID int64) int64 {
	t.Helper()
	n, err := fs.FollowerCount(context.Background(), channelID)
	if err != nil {
		t.Fatalf("FollowerCount: %v", err)
	}
	return n
}

// countFollowRows counts the rows themselves, to check the maintained counter against.
func countFollowRows(t *testing.T, db *sqlstore.DB, channelID int64) int64 {
	t.Helper()
	var n int64
	if err := db.Bun().NewRaw(`SELECT COUNT(*) FROM follows WHERE channel_id = ?`, channelID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFollowStore(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		fs := sqlstore.NewFollowStore(db)
		_, chA := streamer(t, db, "chan_a")
		_, chB := streamer(t, db, "chan_b")
		fan, _ := streamer(t, db, "fan_one")

		if n := followerCount(t, fs, chA.ID); n != 0 {
			t.Fatalf("new channel has %d followers", n)
		}
		created, err := fs.AddFollow(ctx, fan.ID, chA.ID, followEpoch, 10)
		if err != nil || !created {
			t.Fatalf("first AddFollow = %v, %v; want created", created, err)
		}
		// Following again changes nothing, not even the time.
		created, err = fs.AddFollow(ctx, fan.ID, chA.ID, followEpoch.Add(time.Hour), 10)
		if err != nil || created {
			t.Fatalf("second AddFollow = %v, %v; want not created, no error", created, err)
		}
		if n := followerCount(t, fs, chA.ID); n != 1 {
			t.Errorf("follower count after a repeated follow = %d, want 1", n)
		}
		since, err := fs.FollowedSince(ctx, fan.ID, chA.ID)
		if err != nil || !since.Equal(followEpoch) {
			t.Errorf("FollowedSince = %v, %v; want %v", since, err, followEpoch)
		}
		if _, err := fs.FollowedSince(ctx, fan.ID, chB.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FollowedSince of an unfollowed channel: %v, want ErrNotFound", err)
		}
		if _, err := fs.AddFollow(ctx, fan.ID, 987654, followEpoch, 10); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("following a missing channel: %v, want ErrNotFound", err)
		}

		removed, err := fs.RemoveFollow(ctx, fan.ID, chA.ID)
		if err != nil || !removed {
			t.Fatalf("RemoveFollow = %v, %v", removed, err)
		}
		removed, err = fs.RemoveFollow(ctx, fan.ID, chA.ID)
		if err != nil || removed {
			t.Fatalf("second RemoveFollow = %v, %v; want nothing removed, no error", removed, err)
		}
		if n := followerCount(t, fs, chA.ID); n != 0 {
			t.Errorf("follower count after unfollow = %d, want 0", n)
		}

		// The per-user cap counts existing follows; re-following one you have is still fine.
		var chans []*channel.Channel
		for i := range 3 {
			_, ch := streamer(t, db, fmt.Sprintf("capped_%d", i))
			chans = append(chans, ch)
		}
		for _, ch := range chans[:2] {
			if _, err := fs.AddFollow(ctx, fan.ID, ch.ID, followEpoch, 2); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := fs.AddFollow(ctx, fan.ID, chans[2].ID, followEpoch, 2); !errors.Is(err, follow.ErrTooManyFollows) {
			t.Errorf("third follow with a cap of 2: %v, want ErrTooManyFollows", err)
		}
		if _, err := fs.AddFollow(ctx, fan.ID, chans[0].ID, followEpoch, 2); err != nil {
			t.Errorf("re-following at the cap: %v", err)
		}
	})
}

// Deletes cascaded from users and channels keep the counter exact: triggers maintain it,
// not the application.
func TestFollowCountFollowsCascades(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		fs := sqlstore.NewFollowStore(db)
		_, ch := streamer(t, db, "popular")
		_, other := streamer(t, db, "other")
		if err := alerttest.SeedFollowers(ctx, db, ch.ID, 50, followEpoch); err != nil {
			t.Fatal(err)
		}
		ids, err := alerttest.FollowerIDs(ctx, db, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := followerCount(t, fs, ch.ID); n != 50 || len(ids) != 50 {
			t.Fatalf("after seeding 50: counter %d, rows %d", n, len(ids))
		}
		if _, err := fs.AddFollow(ctx, ids[0], other.ID, followEpoch, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Bun().NewRaw(`DELETE FROM users WHERE id IN (?, ?, ?)`, ids[0], ids[1], ids[2]).Exec(ctx); err != nil {
			t.Fatalf("delete users: %v", err)
		}
		if n := followerCount(t, fs, ch.ID); n != 47 || countFollowRows(t, db, ch.ID) != 47 {
			t.Errorf("after deleting 3 followers: counter %d, rows %d; want 47", n, countFollowRows(t, db, ch.ID))
		}
		if n := followerCount(t, fs, other.ID); n != 0 {
			t.Errorf("other channel's counter after its only follower was deleted: %d", n)
		}
		// Deleting the channel takes its follows and its counter with it, without tripping
		// the counter's own foreign key.
		if _, err := db.Bun().NewRaw(`DELETE FROM channels WHERE id = ?`, ch.ID).Exec(ctx); err != nil {
			t.Fatalf("delete channel: %v", err)
		}
		if n := countFollowRows(t, db, ch.ID); n != 0 {
			t.Errorf("%d follows left of a deleted channel", n)
		}
		if n := followerCount(t, fs, ch.ID); n != 0 {
			t.Errorf("deleted channel still counts %d followers", n)
		}
	})
}

// Many users following and unfollowing one channel at once: every call succeeds, and the
// maintained counter equals the rows.
func TestFollowCountUnderConcurrency(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		fs := sqlstore.NewFollowStore(db)
		_, ch := streamer(t, db, "hot")
		if err := alerttest.SeedFollowers(ctx, db, ch.ID, 1, followEpoch); err != nil {
			t.Fatal(err)
		}
		// Users that do not follow yet: seed them on a scratch channel, then drop it.
		_, scratch := streamer(t, db, "scratch")
		if err := alerttest.SeedFollowers(ctx, db, scratch.ID, 24, followEpoch); err != nil {
			t.Fatal(err)
		}
		fans, err := alerttest.FollowerIDs(ctx, db, scratch.ID)
		if err != nil {
			t.Fatal(err)
		}

		var wg sync.WaitGroup
		errs := make(chan error, len(fans)*8)
		for i, id := range fans {
			wg.Go(func() {
				// Every user follows twice at once (a double click), some unfollow after.
				var inner sync.WaitGroup
				for range 2 {
					inner.Go(func() {
						if _, err := fs.AddFollow(ctx, id, ch.ID, followEpoch, follow.MaxFollows); err != nil {
							errs <- fmt.Errorf("follow by %d: %w", id, err)
						}
					})
				}
				inner.Wait()
				if i%3 == 0 {
					if _, err := fs.RemoveFollow(ctx, id, ch.ID); err != nil {
						errs <- fmt.Errorf("unfollow by %d: %w", id, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		want := int64(1 + len(fans) - (len(fans)+2)/3)
		if got, rows := followerCount(t, fs, ch.ID), countFollowRows(t, db, ch.ID); got != want || rows != want {
			t.Errorf("counter %d, rows %d; want %d", got, rows, want)
		}
	})
}

func TestFollowedChannelsLiveFirst(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		fs := sqlstore.NewFollowStore(db)
		ls := sqlstore.NewLiveStore(db)
		fan, _ := streamer(t, db, "viewer")
		var chans []*channel.Channel
		for i := range 4 {
			_, ch := streamer(t, db, fmt.Sprintf("show_%d", i))
			chans = append(chans, ch)
			// Followed in order 0..3, so newest follow first is 3, 2, 1, 0.
			if _, err := fs.AddFollow(ctx, fan.ID, ch.ID, followEpoch.Add(time.Duration(i)*time.Minute), 10); err != nil {
				t.Fatal(err)
			}
		}
		// Channels 1 and 2 are live; 1 started later.
		for _, c := range []struct {
			ch *channel.Channel
			at time.Time
		}{{chans[2], followEpoch.Add(time.Hour)}, {chans[1], followEpoch.Add(2 * time.Hour)}} {
			s := &live.Session{ChannelID: c.ch.ID, Title: "방송 중 " + c.ch.Handle, StartedAt: c.at, LastSeenAt: c.at}
			if err := ls.OpenSession(ctx, s, nil); err != nil {
				t.Fatal(err)
			}
		}
		// A suspended channel is not listed.
		if _, err := db.Bun().NewRaw(`UPDATE channels SET suspended = ? WHERE id = ?`, true, chans[0].ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		got, err := fs.FollowedChannels(ctx, fan.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, fc := range got {
			order = append(order, fc.Handle)
		}
		want := []string{"show_1", "show_2", "show_3"}
		if fmt.Sprint(order) != fmt.Sprint(want) {
			t.Fatalf("order %v, want %v", order, want)
		}
		if got[0].Live == nil || got[0].Live.Title != "방송 중 show_1" || !got[0].Live.StartedAt.Equal(followEpoch.Add(2*time.Hour)) {
			t.Errorf("live entry: %+v", got[0].Live)
		}
		if got[2].Live != nil {
			t.Errorf("offline channel listed as live: %+v", got[2].Live)
		}
		if !got[2].FollowedAt.Equal(followEpoch.Add(3 * time.Minute)) {
			t.Errorf("FollowedAt %v", got[2].FollowedAt)
		}
		if short, err := fs.FollowedChannels(ctx, fan.ID, 1); err != nil || len(short) != 1 || short[0].Handle != "show_1" {
			t.Errorf("limit 1: %+v, %v", short, err)
		}
	})
}
