// Package live owns live sessions: who may publish (stream-key admission), when a broadcast
// opens, survives a reconnect within the grace period and ends, the stream information
// (title, category, tags) viewers see, concurrent-viewer counting, the "live now" directory
// and the live.* bus events. Media transports call it through small interfaces; it never
// touches media bytes. It imports no net/http, no SQL driver and no configuration package.
package live

import (
	"errors"
	"time"

	"github.com/freelylive/freely/internal/channel"
)

// Session is one broadcast of a channel: from the first keyframe until the publisher has been
// gone for longer than the grace period. A publisher that reconnects within the grace period
// continues the same session.
type Session struct {
	ID        int64
	ChannelID int64
	Title     string
	Category  *channel.Category // nil when the streamer chose none
	Tags      []channel.Tag     // in the streamer's order
	StartedAt time.Time
	// EndedAt is zero while the session is open. It records when the broadcast stopped (the
	// publisher left), not when the grace period ran out.
	EndedAt time.Time
	// LastSeenAt is the last moment the broadcast was known to be running. It moves forward
	// on a heartbeat while a publisher is connected; after a crash it is the recorded end.
	LastSeenAt  time.Time
	Duration    time.Duration // EndedAt - StartedAt once ended
	PeakViewers int
}

// Open reports whether the session is still running (or waiting in its grace period).
func (s *Session) Open() bool { return s.EndedAt.IsZero() }

// TagNames returns the names of the session's tags.
func (s *Session) TagNames() []string { return tagNames(s.Tags) }

// StreamInfo is what a streamer sets on the dashboard, before or during a broadcast. A new
// session copies it; changing it during a broadcast changes the open session too.
type StreamInfo struct {
	ChannelID int64
	Title     string
	Category  *channel.Category // nil for none
	Tags      []channel.Tag
	UpdatedAt time.Time
}

// StreamInfoInput is the dashboard form: raw user text, validated by Manager.SetStreamInfo.
type StreamInfoInput struct {
	Title        string
	CategorySlug string // "" for none
	Tags         []string
}

// LiveChannel is one entry of the "live now" directory: everything a home-page card or a
// watch page header needs, and nothing private.
type LiveChannel struct {
	ChannelID    int64
	Handle       string
	DisplayName  string
	ProfileKey   string // blob key of the channel's profile image, "" for none
	SessionID    int64
	Title        string
	Category     *channel.Category
	Tags         []string
	StartedAt    time.Time
	Viewers      int
	ThumbnailURL string
}

// Admission refusals. The media side closes the connection before accepting any media; the
// reason is logged here (without the key).
var (
	ErrStreamKeyInvalid  = errors.New("live: stream key missing or wrong")
	ErrOwnerUnverified   = errors.New("live: channel owner has not verified their e-mail")
	ErrChannelSuspended  = errors.New("live: channel is suspended")
	ErrAlreadyPublishing = errors.New("live: a publisher is already connected to this channel")
	// ErrPublicationEnded is returned by Publication.Started after Ended, or after the
	// manager closed.
	ErrPublicationEnded = errors.New("live: publication has ended")
	// ErrClosed is returned by Admit after Close.
	ErrClosed = errors.New("live: manager closed")
)

func tagNames(tags []channel.Tag) []string {
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.Name
	}
	return names
}
