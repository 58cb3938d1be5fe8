package chat_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/protocol"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// countingFollows counts the follow look-ups the hub makes.
type countingFollows struct {
	inner chat.Follows
	calls atomic.Int64
}

func (f *countingFollows) FollowedSince(ctx context.Context, userID, channelID int64) (time.Time, bool, error) {
	f.calls.Add(1)
	return f.inner.FollowedSince(ctx, userID, channelID)
}

func (w *world) followService(t *testing.T) *follow.Service {
	t.Helper()
	fs, err := follow.NewService(follow.Options{Store: sqlstore.NewFollowStore(w.db), Channels: w.db, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func durp(d time.Duration) *time.Duration { return &d }

// Setting the minimum follow age: who may, which values, and what a refusal leaves behind.
func TestMinFollowAgeSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		actor func(w *world) *account.User
		age   time.Duration
		want  chat.Code
	}{
		{"anonymous", func(*world) *account.User { return nil }, 10 * time.Minute, chat.CodeNotLoggedIn},
		{"user", func(w *world) *account.User { return w.user }, 10 * time.Minute, chat.CodeForbidden},
		{"unverified user", func(w *world) *account.User { return w.unverified }, 10 * time.Minute, chat.CodeForbidden},
		{"manager", func(w *world) *account.User { return w.manager }, 10 * time.Minute, ""},
		{"owner", func(w *world) *account.User { return w.owner }, time.Hour, ""},
		{"admin", func(w *world) *account.User { return w.admin }, 7 * 24 * time.Hour, ""},
		{"zero", func(w *world) *account.User { return w.manager }, 0, ""}, // already 0: nothing to do
		{"the cap", func(w *world) *account.User { return w.manager }, chat.MaxMinFollowAge, ""},
		{"over the cap", func(w *world) *account.User { return w.owner }, chat.MaxMinFollowAge + time.Second, chat.CodeInvalid},
		{"negative", func(w *world) *account.User { return w.owner }, -time.Minute, chat.CodeInvalid},
		{"part of a second", func(w *world) *account.User { return w.owner }, 90*time.Second + time.Millisecond, chat.CodeInvalid},
		// Input is checked before the role: a user with a bad value learns nothing more.
		{"user over the cap", func(w *world) *account.User { return w.user }, chat.MaxMinFollowAge * 2, chat.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, sqltest.SQLite(t))
			ctx := context.Background()
			err := w.hub.SetMinFollowAge(ctx, tt.actor(w), w.ch.ID, tt.age)
			if got := refusalCode(err); got != tt.want {
				t.Fatalf("set %v: %v (code %q), want %q", tt.age, err, got, tt.want)
			}
			s, err := w.hub.Settings(ctx, w.owner, w.ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			log, err := w.hub.AuditLog(ctx, w.owner, w.ch.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var modes []chat.AuditEntry
			for _, e := range log {
				if e.Action == chat.ActionMode {
					modes = append(modes, e)
				}
			}
			if tt.want != "" || tt.age == 0 {
				if s.MinFollowAge != 0 || len(modes) != 0 {
					t.Fatalf("nothing should change: age %v, audit %+v", s.MinFollowAge, modes)
				}
				return
			}
			if s.MinFollowAge != tt.age {
				t.Fatalf("age %v, want %v", s.MinFollowAge, tt.age)
			}
			if want := fmt.Sprintf("min_follow=%ds", int64(tt.age/time.Second)); len(modes) != 1 || modes[0].ActorID != tt.actor(w).ID || modes[0].Detail != want {
				t.Fatalf("audit %+v, want one entry %q", modes, want)
			}
			// Stored: a hub that loads the room afresh (another node, a restart) has it.
			other := w.newHub(t, w.bus)
			if s, err := other.Settings(ctx, w.owner, w.ch.ID); err != nil || s.MinFollowAge != tt.age {
				t.Fatalf("reloaded age %v, %v", s.MinFollowAge, err)
			}
		})
	}

	t.Run("without follows", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, sqltest.SQLite(t), func(o *chat.Options) { o.Follows = nil })
		ctx := context.Background()
		if err := w.hub.SetMinFollowAge(ctx, w.owner, w.ch.ID, time.Minute); refusalCode(err) != chat.CodeUnavailable {
			t.Fatalf("minimum follow age without follows: %v", err)
		}
	})
}

