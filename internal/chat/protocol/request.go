package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Request is a decoded client message: one of *Send, *Delete, *Timeout, *Ban, *Unban, *Slow,
// *Mode, *Clear, *HistorySince. The client never says who it is; the server knows that from
// the connection's session.
type Request interface {
	// Type is the message type ("msg.send", …).
	Type() string
	// Reference is the client's "ref" tag, echoed in the reply to this request ("" if none).
	Reference() string
	validate() error
}

// Common holds what every request may carry besides its header.
type Common struct {
	Header
	// Ref is an opaque tag of at most MaxRefBytes the server echoes in an error caused by
	// this request, so a client can tie the error to what it sent.
	Ref string `json:"ref,omitempty"`
}

// Reference returns the request's ref tag.
func (c *Common) Reference() string { return c.Ref }

// Send posts a chat message. Text is cleaned and checked by the server.
type Send struct {
	Common
	Text string `json:"text"`
}

// Delete removes one message for everyone.
type Delete struct {
	Common
	ID MessageID `json:"id"`
}

// Timeout stops a user from sending for Seconds.
type Timeout struct {
	Common
	UserID  int64  `json:"user"`
	Seconds int    `json:"seconds"`
	Reason  string `json:"reason,omitempty"`
}

// Ban stops a user from joining or sending until unbanned.
type Ban struct {
	Common
	UserID int64  `json:"user"`
	Reason string `json:"reason,omitempty"`
}

// Unban lifts a ban or a timeout.
type Unban struct {
	Common
	UserID int64 `json:"user"`
}

// Slow sets slow mode: each user may send once per Seconds (0 turns it off).
type Slow struct {
	Common
	Seconds int `json:"seconds"`
}

// Mode switches followers-only and verified-only chat and sets followers-only's minimum
// follow age; an absent field stays as it is.
type Mode struct {
	Common
	FollowersOnly *bool `json:"followers_only,omitempty"`
	// MinFollowSeconds: in followers-only mode, how long a user must have followed the
	// channel before they may chat (0: any follower). The server caps it.
	MinFollowSeconds *int  `json:"min_follow_seconds,omitempty"`
	VerifiedOnly     *bool `json:"verified_only,omitempty"`
}

// Clear deletes every message sent so far, for everyone.
type Clear struct {
	Common
}

// HistorySince asks for the messages after After (the last id the client saw).
type HistorySince struct {
	Common
	After MessageID `json:"after"`
}

func (*Send) Type() string         { return TypeSend }
func (*Delete) Type() string       { return TypeDelete }
func (*Timeout) Type() string      { return TypeTimeout }
func (*Ban) Type() string          { return TypeBan }
func (*Unban) Type() string        { return TypeUnban }
func (*Slow) Type() string         { return TypeSlow }
func (*Mode) Type() string         { return TypeMode }
func (*Clear) Type() string        { return TypeClear }
func (*HistorySince) Type() string { return TypeHistorySince }

func (r *Send) validate() error {
	if !utf8.ValidString(r.Text) {
		return fieldError("text", "must be UTF-8")
	}
	return nil
}

func (r *Delete) validate() error {
	if r.ID <= 0 {
		return fieldError("id", "required")
	}
	return nil
}

func (r *Timeout) validate() error {
	if r.UserID <= 0 {
		return fieldError("user", "required")
	}
	if r.Seconds <= 0 {
		return fieldError("seconds", "must be positive")
	}
	return checkReason(r.Reason)
}

func (r *Ban) validate() error {
	if r.UserID <= 0 {
		return fieldError("user", "required")
	}
	return checkReason(r.Reason)
}

func (r *Unban) validate() error {
	if r.UserID <= 0 {
		return fieldError("user", "required")
	}
	return nil
}

func (r *Slow) validate() error {
	if r.Seconds < 0 {
		return fieldError("seconds", "must not be negative")
	}
	return nil
}

func (r *Mode) validate() error {
	if r.FollowersOnly == nil && r.VerifiedOnly == nil && r.MinFollowSeconds == nil {
		return fieldError("followers_only", "set followers_only, min_follow_seconds or verified_only")
	}
	if r.MinFollowSeconds != nil && *r.MinFollowSeconds < 0 {
		return fieldError("min_follow_seconds", "must not be negative")
	}
	return nil
}

