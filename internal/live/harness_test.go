package live_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/media"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// t0 is when every test's fake clock starts.
var t0 = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

const grace = 30 * time.Second

// harness wires a Manager to the real store, the in-process bus and the real media hub, on a
// fake clock.
type harness struct {
	t      testing.TB
	db     *sqlstore.DB
	store  *sqlstore.LiveStore
	clock  *fakeClock
	bus    *mem.Bus
	events bus.Subscription // TopicLive
	hub    *media.Hub
	ended  chan string // handles whose media session the hub ended
	logs   *syncBuffer
	m      *live.Manager
	n      int // streamers created
}

// newHarness builds and starts a manager; mutate may adjust its options first.
func newHarness(t testing.TB, db *sqlstore.DB, mutate func(*live.Options)) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		db:    db,
		store: sqlstore.NewLiveStore(db),
		clock: newFakeClock(t0),
		bus:   mem.New(mem.Options{BufferSize: 1024}),
		hub:   media.NewHub(media.HubOptions{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}),
		ended: make(chan string, 64),
		logs:  &syncBuffer{},
	}
	t.Cleanup(func() { h.bus.Close() })
	h.hub.AddConsumer(sessionEndRecorder{h.ended})
	sub, err := h.bus.Subscribe(context.Background(), live.TopicLive)
	if err != nil {
		t.Fatal(err)
	}
	h.events = sub
	if err := db.UpsertCategories(context.Background(), []channel.Category{
		{Slug: "league-of-legends", NameKO: "리그 오브 레전드", NameEN: "League of Legends"},
		{Slug: "just-chatting", NameKO: "저스트 채팅", NameEN: "Just Chatting"},
	}); err != nil {
		t.Fatal(err)
	}
	h.m = h.newManager(mutate)
	return h
}

// options are the manager options every test starts from.
func (h *harness) options() live.Options {
	return live.Options{
		Store:       h.store,
		Channels:    h.db,
		Accounts:    h.db,
		Bus:         h.bus,
		Media:       h.hub,
		GracePeriod: grace,
		Clock:       h.clock,
		Logger:      slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// newManager builds and starts another manager on the same store, bus and clock (a restart
// or a second node); it is closed when the test ends.
func (h *harness) newManager(mutate func(*live.Options)) *live.Manager {
	h.t.Helper()
	opts := h.options()
	if mutate != nil {
		mutate(&opts)
	}
	m, err := live.New(opts)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		h.t.Fatalf("Start: %v", err)
	}
	h.t.Cleanup(func() { m.Close() })
	return m
}

type streamer struct {
	user *account.User
	ch   *channel.Channel
	key  string
}

// streamer signs up a user with a channel and a stream key; verified users may stream.
func (h *harness) streamer(verified bool) streamer {
	h.t.Helper()
	ctx := context.Background()
	h.n++
	u := &account.User{
		Email:        fmt.Sprintf("streamer%d@example.com", h.n),
		Nickname:     fmt.Sprintf("방송인%d", h.n),
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
	}
	ch := &channel.Channel{Handle: fmt.Sprintf("caster_%d", h.n), DisplayName: fmt.Sprintf("방송인%d", h.n)}
	if err := h.db.CreateUserWithChannel(ctx, u, ch); err != nil {
		h.t.Fatal(err)
	}
	key := channel.NewStreamKey()
	if err := h.db.SetStreamKey(ctx, ch.ID, key); err != nil {
		h.t.Fatal(err)
	}
	if verified {
		if err := h.db.MarkEmailVerified(ctx, u.ID, t0.Add(-time.Hour)); err != nil {
			h.t.Fatal(err)
		}
	}
	ch.StreamKey = key
	return streamer{user: u, ch: ch, key: key}
}

// connection is what the media side holds for one publisher: the live publication and its
// claim on the hub.
type connection struct {
	pub *live.Publication
	hp  *media.Publisher
}

// connect admits a publisher and claims the hub as the RTMP listener does.
func (h *harness) connect(m *live.Manager, key string) (*connection, error) {
	h.t.Helper()
	p, err := m.Admit(context.Background(), key, "198.51.100.7:50123")
	if err != nil {
		return nil, err
	}
	hp, err := h.hub.Claim(p.Channel())
	if err != nil {
		h.t.Fatalf("hub refused a publisher live admitted: %v", err)
	}
	return &connection{pub: p, hp: hp}, nil
}

// goLive connects and reports the first keyframe; it fails the test on any error.
func (h *harness) goLive(m *live.Manager, key string) *connection {
	h.t.Helper()
	c, err := h.connect(m, key)
	if err != nil {
		h.t.Fatalf("Admit: %v", err)
	}
	if err := c.pub.Started(context.Background()); err != nil {
		h.t.Fatalf("Started: %v", err)
	}
	return c
}

// drop is the publisher's connection going away.
func (c *connection) drop() {
	c.hp.Close()
	c.pub.Ended()
}

// nextEvent waits for the next event on the live topic.
func (h *harness) nextEvent() any {
	h.t.Helper()
	select {
	case msg := <-h.events.C():
		ev, err := live.DecodeEvent(msg.Data)
		if err != nil {
			h.t.Fatalf("undecodable event %s: %v", msg.Data, err)
		}
		return ev
	case <-time.After(5 * time.Second):
		h.t.Fatal("no live event within 5 s")
		return nil
	}
}

func (h *harness) wantStarted() *live.StartedEvent {
	h.t.Helper()
	ev, ok := h.nextEvent().(*live.StartedEvent)
	if !ok {
		h.t.Fatalf("next event is %T, want *live.StartedEvent", ev)
	}
	return ev
}

func (h *harness) wantEnded() *live.EndedEvent {
	h.t.Helper()
	ev := h.nextEvent()
	ended, ok := ev.(*live.EndedEvent)
	if !ok {
		h.t.Fatalf("next event is %T (%+v), want *live.EndedEvent", ev, ev)
	}
	return ended
}

// wantMediaEnded waits for the hub to end the channel's media session.
func (h *harness) wantMediaEnded(handle string) {
	h.t.Helper()
	select {
	case got := <-h.ended:
		if got != handle {
			h.t.Fatalf("hub ended %q, want %q", got, handle)
		}
	case <-time.After(5 * time.Second):
		h.t.Fatalf("hub never ended %q", handle)
	}
}

// noMediaEnded checks that the hub has not been told to end any session so far (the tear-down
// happens synchronously inside the grace callback, so there is nothing in flight).
func (h *harness) noMediaEnded() {
	h.t.Helper()
	select {
	case got := <-h.ended:
		h.t.Fatalf("hub ended %q too early", got)
	default:
	}
}

type sessionEndRecorder struct{ ended chan<- string }

func (sessionEndRecorder) IngestStarted(*media.Ingest)  {}
func (r sessionEndRecorder) SessionEnded(handle string) { r.ended <- handle }

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
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
