package chat_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/filter"
	"github.com/freelylive/freely/internal/chat/protocol"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// untilEvent sends a sentinel message from c and collects every event c receives up to it:
// whatever the hub delivered before the sentinel is in the result, nothing after.
func (c *client) untilSentinel(from *client, text string) []protocol.RawEvent {
	c.t.Helper()
	from.send(text)
	out := c.pending
	c.pending = nil
	timeout := time.After(waitLimit)
	for {
		select {
		case ev := <-c.events:
			if ev.T == protocol.TypeMsg && strings.Contains(string(ev.Raw), `"text":"`+text+`"`) {
				return out
			}
			out = append(out, ev)
		case err := <-c.ended:
			c.t.Fatalf("connection ended (%v) before the sentinel", err)
		case <-timeout:
			c.t.Fatal("sentinel not received")
		}
	}
}

func TestSendAndReceive(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		owner := mustJoin(t, w.hub, w.ch.ID, w.owner)
		viewer := mustJoin(t, w.hub, w.ch.ID, nil)
		st := owner.joinState
		if st.You == nil || !st.You.CanSend || !st.You.CanModerate || st.Filter != string(filter.ModeMask) {
			t.Fatalf("owner state %+v", st)
		}
		if vs := viewer.joinState; vs.You.CanSend || vs.You.Reason != string(chat.CodeNotLoggedIn) || vs.You.User != nil {
			t.Fatalf("viewer state %+v", vs.You)
		}

		sender := mustJoin(t, w.hub, w.ch.ID, w.user)
		if st := w.hub.Stats(); st.Rooms != 1 || st.Connections != 3 {
			t.Fatalf("stats with three sockets in one room: %+v", st)
		}
		sender.send("  안녕하세요\u200b 반가워요 ")
		for _, c := range []*client{owner, viewer, sender} {
			m := c.msg()
			if m.Text != "안녕하세요 반가워요" || m.User.ID != w.user.ID || m.User.Nick != "user" || len(m.User.Badges) != 0 || m.ID == 0 {
				t.Fatalf("received %+v", m)
			}
		}
		owner.send("방장입니다")
		m := viewer.msgText("방장입니다")
		if len(m.User.Badges) != 1 || m.User.Badges[0] != protocol.BadgeOwner {
			t.Fatalf("owner badges %v", m.User.Badges)
		}
		// Nothing private on the wire: the raw events never carry an e-mail address.
		for _, ev := range viewer.untilSentinel(owner, "끝") {
			if contains(string(ev.Raw), "@example.com", "password") {
				t.Fatalf("private data in %s", ev.Raw)
			}
		}
	})
}

func TestWriteRequirements(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	anon := mustJoin(t, w.hub, w.ch.ID, nil)
	anon.send("hi")
	anon.expectError(chat.CodeNotLoggedIn)

	unverified := mustJoin(t, w.hub, w.ch.ID, w.unverified)
	if st := unverified.joinState; st.You.CanSend || st.You.Reason != string(chat.CodeNotVerified) {
		t.Fatalf("unverified state %+v", st.You)
	}
	unverified.send("hi")
	unverified.expectError(chat.CodeNotVerified)

	c := mustJoin(t, w.hub, w.ch.ID, w.user)
	c.request(&protocol.Send{Text: " \u200b\u202e ", Common: protocol.Common{Ref: "r1"}})
	if e := c.expectError(chat.CodeEmpty); e.Ref != "r1" {
		t.Fatalf("error ref %q, want r1", e.Ref)
	}
	c.send(strings.Repeat("가", chat.DefaultMaxGraphemes+1))
	if e := c.expectError(chat.CodeTooLong); e.Limit != chat.DefaultMaxGraphemes {
		t.Fatalf("too_long limit %d", e.Limit)
	}
	c.conn.Receive(context.Background(), []byte(`{"v":1,"t":"msg.send","text":"hi","user":{"id":1}}`))
	if e := c.expectError(chat.CodeInvalid); !strings.Contains(e.Detail, "unknown field") {
		t.Fatalf("detail %q", e.Detail)
	}
	c.conn.Receive(context.Background(), []byte(`not json`))
	c.expectError(chat.CodeInvalid)
}

