package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alerttest"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

func createEvent(t *testing.T, db *sqlstore.DB, as *sqlstore.AlertStore, e *alert.Event, quietAfter time.Time) alert.Outcome {
	t.Helper()
	var out alert.Outcome
	err := db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = as.CreateEvent(ctx, tx, e, quietAfter)
		return err
	})
	if err != nil {
		t.Fatalf("CreateEvent(%+v): %v", e, err)
	}
	return out
}

func TestAlertEventsQuietPeriod(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		as := sqlstore.NewAlertStore(db)
		_, ch := streamer(t, db, "restarter")
		quiet := 10 * time.Minute
		wentLive := func(session int64, at time.Time) (*alert.Event, alert.Outcome) {
			e := &alert.Event{Kind: alert.KindWentLive, ChannelID: ch.ID, SourceID: session, Title: "방송", OccurredAt: at}
			return e, createEvent(t, db, as, e, at.Add(-quiet))
		}

		first, out := wentLive(1, followEpoch)
		if out != alert.Created || first.ID == 0 {
			t.Fatalf("first went-live: %v, id %d", out, first.ID)
		}
		// The same session again (a retried transaction) finds the stored event.
		again, out := wentLive(1, followEpoch)
		if out != alert.Existing || again.ID != first.ID || !again.OccurredAt.Equal(followEpoch) {
			t.Errorf("same session again: %v, %+v", out, again)
		}
		// Restarts within ten minutes of the alerted start are quiet.
		for i, after := range []time.Duration{time.Minute, 9*time.Minute + 59*time.Second} {
			if _, out := wentLive(int64(2+i), followEpoch.Add(after)); out != alert.Suppressed {
				t.Errorf("restart %v later: %v, want Suppressed", after, out)
			}
		}
		// Ten minutes after the last alert the channel may alert again; the window counts
		// from alerted events only, so the suppressed restarts do not extend it.
		if _, out := wentLive(4, followEpoch.Add(quiet)); out != alert.Created {
			t.Errorf("restart after the quiet period: %v, want Created", out)
		}
		// Notices have no quiet period and do not count against went-live alerts.
		for i := range 2 {
			n := &alert.Event{Kind: alert.KindNotice, ChannelID: ch.ID, SourceID: int64(100 + i), Title: "공지", OccurredAt: followEpoch.Add(quiet)}
			if out := createEvent(t, db, as, n, time.Time{}); out != alert.Created {
				t.Errorf("notice %d: %v", i, out)
			}
		}

		err := db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			_, err := as.CreateEvent(ctx, tx, &alert.Event{Kind: alert.KindWentLive, ChannelID: 987654, SourceID: 9, OccurredAt: followEpoch}, time.Time{})
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("event of a missing channel: %v, want ErrNotFound", err)
		}
	})
}

// The fan-out batches walk every follower once, keep their cursor, and a batch re-run from a
// lost cursor writes nothing twice.
func TestAlertFanOutBatches(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		as := sqlstore.NewAlertStore(db)
		_, ch := streamer(t, db, "fanned")
		_, other := streamer(t, db, "bystander")
		const followers = 1234
		if err := alerttest.SeedFollowers(ctx, db, ch.ID, followers, followEpoch); err != nil {
			t.Fatal(err)
		}
		if err := alerttest.SeedFollowers(ctx, db, other.ID, 10, followEpoch); err != nil {
			t.Fatal(err)
		}
		want, err := alerttest.FollowerIDs(ctx, db, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		e := &alert.Event{Kind: alert.KindWentLive, ChannelID: ch.ID, SourceID: 77, Title: "롤 랭크", OccurredAt: followEpoch}
		createEvent(t, db, as, e, time.Time{})

		var got []int64
		batches := 0
		for {
			b, err := as.FanOutBatch(ctx, e.ID, 100, followEpoch)
			if err != nil {
				t.Fatal(err)
			}
			batches++
			if !slices.IsSorted(b.Recipients) {
				t.Errorf("batch %d recipients not sorted", batches)
			}
			if len(b.Recipients) > 100 {
				t.Errorf("batch %d has %d recipients", batches, len(b.Recipients))
			}
			got = append(got, b.Recipients...)
			if b.Done {
				break
			}
			if batches > 20 {
				t.Fatal("fan-out does not finish")
			}
		}
		if batches != 13 {
			t.Errorf("%d batches of 100 for %d followers, want 13", batches, followers)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("recipients differ from followers: %d vs %d", len(got), len(want))
		}
		checkOneEach(t, db, e.ID, want)

		// Finished: another call does nothing.
		b, err := as.FanOutBatch(ctx, e.ID, 100, followEpoch)
		if err != nil || !b.Done || len(b.Recipients) != 0 {
			t.Errorf("after done: %+v, %v", b, err)
		}

		// A worker that lost its place starts over; the unique key turns every insert into
		// a no-op and nobody is pushed again.
		if _, err := db.Bun().NewRaw(`UPDATE alert_events SET fanout_cursor = 0, fanout_done_at = NULL WHERE id = ?`, e.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for {
			b, err := as.FanOutBatch(ctx, e.ID, 500, followEpoch)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Recipients) != 0 {
				t.Errorf("re-run batch alerted %d users again", len(b.Recipients))
			}
			if b.Done {
				break
			}
		}
		checkOneEach(t, db, e.ID, want)

		// A cancelled batch commits nothing.
		e2 := &alert.Event{Kind: alert.KindNotice, ChannelID: ch.ID, SourceID: 5, OccurredAt: followEpoch}
		createEvent(t, db, as, e2, time.Time{})
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := as.FanOutBatch(cancelled, e2.ID, 100, followEpoch); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled batch: %v", err)
		}
		if counts, err := alerttest.AlertCounts(ctx, db, e2.ID); err != nil || len(counts) != 0 {
			t.Errorf("cancelled batch left %d alerts (%v)", len(counts), err)
		}

		// An event whose channel is gone is done at once.
		b, err = as.FanOutBatch(ctx, 424242, 100, followEpoch)
		if err != nil || !b.Done {
			t.Errorf("missing event: %+v, %v", b, err)
		}
	})
}

