// Package alert owns alerts: the events that alert a channel's followers (the channel went
// live, the channel posted a notice), the fan-out job that writes one alert per follower,
// exactly once, in keyset batches that resume after a crash, the real-time push to followers
// who are online, and each user's bell (unread count, list, mark read). It imports no
// net/http, no SQL driver and no configuration package; the River worker and the live-session
// hook are here because they are the use-case, the queue and the store are passed in.
//
// How a "went live" alert travels:
//
//	live session opens ── same DB transaction ──▶ alert event row + River job (OnLiveOpen)
//	River job ──▶ FanOut.Run: per batch, one transaction inserts alerts for the next followers
//	              (INSERT … SELECT from follows, ON CONFLICT DO NOTHING) and moves the
//	              event's cursor; then one bus message per batch names the recipients
//	every node's Hub ──▶ the WebSocket connections of those recipients that it holds
//
// Alerts do not live forever: a periodic job (jobs.AddAlertRetention, on sqlstore's
// AlertStore) deletes those whose event is older than the configured retention. The unread
// count is counted on read, so it follows without bookkeeping.
package alert

import (
	"errors"
	"strconv"
	"time"
)

// Kind says what an alert is about.
type Kind string

const (
	// KindWentLive: a followed channel started a broadcast. SourceID is the live session.
	KindWentLive Kind = "went_live"
	// KindNotice: a followed channel posted a notice. SourceID is the notice.
	KindNotice Kind = "notice"
)

// Valid reports whether k is a kind this build knows.
func (k Kind) Valid() bool { return k == KindWentLive || k == KindNotice }

// Defaults and caps.
const (
	// DefaultQuietPeriod is the spam window: at most one went-live alert per channel per
	// period, however often the streamer restarts.
	DefaultQuietPeriod = 10 * time.Minute
	// DefaultBatchSize is how many followers one fan-out transaction alerts.
	DefaultBatchSize = 5000
	// MaxBatchSize bounds Options.BatchSize: one batch holds SQLite's write lock, and a huge
	// one would stall every other writer for its whole length.
	MaxBatchSize = 50000
	// DefaultMaxRate is the fan-out's pace: a million followers in five seconds. On the
	// shared two-core benchmark box, SQLite fan-outs paced at this rate finished no later
	// than flat-out ones (which starve for CPU under load) and page p99 rose about half as
	// much (bench/README.md).
	DefaultMaxRate = 200_000
	// DefaultListLimit and MaxListLimit size one page of a user's alert list.
	DefaultListLimit = 20
	MaxListLimit     = 50
	// UnreadCap is the most unread alerts counted; the bell shows "99+" at this value, and
	// counting stops there so a user with a huge backlog costs no more than one with 100.
	UnreadCap = 100
	// MaxTitleRunes is how much of a stream or notice title an alert keeps.
	MaxTitleRunes = 200
)

// ErrNoUser is returned when a use-case is called without a logged-in user.
var ErrNoUser = errors.New("alert: no user")

// Event is one thing that alerts a channel's followers. It is stored once; each follower's
// alert row points at it.
type Event struct {
	ID         int64
	Kind       Kind
	ChannelID  int64
	SourceID   int64 // live session id (KindWentLive) or notice id (KindNotice)
	Title      string
	OccurredAt time.Time
}

// ChannelRef is the public face of the channel an alert is about.
type ChannelRef struct {
	ID          int64
	Handle      string
	DisplayName string
	ProfileKey  string // blob key of the profile image, "" for none
}

// Alert is one entry of a user's alert list. ID is the event's id: a user has at most one
// alert per event.
type Alert struct {
	ID         int64
	Kind       Kind
	Channel    ChannelRef
	SourceID   int64
	Title      string
	OccurredAt time.Time
	ReadAt     time.Time // zero while unread
}

// Unread reports whether the user has not read the alert.
func (a *Alert) Unread() bool { return a.ReadAt.IsZero() }

// Outcome says what CreateEvent did.
type Outcome int

const (
	// Created: a new event was stored; its fan-out must be enqueued.
	Created Outcome = iota + 1
	// Existing: the event for this source was already stored (a retried transaction); its
	// fan-out was enqueued with it.
	Existing
	// Suppressed: the channel already alerted its followers within the quiet period.
	Suppressed
)

// Bus topics. Fan-out batches go to one topic that every node's Hub reads, because a
// million per-user publishes would cost more than the alerts themselves (and most
// followers are offline); messages for one user (their bell count changed in another tab)
// go to that user's own topic.
const TopicFanOut = "alert.fanout"

// UserTopic is the topic of messages for one user: "alert.user.{id}".
func UserTopic(userID int64) string { return "alert.user." + strconv.FormatInt(userID, 10) }

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
