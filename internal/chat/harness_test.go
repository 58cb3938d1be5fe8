package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/protocol"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// waitLimit bounds every wait for an event; reaching it fails the test.
const waitLimit = 10 * time.Second

// clock is a settable clock for rules that depend on time (slow mode, timeouts).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// world is a channel with people in every role, on a real database, and a hub.
type world struct {
	tb    *testing.T
	nodes atomic.Int32
	db    *sqlstore.DB
	store *sqlstore.ChatStore
	bus   bus.Bus
	clock *clock
	hub   *chat.Hub
	ch    *channel.Channel

	owner, manager, manager2, user, user2, admin, unverified *account.User
}

type worldOption func(*chat.Options)

func newWorld(t *testing.T, db *sqlstore.DB, opts ...worldOption) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{tb: t, db: db, store: sqlstore.NewChatStore(db), bus: mem.New(mem.Options{BufferSize: 4096}), clock: newClock()}
	t.Cleanup(func() { w.bus.Close() })
	mk := func(name string, verified, admin bool) *account.User {
		u := &account.User{Email: name + "@example.com", Nickname: name, PasswordHash: "x", IsAdmin: admin}
		ch := &channel.Channel{Handle: "h_" + name, DisplayName: name}
		if err := db.CreateUserWithChannel(ctx, u, ch); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if verified {
			if err := db.MarkEmailVerified(ctx, u.ID, w.clock.Now()); err != nil {
				t.Fatal(err)
			}
			u.EmailVerifiedAt = w.clock.Now()
		}
		if name == "owner" {
			w.ch = ch
		}
		return u
	}
	w.owner = mk("owner", true, false)
	w.manager = mk("manager", true, false)
	w.manager2 = mk("manager2", true, false)
	w.user = mk("user", true, false)
	w.user2 = mk("user2", true, false)
	w.admin = mk("admin", true, true)
	w.unverified = mk("unverified", false, false)
	w.hub = w.newHub(t, w.bus, opts...)
	for _, m := range []*account.User{w.manager, w.manager2} {
		if _, err := w.hub.AppointManager(ctx, w.owner, w.ch.ID, m.Nickname); err != nil {
			t.Fatalf("appoint %s: %v", m.Nickname, err)
		}
	}
	return w
}

func (w *world) t() *testing.T { return w.tb }

// newHub starts a hub on the world's database and the given bus (another node when the bus
// is shared).
func (w *world) newHub(t *testing.T, b bus.Bus, opts ...worldOption) *chat.Hub {
	t.Helper()
	follows, err := follow.NewService(follow.Options{Store: sqlstore.NewFollowStore(w.db), Channels: w.db, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	o := chat.Options{
		Store: w.store, Bus: b, Channels: w.db, Users: w.db, Follows: follows,
		NodeID: int(w.nodes.Add(1)), Now: w.clock.Now, // distinct, as a deployment configures them
		Limits:        chat.SendLimits{Rate: 10000, Burst: 10000, DuplicateWindow: -1},
		FlushInterval: 20 * time.Millisecond,
	}
	for _, opt := range opts {
		opt(&o)
	}
	h, err := chat.NewHub(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("close hub: %v", err)
		}
	})
	return h
}

// client is a test connection: a goroutine turns frames into events on a channel.
type client struct {
	t      *testing.T
	conn   *chat.Conn
	events chan protocol.RawEvent
	ended  chan error
	frames atomic.Int64
	cancel context.CancelFunc
	// The first events of every connection.
	joinState   protocol.State
	joinHistory protocol.History
	// pending holds events skipped while waiting for another type, in arrival order, so
	// events of each type are seen in order however the waits interleave.
	pending []protocol.RawEvent
	// endErr is why the connection ended, once next saw it end.
	endErr   error
	hasEnded bool
}

