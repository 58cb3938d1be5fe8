package chat_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/filter"
	"github.com/freelylive/freely/internal/chat/protocol"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// Every moderation action, by every kind of actor, against the kinds of target that
// matter: the server decides, whatever the client shows.
func TestPermissions(t *testing.T) {
	t.Parallel()
	type actorFn func(w *world) *account.User
	var (
		anonymous = func(*world) *account.User { return nil }
		user      = func(w *world) *account.User { return w.user }
		manager   = func(w *world) *account.User { return w.manager }
		owner     = func(w *world) *account.User { return w.owner }
		admin     = func(w *world) *account.User { return w.admin }
	)
	type action struct {
		name string
		do   func(ctx context.Context, w *world, actor *account.User) error
	}
	on := true
	actions := map[string]action{
		"timeout user": {"timeout user", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.Timeout(ctx, a, w.ch.ID, w.user2.ID, time.Minute, "")
		}},
		"ban user": {"ban user", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.Ban(ctx, a, w.ch.ID, w.user2.ID, "")
		}},
		"ban owner": {"ban owner", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.Ban(ctx, a, w.ch.ID, w.owner.ID, "")
		}},
		"ban manager": {"ban manager", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.Ban(ctx, a, w.ch.ID, w.manager2.ID, "")
		}},
		"ban admin": {"ban admin", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.Ban(ctx, a, w.ch.ID, w.admin.ID, "")
		}},
		"timeout owner": {"timeout owner", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.Timeout(ctx, a, w.ch.ID, w.owner.ID, time.Minute, "")
		}},
		"slow": {"slow", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.SetSlowMode(ctx, a, w.ch.ID, 5)
		}},
		"mode": {"mode", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.SetModes(ctx, a, w.ch.ID, &on, nil)
		}},
		"clear": {"clear", func(ctx context.Context, w *world, a *account.User) error { return w.hub.Clear(ctx, a, w.ch.ID) }},
		"appoint": {"appoint", func(ctx context.Context, w *world, a *account.User) error {
			_, err := w.hub.AppointManager(ctx, a, w.ch.ID, "user2")
			return err
		}},
		"dismiss manager": {"dismiss manager", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.DismissManager(ctx, a, w.ch.ID, w.manager2.ID)
		}},
		"dismiss owner": {"dismiss owner", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.DismissManager(ctx, a, w.ch.ID, w.owner.ID)
		}},
		"filter": {"filter", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.SetFilter(ctx, a, w.ch.ID, filter.ModeBlock, nil, nil)
		}},
		"audit log": {"audit log", func(ctx context.Context, w *world, a *account.User) error {
			_, err := w.hub.AuditLog(ctx, a, w.ch.ID, 0, 10)
			return err
		}},
		"chat log": {"chat log", func(ctx context.Context, w *world, a *account.User) error {
			_, err := w.hub.UserMessages(ctx, a, w.ch.ID, w.user2.ID, 0, 10)
			return err
		}},
		"ban list": {"ban list", func(ctx context.Context, w *world, a *account.User) error {
			_, err := w.hub.Restrictions(ctx, a, w.ch.ID)
			return err
		}},
		"manager list": {"manager list", func(ctx context.Context, w *world, a *account.User) error {
			_, err := w.hub.Managers(ctx, a, w.ch.ID)
			return err
		}},
		"delete user msg":  {"delete user msg", deleteMessageOf(func(w *world) *account.User { return w.user2 })},
		"delete owner msg": {"delete owner msg", deleteMessageOf(func(w *world) *account.User { return w.owner })},
		"delete mgr msg":   {"delete mgr msg", deleteMessageOf(func(w *world) *account.User { return w.manager2 })},
		"self ban": {"self ban", func(ctx context.Context, w *world, a *account.User) error {
			return w.hub.Ban(ctx, a, w.ch.ID, a.ID, "")
		}},
	}
	ok, forbidden, protected, notLoggedIn := chat.Code(""), chat.CodeForbidden, chat.CodeTargetProtected, chat.CodeNotLoggedIn
	tests := []struct {
		actor  string
		fn     actorFn
		action string
		want   chat.Code
	}{
		{"anonymous", anonymous, "ban user", notLoggedIn},
		{"anonymous", anonymous, "delete user msg", notLoggedIn},
		{"anonymous", anonymous, "chat log", notLoggedIn},

		{"user", user, "delete user msg", forbidden},
		{"user", user, "timeout user", forbidden},
		{"user", user, "ban user", forbidden},
		{"user", user, "slow", forbidden},
		{"user", user, "mode", forbidden},
		{"user", user, "clear", forbidden},
		{"user", user, "appoint", forbidden},
		{"user", user, "dismiss manager", forbidden},
		{"user", user, "filter", forbidden},
		{"user", user, "audit log", forbidden},
		{"user", user, "chat log", forbidden},
		{"user", user, "ban list", forbidden},

		{"manager", manager, "delete user msg", ok},
		{"manager", manager, "timeout user", ok},
		{"manager", manager, "ban user", ok},
		{"manager", manager, "slow", ok},
		{"manager", manager, "mode", ok},
		{"manager", manager, "clear", ok},
		{"manager", manager, "chat log", ok},
		{"manager", manager, "ban list", ok},
		{"manager", manager, "ban owner", protected},
		{"manager", manager, "timeout owner", protected},
		{"manager", manager, "ban manager", protected},
		{"manager", manager, "ban admin", protected},
		{"manager", manager, "delete owner msg", protected},
		{"manager", manager, "delete mgr msg", protected},
		{"manager", manager, "self ban", protected},
		{"manager", manager, "appoint", forbidden},
		{"manager", manager, "dismiss manager", forbidden},
		{"manager", manager, "dismiss owner", forbidden},
		{"manager", manager, "filter", forbidden},
		{"manager", manager, "audit log", forbidden},
		{"manager", manager, "manager list", forbidden},

		{"owner", owner, "ban user", ok},
		{"owner", owner, "ban manager", protected}, // dismiss first
		{"owner", owner, "ban admin", protected},
		{"owner", owner, "delete mgr msg", ok},
		{"owner", owner, "appoint", ok},
		{"owner", owner, "dismiss manager", ok},
		{"owner", owner, "dismiss owner", chat.CodeNotFound},
		{"owner", owner, "filter", ok},
		{"owner", owner, "audit log", ok},
		{"owner", owner, "manager list", ok},
		{"owner", owner, "self ban", protected},

		{"admin", admin, "ban user", ok},
		{"admin", admin, "ban owner", protected},
		{"admin", admin, "delete owner msg", ok},
		{"admin", admin, "appoint", ok},
		{"admin", admin, "dismiss manager", ok},
		{"admin", admin, "filter", ok},
		{"admin", admin, "audit log", ok},
	}
	for _, tt := range tests {
		t.Run(tt.actor+"/"+tt.action, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, sqltest.SQLite(t))
			ctx := context.Background()
			act := actions[tt.action]
			err := act.do(ctx, w, tt.fn(w))
			if got := refusalCode(err); got != tt.want {
				t.Fatalf("%s by %s: %v (code %q), want %q", tt.action, tt.actor, err, got, tt.want)
			}
			if tt.want == ok {
				return
			}
			// A refused action changes nothing and is not audited.
			log, err := w.hub.AuditLog(ctx, w.owner, w.ch.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range log {
				if e.Action != chat.ActionAppoint { // the world's own set-up
					t.Fatalf("refused %s left an audit entry %+v", tt.action, e)
				}
			}
		})
	}
}

