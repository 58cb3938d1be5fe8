package chat

import (
	"hash/maphash"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Defaults for SendLimits.
const (
	DefaultRate            = rate.Limit(1) // one message a second, sustained
	DefaultBurst           = 5             // a short burst on top
	DefaultDuplicateWindow = 30 * time.Second
	senderIdleForget       = 10 * time.Minute
	recentTexts            = 4 // how many earlier messages duplicate suppression compares with
)

// SendLimits are the per-user limits on sending in one room on one node.
type SendLimits struct {
	Rate            rate.Limit    // sustained messages per second; 0 means DefaultRate
	Burst           int           // bucket size; 0 means DefaultBurst
	DuplicateWindow time.Duration // the same text is refused within this; 0 means default, <0 off
}

func (l SendLimits) withDefaults() SendLimits {
	if l.Rate <= 0 {
		l.Rate = DefaultRate
	}
	if l.Burst <= 0 {
		l.Burst = DefaultBurst
	}
	if l.DuplicateWindow == 0 {
		l.DuplicateWindow = DefaultDuplicateWindow
	}
	return l
}

// senderLimits tracks each sender's token bucket, last message time (slow mode) and recent
// texts (duplicate suppression). It is not safe for concurrent use: the room serialises it.
type senderLimits struct {
	limits SendLimits
	seed   maphash.Seed
	users  map[int64]*senderState
}

type senderState struct {
	bucket   *rate.Limiter
	lastSent time.Time
	recent   [recentTexts]sentText
	next     int // index in recent to overwrite
}

type sentText struct {
	hash uint64
	at   time.Time
}

func newSenderLimits(l SendLimits) *senderLimits {
	return &senderLimits{limits: l.withDefaults(), seed: maphash.MakeSeed(), users: make(map[int64]*senderState)}
}

// admit decides whether userID may send text now. slow is the room's slow-mode interval (0 for
// off); exemptSlow is true for the room's moderators. On success the message is recorded; a
// refused message records nothing, so it does not count against the sender's next try.
func (s *senderLimits) admit(userID int64, text string, now time.Time, slow time.Duration, exemptSlow bool) *Refusal {
	st := s.users[userID]
	if st == nil {
		st = &senderState{bucket: rate.NewLimiter(s.limits.Rate, s.limits.Burst)}
		s.users[userID] = st
	}
	if slow > 0 && !exemptSlow && !st.lastSent.IsZero() {
		if wait := st.lastSent.Add(slow).Sub(now); wait > 0 {
			return refuseAfter(CodeSlowMode, wait)
		}
	}
	h := s.textHash(text)
	if s.limits.DuplicateWindow > 0 {
		for _, prev := range st.recent {
			if prev.hash == h && !prev.at.IsZero() && now.Sub(prev.at) < s.limits.DuplicateWindow {
				return refuse(CodeDuplicate)
			}
		}
	}
	res := st.bucket.ReserveN(now, 1)
	if wait := res.DelayFrom(now); !res.OK() || wait > 0 {
		res.CancelAt(now)
		return refuseAfter(CodeRateLimited, wait)
	}
	st.lastSent = now
	st.recent[st.next] = sentText{hash: h, at: now}
	st.next = (st.next + 1) % recentTexts
	return nil
}

// textHash compares texts the way a reader would: case and spacing do not make a message new.
func (s *senderLimits) textHash(text string) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	for _, f := range strings.Fields(strings.ToLower(text)) {
		h.WriteString(f)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// forget drops senders idle long enough that their state no longer matters, bounding memory.
func (s *senderLimits) forget(now time.Time, slow time.Duration) {
	idle := max(senderIdleForget, s.limits.DuplicateWindow, slow)
	for id, st := range s.users {
		if now.Sub(st.lastSent) > idle {
			delete(s.users, id)
		}
	}
}
