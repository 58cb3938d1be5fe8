package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Code is a stable, machine-readable reason why the server refused something. Clients key
// their own translations on it; the server also sends Korean and English text.
type Code string

const (
	CodeNotLoggedIn     Code = "not_logged_in"
	CodeNotVerified     Code = "not_verified"
	CodeBanned          Code = "banned"
	CodeTimedOut        Code = "timed_out"
	CodeFollowersOnly   Code = "followers_only"
	CodeFollowTooRecent Code = "follow_too_recent"
	CodeVerifiedOnly    Code = "verified_only"
	CodeEmpty           Code = "empty"
	CodeTooLong         Code = "too_long"
	CodeRateLimited     Code = "rate_limited"
	CodeSlowMode        Code = "slow_mode"
	CodeDuplicate       Code = "duplicate"
	CodeProfanity       Code = "profanity"
	CodeForbidden       Code = "forbidden"
	CodeTargetProtected Code = "target_protected"
	CodeNotFound        Code = "not_found"
	CodeInvalid         Code = "invalid"
	CodeUnavailable     Code = "unavailable"
	CodeInternal        Code = "internal"
)

// Categories a Refusal matches with errors.Is, so a transport can choose its answer (an HTTP
// status, a close code) without knowing every Code.
var (
	ErrForbidden = errors.New("chat: forbidden")      // the actor may not do this
	ErrInvalid   = errors.New("chat: invalid input")  // the input itself is unacceptable
	ErrLimited   = errors.New("chat: limited")        // try again later
	ErrNotFound  = errors.New("chat: not found")      // the target does not exist
	ErrInternal  = errors.New("chat: internal error") // the server failed; nothing changed
)

// Refusal is the error every refused chat action returns. It carries what the sender needs
// to understand the refusal: a Code, and for some codes a limit or a wait.
type Refusal struct {
	Code       Code
	RetryAfter time.Duration // timed_out, rate_limited, slow_mode, follow_too_recent: how long to wait
	Limit      int           // too_long: the maximum number of characters
	// MinFollowAge is the room's minimum follow age (follow_too_recent).
	MinFollowAge time.Duration
	// Detail says in English, for client developers, what was wrong with an invalid value.
	Detail string
	cause  error // internal: the underlying error, for logs only
}

func refuse(code Code) *Refusal { return &Refusal{Code: code} }

func refuseAfter(code Code, wait time.Duration) *Refusal {
	return &Refusal{Code: code, RetryAfter: wait}
}

// internalError wraps a server-side failure; its text never reaches the sender.
func internalError(what string, err error) *Refusal {
	return &Refusal{Code: CodeInternal, cause: fmt.Errorf("%s: %w", what, err)}
}

func (r *Refusal) Error() string {
	switch {
	case r.cause != nil:
		return fmt.Sprintf("chat: %s: %v", r.Code, r.cause)
	case r.Detail != "":
		return fmt.Sprintf("chat: %s: %s", r.Code, r.Detail)
	}
	return "chat: " + string(r.Code)
}

// Unwrap exposes the cause of an internal refusal.
func (r *Refusal) Unwrap() error { return r.cause }

// Is matches the category sentinels (ErrForbidden, ErrInvalid, ErrLimited, ErrNotFound,
// ErrInternal).
func (r *Refusal) Is(target error) bool {
	switch target {
	case ErrForbidden:
		switch r.Code {
		case CodeNotLoggedIn, CodeNotVerified, CodeBanned, CodeFollowersOnly, CodeVerifiedOnly,
			CodeForbidden, CodeTargetProtected:
			return true
		}
	case ErrInvalid:
		switch r.Code {
		case CodeEmpty, CodeTooLong, CodeDuplicate, CodeProfanity, CodeInvalid, CodeUnavailable:
			return true
		}
	case ErrLimited:
		switch r.Code {
		case CodeRateLimited, CodeSlowMode, CodeTimedOut, CodeFollowTooRecent:
			return true
		}
	case ErrNotFound:
		return r.Code == CodeNotFound
	case ErrInternal:
		return r.Code == CodeInternal
	}
	return false
}

// AsRefusal returns err as a *Refusal, turning any other error into an internal one.
func AsRefusal(err error) *Refusal {
	var r *Refusal
	if errors.As(err, &r) {
		return r
	}
	return internalError("unexpected", err)
}