func TestVerifiedOnlyAndAllowUnverified(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t), func(o *chat.Options) { o.AllowUnverified = true })
	c := mustJoin(t, w.hub, w.ch.ID, w.unverified)
	c.send("처음 왔어요")
	c.msgText("처음 왔어요")
	on := true
	if err := w.hub.SetModes(context.Background(), w.manager, w.ch.ID, nil, &on); err != nil {
		t.Fatal(err)
	}
	if st := c.state(); !st.VerifiedOnly || st.You.CanSend {
		t.Fatalf("state after verified-only %+v / %+v", st, st.You)
	}
	c.send("또 왔어요")
	c.expectError(chat.CodeVerifiedOnly)
}

func TestLimits(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t), func(o *chat.Options) {
		o.Limits = chat.SendLimits{Rate: 1, Burst: 3, DuplicateWindow: 30 * time.Second}
	})
	c := mustJoin(t, w.hub, w.ch.ID, w.user)
	c.send("하나")
	c.send("하나")
	c.expectError(chat.CodeDuplicate)
	c.send("둘")
	c.send("셋")
	c.send("넷")
	if e := c.expectError(chat.CodeRateLimited); e.RetryAfterMS <= 0 {
		t.Fatalf("rate_limited without retry_after: %+v", e)
	}
	w.clock.Advance(time.Minute)

	ctx := context.Background()
	if err := w.hub.SetSlowMode(ctx, w.manager, w.ch.ID, 10); err != nil {
		t.Fatal(err)
	}
	if s := c.system("room.slow"); s.Seconds != 10 || !strings.Contains(s.TextKO, "10초") {
		t.Fatalf("slow-mode announcement %+v", s)
	}
	if st := c.state(); st.SlowSeconds != 10 {
		t.Fatalf("state slow %d", st.SlowSeconds)
	}
	c.send("저속 1")
	c.msgText("저속 1")
	c.send("저속 2")
	if e := c.expectError(chat.CodeSlowMode); e.RetryAfterMS != 10000 {
		t.Fatalf("slow mode retry %d ms, want 10000", e.RetryAfterMS)
	}
	mgr := mustJoin(t, w.hub, w.ch.ID, w.manager)
	mgr.send("매니저 1")
	mgr.send("매니저 2") // moderators are exempt from slow mode
	mgr.msgText("매니저 2")
	w.clock.Advance(10 * time.Second)
	c.send("저속 3")
	c.msgText("저속 3")
	if err := w.hub.SetSlowMode(ctx, w.manager, w.ch.ID, chat.MaxSlowSeconds+1); refusalCode(err) != chat.CodeInvalid {
		t.Fatalf("slow mode above the maximum: %v", err)
	}
}

func TestFilterModes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	ctx := context.Background()
	c := mustJoin(t, w.hub, w.ch.ID, w.user)
	c.send("아 시발 진짜")
	if m := c.msg(); m.Text != "아 ** 진짜" || !m.Masked {
		t.Fatalf("masked message %+v", m)
	}
	if err := w.hub.SetFilter(ctx, w.owner, w.ch.ID, filter.ModeBlock, []string{"바보", " 바보 ", ""}, []string{"바보상자"}); err != nil {
		t.Fatal(err)
	}
	c.system("room.filter")
	c.send("ㅅ1ㅂ")
	c.expectError(chat.CodeProfanity)
	c.send("이 바보야")
	c.expectError(chat.CodeProfanity)
	c.send("바보상자 보는 중")
	c.msgText("바보상자 보는 중")
	s, err := w.hub.Settings(ctx, w.owner, w.ch.ID)
	if err != nil || len(s.Words) != 1 || s.FilterMode != filter.ModeBlock {
		t.Fatalf("settings %+v, %v", s, err)
	}
	if err := w.hub.SetFilter(ctx, w.owner, w.ch.ID, filter.ModeOff, nil, nil); err != nil {
		t.Fatal(err)
	}
	c.send("시발")
	if m := c.msgText("시발"); m.Masked {
		t.Fatal("filter off still masks")
	}
	if err := w.hub.SetFilter(ctx, w.manager, w.ch.ID, filter.ModeBlock, nil, nil); refusalCode(err) != chat.CodeForbidden {
		t.Fatalf("manager setting the filter: %v", err)
	}
	if err := w.hub.SetFilter(ctx, w.owner, w.ch.ID, filter.ModeBlock, []string{"두 단어"}, nil); refusalCode(err) != chat.CodeInvalid {
		t.Fatalf("unusable word: %v", err)
	}
	if err := w.hub.SetFilter(ctx, w.owner, w.ch.ID, "loud", nil, nil); refusalCode(err) != chat.CodeInvalid {
		t.Fatalf("unknown mode: %v", err)
	}
}

