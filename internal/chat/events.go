package chat

import (
	"cmp"
	"encoding/json"
	"fmt"
	"time"

	"github.com/freelylive/freely/internal/chat/protocol"
)

// Encoders for the events the server sends. Each event is encoded once and the bytes are
// shared by every connection and node that delivers it.

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain structs of strings and numbers are marshalled here; failure is a bug.
		panic(fmt.Sprintf("chat: encode %T: %v", v, err))
	}
	return b
}

func publicUser(id int64, nick string, badges []string) *protocol.User {
	return &protocol.User{ID: id, Nick: nick, Badges: badges}
}

func encodeMsg(m *Message) []byte {
	return mustMarshal(protocol.Msg{
		Header: protocol.NewHeader(protocol.TypeMsg),
		ID:     protocol.MessageID(m.ID),
		User:   *publicUser(m.UserID, m.Nickname, m.Badges),
		Text:   m.Text,
		At:     m.SentAt.UnixMilli(),
		Masked: m.Masked,
	})
}

func encodeDeleted(ids []int64, upTo int64) []byte {
	ev := protocol.MsgDeleted{Header: protocol.NewHeader(protocol.TypeMsgDeleted), UpTo: protocol.MessageID(upTo)}
	for _, id := range ids {
		ev.IDs = append(ev.IDs, protocol.MessageID(id))
	}
	return mustMarshal(ev)
}

func encodeError(r *Refusal, ref, detail string) []byte {
	return mustMarshal(protocol.Error{
		Header:       protocol.NewHeader(protocol.TypeError),
		Code:         string(r.Code),
		TextKO:       r.TextKO(),
		TextEN:       r.TextEN(),
		RetryAfterMS: r.RetryAfter.Milliseconds(),
		Limit:        r.Limit,
		Ref:          ref,
		Detail:       cmp.Or(detail, r.Detail),
	})
}

func encodeHistory(msgs [][]byte, complete bool) []byte {
	raws := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		raws[i] = m
	}
	return mustMarshal(protocol.History{Header: protocol.NewHeader(protocol.TypeHistory), Msgs: raws, Complete: complete})
}

// System event codes.
const (
	sysTimeout        = "user.timeout"
	sysBan            = "user.ban"
	sysUnban          = "user.unban"
	sysDeleted        = "msg.deleted"
	sysCleared        = "chat.cleared"
	sysSlow           = "room.slow"
	sysFollowersOnly  = "room.followers_only"
	sysMinFollowAge   = "room.min_follow_age"
	sysVerifiedOnly   = "room.verified_only"
	sysManagerAppoint = "manager.appointed"
	sysManagerDismiss = "manager.dismissed"
	sysFilter         = "room.filter"
)

// systemEvent describes a moderation action for everyone in the room, in Korean and English.
type systemEvent struct {
	code    string
	actor   *protocol.User
	target  *protocol.User
	seconds int  // a timeout, slow mode, or the minimum follow age (followers-only)
	on      bool // for mode switches; for the minimum follow age, whether followers-only is on
	mode    string
}

func (s systemEvent) encode(at time.Time) []byte {
	ko, en := s.texts()
	return mustMarshal(protocol.System{
		Header:  protocol.NewHeader(protocol.TypeSystem),
		Code:    s.code,
		Actor:   s.actor,
		Target:  s.target,
		Seconds: s.seconds,
		TextKO:  ko,
		TextEN:  en,
		At:      at.UnixMilli(),
	})
}

func nick(u *protocol.User) string {
	if u == nil {
		return "?"
	}
	return u.Nick
}

