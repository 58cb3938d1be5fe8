package chat

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// writer persists messages in batches off the send path: the room hands it each accepted
// message without waiting, and it writes whatever has gathered every interval or every
// batch-size messages, whichever comes first. A failed batch is kept and retried on the next
// round; Close writes everything still pending. Deletions and clears pass through the same
// queue, after the inserts queued before them, so a message deleted before its batch was
// written is still stored as deleted.
type writer struct {
	store    Store
	log      *slog.Logger
	in       chan writeOp
	interval time.Duration
	batch    int

	stop     chan struct{}
	done     chan struct{}
	closeCtx context.Context // for the final flush; set before stop is closed

	written atomic.Uint64 // messages stored
	failed  atomic.Uint64 // failed store calls (each retried)
	lost    atomic.Uint64 // messages given up on because the store stayed down
}

type writeOp struct {
	msg       *Message // insert this message, or:
	channelID int64
	deleteIDs []int64 // mark these deleted, or:
	clearUpTo int64   // mark every message up to this id deleted
	at        time.Time
}

// maxPending bounds what a writer keeps while the store is failing; beyond it the oldest
// messages are given up (and counted) rather than growing memory without limit.
const maxPending = 100_000

func newWriter(store Store, log *slog.Logger, queue int, interval time.Duration, batch int) *writer {
	return &writer{
		store: store, log: log, in: make(chan writeOp, queue), interval: interval, batch: batch,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// offer queues op without waiting; false means the queue is full (the store is far behind).
func (w *writer) offer(op writeOp) bool {
	select {
	case w.in <- op:
		return true
	default:
		return false
	}
}

func (w *writer) run() {
	defer close(w.done)
	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	var msgs []Message
	var others []writeOp
	flush := func(ctx context.Context) {
		msgs, others = w.flush(ctx, msgs, others)
	}
	for {
		select {
		case op := <-w.in:
			msgs, others = w.add(op, msgs, others)
			if len(msgs) >= w.batch {
				flush(context.Background())
			}
		case <-ticker.C:
			flush(context.Background())
		case <-w.stop:
			for {
				select {
				case op := <-w.in:
					msgs, others = w.add(op, msgs, others)
					continue
				default:
				}
				break
			}
			for attempt := 0; (len(msgs) > 0 || len(others) > 0) && w.closeCtx.Err() == nil; attempt++ {
				flush(w.closeCtx)
				if len(msgs) > 0 || len(others) > 0 {
					select {
					case <-w.closeCtx.Done():
					case <-time.After(backoff(attempt)):
					}
				}
			}
			if n := len(msgs); n > 0 {
				w.lost.Add(uint64(n))
				w.log.Error("chat: messages not stored at shutdown", "count", n)
			}
			return
		}
	}
}

func backoff(attempt int) time.Duration {
	return min(time.Duration(50<<min(attempt, 6))*time.Millisecond, 2*time.Second)
}

func (w *writer) add(op writeOp, msgs []Message, others []writeOp) ([]Message, []writeOp) {
	if op.msg != nil {
		msgs = append(msgs, *op.msg)
		if over := len(msgs) - maxPending; over > 0 {
			w.lost.Add(uint64(over))
			w.log.Error("chat: store unavailable, dropping oldest unsaved messages", "count", over)
			msgs = msgs[over:]
		}
		return msgs, others
	}
	// A deletion of a message still waiting here is applied to the pending copy, so the
	// message is written already deleted.
	for i := range msgs {
		m := &msgs[i]
		if m.ChannelID != op.channelID {
			continue
		}
		if (op.clearUpTo > 0 && m.ID <= op.clearUpTo) || containsID(op.deleteIDs, m.ID) {
			m.DeletedAt = op.at
		}
	}
	return msgs, append(others, op)
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// flush writes msgs and then the other operations, returning what failed and must be retried.
func (w *writer) flush(ctx context.Context, msgs []Message, others []writeOp) ([]Message, []writeOp) {
	if len(msgs) > 0 {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := w.store.SaveMessages(cctx, msgs)
		cancel()
		if err != nil {
			w.failed.Add(1)
			w.log.Warn("chat: storing messages failed; will retry", "count", len(msgs), "err", err)
			return msgs, others // keep order: deletions wait for the inserts before them
		}
		w.written.Add(uint64(len(msgs)))
		msgs = msgs[:0]
	}
	for i, op := range others {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var err error
		if op.clearUpTo > 0 {
			err = w.store.ClearMessages(cctx, op.channelID, op.clearUpTo, op.at)
		} else {
			err = w.store.DeleteMessages(cctx, op.channelID, op.deleteIDs, op.at)
		}
		cancel()
		if err != nil {
			w.failed.Add(1)
			w.log.Warn("chat: storing a deletion failed; will retry", "channel", op.channelID, "err", err)
			return msgs, append(others[:0], others[i:]...)
		}
	}
	return msgs, others[:0]
}

// close stops the writer after writing everything queued, giving up when ctx ends.
func (w *writer) close(ctx context.Context) error {
	w.closeCtx = ctx
	close(w.stop)
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