func (r *Clear) validate() error { return nil }

func (r *HistorySince) validate() error {
	if r.After <= 0 {
		return fieldError("after", "required")
	}
	return nil
}

func checkReason(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxReasonRunes {
		return fieldError("reason", fmt.Sprintf("at most %d characters of UTF-8", MaxReasonRunes))
	}
	return nil
}

// DecodeError says why a client message was refused. Code is one of the ErrCode constants;
// Detail is English for developers.
type DecodeError struct {
	Code   string
	Detail string
}

func (e *DecodeError) Error() string { return "chat protocol: " + e.Code + ": " + e.Detail }

// Codes of DecodeError.
const (
	ErrCodeTooLarge    = "too_large"
	ErrCodeMalformed   = "malformed"
	ErrCodeVersion     = "unsupported_version"
	ErrCodeUnknownType = "unknown_type"
	ErrCodeBadField    = "bad_field"
)

var errBadID = errors.New("message id must be a string of decimal digits")

func fieldError(field, why string) error {
	return &DecodeError{Code: ErrCodeBadField, Detail: field + ": " + why}
}

var constructors = map[string]func() Request{
	TypeSend:         func() Request { return new(Send) },
	TypeDelete:       func() Request { return new(Delete) },
	TypeTimeout:      func() Request { return new(Timeout) },
	TypeBan:          func() Request { return new(Ban) },
	TypeUnban:        func() Request { return new(Unban) },
	TypeSlow:         func() Request { return new(Slow) },
	TypeMode:         func() Request { return new(Mode) },
	TypeClear:        func() Request { return new(Clear) },
	TypeHistorySince: func() Request { return new(HistorySince) },
}

// Decode parses one client message. It is strict: the message must be a single JSON object
// of at most MaxRequestBytes with "v" equal to Version, a known "t", only the fields of that
// type (unknown fields are refused, so a misspelt field never silently does nothing) and
// fields of the right types and ranges. Every refusal is a *DecodeError.
func Decode(data []byte) (Request, error) {
	if len(data) > MaxRequestBytes {
		return nil, &DecodeError{Code: ErrCodeTooLarge, Detail: fmt.Sprintf("message over %d bytes", MaxRequestBytes)}
	}
	var head struct {
		V *int    `json:"v"`
		T *string `json:"t"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, &DecodeError{Code: ErrCodeMalformed, Detail: "not a JSON object"}
	}
	if head.V == nil || *head.V != Version {
		return nil, &DecodeError{Code: ErrCodeVersion, Detail: fmt.Sprintf(`"v" must be %d`, Version)}
	}
	if head.T == nil {
		return nil, &DecodeError{Code: ErrCodeUnknownType, Detail: `"t" is missing`}
	}
	newReq, ok := constructors[*head.T]
	if !ok {
		return nil, &DecodeError{Code: ErrCodeUnknownType, Detail: fmt.Sprintf("unknown type %q", *head.T)}
	}
	req := newReq()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return nil, &DecodeError{Code: ErrCodeBadField, Detail: describe(err)}
	}
	if c := common(req); len(c.Ref) > MaxRefBytes || !utf8.ValidString(c.Ref) {
		return nil, fieldError("ref", fmt.Sprintf("at most %d bytes of UTF-8", MaxRefBytes))
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	return req, nil
}

// common returns the shared part of any request.
func common(r Request) *Common {
	switch r := r.(type) {
	case *Send:
		return &r.Common
	case *Delete:
		return &r.Common
	case *Timeout:
		return &r.Common
	case *Ban:
		return &r.Common
	case *Unban:
		return &r.Common
	case *Slow:
		return &r.Common
	case *Mode:
		return &r.Common
	case *Clear:
		return &r.Common
	case *HistorySince:
		return &r.Common
	}
	panic(fmt.Sprintf("protocol: unknown request %T", r))
}

// describe turns a JSON decoding error into a short English explanation without echoing
// large parts of the input back.
func describe(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("%s: wrong type (%s)", typeErr.Field, typeErr.Value)
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// Encode renders a request as a client would send it, filling in the header. Clients
// written in Go (tests, the load tool) use it.
func Encode(r Request) ([]byte, error) {
	c := common(r)
	c.Header = NewHeader(r.Type())
	if err := r.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}