// seconds rounds a wait up to whole seconds (never 0 for a positive wait), as people read it.
func seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// TextKO is the refusal explained to the sender in Korean.
func (r *Refusal) TextKO() string {
	switch r.Code {
	case CodeNotLoggedIn:
		return "로그인해야 채팅할 수 있어요."
	case CodeNotVerified:
		return "이메일 인증을 마쳐야 채팅할 수 있어요."
	case CodeBanned:
		return "이 채널의 채팅에서 차단되었어요."
	case CodeTimedOut:
		return fmt.Sprintf("채팅이 일시 제한되었어요. %d초 후에 다시 보낼 수 있어요.", seconds(r.RetryAfter))
	case CodeFollowersOnly:
		return "지금은 팔로워만 채팅할 수 있어요."
	case CodeFollowTooRecent:
		return fmt.Sprintf("팔로우한 지 %s 지나야 채팅할 수 있어요. %s 후에 보낼 수 있어요.",
			withIGa(durationKO(seconds(r.MinFollowAge))), waitKO(r.RetryAfter))
	case CodeVerifiedOnly:
		return "지금은 인증된 사용자만 채팅할 수 있어요."
	case CodeEmpty:
		return "보낼 내용이 없어요."
	case CodeTooLong:
		return fmt.Sprintf("메시지는 %d자까지 보낼 수 있어요.", r.Limit)
	case CodeRateLimited:
		return fmt.Sprintf("너무 빨리 보내고 있어요. %d초 후에 다시 시도하세요.", seconds(r.RetryAfter))
	case CodeSlowMode:
		return fmt.Sprintf("저속 모드예요. %d초 후에 보낼 수 있어요.", seconds(r.RetryAfter))
	case CodeDuplicate:
		return "같은 메시지를 잇달아 보낼 수 없어요."
	case CodeProfanity:
		return "금지어가 포함되어 있어 보내지 않았어요."
	case CodeForbidden:
		return "이 작업을 할 권한이 없어요."
	case CodeTargetProtected:
		return "이 사용자에게는 그 작업을 할 수 없어요."
	case CodeNotFound:
		return "대상을 찾을 수 없어요."
	case CodeInvalid:
		return "요청이 올바르지 않아요."
	case CodeUnavailable:
		return "이 기능은 지금 사용할 수 없어요."
	default:
		return "문제가 생겼어요. 잠시 후 다시 시도하세요."
	}
}

// TextEN is the refusal explained to the sender in English.
func (r *Refusal) TextEN() string {
	switch r.Code {
	case CodeNotLoggedIn:
		return "Log in to chat."
	case CodeNotVerified:
		return "Verify your e-mail address to chat."
	case CodeBanned:
		return "You are banned from this channel's chat."
	case CodeTimedOut:
		return fmt.Sprintf("You are timed out. You can chat again in %d s.", seconds(r.RetryAfter))
	case CodeFollowersOnly:
		return "Only followers can chat right now."
	case CodeFollowTooRecent:
		return fmt.Sprintf("Only users who have followed for %s can chat. You can chat in %s.",
			durationEN(seconds(r.MinFollowAge)), waitEN(r.RetryAfter))
	case CodeVerifiedOnly:
		return "Only verified users can chat right now."
	case CodeEmpty:
		return "The message is empty."
	case CodeTooLong:
		return fmt.Sprintf("Messages can be at most %d characters long.", r.Limit)
	case CodeRateLimited:
		return fmt.Sprintf("You are sending too fast. Try again in %d s.", seconds(r.RetryAfter))
	case CodeSlowMode:
		return fmt.Sprintf("Slow mode is on. You can send again in %d s.", seconds(r.RetryAfter))
	case CodeDuplicate:
		return "You just sent the same message."
	case CodeProfanity:
		return "Your message contains a blocked word and was not sent."
	case CodeForbidden:
		return "You are not allowed to do that."
	case CodeTargetProtected:
		return "You cannot do that to this user."
	case CodeNotFound:
		return "Not found."
	case CodeInvalid:
		return "The request is not valid."
	case CodeUnavailable:
		return "This feature is not available right now."
	default:
		return "Something went wrong. Try again in a moment."
	}
}

// waitKO and waitEN say how long a wait is in its two largest units ("3분 20초", "1 day 2
// hours"), rounded up to whole seconds, so a wait of days is neither shown in seconds nor
// rounded down to "0 minutes".
func waitKO(d time.Duration) string {
	units := []struct {
		sec  int
		name string
	}{{86400, "일"}, {3600, "시간"}, {60, "분"}, {1, "초"}}
	var parts []string
	for _, p := range waitParts(d) {
		parts = append(parts, fmt.Sprintf("%d%s", p.n, units[p.unit].name))
	}
	return strings.Join(parts, " ")
}

func waitEN(d time.Duration) string {
	names := []string{"day", "hour", "minute", "second"}
	var parts []string
	for _, p := range waitParts(d) {
		if p.n == 1 {
			parts = append(parts, "1 "+names[p.unit])
		} else {
			parts = append(parts, fmt.Sprintf("%d %ss", p.n, names[p.unit]))
		}
	}
	return strings.Join(parts, " ")
}

type waitPart struct{ n, unit int } // unit: 0 days, 1 hours, 2 minutes, 3 seconds

// waitParts splits d (rounded up to whole seconds, at least 1 s) into its two largest
// non-zero units, rounding the second one up so the wait shown is never shorter than d.
func waitParts(d time.Duration) []waitPart {
	sizes := []int{86400, 3600, 60, 1}
	total := max(seconds(d), 1)
	for i, size := range sizes {
		if total < size {
			continue
		}
		n, rest := total/size, total%size
		if rest == 0 || i == len(sizes)-1 {
			return []waitPart{{n, i}}
		}
		next := sizes[i+1]
		m := (rest + next - 1) / next
		if m*next == size { // rounding up filled the larger unit
			return []waitPart{{n + 1, i}}
		}
		return []waitPart{{n, i}, {m, i + 1}}
	}
	return []waitPart{{total, len(sizes) - 1}}
}

// withIGa appends the subject particle that fits the last syllable of s: 이 after a final
// consonant (10분이), 가 after a vowel (30초가).
func withIGa(s string) string {
	r, _ := utf8.DecodeLastRuneInString(s)
	if r >= 0xAC00 && r <= 0xD7A3 && (r-0xAC00)%28 == 0 {
		return s + "가"
	}
	return s + "이"
}
