package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/chat/filter"
	"github.com/freelylive/freely/internal/chat/protocol"
	"github.com/freelylive/freely/internal/store"
)

// Moderation. Every method takes the acting user from the caller's server-side session and
// checks, on the server, that they may act:
//
//   - delete, timeout, ban, unban, slow mode, modes, clear: the owner, managers, site admins;
//   - appoint and dismiss managers, the word filter, the audit log: the owner and site admins.
//
// Timeouts and bans apply only to ordinary users: the owner, managers and site admins are
// protected (a manager must be dismissed before being banned), and nobody targets
// themselves. Every action is written to the store with an audit entry, applied to the room
// here, published to the other nodes and announced in the room as a system event.

// Limits on moderation input.
const (
	MaxTimeout      = 14 * 24 * time.Hour
	MaxSlowSeconds  = 3600
	MaxReasonRunes  = protocol.MaxReasonRunes
	MaxFilterWords  = 200
	MaxAllowedRunes = 40
	MaxPageSize     = 100

	// MaxMinFollowAge caps followers-only's minimum follow age.
	MaxMinFollowAge = 90 * 24 * time.Hour
)

// withRoom holds the room of channelID open while fn runs.
func (h *Hub) withRoom(ctx context.Context, actor *account.User, channelID int64, fn func(r *room) error) error {
	if actor == nil {
		return refuse(CodeNotLoggedIn)
	}
	r, err := h.acquire(ctx, channelID)
	if err != nil {
		return err
	}
	defer h.release(r)
	return fn(r)
}

func (r *room) roleOf(u *account.User) role {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.roleLocked(u)
}

func (r *room) publicUserOf(u *account.User) *protocol.User {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.publicUserLocked(u)
}

func require(have, need role) error {
	if have < need {
		return refuse(CodeForbidden)
	}
	return nil
}

// target looks up the user an action is aimed at and checks the actor outranks them; with
// onlyUsers, anyone holding a role (manager, owner, admin) is protected whatever the rank.
func (h *Hub) target(ctx context.Context, r *room, actor *account.User, actorRole role, userID int64, onlyUsers bool) (*account.User, error) {
	if userID <= 0 {
		return nil, refuse(CodeNotFound)
	}
	if userID == actor.ID {
		return nil, refuse(CodeTargetProtected)
	}
	u, err := h.opts.Users.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse(CodeNotFound)
	}
	if err != nil {
		return nil, internalError("look up target user", err)
	}
	if tr := r.roleOf(u); (onlyUsers && tr >= roleManager) || tr >= actorRole {
		return nil, refuse(CodeTargetProtected)
	}
	return u, nil
}

// commit applies a change made here and sends it to the other nodes.
func (h *Hub) commit(r *room, env *envelope) {
	r.mu.Lock()
	if r.closedErr == nil {
		r.applyLocked(env)
	}
	r.mu.Unlock()
	h.publish(r.channelID, env)
}

func cleanReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxReasonRunes {
		return "", refuse(CodeInvalid)
	}
	return reason, nil
}

// DeleteMessage removes one message for everyone, live and in history.
func (h *Hub) DeleteMessage(ctx context.Context, actor *account.User, channelID, msgID int64) error {
	return h.withRoom(ctx, actor, channelID, func(r *room) error {
		actorRole := r.roleOf(actor)
		if err := require(actorRole, roleManager); err != nil {
			return err
		}
		r.mu.Lock()
		e, found := r.history.find(msgID)
		r.mu.Unlock()
		senderID := e.userID
		if !found {
			m, err := h.store.MessageByID(ctx, channelID, msgID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && !m.DeletedAt.IsZero()) {
				return refuse(CodeNotFound)
			}
			if err != nil {
				return internalError("look up message", err)
			}
			senderID = m.UserID
		}
		if senderID != actor.ID {
			if _, err := h.target(ctx, r, actor, actorRole, senderID, false); err != nil && !errors.Is(err, ErrNotFound) {
				return err // a deleted account's messages can still be removed
			}
		}
		now := h.now()
		if err := h.store.DeleteMessages(ctx, channelID, []int64{msgID}, now); err != nil {
			return internalError("delete message", err)
		}
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionDelete, TargetUserID: senderID, MessageID: msgID, At: now}
		if err := h.store.AppendAudit(ctx, audit); err != nil {
			return internalError("audit delete", err)
		}
		h.commit(r, &envelope{Kind: kindDelete, IDs: []int64{msgID}, At: now, Events: events(
			encodeDeleted([]int64{msgID}, 0),
			systemEvent{code: sysDeleted, actor: r.publicUserOf(actor)}.encode(now),
		)})
		return nil
	})
}

