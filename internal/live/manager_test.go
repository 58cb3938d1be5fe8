package live_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

func TestAdmitRefusals(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		h := newHarness(t, db, nil)
		ctx := context.Background()
		good := h.streamer(true)
		unverified := h.streamer(false)
		suspended := h.streamer(true)
		if err := db.SetSuspended(ctx, suspended.ch.ID, true); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name string
			key  string
			want error
		}{
			{"missing key", "", live.ErrStreamKeyInvalid},
			{"unknown key", "live_" + strings.Repeat("A", 43), live.ErrStreamKeyInvalid},
			{"near key", good.key[:len(good.key)-1], live.ErrStreamKeyInvalid},
			{"key with a suffix", good.key + "x", live.ErrStreamKeyInvalid},
			{"oversized key", strings.Repeat("k", 10_000), live.ErrStreamKeyInvalid},
			{"unverified owner", unverified.key, live.ErrOwnerUnverified},
			{"suspended channel", suspended.key, live.ErrChannelSuspended},
		} {
			if p, err := h.m.Admit(ctx, tc.key, "203.0.113.9:1935"); !errors.Is(err, tc.want) || p != nil {
				t.Errorf("%s: Admit = %v, %v; want %v", tc.name, p, err, tc.want)
			}
		}

		first, err := h.connect(h.m, good.key)
		if err != nil {
			t.Fatalf("good key refused: %v", err)
		}
		if first.pub.Channel() != good.ch.Handle || first.pub.ChannelID() != good.ch.ID {
			t.Errorf("publication for %q/%d, want %q/%d", first.pub.Channel(), first.pub.ChannelID(), good.ch.Handle, good.ch.ID)
		}
		if _, err := h.m.Admit(ctx, good.key, "203.0.113.10:1935"); !errors.Is(err, live.ErrAlreadyPublishing) {
			t.Errorf("second publisher: %v, want ErrAlreadyPublishing", err)
		}
		first.drop()
		second, err := h.connect(h.m, good.key)
		if err != nil {
			t.Fatalf("publisher after the first left: %v", err)
		}
		second.drop()

		logs := h.logs.String()
		for _, key := range []string{good.key, unverified.key, suspended.key} {
			if strings.Contains(logs, key) || strings.Contains(logs, key[len(key)-20:]) {
				t.Fatal("a stream key appears in the log")
			}
		}
		for _, reason := range []string{"unknown stream key", "owner e-mail not verified", "channel suspended", "another publisher is connected", "malformed stream key"} {
			if !strings.Contains(logs, reason) {
				t.Errorf("refusal %q not logged", reason)
			}
		}
	})
}

func TestSessionSurvivesReconnectWithinGrace(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		h := newHarness(t, db, nil)
		ctx := context.Background()
		s := h.streamer(true)
		if _, err := h.m.SetStreamInfo(ctx, s.ch.ID, live.StreamInfoInput{
			Title: "  솔랭   다이아 가자 ", CategorySlug: "league-of-legends", Tags: []string{"#롤", "랭크", "롤"},
		}); err != nil {
			t.Fatal(err)
		}

		c := h.goLive(h.m, s.key)
		started := h.wantStarted()
		if started.ChannelID != s.ch.ID || started.Handle != s.ch.Handle || started.Title != "솔랭 다이아 가자" ||
			started.Category == nil || started.Category.Slug != "league-of-legends" || !slices.Equal(started.Tags, []string{"롤", "랭크"}) ||
			!started.StartedAt.Equal(t0) || started.V != 1 {
			t.Fatalf("live.started = %+v", started)
		}
		open, err := h.store.OpenSessionByChannel(ctx, s.ch.ID)
		if err != nil || open.ID != started.SessionID {
			t.Fatalf("open session %v, %v; want %d", open, err, started.SessionID)
		}

		// Live for 10 minutes, drop, come back 29 s later: same session, no new live.started.
		h.clock.Advance(10 * time.Minute)
		c.drop()
		leftAt := h.clock.Now()
		h.clock.Advance(grace - time.Second)
		h.noMediaEnded()
		if lc, ok := h.m.Live(s.ch.Handle); !ok || lc.SessionID != started.SessionID {
			t.Fatalf("during grace the channel should still be listed live: %+v %v", lc, ok)
		}
		c = h.goLive(h.m, s.key)
		if got, _ := h.store.OpenSessionByChannel(ctx, s.ch.ID); got.ID != started.SessionID {
			t.Fatalf("reconnect opened session %d, want %d continued", got.ID, started.SessionID)
		}
		// The old grace timer must not fire later.
		h.clock.Advance(5 * time.Minute)
		h.noMediaEnded()

		c.drop()
		leftAt = h.clock.Now()
		h.clock.Advance(grace)
		h.wantMediaEnded(s.ch.Handle)
		// The next event after live.started is live.ended: the reconnect sent no second
		// live.started.
		ended := h.wantEnded()
		if ended.SessionID != started.SessionID || !ended.EndedAt.Equal(leftAt) || !ended.StartedAt.Equal(t0) {
			t.Fatalf("live.ended = %+v, want session %d ended at %v", ended, started.SessionID, leftAt)
		}
		row, err := h.store.SessionByID(ctx, started.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		wantDur := leftAt.Sub(t0)
		if row.Open() || !row.EndedAt.Equal(leftAt) || row.Duration != wantDur || ended.DurationSeconds != int64(wantDur/time.Second) {
			t.Fatalf("stored session: ended %v duration %v; want %v and %v", row.EndedAt, row.Duration, leftAt, wantDur)
		}
		if _, ok := h.m.Live(s.ch.Handle); ok {
			t.Error("channel still listed live after its session ended")
		}
	})
}

