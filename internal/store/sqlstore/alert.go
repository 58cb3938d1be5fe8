package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/alert"
)

// AlertStore implements alert.Store on the tables of migrations/*/0400_follows_alerts.up.sql.
type AlertStore struct{ db *DB }

var _ alert.Store = (*AlertStore)(nil)

// NewAlertStore returns the alert store of db.
func NewAlertStore(db *DB) *AlertStore { return &AlertStore{db: db} }

type alertEventRow struct {
	bun.BaseModel `bun:"table:alert_events,alias:ae"`

	ID         int64     `bun:"id,pk,autoincrement"`
	Kind       string    `bun:"kind,notnull"`
	ChannelID  int64     `bun:"channel_id,notnull"`
	SourceID   int64     `bun:"source_id,notnull"`
	Title      string    `bun:"title,notnull"`
	OccurredAt time.Time `bun:"occurred_at,notnull"`
}

// CreateEvent implements alert.Store.
func (as *AlertStore) CreateEvent(ctx context.Context, tx bun.Tx, e *alert.Event, quietAfter time.Time) (alert.Outcome, error) {
	if e == nil || !e.Kind.Valid() || e.ChannelID <= 0 {
		return 0, errors.New("create alert event: need a known kind and a channel")
	}
	outcome, err := as.createEvent(ctx, tx, e, quietAfter)
	if err != nil {
		return 0, fmt.Errorf("create %s alert event for channel %d: %w", e.Kind, e.ChannelID, Translate(err))
	}
	return outcome, nil
}