// Timeout stops userID sending in the channel for d (1 s to MaxTimeout).
func (h *Hub) Timeout(ctx context.Context, actor *account.User, channelID, userID int64, d time.Duration, reason string) error {
	if d < time.Second || d > MaxTimeout {
		return refuse(CodeInvalid)
	}
	return h.restrictUser(ctx, actor, channelID, userID, KindTimeout, d.Truncate(time.Second), reason)
}

// Ban keeps userID out of the channel's chat until unbanned. Their open connections are
// closed (NextFrame returns ErrRemoved) on every node.
func (h *Hub) Ban(ctx context.Context, actor *account.User, channelID, userID int64, reason string) error {
	return h.restrictUser(ctx, actor, channelID, userID, KindBan, 0, reason)
}

func (h *Hub) restrictUser(ctx context.Context, actor *account.User, channelID, userID int64, kind RestrictionKind, d time.Duration, reason string) error {
	reason, err := cleanReason(reason)
	if err != nil {
		return err
	}
	return h.withRoom(ctx, actor, channelID, func(r *room) error {
		actorRole := r.roleOf(actor)
		if err := require(actorRole, roleManager); err != nil {
			return err
		}
		target, err := h.target(ctx, r, actor, actorRole, userID, true)
		if err != nil {
			return err
		}
		now := h.now()
		x := Restriction{ChannelID: channelID, UserID: target.ID, Kind: kind, Reason: reason, ByUserID: actor.ID, CreatedAt: now}
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionBan, TargetUserID: target.ID, Detail: reason, At: now}
		sys := systemEvent{code: sysBan, actor: r.publicUserOf(actor), target: r.publicUserOf(target)}
		if kind == KindTimeout {
			x.Until = now.Add(d)
			audit.Action = ActionTimeout
			audit.Detail = strings.TrimSpace(fmt.Sprintf("%ds %s", int(d.Seconds()), reason))
			sys.code, sys.seconds = sysTimeout, int(d.Seconds())
		}
		if err := h.store.PutRestriction(ctx, &x, audit); err != nil {
			return internalError("store restriction", err)
		}
		h.commit(r, &envelope{Kind: kindRestrict, UserID: target.ID, Restriction: &x, Events: events(sys.encode(now))})
		return nil
	})
}

// Unban lifts userID's ban or timeout. CodeNotFound if there was none.
func (h *Hub) Unban(ctx context.Context, actor *account.User, channelID, userID int64) error {
	return h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleManager); err != nil {
			return err
		}
		target, err := h.opts.Users.UserByID(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(CodeNotFound)
		}
		if err != nil {
			return internalError("look up target user", err)
		}
		now := h.now()
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionUnban, TargetUserID: userID, At: now}
		err = h.store.DeleteRestriction(ctx, channelID, userID, audit)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(CodeNotFound)
		}
		if err != nil {
			return internalError("lift restriction", err)
		}
		sys := systemEvent{code: sysUnban, actor: r.publicUserOf(actor), target: r.publicUserOf(target)}
		h.commit(r, &envelope{Kind: kindUnrestrict, UserID: userID, Events: events(sys.encode(now))})
		return nil
	})
}

// SetSlowMode lets each user send once per seconds (0 turns slow mode off; at most
// MaxSlowSeconds). The owner, managers and admins are exempt.
func (h *Hub) SetSlowMode(ctx context.Context, actor *account.User, channelID int64, seconds int) error {
	if seconds < 0 || seconds > MaxSlowSeconds {
		return refuse(CodeInvalid)
	}
	return h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleManager); err != nil {
			return err
		}
		now := h.now()
		patch := &settingsPatch{SlowSeconds: &seconds}
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionSlow, Detail: fmt.Sprintf("%ds", seconds), At: now}
		sys := systemEvent{code: sysSlow, actor: r.publicUserOf(actor), seconds: seconds}
		return h.saveSettings(ctx, r, patch, audit, sys.encode(now))
	})
}

