// Package protocol is the chat wire format: versioned JSON messages exchanged over the chat
// WebSocket. It decodes what clients send, strictly and within a size cap, and declares the
// events the server sends. It knows nothing about rooms, users or permissions (package chat)
// or about WebSockets (package chat/ws); docs/chat-protocol.md describes it for client authors.
package protocol

import (
	"encoding/json"
	"strconv"
)

// Version is the protocol version every message carries in "v".
const Version = 1

// MaxRequestBytes caps one client message. A chat line of 300 characters is at most ~1.2 KB
// of UTF-8, ~1.8 KB JSON-escaped; anything larger is not a chat request.
const MaxRequestBytes = 4096

// Limits on request fields that are not chat text.
const (
	MaxRefBytes    = 64  // "ref": an opaque client tag echoed in replies
	MaxReasonRunes = 200 // "reason" of a timeout or ban
)

// Client → server message types.
const (
	TypeSend         = "msg.send"
	TypeDelete       = "msg.delete"
	TypeTimeout      = "mod.timeout"
	TypeBan          = "mod.ban"
	TypeUnban        = "mod.unban"
	TypeSlow         = "mod.slow"
	TypeMode         = "mod.mode"
	TypeClear        = "mod.clear"
	TypeHistorySince = "history.since"
)

// Server → client event types.
const (
	TypeMsg        = "msg"
	TypeMsgDeleted = "msg.deleted"
	TypeSystem     = "system"
	TypeError      = "error"
	TypeHistory    = "history"
	TypeState      = "state"
)

// Header starts every message in both directions.
type Header struct {
	V int    `json:"v"`
	T string `json:"t"`
}

// NewHeader returns the header of a message of type t in the current version.
func NewHeader(t string) Header { return Header{V: Version, T: t} }

// MessageID identifies a chat message. IDs grow with time within a room and are unique
// across nodes. On the wire they are decimal strings: they do not fit a JavaScript number.
type MessageID int64

// MarshalJSON writes the id as a decimal string.
func (id MessageID) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(id), 10)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts only a string of decimal digits holding a positive id.
func (id *MessageID) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errBadID
	}
	if s == "" || len(s) > 19 {
		return errBadID
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return errBadID
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return errBadID
	}
	*id = MessageID(n)
	return nil
}

func (id MessageID) String() string { return strconv.FormatInt(int64(id), 10) }

// ParseMessageID parses a decimal message id (as in the "after" query parameter).
func ParseMessageID(s string) (MessageID, error) {
	var id MessageID
	if err := id.UnmarshalJSON(strconv.AppendQuote(nil, s)); err != nil {
		return 0, err
	}
	return id, nil
}
