package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"
)

// Retention deletes alerts whose event occurred before a cutoff, in short statements that
// each touch at most `limit` rows, for a periodic job (jobs.AddAlertRetention) that calls
// them in a loop with pauses between.
//
// The alerts table has no time of its own and no index but its primary key (user_id,
// event_id); event ids increase with time. So the sweep first walks users in id order (a
// trigger deletes a deleted user's alerts, so users covers every alert) and deletes each
// user's alerts below a boundary event id: a primary-key range, (user_id = u AND
// event_id < boundary), that reads only the rows it deletes. Then it deletes the expired
// events, oldest first, through ix_alert_events_occurred_at. The bell's unread count is
// counted on read (never stored), so it drops with the deleted rows.
//
// There is deliberately no index on alerts (event_id), which would spare the users walk:
// every fan-out would write it for every row. With 1M followers it cost SQLite 15% more CPU
// per fan-out and 85% more space for alerts, and PostgreSQL fan-outs took 20–100% longer.
// The walk costs one probe per user per sweep: 0.5 s per million users on SQLite, 1.6 s on
// PostgreSQL.

// The boundary is one past the newest expired event (a seek at the end of the expired range
// of ix_alert_events_occurred_at), and at least the oldest existing event, so alerts left by
// events already deleted (with their channel, or by an earlier sweep) are in range too.
const (
	newestExpiredEventSQL = `SELECT id FROM alert_events WHERE occurred_at < ? ORDER BY occurred_at DESC LIMIT 1`
	oldestEventSQL        = `SELECT id FROM alert_events ORDER BY id LIMIT 1`
)

// The alerts step: per user of the window, the primary-key range below the boundary. The
// scalar subquery keeps a row whose event still exists and is within retention (one dated
// out of id order, or committed while the step runs); both databases run it as one
// primary-key probe per row. The join order is forced (SQLite: CROSS JOIN; PostgreSQL:
// LATERAL with a LIMIT, which it cannot flatten into a join), so the plan probes each user
// instead of scanning every alert of the window's users. The per-user LIMIT applies after
// the scalar subquery, so kept rows never crowd deletable ones out of a step: a step that
// deletes fewer than limit rows has deleted all of its window's.
const (
	deleteAlertsSQLite = `DELETE FROM alerts WHERE (user_id, event_id) IN (
		SELECT a.user_id, a.event_id FROM users u CROSS JOIN alerts a
		 WHERE u.id > ? AND u.id <= ? AND a.user_id = u.id AND a.event_id < ?
		   AND (SELECT e.id FROM alert_events e WHERE e.id = a.event_id AND e.occurred_at >= ?) IS NULL
		 LIMIT ?)`
	deleteAlertsPostgres = `DELETE FROM alerts WHERE (user_id, event_id) IN (
		SELECT a.user_id, a.event_id FROM users u CROSS JOIN LATERAL (
			SELECT user_id, event_id FROM alerts
			 WHERE user_id = u.id AND event_id < ?
			   AND (SELECT e.id FROM alert_events e WHERE e.id = event_id AND e.occurred_at >= ?) IS NULL
			 LIMIT ?) a
		 WHERE u.id > ? AND u.id <= ?
		 LIMIT ?)`
)

// The events step: the oldest expired events, through ix_alert_events_occurred_at, each
// deleted by primary key. (PostgreSQL planned IN (…) as a sequential scan of alert_events;
// = ANY(ARRAY(…)) computes the ids first and probes the primary key with them.)
const (
	deleteAlertEventsSQLite = `DELETE FROM alert_events WHERE id IN (
		SELECT id FROM alert_events WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)`
	deleteAlertEventsPostgres = `DELETE FROM alert_events WHERE id = ANY(ARRAY(
		SELECT id FROM alert_events WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?))`
)

// DeleteAlertsBefore deletes, in one statement, at most limit alerts of the next limit users
// after afterUser (in id order) whose event occurred before `before` or no longer exists. It
// returns how many, the user to continue after (afterUser again when those users may have
// more) and whether the last user has been swept. Sweep every user before calling
// DeleteAlertEventsBefore: the range searched per user ends at the newest expired event.
func (as *AlertStore) DeleteAlertsBefore(ctx context.Context, before time.Time, afterUser int64, limit int) (deleted, next int64, done bool, err error) {
	if limit < 1 {
		return 0, 0, false, fmt.Errorf("delete alerts before %s: limit %d", before.Format(time.RFC3339), limit)
	}
	err = as.retentionTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		boundary, err := as.alertBoundary(ctx, tx, before)
		if err != nil {
			return err
		}
		// The window's last user: limit entries along the users primary key.
		var last int64
		err = tx.NewRaw(`SELECT id FROM users WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?`, afterUser, limit-1).Scan(ctx, &last)
		final := errors.Is(err, sql.ErrNoRows)
		if err != nil && !final {
			return err
		}
		if final {
			last = math.MaxInt64
		}

		var res sql.Result
		if as.db.dialect == DialectPostgres {
			res, err = tx.NewRaw(deleteAlertsPostgres, boundary, dbTime(before), limit, afterUser, last, limit).Exec(ctx)
		} else {
			res, err = tx.NewRaw(deleteAlertsSQLite, afterUser, last, boundary, dbTime(before), limit).Exec(ctx)
		}
		if err != nil {
			return err
		}
		if deleted, err = res.RowsAffected(); err != nil {
			return err
		}
		switch {
		case deleted == int64(limit):
			next = afterUser // the window may hold more
		case final:
			done = true
		default:
			next = last
		}
		return nil
	})
	if err != nil {
		return 0, 0, false, fmt.Errorf("delete alerts before %s after user %d: %w", before.Format(time.RFC3339), afterUser, Translate(err))
	}
	return deleted, next, done, nil
}

// DeleteAlertEventsBefore deletes, in one statement, at most limit alert events that
// occurred before `before`, oldest first, and returns how many. Alerts still pointing at a
// deleted event are hidden (reads join the event) and go with the next sweep. A fan-out
// still running for a deleted event ends as done at its next batch.
func (as *AlertStore) DeleteAlertEventsBefore(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit < 1 {
		return 0, fmt.Errorf("delete alert events before %s: limit %d", before.Format(time.RFC3339), limit)
	}
	var n int64
	err := as.retentionTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		query := deleteAlertEventsSQLite
		if as.db.dialect == DialectPostgres {
			query = deleteAlertEventsPostgres
		}
		res, err := tx.NewRaw(query, dbTime(before), limit).Exec(ctx)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete alert events before %s: %w", before.Format(time.RFC3339), Translate(err))
	}
	return n, nil
}

// alertBoundary returns the event id below which DeleteAlertsBefore looks for alerts; with
// no event stored at all, every alert is an orphan and the range is unbounded.
func (as *AlertStore) alertBoundary(ctx context.Context, tx bun.Tx, before time.Time) (int64, error) {
	var expired, oldest int64
	err := tx.NewRaw(newestExpiredEventSQL, dbTime(before)).Scan(ctx, &expired)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	err = tx.NewRaw(oldestEventSQL).Scan(ctx, &oldest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return math.MaxInt64, nil
	case err != nil:
		return 0, err
	}
	return max(expired+1, oldest), nil
}

// retentionTx runs one retention step in a transaction: on SQLite a short write
// transaction; on PostgreSQL one that switches JIT compilation off, because the planner's
// estimate for a 10,000-row step crosses jit_above_cost and compiling took longer than the
// statement itself.
func (as *AlertStore) retentionTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return as.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if as.db.dialect == DialectPostgres {
			if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
				return err
			}
		}
		return fn(ctx, tx)
	})
}