func TestHistoryOnJoinAndResume(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	sender := mustJoin(t, w.hub, w.ch.ID, w.user)
	var ids []int64
	for i := range 60 {
		sender.send(fmt.Sprintf("메시지 %d", i))
		ids = append(ids, int64(sender.msg().ID))
	}
	late := mustJoin(t, w.hub, w.ch.ID, nil)
	h := late.joinHistory
	if len(h.Msgs) != chat.DefaultJoinHistory || h.Complete {
		t.Fatalf("join history: %d messages complete=%v, want %d and incomplete", len(h.Msgs), h.Complete, chat.DefaultJoinHistory)
	}
	first := decodeMsg(t, h.Msgs[0])
	if first.Text != "메시지 10" || decodeMsg(t, h.Msgs[49]).Text != "메시지 59" {
		t.Fatalf("join history runs %q…", first.Text)
	}

	// A client that saw up to message 29 reconnects: it gets 30–59 (and possibly a few it
	// already has, which it skips by id).
	resumed, err := join(t, w.hub, w.ch.ID, w.user2, ids[29])
	if err != nil {
		t.Fatal(err)
	}
	rh := resumed.joinHistory
	got := map[int64]bool{}
	for _, raw := range rh.Msgs {
		got[int64(decodeMsg(t, raw).ID)] = true
	}
	for _, id := range ids[30:] {
		if !got[id] {
			t.Fatalf("resume after %d missed %d", ids[29], id)
		}
	}
	if !rh.Complete {
		t.Fatal("resume within the ring should be complete")
	}
	// The same through the protocol, on a live connection.
	resumed.request(&protocol.HistorySince{After: protocol.MessageID(ids[55])})
	if h := resumed.history(); decodeMsg(t, h.Msgs[len(h.Msgs)-1]).ID != protocol.MessageID(ids[59]) {
		t.Fatal("history.since does not end with the newest message")
	}
}

func decodeMsg(t *testing.T, raw []byte) protocol.Msg {
	t.Helper()
	return decode[protocol.Msg](t, protocol.RawEvent{Raw: raw})
}

