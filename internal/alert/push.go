package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Push types: what a user's open pages receive.
const (
	// PushAlert: a new alert. The page shows a toast and adds one to the bell.
	PushAlert = "alert"
	// PushUnread: the unread count changed (read in another tab); Unread is the new count.
	PushUnread = "unread"
)

// pushVersion is the version of bus messages; a Hub ignores versions it does not know.
const pushVersion = 1

// Push is one message for one user, ready to be written to their WebSocket as JSON. It
// holds only public data.
type Push struct {
	Type  string       `json:"type"`
	Alert *PushPayload `json:"alert,omitempty"`
	// Unread is the new unread count of a PushUnread (nil otherwise).
	Unread *int `json:"unread,omitempty"`
}

// PushPayload is an alert as pages receive it.
type PushPayload struct {
	ID                 int64     `json:"id"`
	Kind               Kind      `json:"kind"`
	ChannelID          int64     `json:"channel_id"`
	ChannelHandle      string    `json:"channel_handle"`
	ChannelDisplayName string    `json:"channel_display_name"`
	ChannelProfileKey  string    `json:"channel_profile_key,omitempty"`
	SourceID           int64     `json:"source_id"`
	Title              string    `json:"title"`
	OccurredAt         time.Time `json:"occurred_at"`
}

// Payload returns a as pages receive it.
func (a *Alert) Payload() *PushPayload {
	return &PushPayload{
		ID:                 a.ID,
		Kind:               a.Kind,
		ChannelID:          a.Channel.ID,
		ChannelHandle:      a.Channel.Handle,
		ChannelDisplayName: a.Channel.DisplayName,
		ChannelProfileKey:  a.Channel.ProfileKey,
		SourceID:           a.SourceID,
		Title:              a.Title,
		OccurredAt:         a.OccurredAt,
	}
}

// fanOutMessage is one batch on TopicFanOut: the alert once and the users it was written for.
type fanOutMessage struct {
	V     int          `json:"v"`
	Alert *PushPayload `json:"alert"`
	Users []int64      `json:"users"`
}

// userMessage is one Push on a UserTopic.
type userMessage struct {
	V    int  `json:"v"`
	Push Push `json:"push"`
}

var errUnknownVersion = errors.New("alert: unknown message version")

func encodeFanOut(p *PushPayload, users []int64) ([]byte, error) {
	return json.Marshal(fanOutMessage{V: pushVersion, Alert: p, Users: users})
}

func decodeFanOut(data []byte) (*fanOutMessage, error) {
	var m fanOutMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode fan-out message: %w", err)
	}
	if m.V != pushVersion {
		return nil, fmt.Errorf("fan-out message: %w %d", errUnknownVersion, m.V)
	}
	if m.Alert == nil {
		return nil, errors.New("fan-out message: no alert")
	}
	return &m, nil
}

func encodeUser(p Push) ([]byte, error) {
	return json.Marshal(userMessage{V: pushVersion, Push: p})
}

func decodeUser(data []byte) (Push, error) {
	var m userMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return Push{}, fmt.Errorf("decode user message: %w", err)
	}
	if m.V != pushVersion {
		return Push{}, fmt.Errorf("user message: %w %d", errUnknownVersion, m.V)
	}
	switch m.Push.Type {
	case PushAlert:
		if m.Push.Alert == nil {
			return Push{}, errors.New("user message: alert push without an alert")
		}
	case PushUnread:
		if m.Push.Unread == nil || *m.Push.Unread < 0 {
			return Push{}, errors.New("user message: unread push without a count")
		}
	default:
		return Push{}, fmt.Errorf("user message: unknown push type %q", m.Push.Type)
	}
	return m.Push, nil
}
