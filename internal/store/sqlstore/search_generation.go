package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// The index generation on PostgreSQL without a round trip per search. Reading it before
// every search cost a round trip and about 90 µs of CPU (both ends together) even when the
// whole result was cached, and every server node asked the same row. Instead a node keeps
// the generation it last read and reads it again only after something may have raised it:
//
//   - a write of this process: every statement other than a read, and every commit, that
//     goes through the DB's bun handle counts as a change (a hook), so a search that starts
//     after a write returned reads the new generation, as it did before;
//   - a write of another process (another node, `freely reindex`): the trigger that raises
//     the generation also notifies freely_search_generation (migration 0306), which a
//     connection of this node listens to; the change is seen when the notification
//     arrives, milliseconds after the commit.
//
// While the listening connection is down (at start, after a network error), every search
// reads the generation as before. Notifications carry nothing: one only says "read again",
// so a notification from another schema of the same database (tests) costs a read and
// nothing else.
type generationWatch struct {
	cfg *pgx.ConnConfig
	log *slog.Logger

	// changes counts the writes of this process, the notifications received and the
	// listener's ups and downs; a generation read while it had a value stays current
	// until it moves.
	changes atomic.Uint64

	mu        sync.Mutex
	listening bool   // LISTEN is active on a live connection
	gen       int64  // generation last read
	seen      uint64 // changes when gen was read (0: never read)

	start  sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// generationChannel is the notification channel of generation raises.
const generationChannel = "freely_search_generation"

func newGenerationWatch(cfg *pgx.ConnConfig, log *slog.Logger) *generationWatch {
	return &generationWatch{cfg: cfg, log: log, done: make(chan struct{})}
}

// current returns the generation kept in memory and true when it is known to be current,
// starting the listener on first use.
func (w *generationWatch) current() (int64, uint64, bool) {
	w.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		go w.listen(ctx)
	})
	c := w.changes.Load()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen, c, w.listening && c == w.seen
}

// observe records gen, read from the database when changes was c: a read that began after
// the last one recorded replaces it; two that began alike keep the higher generation.
func (w *generationWatch) observe(gen int64, c uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case c > w.seen:
		w.gen, w.seen = gen, c
	case c == w.seen:
		w.gen = max(w.gen, gen)
	}
}

// setListening marks the listener up or down; either way it counts as a change, so the
// next search reads again.
func (w *generationWatch) setListening(up bool) {
	w.changes.Add(1)
	w.mu.Lock()
	w.listening = up
	w.mu.Unlock()
}

// listen keeps a connection listening for generation raises until ctx ends, reconnecting
// with a growing pause after failures.
func (w *generationWatch) listen(ctx context.Context) {
	defer close(w.done)
	const firstPause = 100 * time.Millisecond
	pause := firstPause
	for ctx.Err() == nil {
		listened, err := w.listenOnce(ctx)
		w.setListening(false)
		if ctx.Err() != nil {
			return
		}
		if listened {
			pause = firstPause // a connection that worked for a while starts the count again
		}
		w.log.Warn("search generation listener stopped; searches read the generation until it is back", "err", err, "retry_in", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// listenOnce connects, listens and counts notifications until the connection fails; it
// tells whether it got as far as listening.
func (w *generationWatch) listenOnce(ctx context.Context) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, w.cfg.Copy())
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+generationChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	// Listening from here on: a raise committed before this point is in the next read,
	// one committed after it also arrives as a notification.
	w.setListening(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		w.changes.Add(1)
	}
}

// stop ends the listener, if it started, and waits for it.
func (w *generationWatch) stop() {
	started := true
	w.start.Do(func() { started = false })
	if !started {
		return
	}
	w.cancel()
	<-w.done
}

// writeHook counts every statement of the DB that may change data (anything but a read,
// and every commit) as a change for the generation watch, after it ran. The statement's
// text decides: bun reports every raw statement as a SELECT.
type writeHook struct{ w *generationWatch }

func (writeHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h writeHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if !readsOnly(e.Query) {
		h.w.changes.Add(1)
	}
}

// readsOnly tells statements that cannot change data by their first word (a statement in
// doubt, such as WITH, counts as a change: it only costs a read of the generation).
func readsOnly(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	word := q
	if i := strings.IndexAny(q, " \t\r\n("); i >= 0 {
		word = q[:i]
	}
	for _, w := range [...]string{"SELECT", "BEGIN", "ROLLBACK", "SHOW"} {
		if strings.EqualFold(word, w) {
			return true
		}
	}
	return false
}