// A room reopened on a fresh hub (after a restart) serves its history and resumes from
// the store, including resumes older than the in-memory ring.
func TestHistoryFromStore(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	w := newWorld(t, db, func(o *chat.Options) { o.HistorySize = 20 })
	sender := mustJoin(t, w.hub, w.ch.ID, w.user)
	var ids []int64
	for i := range 40 {
		sender.send(fmt.Sprintf("저장 %d", i))
		ids = append(ids, int64(sender.msg().ID))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := w.hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sender.waitEnd(); !errors.Is(err, chat.ErrClosed) {
		t.Fatalf("connection ended with %v, want ErrClosed", err)
	}
	h2 := w.newHub(t, w.bus, func(o *chat.Options) { o.HistorySize = 20 })
	c := mustJoin(t, h2, w.ch.ID, nil)
	if h := c.joinHistory; len(h.Msgs) != 20 || decodeMsg(t, h.Msgs[19]).Text != "저장 39" {
		t.Fatalf("history after restart: %d messages", len(h.Msgs))
	}
	old, err := join(t, h2, w.ch.ID, nil, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	h := old.joinHistory
	if !h.Complete || decodeMsg(t, h.Msgs[len(h.Msgs)-1]).Text != "저장 39" {
		t.Fatalf("resume from the store: %d messages complete=%v", len(h.Msgs), h.Complete)
	}
	seen := map[string]bool{}
	for _, raw := range h.Msgs {
		seen[decodeMsg(t, raw).Text] = true
	}
	for i := 3; i < 40; i++ {
		if !seen[fmt.Sprintf("저장 %d", i)] {
			t.Fatalf("resume from the store missed 저장 %d", i)
		}
	}
}

// Every accepted message reaches the store, in batches, and a graceful close writes what is
// still queued.
func TestPersistenceFlushedOnClose(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db, func(o *chat.Options) { o.FlushInterval = time.Hour; o.BatchSize = 100 })
		c := mustJoin(t, w.hub, w.ch.ID, w.user)
		const n = 250
		for i := range n {
			c.send(fmt.Sprintf("배치 %d", i))
		}
		c.msgText(fmt.Sprintf("배치 %d", n-1))
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := w.hub.Close(ctx); err != nil {
			t.Fatal(err)
		}
		stored, err := w.store.MessagesAfter(ctx, w.ch.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != n {
			t.Fatalf("stored %d of %d messages", len(stored), n)
		}
		if st := w.hub.Stats(); st.StoredMessages != n || st.LostMessages != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestCoalescedFrames(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t), func(o *chat.Options) { o.CoalesceInterval = 200 * time.Millisecond })
	reader := mustJoin(t, w.hub, w.ch.ID, nil)
	sender := mustJoin(t, w.hub, w.ch.ID, w.user)
	const n = 200
	for i := range n {
		sender.send(fmt.Sprintf("c%d", i))
	}
	reader.msgText(fmt.Sprintf("c%d", n-1))
	if f := reader.frames.Load(); f > n/4 {
		t.Fatalf("%d frames for %d messages: writes are not coalesced", f, n)
	}
}

// A connection that does not read falls behind its send queue and is dropped; the room
// and other connections carry on.
func TestSlowConsumerDropped(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t), func(o *chat.Options) { o.SendQueue = 16 })
	stuck, err := w.hub.Join(context.Background(), w.ch.ID, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	sender := mustJoin(t, w.hub, w.ch.ID, w.user)
	for i := range 40 {
		sender.send(fmt.Sprintf("s%d", i))
		sender.msgText(fmt.Sprintf("s%d", i)) // the sender keeps up
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var ferr error
	for ferr == nil {
		_, ferr = stuck.NextFrame(ctx)
	}
	if !errors.Is(ferr, chat.ErrSlowConsumer) {
		t.Fatalf("stuck connection ended with %v, want ErrSlowConsumer", ferr)
	}
}

func TestUnknownChannel(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	if _, err := join(t, w.hub, 999999, w.user, 0); refusalCode(err) != chat.CodeNotFound {
		t.Fatalf("join unknown channel: %v", err)
	}
	if err := w.db.SetSuspended(context.Background(), w.ch.ID, true); err != nil {
		t.Fatal(err)
	}
	h2 := w.newHub(t, w.bus)
	if _, err := join(t, h2, w.ch.ID, w.user, 0); refusalCode(err) != chat.CodeUnavailable {
		t.Fatalf("join suspended channel: %v", err)
	}
}

func TestMessageIDsIncrease(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	c := mustJoin(t, w.hub, w.ch.ID, w.user)
	var last protocol.MessageID
	for i := range 50 {
		c.send(fmt.Sprintf("id%d", i))
		m := c.msg()
		if m.ID <= last {
			t.Fatalf("id %d after %d", m.ID, last)
		}
		last = m.ID
	}
}

// flakyStore is the real store with SaveMessages failing a few times, as a database does
// while it restarts.
type flakyStore struct {
	*sqlstore.ChatStore
	mu       sync.Mutex
	failures int
}

func (s *flakyStore) SaveMessages(ctx context.Context, msgs []chat.Message) error {
	s.mu.Lock()
	if s.failures > 0 {
		s.failures--
		s.mu.Unlock()
		return errors.New("database restarting")
	}
	s.mu.Unlock()
	return s.ChatStore.SaveMessages(ctx, msgs)
}

// A batch that fails to store is kept and written once the store is back; nothing is lost.
func TestPersistenceRetries(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	w := newWorld(t, db)
	flaky := &flakyStore{ChatStore: w.store, failures: 3}
	h := w.newHub(t, w.bus, func(o *chat.Options) { o.Store = flaky; o.FlushInterval = 10 * time.Millisecond })
	c := mustJoin(t, h, w.ch.ID, w.user)
	for i := range 20 {
		c.send(fmt.Sprintf("재시도 %d", i))
	}
	c.msgText("재시도 19")
	waitFor(t, func() bool {
		stored, err := w.store.MessagesAfter(context.Background(), w.ch.ID, 0, 100)
		return err == nil && len(stored) == 20
	})
	if st := h.Stats(); st.StoreFailures != 3 || st.LostMessages != 0 || st.StoredMessages != 20 {
		t.Fatalf("stats %+v", st)
	}
}

// syncBuffer is a log destination safe for the hub's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Two nodes configured with the same node id would make equal message ids; the receiving
// node says so in its log.
func TestNodeIDClashLogged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqltest.SQLite(t))
	var logs syncBuffer
	a := w.newHub(t, w.bus, func(o *chat.Options) { o.NodeID = 7 })
	b := w.newHub(t, w.bus, func(o *chat.Options) {
		o.NodeID = 7
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	onA := mustJoin(t, a, w.ch.ID, w.user)
	onB := mustJoin(t, b, w.ch.ID, nil)
	onA.send("같은 번호")
	onB.msgText("같은 번호")
	if !strings.Contains(logs.String(), "another node uses this node's id") {
		t.Fatalf("no warning in %q", logs.String())
	}
}
