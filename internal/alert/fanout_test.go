package alert_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alerttest"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// checkOneEach fails unless every follower of channelID has exactly one alert for eventID
// and nobody else has one.
func checkOneEach(t *testing.T, e *env, channelID, eventID int64) {
	t.Helper()
	ctx := t.Context()
	followers, err := alerttest.FollowerIDs(ctx, e.db, channelID)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := alerttest.AlertCounts(ctx, e.db, eventID)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != len(followers) {
		t.Errorf("%d users alerted, %d followers", len(counts), len(followers))
	}
	missing := 0
	for _, id := range followers {
		if counts[id] != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d followers do not have exactly one alert", missing, len(followers))
	}
	if got := e.count(t, `SELECT fanout_alerts FROM alert_events WHERE id = ?`, eventID); got != len(followers) {
		t.Errorf("event records %d alerts written, want %d", got, len(followers))
	}
}

// Going live enqueues the fan-out in the session's transaction; River runs it and every
// follower gets one alert.
func TestWentLiveAlertsEveryFollowerOnce(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		_, ch, err := alerttest.NewStreamer(ctx, e.db, "golive")
		if err != nil {
			t.Fatal(err)
		}
		if err := alerttest.SeedFollowers(ctx, e.db, ch.ID, 2500, epoch); err != nil {
			t.Fatal(err)
		}
		w := e.startWorker(t, alert.FanOutOptions{BatchSize: 400})
		svc := e.service(t, w.queue)
		s, err := e.openSession(ctx, ch.ID, epoch, svc.OnLiveOpen)
		if err != nil {
			t.Fatal(err)
		}
		eventID := e.eventOf(t, s.ID)
		if eventID == 0 {
			t.Fatal("no went-live event stored with the session")
		}
		w.waitFanOut(t, eventID)
		checkOneEach(t, e, ch.ID, eventID)
	})
}

// A node stopped in the middle of a fan-out (its job's context cancelled between batches)
// leaves the committed batches and a retryable job; a fresh node resumes from the cursor and
// every follower ends with exactly one alert.
func TestFanOutSurvivesAStoppedWorker(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		_, ch, err := alerttest.NewStreamer(ctx, e.db, "interrupted")
		if err != nil {
			t.Fatal(err)
		}
		const followers, batch, stopAfter = 6000, 500, 3
		if err := alerttest.SeedFollowers(ctx, e.db, ch.ID, followers, epoch); err != nil {
			t.Fatal(err)
		}

		// The first node: after its third batch it waits for its job to be cancelled, the
		// way a batch is cut short when the process is told to stop at once.
		midway := make(chan struct{})
		first := e.startWorker(t, alert.FanOutOptions{
			BatchSize: batch,
			AfterBatch: func(jobCtx context.Context, _, written int64) {
				if written == stopAfter*batch {
					close(midway)
					<-jobCtx.Done()
				}
			},
		})
		svc := e.service(t, first.queue)
		s, err := e.openSession(ctx, ch.ID, epoch, svc.OnLiveOpen)
		if err != nil {
			t.Fatal(err)
		}
		eventID := e.eventOf(t, s.ID)
		select {
		case <-midway:
		case <-time.After(waitLimit):
			t.Fatal("fan-out never reached its third batch")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		first.stop(t, cancelled)

		written := e.count(t, `SELECT COUNT(*) FROM alerts WHERE event_id = ?`, eventID)
		if written != stopAfter*batch {
			t.Fatalf("after the stop %d alerts are committed, want the %d of the finished batches", written, stopAfter*batch)
		}
		if cursor := e.count(t, `SELECT fanout_cursor FROM alert_events WHERE id = ?`, eventID); cursor == 0 {
			t.Error("cursor not kept")
		}
		if done := e.count(t, `SELECT COUNT(*) FROM alert_events WHERE id = ? AND fanout_done_at IS NOT NULL`, eventID); done != 0 {
			t.Fatal("fan-out marked done after being stopped midway")
		}

		second := e.startWorker(t, alert.FanOutOptions{BatchSize: batch})
		second.waitFanOut(t, eventID)
		checkOneEach(t, e, ch.ID, eventID)
	})
}