func deleteMessageOf(sender func(w *world) *account.User) func(ctx context.Context, w *world, a *account.User) error {
	return func(ctx context.Context, w *world, a *account.User) error {
		c := mustJoin(w.t(), w.hub, w.ch.ID, sender(w))
		c.send("지울 메시지")
		m := c.msgText("지울 메시지")
		return w.hub.DeleteMessage(ctx, a, w.ch.ID, int64(m.ID))
	}
}

func TestBanAcrossTabs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	ctx := context.Background()
	tab1 := mustJoin(t, w.hub, w.ch.ID, w.user2)
	tab2 := mustJoin(t, w.hub, w.ch.ID, w.user2)
	watcher := mustJoin(t, w.hub, w.ch.ID, w.user)
	if err := w.hub.Ban(ctx, w.manager, w.ch.ID, w.user2.ID, "도배"); err != nil {
		t.Fatal(err)
	}
	for _, tab := range []*client{tab1, tab2} {
		tab.expectError(chat.CodeBanned)
		if err := tab.waitEnd(); !errors.Is(err, chat.ErrRemoved) {
			t.Fatalf("banned tab ended with %v, want ErrRemoved", err)
		}
	}
	sys := watcher.system("user.ban")
	if sys.Target == nil || sys.Target.ID != w.user2.ID || sys.Actor == nil || sys.Actor.ID != w.manager.ID || sys.TextKO == "" {
		t.Fatalf("ban announcement %+v", sys)
	}
	// A new tab is refused, and so is a send through a connection opened any other way.
	if _, err := join(t, w.hub, w.ch.ID, w.user2, 0); refusalCode(err) != chat.CodeBanned {
		t.Fatalf("banned user joined again: %v", err)
	}
	log, err := w.hub.AuditLog(ctx, w.owner, w.ch.ID, 0, 10)
	if err != nil || len(log) == 0 || log[0].Action != chat.ActionBan || log[0].TargetUserID != w.user2.ID || log[0].ActorID != w.manager.ID || log[0].Detail != "도배" {
		t.Fatalf("audit %+v, %v", log, err)
	}
	bans, err := w.hub.Restrictions(ctx, w.manager, w.ch.ID)
	if err != nil || len(bans) != 1 || bans[0].Nickname != "user2" || bans[0].Kind != chat.KindBan {
		t.Fatalf("ban list %+v, %v", bans, err)
	}
	if err := w.hub.Unban(ctx, w.manager, w.ch.ID, w.user2.ID); err != nil {
		t.Fatal(err)
	}
	watcher.system("user.unban")
	back := mustJoin(t, w.hub, w.ch.ID, w.user2)
	back.send("돌아왔어요")
	back.msgText("돌아왔어요")
	if err := w.hub.Unban(ctx, w.manager, w.ch.ID, w.user2.ID); refusalCode(err) != chat.CodeNotFound {
		t.Fatalf("unban without a ban: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	ctx := context.Background()
	c := mustJoin(t, w.hub, w.ch.ID, w.user2)
	if err := w.hub.Timeout(ctx, w.manager, w.ch.ID, w.user2.ID, 10*time.Minute, "진정하세요"); err != nil {
		t.Fatal(err)
	}
	st := c.state()
	if st.You.CanSend || st.You.Reason != string(chat.CodeTimedOut) || st.You.TimeoutUntil != w.clock.Now().Add(10*time.Minute).UnixMilli() {
		t.Fatalf("timed-out state %+v", st.You)
	}
	if s := c.system("user.timeout"); s.Seconds != 600 || s.TextKO != "user2님의 채팅이 10분 동안 제한되었습니다." {
		t.Fatalf("timeout announcement %+v", s)
	}
	c.send("왜요")
	if e := c.expectError(chat.CodeTimedOut); e.RetryAfterMS != 600000 {
		t.Fatalf("retry after %d", e.RetryAfterMS)
	}
	// A timed-out user still reads.
	w.clock.Advance(10 * time.Minute)
	c.send("이제 돼요")
	c.msgText("이제 돼요")
	for _, d := range []time.Duration{0, time.Millisecond, chat.MaxTimeout + time.Second} {
		if err := w.hub.Timeout(ctx, w.manager, w.ch.ID, w.user2.ID, d, ""); refusalCode(err) != chat.CodeInvalid {
			t.Fatalf("timeout of %v: %v", d, err)
		}
	}
	if err := w.hub.Timeout(ctx, w.manager, w.ch.ID, 987654, time.Minute, ""); refusalCode(err) != chat.CodeNotFound {
		t.Fatalf("timeout of a missing user: %v", err)
	}
}

func TestDeleteAndClear(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	ctx := context.Background()
	c := mustJoin(t, w.hub, w.ch.ID, w.user)
	var ids []int64
	for i := range 5 {
		c.send(fmt.Sprintf("d%d", i))
		ids = append(ids, int64(c.msgText(fmt.Sprintf("d%d", i)).ID))
	}
	if err := w.hub.DeleteMessage(ctx, w.manager, w.ch.ID, ids[1]); err != nil {
		t.Fatal(err)
	}
	del := decode[protocol.MsgDeleted](t, c.next(protocol.TypeMsgDeleted))
	if len(del.IDs) != 1 || int64(del.IDs[0]) != ids[1] {
		t.Fatalf("deletion event %+v", del)
	}
	c.system("msg.deleted")
	late := mustJoin(t, w.hub, w.ch.ID, nil)
	for _, raw := range late.joinHistory.Msgs {
		if int64(decodeMsg(t, raw).ID) == ids[1] {
			t.Fatal("deleted message still in history")
		}
	}
	if err := w.hub.DeleteMessage(ctx, w.manager, w.ch.ID, 12345); refusalCode(err) != chat.CodeNotFound {
		t.Fatalf("deleting a missing message: %v", err)
	}
	// The deletion reaches the store even though the message may not have been written yet.
	waitFor(t, func() bool {
		m, err := w.store.MessageByID(ctx, w.ch.ID, ids[1])
		return err == nil && !m.DeletedAt.IsZero()
	})

	if err := w.hub.Clear(ctx, w.manager, w.ch.ID); err != nil {
		t.Fatal(err)
	}
	cl := decode[protocol.MsgDeleted](t, c.next(protocol.TypeMsgDeleted))
	if int64(cl.UpTo) < ids[4] {
		t.Fatalf("clear up to %d, want at least %d", cl.UpTo, ids[4])
	}
	c.system("chat.cleared")
	if after := mustJoin(t, w.hub, w.ch.ID, nil); len(after.joinHistory.Msgs) != 0 {
		t.Fatalf("history after clear has %d messages", len(after.joinHistory.Msgs))
	}
	waitFor(t, func() bool {
		left, err := w.store.RecentMessages(ctx, w.ch.ID, 10)
		return err == nil && len(left) == 0
	})
	c.send("새 출발")
	if m := c.msgText("새 출발"); int64(m.ID) <= int64(cl.UpTo) {
		t.Fatal("a message after a clear has an id the clear covers")
	}
	log, _ := w.hub.AuditLog(ctx, w.owner, w.ch.ID, 0, 10)
	if log[0].Action != chat.ActionClear || log[1].Action != chat.ActionDelete || log[1].MessageID != ids[1] {
		t.Fatalf("audit %+v", log[:2])
	}
}

// waitFor polls a condition the hub reaches in the background (the persistence writer).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestManagers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	ctx := context.Background()
	c := mustJoin(t, w.hub, w.ch.ID, w.user2)
	if c.joinState.You.CanModerate {
		t.Fatal("user can moderate")
	}
	u, err := w.hub.AppointManager(ctx, w.owner, w.ch.ID, "@h_user2") // by channel handle
	if err != nil || u.ID != w.user2.ID {
		t.Fatalf("appoint by handle: %v, %v", u, err)
	}
	if st := c.state(); !st.You.CanModerate || st.You.User.Badges[0] != protocol.BadgeManager {
		t.Fatalf("state after appointment %+v", st.You)
	}
	c.system("manager.appointed")
	if _, err := w.hub.AppointManager(ctx, w.owner, w.ch.ID, "user2"); err != nil {
		t.Fatalf("appointing again: %v", err)
	}
	if _, err := w.hub.AppointManager(ctx, w.owner, w.ch.ID, "nobody-here"); refusalCode(err) != chat.CodeNotFound {
		t.Fatalf("appoint unknown: %v", err)
	}
	if _, err := w.hub.AppointManager(ctx, w.owner, w.ch.ID, "owner"); refusalCode(err) != chat.CodeTargetProtected {
		t.Fatalf("appoint the owner: %v", err)
	}
	// The new manager moderates at once, and a manager cannot act on a fellow manager.
	if err := w.hub.Timeout(ctx, w.user2, w.ch.ID, w.user.ID, time.Minute, ""); err != nil {
		t.Fatalf("new manager timing out: %v", err)
	}
	if err := w.hub.DismissManager(ctx, w.user2, w.ch.ID, w.manager.ID); refusalCode(err) != chat.CodeForbidden {
		t.Fatalf("manager dismissing a manager: %v", err)
	}
	ms, err := w.hub.Managers(ctx, w.owner, w.ch.ID)
	if err != nil || len(ms) != 3 || ms[2].Nickname != "user2" {
		t.Fatalf("managers %+v, %v", ms, err)
	}
	if err := w.hub.DismissManager(ctx, w.owner, w.ch.ID, w.user2.ID); err != nil {
		t.Fatal(err)
	}
	if st := c.state(); st.You.CanModerate {
		t.Fatal("dismissed manager can still moderate")
	}
	if err := w.hub.Timeout(ctx, w.user2, w.ch.ID, w.user.ID, time.Minute, ""); refusalCode(err) != chat.CodeForbidden {
		t.Fatalf("dismissed manager timing out: %v", err)
	}
	p, err := w.hub.Permissions(ctx, w.owner, w.ch.ID)
	if err != nil || !p.CanManage || !p.CanModerate {
		t.Fatalf("owner permissions %+v, %v", p, err)
	}
	if p, _ := w.hub.Permissions(ctx, w.manager, w.ch.ID); p.CanManage || !p.CanModerate {
		t.Fatalf("manager permissions %+v", p)
	}
}

func TestFollowersOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	ctx := context.Background()
	c := mustJoin(t, w.hub, w.ch.ID, w.user)
	on := true
	if err := w.hub.SetModes(ctx, w.manager, w.ch.ID, &on, nil); err != nil {
		t.Fatal(err)
	}
	if st := c.state(); !st.FollowersOnly || st.You.Reason != string(chat.CodeFollowersOnly) {
		t.Fatalf("state %+v %+v", st, st.You)
	}
	c.system("room.followers_only")
	c.send("안녕")
	c.expectError(chat.CodeFollowersOnly)
	fs, err := follow.NewService(follow.Options{Store: sqlstore.NewFollowStore(w.db), Channels: w.db})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Follow(ctx, w.user.ID, w.ch.ID); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Minute) // past the follow re-check interval
	c.send("팔로우했어요")
	c.msgText("팔로우했어요")
	// The owner never needs to follow their own channel.
	o := mustJoin(t, w.hub, w.ch.ID, w.owner)
	o.send("방장")
	o.msgText("방장")

	h2 := w.newHub(t, w.bus, func(o *chat.Options) { o.Follows = nil })
	if err := h2.SetModes(ctx, w.owner, w.ch.ID, &on, nil); refusalCode(err) != chat.CodeUnavailable {
		t.Fatalf("followers-only without follows: %v", err)
	}
}