func (s systemEvent) texts() (ko, en string) {
	t := nick(s.target)
	switch s.code {
	case sysTimeout:
		return fmt.Sprintf("%s님의 채팅이 %s 동안 제한되었습니다.", t, durationKO(s.seconds)),
			fmt.Sprintf("%s was timed out for %s.", t, durationEN(s.seconds))
	case sysBan:
		return fmt.Sprintf("%s님이 채팅에서 차단되었습니다.", t), fmt.Sprintf("%s was banned from chat.", t)
	case sysUnban:
		return fmt.Sprintf("%s님의 채팅 제한이 해제되었습니다.", t), fmt.Sprintf("%s can chat again.", t)
	case sysDeleted:
		return "관리자가 메시지를 삭제했습니다.", "A moderator deleted a message."
	case sysCleared:
		return "관리자가 채팅을 모두 지웠습니다.", "A moderator cleared the chat."
	case sysSlow:
		if s.seconds == 0 {
			return "저속 모드가 꺼졌습니다.", "Slow mode is off."
		}
		return fmt.Sprintf("저속 모드가 켜졌습니다: %s에 한 번 보낼 수 있어요.", durationKO(s.seconds)),
			fmt.Sprintf("Slow mode is on: one message every %s.", durationEN(s.seconds))
	case sysFollowersOnly:
		switch {
		case s.on && s.seconds > 0:
			return fmt.Sprintf("팔로워 전용 채팅이 켜졌습니다. 팔로우한 지 %s 지난 팔로워만 채팅할 수 있습니다.", withIGa(durationKO(s.seconds))),
				fmt.Sprintf("Followers-only chat is on: only users who have followed for %s can chat.", durationEN(s.seconds))
		case s.on:
			return "팔로워 전용 채팅이 켜졌습니다.", "Followers-only chat is on."
		}
		return "팔로워 전용 채팅이 꺼졌습니다.", "Followers-only chat is off."
	case sysMinFollowAge:
		switch {
		case s.on && s.seconds > 0:
			return fmt.Sprintf("팔로우한 지 %s 지난 팔로워만 채팅할 수 있습니다.", withIGa(durationKO(s.seconds))),
				fmt.Sprintf("Only users who have followed for %s can chat.", durationEN(s.seconds))
		case s.on:
			return "이제 모든 팔로워가 채팅할 수 있습니다.", "Every follower can chat now."
		case s.seconds > 0:
			return fmt.Sprintf("최소 팔로우 기간: %s (팔로워 전용 채팅을 켜면 적용됩니다).", durationKO(s.seconds)),
				fmt.Sprintf("Minimum follow age: %s (applies when followers-only chat is on).", durationEN(s.seconds))
		}
		return "최소 팔로우 기간 없음 (팔로워 전용 채팅을 켜면 모든 팔로워가 채팅할 수 있습니다).",
			"No minimum follow age (when followers-only chat is on, every follower can chat)."
	case sysVerifiedOnly:
		if s.on {
			return "인증 사용자 전용 채팅이 켜졌습니다.", "Verified-only chat is on."
		}
		return "인증 사용자 전용 채팅이 꺼졌습니다.", "Verified-only chat is off."
	case sysManagerAppoint:
		return fmt.Sprintf("%s님이 매니저가 되었습니다.", t), fmt.Sprintf("%s is now a manager.", t)
	case sysManagerDismiss:
		return fmt.Sprintf("%s님이 더 이상 매니저가 아닙니다.", t), fmt.Sprintf("%s is no longer a manager.", t)
	case sysFilter:
		switch s.mode {
		case "block":
			return "금지어 필터: 금지어가 든 메시지를 막습니다.", "Word filter: messages with blocked words are refused."
		case "mask":
			return "금지어 필터: 금지어를 *로 가립니다.", "Word filter: blocked words are masked with *."
		default:
			return "금지어 필터가 꺼졌습니다.", "The word filter is off."
		}
	}
	return s.code, s.code
}

func durationKO(sec int) string {
	switch {
	case sec%86400 == 0:
		return fmt.Sprintf("%d일", sec/86400)
	case sec%3600 == 0:
		return fmt.Sprintf("%d시간", sec/3600)
	case sec%60 == 0:
		return fmt.Sprintf("%d분", sec/60)
	}
	return fmt.Sprintf("%d초", sec)
}

func durationEN(sec int) string {
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case sec%86400 == 0:
		return unit(sec/86400, "day")
	case sec%3600 == 0:
		return unit(sec/3600, "hour")
	case sec%60 == 0:
		return unit(sec/60, "minute")
	}
	return unit(sec, "second")
}

// EncodeRefusal encodes r as an error event, for transports that refuse a connection
// before it joins a room.
func EncodeRefusal(r *Refusal) []byte { return encodeError(r, "", "") }
