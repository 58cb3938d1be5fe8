package alert

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Batch is what one fan-out transaction did.
type Batch struct {
	// Recipients are the followers alerted by this batch, in user-id order: only rows that
	// were actually inserted, so a re-run batch pushes nobody twice.
	Recipients []int64
	// Done is true once the last follower has been alerted (also when the event was
	// already done, or no longer exists).
	Done bool
}

// Store is the persistence alerts need.
type Store interface {
	// CreateEvent stores e inside tx (the transaction that caused it), filling in e.ID.
	// If an event of e.Kind for e.SourceID is already stored it returns Existing with e
	// filled from it. Otherwise, when quietAfter is not zero and the channel has an event
	// of the same kind that occurred after quietAfter, it stores nothing and returns
	// Suppressed. A missing channel gives store.ErrNotFound.
	CreateEvent(ctx context.Context, tx bun.Tx, e *Event, quietAfter time.Time) (Outcome, error)
	// EventAlert returns the event as an alert (ReadAt zero), with its channel;
	// store.ErrNotFound if the event or its channel is gone.
	EventAlert(ctx context.Context, eventID int64) (*Alert, error)
	// FanOutBatch alerts, in one transaction, the next size followers of the event's channel
	// after the event's cursor, in user-id order, moves the cursor past them and, when they
	// were the last, marks the fan-out done at now. Rows that already exist are left alone.
	FanOutBatch(ctx context.Context, eventID int64, size int, now time.Time) (*Batch, error)

	// Alerts lists userID's alerts newest first, those with ID below beforeID (0: from the
	// newest), at most limit.
	Alerts(ctx context.Context, userID, beforeID int64, limit int) ([]*Alert, error)
	// UnreadCount counts userID's unread alerts, stopping at max.
	UnreadCount(ctx context.Context, userID int64, max int) (int, error)
	// MarkRead marks one of userID's alerts read at at; reading a read alert changes
	// nothing. An alert the user does not have gives store.ErrNotFound.
	MarkRead(ctx context.Context, userID, alertID int64, at time.Time) error
	// MarkAllRead marks every unread alert of userID read at at and returns how many.
	MarkAllRead(ctx context.Context, userID int64, at time.Time) (int64, error)
}