// ModeChange says which room modes to change; a nil field stays as it is.
type ModeChange struct {
	FollowersOnly *bool
	// MinFollowAge is followers-only's minimum follow age: whole seconds from 0 (any
	// follower) to MaxMinFollowAge. It may be set while followers-only is off and applies
	// once it is on.
	MinFollowAge *time.Duration
	VerifiedOnly *bool
}

// SetModes switches followers-only and verified-only chat; nil leaves a mode as it is.
// Followers-only needs Options.Follows (CodeUnavailable without it).
func (h *Hub) SetModes(ctx context.Context, actor *account.User, channelID int64, followersOnly, verifiedOnly *bool) error {
	return h.ChangeModes(ctx, actor, channelID, ModeChange{FollowersOnly: followersOnly, VerifiedOnly: verifiedOnly})
}

// SetMinFollowAge sets followers-only's minimum follow age (see ModeChange.MinFollowAge).
func (h *Hub) SetMinFollowAge(ctx context.Context, actor *account.User, channelID int64, d time.Duration) error {
	return h.ChangeModes(ctx, actor, channelID, ModeChange{MinFollowAge: &d})
}

// modeChange turns a mod.mode request into a ModeChange. Seconds beyond the cap stay beyond
// it (rather than overflowing a Duration into range) so checkMinFollowAge refuses them.
func modeChange(req *protocol.Mode) ModeChange {
	m := ModeChange{FollowersOnly: req.FollowersOnly, VerifiedOnly: req.VerifiedOnly}
	if s := req.MinFollowSeconds; s != nil {
		d := time.Duration(min(int64(*s), int64(MaxMinFollowAge/time.Second)+1)) * time.Second
		m.MinFollowAge = &d
	}
	return m
}

// checkMinFollowAge refuses a minimum follow age out of range or not in whole seconds.
func checkMinFollowAge(d time.Duration) error {
	if d < 0 || d > MaxMinFollowAge || d%time.Second != 0 {
		return &Refusal{Code: CodeInvalid, Detail: fmt.Sprintf("min_follow_seconds: whole seconds from 0 to %d (%d days)",
			int64(MaxMinFollowAge/time.Second), int64(MaxMinFollowAge/(24*time.Hour)))}
	}
	return nil
}

// ChangeModes changes the room modes m sets, with one audit entry, and announces each change
// in the room. Changing nothing (every field nil) is CodeInvalid; a change to what already
// holds does nothing. Followers-only and a minimum follow age need Options.Follows
// (CodeUnavailable without it).
func (h *Hub) ChangeModes(ctx context.Context, actor *account.User, channelID int64, m ModeChange) error {
	if m.FollowersOnly == nil && m.VerifiedOnly == nil && m.MinFollowAge == nil {
		return refuse(CodeInvalid)
	}
	if m.MinFollowAge != nil {
		if err := checkMinFollowAge(*m.MinFollowAge); err != nil {
			return err
		}
	}
	if h.opts.Follows == nil && ((m.FollowersOnly != nil && *m.FollowersOnly) || (m.MinFollowAge != nil && *m.MinFollowAge > 0)) {
		return refuse(CodeUnavailable)
	}
	return h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleManager); err != nil {
			return err
		}
		r.mu.Lock()
		cur := r.settings
		r.mu.Unlock()
		now := h.now()
		actorUser := r.publicUserOf(actor)
		patch := &settingsPatch{}
		var detail []string
		if m.FollowersOnly != nil && *m.FollowersOnly != cur.FollowersOnly {
			patch.FollowersOnly = m.FollowersOnly
			detail = append(detail, fmt.Sprintf("followers_only=%t", *m.FollowersOnly))
		}
		if m.MinFollowAge != nil && *m.MinFollowAge != cur.MinFollowAge {
			patch.MinFollowAge = m.MinFollowAge
			detail = append(detail, fmt.Sprintf("min_follow=%ds", int64(*m.MinFollowAge/time.Second)))
		}
		if m.VerifiedOnly != nil && *m.VerifiedOnly != cur.VerifiedOnly {
			patch.VerifiedOnly = m.VerifiedOnly
			detail = append(detail, fmt.Sprintf("verified_only=%t", *m.VerifiedOnly))
		}
		if len(detail) == 0 {
			return nil // already so
		}
		next := patch.applyTo(cur)
		ageSeconds := int(next.MinFollowAge / time.Second)
		var evs [][]byte
		if patch.FollowersOnly != nil {
			evs = append(evs, systemEvent{code: sysFollowersOnly, actor: actorUser, on: next.FollowersOnly, seconds: ageSeconds}.encode(now))
		}
		// Switching followers-only on announces the age with it.
		if patch.MinFollowAge != nil && (patch.FollowersOnly == nil || !next.FollowersOnly) {
			evs = append(evs, systemEvent{code: sysMinFollowAge, actor: actorUser, on: next.FollowersOnly, seconds: ageSeconds}.encode(now))
		}
		if patch.VerifiedOnly != nil {
			evs = append(evs, systemEvent{code: sysVerifiedOnly, actor: actorUser, on: next.VerifiedOnly}.encode(now))
		}
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionMode, Detail: strings.Join(detail, " "), At: now}
		return h.saveSettings(ctx, r, patch, audit, evs...)
	})
}

