package chat

import (
	"context"
	"encoding/json"
	"time"

	"github.com/freelylive/freely/internal/chat/filter"
)

// send carries out a chat message from c: every check runs here on the server, in this
// order — may the user write at all (logged in, verified, not banned or timed out, the room's
// modes, followed long enough in followers-only mode), is the text acceptable once cleaned,
// does the filter block it, is the sender within the rate limit, slow mode and duplicate
// rules. An accepted message gets its id, goes to the room's history and connections, to the
// persistence queue, and to the other nodes.
func (r *room) send(ctx context.Context, c *Conn, text string) error {
	h := r.hub
	u := c.user
	now := h.now()

	r.mu.Lock()
	if r.closedErr != nil {
		r.mu.Unlock()
		return ErrClosed
	}
	if refusal := r.writeRefusalLocked(u, now); refusal != nil {
		r.mu.Unlock()
		return refusal
	}
	rl := r.roleLocked(u)
	followersOnly, minFollowAge := r.settings.FollowersOnly, r.settings.MinFollowAge
	f, mode := r.filter, r.settings.FilterMode
	r.mu.Unlock()

	// Work that may wait (the follow check) or take a while (cleaning, the filter) runs
	// outside the room lock.
	if followersOnly && rl < roleManager {
		since, following, err := c.follows(ctx)
		if err != nil {
			return err
		}
		if !following {
			return refuse(CodeFollowersOnly)
		}
		if wait := since.Add(minFollowAge).Sub(now); minFollowAge > 0 && wait > 0 {
			return &Refusal{Code: CodeFollowTooRecent, RetryAfter: wait, MinFollowAge: minFollowAge}
		}
	}
	clean, err := h.opts.Text.Clean(text)
	if err != nil {
		return err
	}
	masked := false
	switch mode {
	case filter.ModeBlock:
		if f.Contains(clean) {
			return refuse(CodeProfanity)
		}
	case filter.ModeMask:
		clean, masked = f.Mask(clean)
	}

	r.mu.Lock()
	// A ban or timeout may have arrived meanwhile.
	if refusal := r.writeRefusalLocked(u, now); refusal != nil {
		r.mu.Unlock()
		return refusal
	}
	slow := time.Duration(r.settings.SlowSeconds) * time.Second
	if refusal := r.limits.admit(u.ID, clean, now, slow, rl >= roleManager); refusal != nil {
		r.mu.Unlock()
		return refusal
	}
	msg := &Message{
		ID:        h.ids.next(now),
		ChannelID: r.channelID,
		UserID:    u.ID,
		Nickname:  u.Nickname,
		Badges:    r.badgesLocked(u),
		Text:      clean,
		Masked:    masked,
		SentAt:    now,
	}
	if !h.writer.offer(writeOp{msg: msg}) {
		r.mu.Unlock()
		return internalError("queue message for storage", errStoreBehind)
	}
	ev := encodeMsg(msg)
	r.history.add(historyEntry{id: msg.ID, userID: u.ID, event: ev})
	r.out.append(ev)
	r.mu.Unlock()

	h.publish(r.channelID, &envelope{Kind: kindMsg, MsgID: msg.ID, UserID: u.ID, Events: []json.RawMessage{ev}})
	return nil
}