func (as *AlertStore) createEvent(ctx context.Context, tx bun.Tx, e *alert.Event, quietAfter time.Time) (alert.Outcome, error) {
	var existing alertEventRow
	err := tx.NewSelect().Model(&existing).Where("kind = ? AND source_id = ?", string(e.Kind), e.SourceID).Scan(ctx)
	switch {
	case err == nil:
		*e = existing.toDomain()
		return alert.Existing, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, err
	}
	if !quietAfter.IsZero() {
		if as.db.dialect == DialectPostgres {
			// Two events of one channel created at once would both see an empty window;
			// take turns per channel. (SQLite transactions already hold the write lock.)
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('freely.alert_events'), ?::int)`,
				e.ChannelID%2147483647); err != nil {
				return 0, err
			}
		}
		var n int
		err := tx.NewRaw(`SELECT COUNT(*) FROM alert_events WHERE channel_id = ? AND kind = ? AND occurred_at > ?`,
			e.ChannelID, string(e.Kind), dbTime(quietAfter)).Scan(ctx, &n)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			return alert.Suppressed, nil
		}
	}
	row := alertEventRow{
		Kind:       string(e.Kind),
		ChannelID:  e.ChannelID,
		SourceID:   e.SourceID,
		Title:      e.Title,
		OccurredAt: dbTime(e.OccurredAt),
	}
	if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
		return 0, err
	}
	*e = row.toDomain()
	return alert.Created, nil
}

func (r *alertEventRow) toDomain() alert.Event {
	return alert.Event{
		ID:         r.ID,
		Kind:       alert.Kind(r.Kind),
		ChannelID:  r.ChannelID,
		SourceID:   r.SourceID,
		Title:      r.Title,
		OccurredAt: readTime(r.OccurredAt),
	}
}

// alertRow is an alert joined with its event and channel, as lists and pushes show it.
type alertRow struct {
	ID          int64        `bun:"id"`
	Kind        string       `bun:"kind"`
	ChannelID   int64        `bun:"channel_id"`
	Handle      string       `bun:"handle"`
	DisplayName string       `bun:"display_name"`
	ProfileKey  string       `bun:"profile_key"`
	SourceID    int64        `bun:"source_id"`
	Title       string       `bun:"title"`
	OccurredAt  time.Time    `bun:"occurred_at"`
	ReadAt      bun.NullTime `bun:"read_at"`
}

func (r *alertRow) toDomain() *alert.Alert {
	return &alert.Alert{
		ID:   r.ID,
		Kind: alert.Kind(r.Kind),
		Channel: alert.ChannelRef{
			ID:          r.ChannelID,
			Handle:      r.Handle,
			DisplayName: r.DisplayName,
			ProfileKey:  r.ProfileKey,
		},
		SourceID:   r.SourceID,
		Title:      r.Title,
		OccurredAt: readTime(r.OccurredAt),
		ReadAt:     readTime(r.ReadAt.Time),
	}
}

// EventAlert implements alert.Store.
func (as *AlertStore) EventAlert(ctx context.Context, eventID int64) (*alert.Alert, error) {
	var r alertRow
	err := as.db.idb(ctx).NewRaw(`
		SELECT e.id, e.kind, e.channel_id, c.handle, c.display_name, c.profile_key, e.source_id,
		       e.title, e.occurred_at, NULL AS read_at
		  FROM alert_events e JOIN channels c ON c.id = e.channel_id
		 WHERE e.id = ?`, eventID).Scan(ctx, &r)
	if err != nil {
		return nil, fmt.Errorf("alert event %d: %w", eventID, Translate(err))
	}
	return r.toDomain(), nil
}

// Alerts implements alert.Store.
func (as *AlertStore) Alerts(ctx context.Context, userID, beforeID int64, limit int) ([]*alert.Alert, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	var rows []alertRow
	err := as.db.idb(ctx).NewRaw(`
		SELECT e.id, e.kind, e.channel_id, c.handle, c.display_name, c.profile_key, e.source_id,
		       e.title, e.occurred_at, a.read_at
		  FROM alerts a
		  JOIN alert_events e ON e.id = a.event_id
		  JOIN channels c ON c.id = e.channel_id
		 WHERE a.user_id = ? AND a.event_id < ?
		 ORDER BY a.event_id DESC
		 LIMIT ?`, userID, beforeID, limit).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("alerts of user %d: %w", userID, Translate(err))
	}
	out := make([]*alert.Alert, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// UnreadCount implements alert.Store. It walks the user's unread alerts through the primary
// key and stops at max, so its cost is bounded whatever the backlog.
func (as *AlertStore) UnreadCount(ctx context.Context, userID int64, max int) (int, error) {
	var n int
	err := as.db.idb(ctx).NewRaw(`
		SELECT COUNT(*) FROM (
			SELECT 1 FROM alerts a JOIN alert_events e ON e.id = a.event_id
			 WHERE a.user_id = ? AND a.read_at IS NULL
			 LIMIT ?) AS unread`, userID, max).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("unread alerts of user %d: %w", userID, Translate(err))
	}
	return n, nil
}

// MarkRead implements alert.Store.
func (as *AlertStore) MarkRead(ctx context.Context, userID, alertID int64, at time.Time) error {
	err := as.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`UPDATE alerts SET read_at = ? WHERE user_id = ? AND event_id = ? AND read_at IS NULL`,
			dbTime(at), userID, alertID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var one int
		return tx.NewRaw(`SELECT 1 FROM alerts WHERE user_id = ? AND event_id = ?`, userID, alertID).Scan(ctx, &one)
	})
	if err != nil {
		return fmt.Errorf("mark alert %d of user %d read: %w", alertID, userID, Translate(err))
	}
	return nil
}

// MarkAllRead implements alert.Store.
func (as *AlertStore) MarkAllRead(ctx context.Context, userID int64, at time.Time) (int64, error) {
	res, err := as.db.idb(ctx).NewRaw(`UPDATE alerts SET read_at = ? WHERE user_id = ? AND read_at IS NULL`,
		dbTime(at), userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("mark alerts of user %d read: %w", userID, Translate(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("mark alerts of user %d read: %w", userID, err)
	}
	return n, nil
}