// Two hubs on one bus are two nodes: a room spans both.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	runTwoNodes(t, w, w.hub, w.newHub(t, w.bus))
}

// runTwoNodes checks that messages and moderation cross between two hubs sharing a bus.
func runTwoNodes(t *testing.T, w *world, a, b *chat.Hub) {
	ctx := context.Background()
	onA := mustJoin(t, a, w.ch.ID, w.user)
	onB := mustJoin(t, b, w.ch.ID, w.user2)
	watcherB := mustJoin(t, b, w.ch.ID, nil)

	onA.send("A에서 보냄")
	m := onB.msgText("A에서 보냄")
	if m.User.ID != w.user.ID {
		t.Fatalf("message from A arrived as %+v", m)
	}
	onB.send("B에서 보냄")
	onA.msgText("B에서 보냄")
	// Each node delivers a message once.
	onA.send("한 번만")
	watcherB.msgText("한 번만")
	for _, ev := range watcherB.untilSentinel(onA, "경계") {
		if ev.T == protocol.TypeMsg && contains(string(ev.Raw), "한 번만") {
			t.Fatal("message delivered twice on B")
		}
	}

	// A ban issued on A closes the user's connection on B and keeps them out of B.
	if err := a.Ban(ctx, w.manager, w.ch.ID, w.user2.ID, ""); err != nil {
		t.Fatal(err)
	}
	onB.expectError(chat.CodeBanned)
	if err := onB.waitEnd(); !errors.Is(err, chat.ErrRemoved) {
		t.Fatalf("banned connection on B ended with %v", err)
	}
	watcherB.system("user.ban")
	if _, err := join(t, b, w.ch.ID, w.user2, 0); refusalCode(err) != chat.CodeBanned {
		t.Fatalf("banned user joined B: %v", err)
	}

	// Slow mode and deletions cross too.
	if err := b.SetSlowMode(ctx, w.manager, w.ch.ID, 30); err != nil {
		t.Fatal(err)
	}
	waitState(t, onA, func(s protocol.State) bool { return s.SlowSeconds == 30 })
	w.clock.Advance(time.Minute) // past the earlier messages
	onA.send("느리게 1")
	onA.msgText("느리게 1")
	onA.send("느리게 2")
	onA.expectError(chat.CodeSlowMode)
	if err := b.DeleteMessage(ctx, w.manager, w.ch.ID, int64(m.ID)); err != nil {
		t.Fatal(err)
	}
	if d := decode[protocol.MsgDeleted](t, onA.next(protocol.TypeMsgDeleted)); len(d.IDs) != 1 || d.IDs[0] != m.ID {
		t.Fatalf("deletion on A: %+v", d)
	}
}

func waitState(t *testing.T, c *client, ok func(protocol.State) bool) {
	t.Helper()
	for !ok(c.state()) {
	}
}