func TestSessionEndsAfterGrace(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		h := newHarness(t, db, nil)
		ctx := context.Background()
		s := h.streamer(true)

		c := h.goLive(h.m, s.key)
		first := h.wantStarted()
		h.clock.Advance(42 * time.Second)
		c.drop()
		h.clock.Advance(grace)
		h.wantMediaEnded(s.ch.Handle)
		ended := h.wantEnded()
		if ended.SessionID != first.SessionID || !ended.EndedAt.Equal(t0.Add(42*time.Second)) || ended.DurationSeconds != 42 {
			t.Fatalf("live.ended = %+v", ended)
		}
		if _, err := h.store.OpenSessionByChannel(ctx, s.ch.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session still open after grace: %v", err)
		}

		// Coming back later is a new broadcast with its own live.started.
		h.clock.Advance(time.Minute)
		c = h.goLive(h.m, s.key)
		second := h.wantStarted()
		if second.SessionID == first.SessionID || !second.StartedAt.Equal(h.clock.Now()) {
			t.Fatalf("second broadcast: %+v", second)
		}
		c.drop()
	})
}

func TestPublisherWithoutKeyframe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sqltest.SQLite(t), nil)
	s := h.streamer(true)

	// Connected but never sent a keyframe: no session at all.
	c, err := h.connect(h.m, s.key)
	if err != nil {
		t.Fatal(err)
	}
	c.drop()
	if _, ok := h.m.Live(s.ch.Handle); ok {
		t.Fatal("a publisher that never started made the channel live")
	}

	// Live, drop, and a reconnect that stalls before its keyframe while the grace period
	// runs out: the session waits for it; when it gives up, the rest of the grace period
	// applies from the original departure.
	c = h.goLive(h.m, s.key)
	started := h.wantStarted()
	c.drop()
	leftAt := h.clock.Now()
	h.clock.Advance(20 * time.Second)
	stalled, err := h.connect(h.m, s.key)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	h.noMediaEnded()
	stalled.drop()
	h.clock.Advance(0)
	h.wantMediaEnded(s.ch.Handle)
	ended := h.wantEnded()
	if ended.SessionID != started.SessionID || !ended.EndedAt.Equal(leftAt) {
		t.Fatalf("live.ended = %+v, want end at the first departure %v", ended, leftAt)
	}
}

func TestStartedAfterEndedIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sqltest.SQLite(t), nil)
	s := h.streamer(true)
	c, err := h.connect(h.m, s.key)
	if err != nil {
		t.Fatal(err)
	}
	c.drop()
	c.pub.Ended() // a second call does nothing
	if err := c.pub.Started(context.Background()); !errors.Is(err, live.ErrPublicationEnded) {
		t.Fatalf("Started after Ended: %v", err)
	}
	if _, err := h.store.OpenSessionByChannel(context.Background(), s.ch.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session opened: %v", err)
	}
}

func TestOpenHookFailureRefusesTheStream(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		fail := true
		var hooked []int64
		h := newHarness(t, db, func(o *live.Options) {
			o.OnOpen = func(ctx context.Context, tx bun.Tx, s *live.Session) error {
				if fail {
					return errors.New("job queue down")
				}
				hooked = append(hooked, s.ID)
				return nil
			}
		})
		ctx := context.Background()
		s := h.streamer(true)
		c, err := h.connect(h.m, s.key)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.pub.Started(ctx); err == nil || !strings.Contains(err.Error(), "job queue down") {
			t.Fatalf("Started with a failing hook: %v", err)
		}
		c.drop()
		if _, err := h.store.OpenSessionByChannel(ctx, s.ch.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session committed despite the hook's error: %v", err)
		}
		if _, ok := h.m.Live(s.ch.Handle); ok {
			t.Fatal("channel listed live")
		}

		fail = false
		h.goLive(h.m, s.key)
		started := h.wantStarted() // the failed attempt published nothing
		if len(hooked) != 1 || hooked[0] != started.SessionID {
			t.Fatalf("hook saw sessions %v, want [%d]", hooked, started.SessionID)
		}
	})
}