// The went-live event and its job commit with the session or not at all.
func TestTransactionalEnqueue(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		_, ch, err := alerttest.NewStreamer(ctx, e.db, "atomic")
		if err != nil {
			t.Fatal(err)
		}
		if err := alerttest.SeedFollowers(ctx, e.db, ch.ID, 10, epoch); err != nil {
			t.Fatal(err)
		}
		w := e.startWorker(t, alert.FanOutOptions{})
		svc := e.service(t, w.queue)
		jobsOf := func() int {
			return e.count(t, `SELECT COUNT(*) FROM river_job WHERE kind = ?`, alert.FanOutArgs{}.Kind())
		}

		// Something after the alert hook fails: the session, the event and the job all
		// roll back.
		boom := errors.New("boom after the alert was enqueued")
		failing := func(ctx context.Context, tx bun.Tx, s *live.Session) error {
			if err := svc.OnLiveOpen(ctx, tx, s); err != nil {
				return err
			}
			return boom
		}
		if _, err := e.openSession(ctx, ch.ID, epoch, failing); !errors.Is(err, boom) {
			t.Fatalf("open with a failing hook: %v", err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM live_sessions WHERE channel_id = ?`, ch.ID); n != 0 {
			t.Errorf("%d sessions committed", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM alert_events WHERE channel_id = ?`, ch.ID); n != 0 {
			t.Errorf("%d alert events committed", n)
		}
		if n := jobsOf(); n != 0 {
			t.Errorf("%d fan-out jobs committed", n)
		}

		// The same open succeeding commits all three, and the rollback left no quiet
		// period behind.
		s, err := e.openSession(ctx, ch.ID, epoch.Add(time.Second), svc.OnLiveOpen)
		if err != nil {
			t.Fatal(err)
		}
		eventID := e.eventOf(t, s.ID)
		if eventID == 0 || jobsOf() != 1 {
			t.Fatalf("after a good open: event %d, %d jobs", eventID, jobsOf())
		}
		w.waitFanOut(t, eventID)
		checkOneEach(t, e, ch.ID, eventID)
	})
}

// A streamer who restarts again and again alerts followers at most once per quiet period.
func TestQuietPeriodAcrossSessions(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		_, ch, err := alerttest.NewStreamer(ctx, e.db, "restarts")
		if err != nil {
			t.Fatal(err)
		}
		if err := alerttest.SeedFollowers(ctx, e.db, ch.ID, 3, epoch); err != nil {
			t.Fatal(err)
		}
		w := e.startWorker(t, alert.FanOutOptions{})
		svc := e.service(t, w.queue)

		var alerted []int64
		for _, start := range []time.Duration{0, 2 * time.Minute, 7 * time.Minute, 10 * time.Minute, 12 * time.Minute} {
			s, err := e.openSession(ctx, ch.ID, epoch.Add(start), svc.OnLiveOpen)
			if err != nil {
				t.Fatal(err)
			}
			if id := e.eventOf(t, s.ID); id != 0 {
				alerted = append(alerted, id)
				w.waitFanOut(t, id)
			}
			if _, err := e.ls.CloseSession(ctx, s.ID, epoch.Add(start+time.Minute), 0); err != nil {
				t.Fatal(err)
			}
		}
		if len(alerted) != 2 {
			t.Fatalf("%d went-live alerts for sessions at 0, 2, 7, 10 and 12 min; want 2 (0 and 10)", len(alerted))
		}
		fans, err := alerttest.FollowerIDs(ctx, e.db, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range fans {
			if n := e.count(t, `SELECT COUNT(*) FROM alerts WHERE user_id = ?`, id); n != 2 {
				t.Errorf("follower %d has %d alerts, want 2", id, n)
			}
		}
	})
}

