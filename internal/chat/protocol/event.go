package protocol

import "encoding/json"

// The server sends frames: each WebSocket text message is a JSON array of one or more
// events, so several events can share one write. Every event starts with a Header.

// Badges a user can carry in a room.
const (
	BadgeOwner   = "owner"
	BadgeManager = "manager"
	BadgeAdmin   = "admin"
)

// User is the public face of a chat user: never an e-mail address or anything private.
type User struct {
	ID     int64    `json:"id"`
	Nick   string   `json:"nick"`
	Badges []string `json:"badges,omitempty"`
}

// Msg is one chat message.
type Msg struct {
	Header
	ID     MessageID `json:"id"`
	User   User      `json:"user"`
	Text   string    `json:"text"`
	At     int64     `json:"at"`               // Unix milliseconds
	Masked bool      `json:"masked,omitempty"` // the profanity filter replaced some characters
}

// MsgDeleted removes messages: those listed in IDs, and when UpTo is set every message with
// an id up to and including it (a cleared chat).
type MsgDeleted struct {
	Header
	IDs  []MessageID `json:"ids,omitempty"`
	UpTo MessageID   `json:"up_to,omitempty"`
}

// System announces something that happened in the room (a ban, slow mode, …). Code is
// stable for clients; TextKO and TextEN are ready to show.
type System struct {
	Header
	Code    string `json:"code"`
	Actor   *User  `json:"actor,omitempty"`
	Target  *User  `json:"target,omitempty"`
	Seconds int    `json:"seconds,omitempty"`
	TextKO  string `json:"ko"`
	TextEN  string `json:"en"`
	At      int64  `json:"at"`
}

// Error tells the sender why their request was refused. It reaches only the sender.
type Error struct {
	Header
	Code         string `json:"code"`
	TextKO       string `json:"ko"`
	TextEN       string `json:"en"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
	Limit        int    `json:"limit,omitempty"`
	Ref          string `json:"ref,omitempty"`    // the request's ref, if it had one
	Detail       string `json:"detail,omitempty"` // English detail of a malformed request
}

// History carries stored messages, oldest first: the recent ones on join, or the ones after
// a given id on resume. Complete is false when more messages were missed than are sent.
// After a resume it may repeat messages the client already has; clients skip known ids.
type History struct {
	Header
	Msgs     []json.RawMessage `json:"msgs"` // each a Msg event
	Complete bool              `json:"complete"`
}

// State is the room's moderation state as it applies to the receiving connection. It is
// sent on join and again whenever it changes.
type State struct {
	Header
	SlowSeconds   int  `json:"slow"`
	FollowersOnly bool `json:"followers_only"`
	// MinFollowSeconds: in followers-only mode, how long a user must have followed the
	// channel before they may chat (0: any follower).
	MinFollowSeconds int    `json:"min_follow_seconds"`
	VerifiedOnly     bool   `json:"verified_only"`
	You              *Self  `json:"you"`
	Filter           string `json:"filter"` // the profanity filter mode: off, mask or block
}

// Self is what a connection may do in the room.
type Self struct {
	User    *User  `json:"user,omitempty"` // nil for a reader who is not logged in
	CanSend bool   `json:"can_send"`
	Reason  string `json:"reason,omitempty"` // why not, a refusal code (not_logged_in, banned, …)
	// CanModerate is true for the owner, managers and site admins.
	CanModerate bool `json:"can_moderate"`
	// TimeoutUntil is the end of a timeout in Unix milliseconds, 0 for none.
	TimeoutUntil int64 `json:"timeout_until,omitempty"`
}

// AppendFrame appends a frame holding the encoded events to dst.
func AppendFrame(dst []byte, events ...[]byte) []byte {
	dst = append(dst, '[')
	for i, e := range events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e...)
	}
	return append(dst, ']')
}

// DecodeFrame splits a server frame into its events, each as raw JSON with its type, for
// clients written in Go (tests, the load tool).
func DecodeFrame(frame []byte) ([]RawEvent, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(frame, &raws); err != nil {
		return nil, err
	}
	out := make([]RawEvent, 0, len(raws))
	for _, r := range raws {
		var h Header
		if err := json.Unmarshal(r, &h); err != nil {
			return nil, err
		}
		out = append(out, RawEvent{Header: h, Raw: r})
	}
	return out, nil
}

// RawEvent is one event of a frame, not yet decoded beyond its header.
type RawEvent struct {
	Header
	Raw json.RawMessage
}