// The mod.mode request carries the minimum age; the room hears about it in both languages
// and every connection's state holds it.
func TestMinFollowAgeOverProtocol(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	ctx := context.Background()
	mod := mustJoin(t, w.hub, w.ch.ID, w.manager)
	viewer := mustJoin(t, w.hub, w.ch.ID, w.user)
	if viewer.joinState.MinFollowSeconds != 0 {
		t.Fatalf("join state %+v", viewer.joinState)
	}
	on := true

	// An ordinary user is refused and nothing changes.
	viewer.request(&protocol.Mode{MinFollowSeconds: intp(600), Common: protocol.Common{Ref: "u1"}})
	if e := viewer.expectError(chat.CodeForbidden); e.Ref != "u1" {
		t.Fatalf("error %+v", e)
	}
	// Out of range, and a value that would overflow a Duration into range: refused with a
	// detail naming the field and the range.
	for _, secs := range []int{90*24*3600 + 1, 1<<62 + 600} {
		mod.request(&protocol.Mode{MinFollowSeconds: intp(secs)})
		if e := mod.expectError(chat.CodeInvalid); !strings.Contains(e.Detail, "min_follow_seconds") || !strings.Contains(e.Detail, "7776000") {
			t.Fatalf("invalid age error %+v", e)
		}
	}
	if s, _ := w.hub.Settings(ctx, w.owner, w.ch.ID); s.MinFollowAge != 0 || s.FollowersOnly {
		t.Fatalf("refused requests changed settings: %+v", s)
	}

	// Switching followers-only on with an age is one change, announced once.
	mod.request(&protocol.Mode{FollowersOnly: &on, MinFollowSeconds: intp(600)})
	st := viewer.state()
	if !st.FollowersOnly || st.MinFollowSeconds != 600 || !st.You.CanSend || st.You.Reason != string(chat.CodeFollowersOnly) {
		t.Fatalf("state %+v you %+v", st, st.You)
	}
	sys := viewer.system("room.followers_only")
	if sys.Seconds != 600 || sys.TextKO != "팔로워 전용 채팅이 켜졌습니다. 팔로우한 지 10분이 지난 팔로워만 채팅할 수 있습니다." ||
		sys.TextEN != "Followers-only chat is on: only users who have followed for 10 minutes can chat." {
		t.Fatalf("system %+v", sys)
	}
	// Changing only the age while on.
	mod.request(&protocol.Mode{MinFollowSeconds: intp(30)})
	if st := viewer.state(); st.MinFollowSeconds != 30 {
		t.Fatalf("state %+v", st)
	}
	sys = viewer.system("room.min_follow_age")
	if sys.Seconds != 30 || sys.TextKO != "팔로우한 지 30초가 지난 팔로워만 채팅할 수 있습니다." || sys.Actor == nil || sys.Actor.ID != w.manager.ID {
		t.Fatalf("system %+v", sys)
	}
	mod.request(&protocol.Mode{MinFollowSeconds: intp(0)})
	if sys := viewer.system("room.min_follow_age"); sys.TextKO != "이제 모든 팔로워가 채팅할 수 있습니다." {
		t.Fatalf("system %+v", sys)
	}
	log, err := w.hub.AuditLog(ctx, w.owner, w.ch.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, e := range log {
		if e.Action == chat.ActionMode {
			details = append(details, e.Detail)
		}
	}
	if strings.Join(details, "|") != "min_follow=0s|min_follow=30s|followers_only=true min_follow=600s" {
		t.Fatalf("audit details %q", details)
	}
}

// Enforcement on the send path: too recent refused with the time left, old enough allowed,
// an unfollow noticed at the next re-check, on both databases.
func TestMinFollowAgeEnforced(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var counter *countingFollows
		w := newWorld(t, db, func(o *chat.Options) {
			counter = &countingFollows{inner: o.Follows}
			o.Follows = counter
		})
		ctx := context.Background()
		fs := w.followService(t)
		on := true
		if err := w.hub.ChangeModes(ctx, w.owner, w.ch.ID, chat.ModeChange{FollowersOnly: &on, MinFollowAge: durp(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		c := mustJoin(t, w.hub, w.ch.ID, w.user)
		if st := c.joinState; st.MinFollowSeconds != 600 || !st.FollowersOnly {
			t.Fatalf("join state %+v", st)
		}

		c.send("팔로우 전")
		c.expectError(chat.CodeFollowersOnly)

		if _, err := fs.Follow(ctx, w.user.ID, w.ch.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(20 * time.Second) // past the re-check of the "not following" answer
		c.send("방금 팔로우")
		e := c.expectError(chat.CodeFollowTooRecent)
		if e.RetryAfterMS != (9*time.Minute+40*time.Second).Milliseconds() ||
			!strings.Contains(e.TextKO, "팔로우한 지 10분이 지나야") || !strings.Contains(e.TextKO, "9분 40초 후") ||
			!strings.Contains(e.TextEN, "followed for 10 minutes") || !strings.Contains(e.TextEN, "9 minutes 40 seconds") {
			t.Fatalf("too recent: %+v", e)
		}

		// Close to the limit: the follow is looked up again (the last answer is old)...
		w.clock.Advance(9*time.Minute + 30*time.Second)
		c.send("거의")
		if e := c.expectError(chat.CodeFollowTooRecent); e.RetryAfterMS != 10_000 {
			t.Fatalf("10 s before: %+v", e)
		}
		// ...and once the age is reached the cached start of the follow is enough: no query
		// per message.
		calls := counter.calls.Load()
		w.clock.Advance(10 * time.Second)
		for i := range 5 {
			c.send("이제 돼요 " + string(rune('0'+i)))
			c.msgText("이제 돼요 " + string(rune('0'+i)))
		}
		if got := counter.calls.Load(); got != calls {
			t.Fatalf("%d follow look-ups for messages within the re-check interval, want 0", got-calls)
		}

		// An unfollow takes effect at the next re-check, without a reconnect.
		if _, err := fs.Unfollow(ctx, w.user.ID, w.ch.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(16 * time.Second)
		c.send("언팔로우 후")
		c.expectError(chat.CodeFollowersOnly)
		// Following again starts the age over.
		if _, err := fs.Follow(ctx, w.user.ID, w.ch.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(16 * time.Second)
		c.send("다시 팔로우")
		if e := c.expectError(chat.CodeFollowTooRecent); e.RetryAfterMS != (10*time.Minute - 16*time.Second).Milliseconds() {
			t.Fatalf("refollow: %+v", e)
		}
		// Lowering the age applies at once to a connection that already knows the follow.
		calls = counter.calls.Load()
		if err := w.hub.SetMinFollowAge(ctx, w.manager, w.ch.ID, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		c.send("나이 낮춤")
		c.msgText("나이 낮춤")
		if got := counter.calls.Load(); got != calls {
			t.Fatalf("%d follow look-ups after a settings change, want 0", got-calls)
		}

		// Moderators are exempt; an old follower is allowed at once.
		if err := w.hub.SetMinFollowAge(ctx, w.owner, w.ch.ID, 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		m := mustJoin(t, w.hub, w.ch.ID, w.manager)
		m.send("매니저")
		m.msgText("매니저")
		if _, err := fs.Follow(ctx, w.user2.ID, w.ch.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(8 * 24 * time.Hour)
		old := mustJoin(t, w.hub, w.ch.ID, w.user2)
		old.send("오래된 팔로워")
		old.msgText("오래된 팔로워")
		// user's second follow is over a week old now as well.
		c.send("일주일 지남")
		c.msgText("일주일 지남")
	})
}

// Two nodes: an age set on one applies on the other.
func TestMinFollowAgeAcrossNodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	ctx := context.Background()
	b := w.newHub(t, w.bus)
	fs := w.followService(t)
	onB := mustJoin(t, b, w.ch.ID, w.user)
	on := true
	if err := w.hub.ChangeModes(ctx, w.owner, w.ch.ID, chat.ModeChange{FollowersOnly: &on, MinFollowAge: durp(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if st := onB.state(); !st.FollowersOnly || st.MinFollowSeconds != 3600 {
		t.Fatalf("state on B %+v", st)
	}
	if _, err := fs.Follow(ctx, w.user.ID, w.ch.ID); err != nil {
		t.Fatal(err)
	}
	onB.send("B에서")
	if e := onB.expectError(chat.CodeFollowTooRecent); e.RetryAfterMS != time.Hour.Milliseconds() {
		t.Fatalf("on B: %+v", e)
	}
}

func intp(n int) *int { return &n }
