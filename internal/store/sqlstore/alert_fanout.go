package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/store"
)

// FanOutBatch implements alert.Store. One transaction:
//
//  1. reads the event's cursor (on PostgreSQL locking the event row, so two workers on one
//     event take turns instead of both writing the same batch);
//  2. finds the batch's last follower by walking size entries of the follows primary key
//     after the cursor (an index-only range scan, no OFFSET over the whole table);
//  3. inserts the alerts server-side with INSERT … SELECT from follows, returning only the
//     rows it added; a row that already exists is skipped (ON CONFLICT DO NOTHING; see
//     insertAlerts);
//  4. moves the cursor to the batch's last follower and, after the last batch, marks the
//     fan-out done.
//
// The cursor and the alerts commit together, so a worker that dies between batches resumes
// exactly after the last committed one, and one that dies inside a batch leaves nothing of
// it behind.
func (as *AlertStore) FanOutBatch(ctx context.Context, eventID int64, size int, now time.Time) (*alert.Batch, error) {
	if size < 1 {
		return nil, fmt.Errorf("fan out alert event %d: batch size %d", eventID, size)
	}
	var out alert.Batch
	err := as.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = as.fanOutBatch(ctx, tx, eventID, size, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fan out alert event %d: %w", eventID, Translate(err))
	}
	return &out, nil
}

func (as *AlertStore) fanOutBatch(ctx context.Context, tx bun.Tx, eventID int64, size int, now time.Time) (alert.Batch, error) {
	pg := as.db.dialect == DialectPostgres
	lock := ""
	if pg {
		// The batch's commit need not wait for its WAL flush: WAL is flushed in order, so
		// once River records the job complete (a synchronous commit) every batch before it
		// is durable too, and a crash before that loses batches together with their cursor
		// moves, which the retried job redoes.
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return alert.Batch{}, err
		}
		lock = " FOR UPDATE"
	}

	var ev struct {
		ChannelID int64        `bun:"channel_id"`
		Cursor    int64        `bun:"fanout_cursor"`
		DoneAt    bun.NullTime `bun:"fanout_done_at"`
	}
	err := tx.NewRaw(`SELECT channel_id, fanout_cursor, fanout_done_at FROM alert_events WHERE id = ?`+lock, eventID).Scan(ctx, &ev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return alert.Batch{Done: true}, nil // the event (its channel) was deleted
	case err != nil:
		return alert.Batch{}, err
	case !ev.DoneAt.IsZero():
		return alert.Batch{Done: true}, nil
	}

	var last int64
	err = tx.NewRaw(`SELECT user_id FROM follows WHERE channel_id = ? AND user_id > ? ORDER BY user_id LIMIT 1 OFFSET ?`,
		ev.ChannelID, ev.Cursor, size-1).Scan(ctx, &last)
	final := errors.Is(err, sql.ErrNoRows) // fewer than size followers remain: this batch takes them all
	if err != nil && !final {
		return alert.Batch{}, err
	}

	recipients, err := as.insertAlerts(ctx, tx, eventID, ev.ChannelID, ev.Cursor, last, final, size)
	if err != nil {
		return alert.Batch{}, err
	}
	slices.Sort(recipients) // RETURNING promises no order; pushes are matched by binary search

	cursor := last
	var doneAt any // NULL until the final batch
	if final {
		cursor = ev.Cursor
		if n := len(recipients); n > 0 && recipients[n-1] > cursor {
			cursor = recipients[n-1]
		}
		doneAt = dbTime(now)
	}
	if _, err := tx.NewRaw(`UPDATE alert_events SET fanout_cursor = ?, fanout_alerts = fanout_alerts + ?, fanout_done_at = ?
		WHERE id = ?`, cursor, len(recipients), doneAt, eventID).Exec(ctx); err != nil {
		return alert.Batch{}, err
	}
	return alert.Batch{Recipients: recipients, Done: final}, nil
}

// insertAlerts inserts the alerts of followers in (after, last] (or after `after`, when
// final) and returns the users it added.
//
// On PostgreSQL, ON CONFLICT DO NOTHING costs a speculative insertion per row, about half
// again the cost of the insert itself. Conflicts cannot happen in normal operation (the
// cursor commits with the batch and the event row lock keeps two workers apart), so the
// batch first tries a plain insert under a savepoint; only if the primary key refuses it (a
// batch re-run after its cursor was lost) is it redone with ON CONFLICT DO NOTHING. Either
// way the primary key guarantees one alert per user and event. SQLite's upsert check is
// part of its normal index probe, so it always uses ON CONFLICT.
func (as *AlertStore) insertAlerts(ctx context.Context, tx bun.Tx, eventID, channelID, after, last int64, final bool, size int) ([]int64, error) {
	rangeSQL, args := `user_id > ? AND user_id <= ?`, []any{eventID, channelID, after, last}
	if final {
		rangeSQL, args = `user_id > ?`, []any{eventID, channelID, after}
	}
	insert := `INSERT INTO alerts (user_id, event_id) SELECT user_id, ? FROM follows WHERE channel_id = ? AND ` + rangeSQL
	run := func(query string) ([]int64, error) {
		ids := make([]int64, 0, size)
		if err := tx.NewRaw(query, args...).Scan(ctx, &ids); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return ids, nil
	}
	const onConflict = ` ON CONFLICT (user_id, event_id) DO NOTHING RETURNING user_id`
	if as.db.dialect != DialectPostgres {
		return run(insert + onConflict)
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT fanout_batch`); err != nil {
		return nil, err
	}
	ids, err := run(insert + ` RETURNING user_id`)
	if err == nil || !errors.Is(Translate(err), store.ErrAlreadyExists) {
		return ids, err
	}
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT fanout_batch`); err != nil {
		return nil, err
	}
	return run(insert + onConflict)
}