// A follower with the site open gets the alert pushed to every open page, and reading it in
// one page updates the others' bell; followers elsewhere and non-followers get nothing.
func TestRealTimeDelivery(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		_, ch, err := alerttest.NewStreamer(ctx, e.db, "pushy")
		if err != nil {
			t.Fatal(err)
		}
		if err := alerttest.SeedFollowers(ctx, e.db, ch.ID, 1200, epoch); err != nil {
			t.Fatal(err)
		}
		fans, err := alerttest.FollowerIDs(ctx, e.db, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		outsider, _, err := alerttest.NewStreamer(ctx, e.db, "outsider")
		if err != nil {
			t.Fatal(err)
		}

		hub := alert.NewHub(e.bus, alert.HubOptions{})
		if err := hub.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hub.Close() })
		online := fans[len(fans)-1] // in the last batch
		tab1, err := hub.Subscribe(ctx, online)
		if err != nil {
			t.Fatal(err)
		}
		tab2, err := hub.Subscribe(ctx, online)
		if err != nil {
			t.Fatal(err)
		}
		other, err := hub.Subscribe(ctx, outsider.ID)
		if err != nil {
			t.Fatal(err)
		}

		w := e.startWorker(t, alert.FanOutOptions{BatchSize: 500})
		svc := e.service(t, w.queue)
		s, err := e.openSession(ctx, ch.ID, epoch, svc.OnLiveOpen)
		if err != nil {
			t.Fatal(err)
		}
		eventID := e.eventOf(t, s.ID)
		for i, tab := range []*alert.Subscription{tab1, tab2} {
			p := receive(t, tab)
			if p.Type != alert.PushAlert || p.Alert == nil || p.Alert.ID != eventID || p.Alert.Kind != alert.KindWentLive ||
				p.Alert.ChannelHandle != "pushy" || p.Alert.Title != "오늘도 랭크" || p.Alert.SourceID != s.ID {
				t.Errorf("tab %d got %+v (alert %+v)", i+1, p, p.Alert)
			}
		}
		w.waitFanOut(t, eventID)
		if n := len(other.C()); n != 0 {
			t.Errorf("a non-follower received %d pushes", n)
		}

		unread, err := svc.MarkRead(ctx, online, eventID)
		if err != nil || unread != 0 {
			t.Fatalf("MarkRead = %d, %v", unread, err)
		}
		for i, tab := range []*alert.Subscription{tab1, tab2} {
			if p := receive(t, tab); p.Type != alert.PushUnread || p.Unread == nil || *p.Unread != 0 {
				t.Errorf("tab %d after reading got %+v", i+1, p)
			}
		}
		if delivered, dropped := hub.Stats(); delivered != 4 || dropped != 0 {
			t.Errorf("hub delivered %d, dropped %d; want 4, 0", delivered, dropped)
		}
	})
}

func receive(t *testing.T, sub *alert.Subscription) alert.Push {
	t.Helper()
	select {
	case p, ok := <-sub.C():
		if !ok {
			t.Fatal("subscription closed")
		}
		return p
	case <-time.After(waitLimit):
		t.Fatalf("nothing pushed within %s", waitLimit)
		return alert.Push{}
	}
}

// A rate cap spreads the fan-out out in time: 3,000 alerts at 10,000/s take at least the
// 0.2 s the batches before the last are paced to (the last batch is not waited for).
func TestFanOutPacing(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	ctx := t.Context()
	_, ch, err := alerttest.NewStreamer(ctx, db, "paced")
	if err != nil {
		t.Fatal(err)
	}
	if err := alerttest.SeedFollowers(ctx, db, ch.ID, 3000, epoch); err != nil {
		t.Fatal(err)
	}
	as := sqlstore.NewAlertStore(db)
	e := &alert.Event{Kind: alert.KindNotice, ChannelID: ch.ID, SourceID: 1, OccurredAt: epoch}
	if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := as.CreateEvent(ctx, tx, e, time.Time{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fan, err := alert.NewFanOut(alert.FanOutOptions{Store: as, BatchSize: 1000, MaxRate: 10000})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := fan.Run(ctx, e.ID)
	if err != nil || n != 3000 {
		t.Fatalf("Run = %d, %v", n, err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("3000 alerts at 10000/s took %v, want at least 200ms", took)
	}
}