func join(t *testing.T, h *chat.Hub, channelID int64, u *account.User, after int64) (*client, error) {
	t.Helper()
	conn, err := h.Join(context.Background(), channelID, u, after)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{t: t, conn: conn, events: make(chan protocol.RawEvent, 100000), ended: make(chan error, 1), cancel: cancel}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			frame, err := conn.NextFrame(ctx)
			if err != nil {
				c.ended <- err
				return
			}
			c.frames.Add(1)
			evs, err := protocol.DecodeFrame(append([]byte(nil), frame...))
			if err != nil {
				c.ended <- fmt.Errorf("bad frame %s: %w", frame, err)
				return
			}
			for _, ev := range evs {
				c.events <- ev
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		conn.Close()
		<-done
	})
	c.joinState = c.state()
	c.joinHistory = c.history()
	return c, nil
}

func mustJoin(t *testing.T, h *chat.Hub, channelID int64, u *account.User) *client {
	t.Helper()
	c, err := join(t, h, channelID, u, 0)
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	return c
}

func (c *client) request(r protocol.Request) {
	c.t.Helper()
	data, err := protocol.Encode(r)
	if err != nil {
		c.t.Fatalf("encode %T: %v", r, err)
	}
	c.conn.Receive(context.Background(), data)
}

func (c *client) send(text string) { c.request(&protocol.Send{Text: text}) }

// next returns the next event of type typ; events of other types wait in pending.
func (c *client) next(typ string) protocol.RawEvent {
	c.t.Helper()
	for i, ev := range c.pending {
		if ev.T == typ {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return ev
		}
	}
	timeout := time.After(waitLimit)
	for {
		select {
		case ev := <-c.events:
			if ev.T == typ {
				return ev
			}
			c.pending = append(c.pending, ev)
		case err := <-c.ended:
			// The reader queues every event before it reports the end.
			c.endErr, c.hasEnded = err, true
			for {
				select {
				case ev := <-c.events:
					if ev.T == typ {
						return ev
					}
					c.pending = append(c.pending, ev)
					continue
				default:
				}
				break
			}
			c.t.Fatalf("connection ended (%v) while waiting for %s", err, typ)
		case <-timeout:
			c.t.Fatalf("no %s event within %v", typ, waitLimit)
		}
	}
}

func decode[T any](t *testing.T, ev protocol.RawEvent) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ev.Raw, &v); err != nil {
		t.Fatalf("decode %s: %v", ev.Raw, err)
	}
	return v
}

func (c *client) msg() protocol.Msg {
	c.t.Helper()
	return decode[protocol.Msg](c.t, c.next(protocol.TypeMsg))
}

// msgText waits for the message with the given text, skipping other messages.
func (c *client) msgText(text string) protocol.Msg {
	c.t.Helper()
	for {
		if m := c.msg(); m.Text == text {
			return m
		}
	}
}

func (c *client) errorEvent() protocol.Error {
	return decode[protocol.Error](c.t, c.next(protocol.TypeError))
}

func (c *client) expectError(code chat.Code) protocol.Error {
	c.t.Helper()
	e := c.errorEvent()
	if e.Code != string(code) {
		c.t.Fatalf("error %q (%s), want %q", e.Code, e.TextEN, code)
	}
	if e.TextKO == "" || e.TextEN == "" {
		c.t.Fatalf("error %q without text", e.Code)
	}
	return e
}

func (c *client) state() protocol.State {
	return decode[protocol.State](c.t, c.next(protocol.TypeState))
}

func (c *client) history() protocol.History {
	return decode[protocol.History](c.t, c.next(protocol.TypeHistory))
}

func (c *client) system(code string) protocol.System {
	c.t.Helper()
	for {
		if s := decode[protocol.System](c.t, c.next(protocol.TypeSystem)); s.Code == code {
			return s
		}
	}
}

// waitEnd waits for the connection to end and returns why.
func (c *client) waitEnd() error {
	c.t.Helper()
	if c.hasEnded {
		return c.endErr
	}
	select {
	case err := <-c.ended:
		return err
	case <-time.After(waitLimit):
		c.t.Fatal("connection did not end")
		return nil
	}
}

func refusalCode(err error) chat.Code {
	var r *chat.Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

var _ = sqltest.SQLite