// SetFilter sets the channel's profanity filter mode and the owner's own words (added to
// the shipped list) and allowed words (exempted from it).
func (h *Hub) SetFilter(ctx context.Context, actor *account.User, channelID int64, mode filter.Mode, words, allowed []string) error {
	if !mode.Valid() {
		return refuse(CodeInvalid)
	}
	words, allowed, err := cleanWordLists(words, allowed)
	if err != nil {
		return err
	}
	return h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleOwner); err != nil {
			return err
		}
		now := h.now()
		patch := &settingsPatch{Filter: &filterPatch{Mode: string(mode), Words: words, Allowed: allowed}}
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionFilter,
			Detail: fmt.Sprintf("mode=%s words=%d allowed=%d", mode, len(words), len(allowed)), At: now}
		r.mu.Lock()
		changed := r.settings.FilterMode != mode
		r.mu.Unlock()
		var evs [][]byte
		if changed {
			evs = append(evs, systemEvent{code: sysFilter, actor: r.publicUserOf(actor), mode: string(mode)}.encode(now))
		}
		return h.saveSettings(ctx, r, patch, audit, evs...)
	})
}

// cleanWordLists trims, de-duplicates and checks an owner's word lists.
func cleanWordLists(words, allowed []string) ([]string, []string, error) {
	clean := func(in []string, check func(string) error) ([]string, error) {
		var out []string
		for _, w := range in {
			w = strings.TrimSpace(w)
			if w == "" || slices.Contains(out, w) {
				continue
			}
			if err := check(w); err != nil {
				return nil, refuse(CodeInvalid)
			}
			out = append(out, w)
		}
		if len(out) > MaxFilterWords {
			return nil, refuse(CodeInvalid)
		}
		return out, nil
	}
	w, err := clean(words, filter.CheckWord)
	if err != nil {
		return nil, nil, err
	}
	a, err := clean(allowed, func(s string) error {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxAllowedRunes {
			return refuse(CodeInvalid)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return w, a, nil
}

// saveSettings stores the room's settings with patch applied, then applies and publishes it.
func (h *Hub) saveSettings(ctx context.Context, r *room, patch *settingsPatch, audit *AuditEntry, evs ...[]byte) error {
	r.mu.Lock()
	next := patch.applyTo(r.settings)
	r.mu.Unlock()
	next.ChannelID, next.UpdatedAt = r.channelID, audit.At
	if err := h.store.SaveChatSettings(ctx, &next, audit); err != nil {
		return internalError("save chat settings", err)
	}
	h.commit(r, &envelope{Kind: kindSettings, Settings: patch, Events: events(evs...)})
	return nil
}

// Clear deletes every message sent so far in the channel, for everyone.
func (h *Hub) Clear(ctx context.Context, actor *account.User, channelID int64) error {
	return h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleManager); err != nil {
			return err
		}
		now := h.now()
		// An id taken now is above every message this node accepted before the clear and
		// below every one it accepts after.
		r.mu.Lock()
		upTo := max(h.ids.next(now), r.history.newest())
		r.mu.Unlock()
		if err := h.store.ClearMessages(ctx, channelID, upTo, now); err != nil {
			return internalError("clear messages", err)
		}
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionClear, At: now}
		if err := h.store.AppendAudit(ctx, audit); err != nil {
			return internalError("audit clear", err)
		}
		h.commit(r, &envelope{Kind: kindClear, UpTo: upTo, At: now, Events: events(
			encodeDeleted(nil, upTo),
			systemEvent{code: sysCleared, actor: r.publicUserOf(actor)}.encode(now),
		)})
		return nil
	})
}