// checkOneEach fails unless every user in want has exactly one alert for eventID and
// nobody else has any.
func checkOneEach(t *testing.T, db *sqlstore.DB, eventID int64, want []int64) {
	t.Helper()
	counts, err := alerttest.AlertCounts(context.Background(), db, eventID)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != len(want) {
		t.Errorf("%d users alerted, want %d", len(counts), len(want))
	}
	for _, id := range want {
		if counts[id] != 1 {
			t.Errorf("user %d has %d alerts for event %d, want 1", id, counts[id], eventID)
			return
		}
	}
}

func TestAlertBell(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		as := sqlstore.NewAlertStore(db)
		_, chA := streamer(t, db, "bell_a")
		_, chB := streamer(t, db, "bell_b")
		fan, _ := streamer(t, db, "bell_fan")
		stranger, _ := streamer(t, db, "bell_stranger")
		fs := sqlstore.NewFollowStore(db)
		for _, ch := range []int64{chA.ID, chB.ID} {
			if _, err := fs.AddFollow(ctx, fan.ID, ch, followEpoch, 10); err != nil {
				t.Fatal(err)
			}
		}
		var events []*alert.Event
		for i, ch := range []int64{chA.ID, chB.ID, chA.ID} {
			e := &alert.Event{Kind: alert.KindNotice, ChannelID: ch, SourceID: int64(i + 1), Title: "공지 <b>", OccurredAt: followEpoch.Add(time.Duration(i) * time.Minute)}
			createEvent(t, db, as, e, time.Time{})
			for {
				b, err := as.FanOutBatch(ctx, e.ID, 10, followEpoch)
				if err != nil {
					t.Fatal(err)
				}
				if b.Done {
					break
				}
			}
			events = append(events, e)
		}

		unread := func(max int) int {
			t.Helper()
			n, err := as.UnreadCount(ctx, fan.ID, max)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := unread(100); n != 3 {
			t.Fatalf("unread %d, want 3", n)
		}
		if n := unread(2); n != 2 {
			t.Errorf("unread capped at 2: %d", n)
		}
		list, err := as.Alerts(ctx, fan.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || list[0].ID != events[2].ID || list[2].ID != events[0].ID {
			t.Fatalf("list not newest first: %+v", list)
		}
		if a := list[1]; a.Channel.Handle != "bell_b" || a.Title != "공지 <b>" || !a.Unread() || !a.OccurredAt.Equal(events[1].OccurredAt) {
			t.Errorf("alert fields: %+v", a)
		}
		page2, err := as.Alerts(ctx, fan.ID, list[1].ID, 10)
		if err != nil || len(page2) != 1 || page2[0].ID != events[0].ID {
			t.Errorf("second page: %+v, %v", page2, err)
		}

		if err := as.MarkRead(ctx, fan.ID, events[1].ID, followEpoch); err != nil {
			t.Fatal(err)
		}
		if err := as.MarkRead(ctx, fan.ID, events[1].ID, followEpoch.Add(time.Hour)); err != nil {
			t.Errorf("reading a read alert: %v", err)
		}
		if n := unread(100); n != 2 {
			t.Errorf("unread after one read: %d", n)
		}
		list, _ = as.Alerts(ctx, fan.ID, 0, 10)
		if !list[1].ReadAt.Equal(followEpoch) {
			t.Errorf("read_at %v, want the first read %v", list[1].ReadAt, followEpoch)
		}
		// Someone else's alert id is not found for this user, and stays unread for its owner.
		if err := as.MarkRead(ctx, stranger.ID, events[0].ID, followEpoch); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("marking another user's alert: %v, want ErrNotFound", err)
		}
		n, err := as.MarkAllRead(ctx, fan.ID, followEpoch)
		if err != nil || n != 2 {
			t.Errorf("MarkAllRead = %d, %v; want 2", n, err)
		}
		if n := unread(100); n != 0 {
			t.Errorf("unread after all read: %d", n)
		}

		// Alerts of a deleted channel vanish from the bell; a deleted user's alerts go.
		if _, err := db.Bun().NewRaw(`UPDATE alerts SET read_at = NULL WHERE user_id = ?`, fan.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Bun().NewRaw(`DELETE FROM channels WHERE id = ?`, chB.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n := unread(100); n != 2 {
			t.Errorf("unread after a channel was deleted: %d, want 2", n)
		}
		if list, _ := as.Alerts(ctx, fan.ID, 0, 10); len(list) != 2 {
			t.Errorf("list after a channel was deleted: %d alerts", len(list))
		}
		if _, err := db.Bun().NewRaw(`DELETE FROM users WHERE id = ?`, fan.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := db.Bun().NewRaw(`SELECT COUNT(*) FROM alerts WHERE user_id = ?`, fan.ID).Scan(ctx, &left); err != nil || left != 0 {
			t.Errorf("%d alerts left of a deleted user (%v)", left, err)
		}
	})
}