func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		ctx := context.Background()
		h := newHarness(t, db, nil)
		stale, fresh, quiet := h.streamer(true), h.streamer(true), h.streamer(true)

		// A previous process opened three sessions and died: one last seen 5 minutes ago,
		// two 10 seconds ago.
		open := func(s streamer, started, seen time.Time) *live.Session {
			sess := &live.Session{ChannelID: s.ch.ID, Title: "이전 프로세스", StartedAt: started, LastSeenAt: seen}
			if err := h.store.OpenSession(ctx, sess, nil); err != nil {
				t.Fatal(err)
			}
			return sess
		}
		now := h.clock.Now()
		staleSess := open(stale, now.Add(-time.Hour), now.Add(-5*time.Minute))
		freshSess := open(fresh, now.Add(-2*time.Hour), now.Add(-10*time.Second))
		quietSess := open(quiet, now.Add(-3*time.Hour), now.Add(-10*time.Second))

		m := h.newManager(nil) // the restarted process

		ended := h.wantEnded()
		if ended.SessionID != staleSess.ID || !ended.EndedAt.Equal(now.Add(-5*time.Minute)) || ended.DurationSeconds != 55*60 {
			t.Fatalf("stale session: live.ended = %+v; want ended at its last-seen time", ended)
		}
		if got, _ := h.store.SessionByID(ctx, staleSess.ID); got.Open() || !got.EndedAt.Equal(now.Add(-5*time.Minute)) {
			t.Fatalf("stale session row: %+v", got)
		}
		for _, s := range []streamer{fresh, quiet} {
			if _, ok := m.Live(s.ch.Handle); !ok {
				t.Errorf("%s: recently seen session not listed live while it awaits its publisher", s.ch.Handle)
			}
		}

		// The fresh channel's encoder reconnects 15 s later: same session, no live.started.
		h.clock.Advance(15 * time.Second)
		c := h.goLive(m, fresh.key)
		if got, _ := h.store.OpenSessionByChannel(ctx, fresh.ch.ID); got.ID != freshSess.ID {
			t.Fatalf("reconnect after restart opened %d, want %d continued", got.ID, freshSess.ID)
		}

		// The quiet one never comes back: it ends 30 s after it was last seen, at that time.
		h.clock.Advance(5 * time.Second)
		h.wantMediaEnded(quiet.ch.Handle)
		ended = h.wantEnded()
		if ended.SessionID != quietSess.ID || !ended.EndedAt.Equal(now.Add(-10*time.Second)) {
			t.Fatalf("quiet session: live.ended = %+v", ended)
		}
		c.drop()
		h.clock.Advance(grace)
		if ended := h.wantEnded(); ended.SessionID != freshSess.ID {
			t.Fatalf("resumed session end: %+v", ended)
		}
	})
}

func TestRecoveryLeavesOtherNodesSessionsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, sqltest.SQLite(t), nil)
	s := h.streamer(true)
	h.goLive(h.m, s.key) // live on node A (h.m), which keeps heartbeating
	started := h.wantStarted()

	// Node B starts while A is live; B sees a fresh open session it does not run.
	h.clock.Advance(5 * time.Second)
	b := h.newManager(nil)
	if _, ok := b.Live(s.ch.Handle); !ok {
		t.Fatal("node B does not list the session found open")
	}
	// A's heartbeats keep the row fresh, so when B's wait runs out it must not close it.
	h.clock.Advance(2 * grace)
	got, err := h.store.OpenSessionByChannel(ctx, s.ch.ID)
	if err != nil || got.ID != started.SessionID {
		t.Fatalf("node B's recovery closed a session live on node A: %v %v", got, err)
	}
	if !got.LastSeenAt.After(t0.Add(grace)) {
		t.Fatalf("heartbeats did not move last_seen_at: %v", got.LastSeenAt)
	}
}