// AppointManager makes the user with the given nickname, or the owner of the channel with
// the given handle (a leading @ is ignored), a manager of channelID. Appointing an existing
// manager changes nothing. It returns the appointed user.
func (h *Hub) AppointManager(ctx context.Context, actor *account.User, channelID int64, nameOrHandle string) (*account.User, error) {
	var appointed *account.User
	err := h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleOwner); err != nil {
			return err
		}
		target, err := h.findUser(ctx, nameOrHandle)
		if err != nil {
			return err
		}
		appointed = target
		switch r.roleOf(target) {
		case roleManager:
			return nil
		case roleOwner:
			return refuse(CodeTargetProtected)
		}
		now := h.now()
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionAppoint, TargetUserID: target.ID, At: now}
		err = h.store.AddManager(ctx, &Manager{ChannelID: channelID, UserID: target.ID, AppointedBy: actor.ID, AppointedAt: now}, audit)
		if errors.Is(err, store.ErrAlreadyExists) {
			return nil
		}
		if err != nil {
			return internalError("appoint manager", err)
		}
		sys := systemEvent{code: sysManagerAppoint, actor: r.publicUserOf(actor), target: publicUser(target.ID, target.Nickname, []string{protocol.BadgeManager})}
		h.commit(r, &envelope{Kind: kindManagerAdd, UserID: target.ID, Events: events(sys.encode(now))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return appointed, nil
}

// findUser resolves a nickname, or a channel handle to its owner.
func (h *Hub) findUser(ctx context.Context, nameOrHandle string) (*account.User, error) {
	name := strings.TrimPrefix(strings.TrimSpace(nameOrHandle), "@")
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return nil, refuse(CodeNotFound)
	}
	u, err := h.opts.Users.UserByNickname(ctx, name)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, internalError("look up nickname", err)
	}
	ch, err := h.opts.Channels.ChannelByHandle(ctx, strings.ToLower(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse(CodeNotFound)
	}
	if err != nil {
		return nil, internalError("look up handle", err)
	}
	u, err = h.opts.Users.UserByID(ctx, ch.OwnerID)
	if err != nil {
		return nil, internalError("look up channel owner", err)
	}
	return u, nil
}

// DismissManager removes userID from the channel's managers. CodeNotFound if not one.
func (h *Hub) DismissManager(ctx context.Context, actor *account.User, channelID, userID int64) error {
	return h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleOwner); err != nil {
			return err
		}
		now := h.now()
		audit := &AuditEntry{ChannelID: channelID, ActorID: actor.ID, Action: ActionDismiss, TargetUserID: userID, At: now}
		err := h.store.RemoveManager(ctx, channelID, userID, audit)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(CodeNotFound)
		}
		if err != nil {
			return internalError("dismiss manager", err)
		}
		var target *protocol.User
		if u, err := h.opts.Users.UserByID(ctx, userID); err == nil {
			target = publicUser(u.ID, u.Nickname, nil)
		}
		sys := systemEvent{code: sysManagerDismiss, actor: r.publicUserOf(actor), target: target}
		h.commit(r, &envelope{Kind: kindManagerDel, UserID: userID, Events: events(sys.encode(now))})
		return nil
	})
}

func events(evs ...[]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		out[i] = e
	}
	return out
}
