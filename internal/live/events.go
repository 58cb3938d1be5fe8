package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/freelylive/freely/internal/channel"
)

// Bus topics. Every event goes to TopicLive (home page, search, alerts) and to the channel's
// own topic (its watch page and chat room).
const TopicLive = "live"

// ChannelTopic is the topic of one channel's events: "live.{channelID}".
func ChannelTopic(channelID int64) string { return "live." + strconv.FormatInt(channelID, 10) }

// Event types and the payload version. A consumer that meets a higher version than it knows
// should ignore the event rather than guess.
const (
	EventVersion = 1

	EventStarted = "live.started"
	EventUpdated = "live.updated"
	EventEnded   = "live.ended"
	// EventStatus is a node's periodic report of the viewers it counts and the thumbnails it
	// grabs, so every node's directory shows totals. It goes to TopicStatus only.
	EventStatus = "live.status"
)

// TopicStatus carries EventStatus reports between nodes.
const TopicStatus = "live.status"

// EventHeader starts every event: {"v":1,"type":"live.started",...}.
type EventHeader struct {
	V    int    `json:"v"`
	Type string `json:"type"`
}

// EventCategory is a category as events carry it.
type EventCategory struct {
	ID     int64  `json:"id"`
	Slug   string `json:"slug"`
	NameKO string `json:"name_ko"`
	NameEN string `json:"name_en"`
}

// StartedEvent: a channel went live (a new session, not a reconnect within grace).
type StartedEvent struct {
	EventHeader
	ChannelID   int64          `json:"channel_id"`
	Handle      string         `json:"handle"`
	DisplayName string         `json:"display_name"`
	ProfileKey  string         `json:"profile_key,omitempty"`
	SessionID   int64          `json:"session_id"`
	Title       string         `json:"title"`
	Category    *EventCategory `json:"category,omitempty"`
	Tags        []string       `json:"tags"`
	StartedAt   time.Time      `json:"started_at"`
}

// UpdatedEvent: the streamer changed title, category or tags during the broadcast.
type UpdatedEvent struct {
	EventHeader
	ChannelID int64          `json:"channel_id"`
	Handle    string         `json:"handle"`
	SessionID int64          `json:"session_id"`
	Title     string         `json:"title"`
	Category  *EventCategory `json:"category,omitempty"`
	Tags      []string       `json:"tags"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// EndedEvent: the broadcast ended (the grace period passed without a reconnect).
type EndedEvent struct {
	EventHeader
	ChannelID       int64     `json:"channel_id"`
	Handle          string    `json:"handle"`
	SessionID       int64     `json:"session_id"`
	StartedAt       time.Time `json:"started_at"`
	EndedAt         time.Time `json:"ended_at"`
	DurationSeconds int64     `json:"duration_seconds"`
	PeakViewers     int       `json:"peak_viewers"`
}

// StatusEvent is one node's report: the viewers it counted per live channel and the latest
// thumbnail of each channel it ingests.
type StatusEvent struct {
	EventHeader
	Node     string          `json:"node"`
	At       time.Time       `json:"at"`
	Channels []ChannelStatus `json:"channels"`
}

// ChannelStatus is one channel's line in a StatusEvent.
type ChannelStatus struct {
	ChannelID    int64  `json:"channel_id"`
	Viewers      int    `json:"viewers"`
	ThumbnailURL string `json:"thumbnail_url,omitempty"`
}

// ErrUnknownEvent is returned by DecodeEvent for a type or version this build does not know.
var ErrUnknownEvent = errors.New("live: unknown event")

// DecodeEvent parses a live.* bus message into *StartedEvent, *UpdatedEvent, *EndedEvent or
// *StatusEvent. Unknown types and newer versions give ErrUnknownEvent.
func DecodeEvent(data []byte) (any, error) {
	var h EventHeader
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("decode live event: %w", err)
	}
	if h.V != EventVersion {
		return nil, fmt.Errorf("%w: version %d of %q", ErrUnknownEvent, h.V, h.Type)
	}
	var ev any
	switch h.Type {
	case EventStarted:
		ev = &StartedEvent{}
	case EventUpdated:
		ev = &UpdatedEvent{}
	case EventEnded:
		ev = &EndedEvent{}
	case EventStatus:
		ev = &StatusEvent{}
	default:
		return nil, fmt.Errorf("%w: type %q", ErrUnknownEvent, h.Type)
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("decode %s event: %w", h.Type, err)
	}
	return ev, nil
}

func eventCategory(c *channel.Category) *EventCategory {
	if c == nil {
		return nil
	}
	return &EventCategory{ID: c.ID, Slug: c.Slug, NameKO: c.NameKO, NameEN: c.NameEN}
}

func (c *EventCategory) category() *channel.Category {
	if c == nil {
		return nil
	}
	return &channel.Category{ID: c.ID, Slug: c.Slug, NameKO: c.NameKO, NameEN: c.NameEN}
}

func startedEvent(ch *channel.Channel, s *Session) *StartedEvent {
	return &StartedEvent{
		EventHeader: EventHeader{V: EventVersion, Type: EventStarted},
		ChannelID:   ch.ID,
		Handle:      ch.Handle,
		DisplayName: ch.DisplayName,
		ProfileKey:  ch.ProfileKey,
		SessionID:   s.ID,
		Title:       s.Title,
		Category:    eventCategory(s.Category),
		Tags:        s.TagNames(),
		StartedAt:   s.StartedAt,
	}
}

func updatedEvent(handle string, s *Session, at time.Time) *UpdatedEvent {
	return &UpdatedEvent{
		EventHeader: EventHeader{V: EventVersion, Type: EventUpdated},
		ChannelID:   s.ChannelID,
		Handle:      handle,
		SessionID:   s.ID,
		Title:       s.Title,
		Category:    eventCategory(s.Category),
		Tags:        s.TagNames(),
		UpdatedAt:   at,
	}
}

func endedEvent(handle string, s *Session) *EndedEvent {
	return &EndedEvent{
		EventHeader:     EventHeader{V: EventVersion, Type: EventEnded},
		ChannelID:       s.ChannelID,
		Handle:          handle,
		SessionID:       s.ID,
		StartedAt:       s.StartedAt,
		EndedAt:         s.EndedAt,
		DurationSeconds: int64(s.Duration / time.Second),
		PeakViewers:     s.PeakViewers,
	}
}