func TestCloseLeavesSessionsForARestart(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		ctx := context.Background()
		h := newHarness(t, db, nil)
		s := h.streamer(true)
		c := h.goLive(h.m, s.key)
		started := h.wantStarted()
		h.clock.Advance(3 * time.Minute)

		// A deploy: the process stops while the channel is live.
		if err := h.m.Close(); err != nil {
			t.Fatal(err)
		}
		c.drop() // the listener closes connections as it shuts down
		row, err := h.store.OpenSessionByChannel(ctx, s.ch.ID)
		if err != nil || !row.LastSeenAt.Equal(t0.Add(3*time.Minute)) {
			t.Fatalf("after Close: %+v %v; want open, last seen at close time", row, err)
		}
		if _, err := h.m.Admit(ctx, s.key, "x"); !errors.Is(err, live.ErrClosed) {
			t.Errorf("Admit after Close: %v", err)
		}

		// The new process is up 8 s later and OBS reconnects: the broadcast continues.
		h.clock.Advance(8 * time.Second)
		m2 := h.newManager(nil)
		h.clock.Advance(4 * time.Second)
		c = h.goLive(m2, s.key)
		if got, _ := h.store.OpenSessionByChannel(ctx, s.ch.ID); got.ID != started.SessionID {
			t.Fatalf("after restart session %d, want %d", got.ID, started.SessionID)
		}
		c.drop()
		h.clock.Advance(grace)
		if ended := h.wantEnded(); ended.SessionID != started.SessionID {
			t.Fatalf("expected the continued session to end, got %+v", ended)
		}
	})
}

func TestUnknownOpenRowAtFirstKeyframe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, sqltest.SQLite(t), nil)
	fresh, stale := h.streamer(true), h.streamer(true)
	now := h.clock.Now()
	// Rows opened behind the manager's back after it started (as another node would).
	freshRow := &live.Session{ChannelID: fresh.ch.ID, StartedAt: now.Add(-time.Hour), LastSeenAt: now.Add(-3 * time.Second)}
	staleRow := &live.Session{ChannelID: stale.ch.ID, StartedAt: now.Add(-time.Hour), LastSeenAt: now.Add(-time.Hour / 2)}
	for _, r := range []*live.Session{freshRow, staleRow} {
		if err := h.store.OpenSession(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}

	h.goLive(h.m, fresh.key)
	if got, _ := h.store.OpenSessionByChannel(ctx, fresh.ch.ID); got.ID != freshRow.ID || !got.LastSeenAt.Equal(now) {
		t.Fatalf("fresh unknown row not continued: %+v", got)
	}

	h.goLive(h.m, stale.key)
	ended := h.wantEnded()
	if ended.SessionID != staleRow.ID || !ended.EndedAt.Equal(now.Add(-time.Hour/2)) {
		t.Fatalf("stale row: %+v", ended)
	}
	started := h.wantStarted()
	if started.ChannelID != stale.ch.ID || started.SessionID == staleRow.ID {
		t.Fatalf("stale row should give way to a new session: %+v", started)
	}
}

func TestEndBroadcast(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		ctx := context.Background()
		h := newHarness(t, db, nil)
		s := h.streamer(true)
		if err := h.m.EndBroadcast(ctx, s.ch.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("EndBroadcast offline: %v, want ErrNotFound", err)
		}

		// An operator suspends the channel while it is live: the broadcast ends at once.
		c := h.goLive(h.m, s.key)
		started := h.wantStarted()
		h.clock.Advance(time.Minute)
		if err := db.SetSuspended(ctx, s.ch.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := h.m.EndBroadcast(ctx, s.ch.ID); err != nil {
			t.Fatal(err)
		}
		h.wantMediaEnded(s.ch.Handle)
		select {
		case <-c.hp.Done():
		default:
			t.Fatal("the hub did not evict the connected publisher")
		}
		ended := h.wantEnded()
		if ended.SessionID != started.SessionID || !ended.EndedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("live.ended = %+v", ended)
		}
		c.pub.Ended() // the listener notices the eviction
		h.clock.Advance(2 * grace)
		h.noMediaEnded()
		if _, err := h.m.Admit(ctx, s.key, "x"); !errors.Is(err, live.ErrChannelSuspended) {
			t.Fatalf("suspended channel admitted: %v", err)
		}
	})
}

func TestEndBroadcastFromAnotherNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, sqltest.SQLite(t), nil)
	s := h.streamer(true)
	c := h.goLive(h.m, s.key) // live on node A
	started := h.wantStarted()

	b := h.newManager(nil) // node B, where the operator's request lands
	h.clock.Advance(10 * time.Second)
	if err := b.EndBroadcast(ctx, s.ch.ID); err != nil {
		t.Fatal(err)
	}
	if ended := h.wantEnded(); ended.SessionID != started.SessionID || !ended.EndedAt.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("live.ended = %+v", ended)
	}
	// Node A hears it over the bus and tears its stream down, evicting the publisher.
	h.wantMediaEnded(s.ch.Handle)
	<-c.hp.Done()
	c.pub.Ended()
	if _, ok := h.m.Live(s.ch.Handle); ok {
		t.Fatal("node A still lists the ended broadcast")
	}
}
