package chat

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/freelylive/freely/internal/chat/filter"
)

// Replication: every accepted message and every moderation change is applied on the node
// where it happened and published on the room's bus topic as an envelope. Each node applies
// envelopes from other nodes to its own copy of the room and skips its own (Origin), so local
// delivery never waits for the bus and a message is never delivered twice. Moderation
// changes are written to the store before they are published; envelopes carry the new
// state, not a delta, so applying one twice or late is harmless.

var errStoreBehind = errors.New("persistence queue full")

const (
	kindMsg        = "msg"
	kindDelete     = "delete"
	kindClear      = "clear"
	kindRestrict   = "restrict"
	kindUnrestrict = "unrestrict"
	kindSettings   = "settings"
	kindManagerAdd = "manager.add"
	kindManagerDel = "manager.remove"
)

type envelope struct {
	Origin      uint64            `json:"o"`
	Kind        string            `json:"k"`
	Events      []json.RawMessage `json:"e,omitempty"` // wire events to deliver as they are
	MsgID       int64             `json:"id,omitempty"`
	UserID      int64             `json:"u,omitempty"` // sender of a msg; user a change is about
	IDs         []int64           `json:"ids,omitempty"`
	UpTo        int64             `json:"upto,omitempty"`
	At          time.Time         `json:"at,omitzero"`
	Restriction *Restriction      `json:"r,omitempty"`
	Settings    *settingsPatch    `json:"s,omitempty"`
}

// settingsPatch carries only the settings an action changed, so two moderators changing
// different settings on different nodes at once do not undo each other.
type settingsPatch struct {
	SlowSeconds   *int           `json:"slow,omitempty"`
	FollowersOnly *bool          `json:"followers_only,omitempty"`
	MinFollowAge  *time.Duration `json:"min_follow,omitempty"`
	VerifiedOnly  *bool          `json:"verified_only,omitempty"`
	Filter        *filterPatch   `json:"filter,omitempty"`
}

type filterPatch struct {
	Mode    string   `json:"mode"`
	Words   []string `json:"words"`
	Allowed []string `json:"allowed"`
}

func (p *settingsPatch) applyTo(s Settings) Settings {
	if p.SlowSeconds != nil {
		s.SlowSeconds = *p.SlowSeconds
	}
	if p.FollowersOnly != nil {
		s.FollowersOnly = *p.FollowersOnly
	}
	if p.MinFollowAge != nil {
		s.MinFollowAge = *p.MinFollowAge
	}
	if p.VerifiedOnly != nil {
		s.VerifiedOnly = *p.VerifiedOnly
	}
	if p.Filter != nil {
		s.FilterMode = filter.Mode(p.Filter.Mode)
		s.Words, s.AllowedWords = p.Filter.Words, p.Filter.Allowed
	}
	return s
}

// publish sends env to the other nodes. The caller's context is not used: a client that
// disconnects right after sending must not keep its message from the other nodes.
func (h *Hub) publish(channelID int64, env *envelope) {
	env.Origin = h.origin
	data, err := json.Marshal(env)
	if err != nil {
		h.log.Error("chat: encode bus envelope", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.bus.Publish(ctx, topic(channelID), data); err != nil {
		h.log.Warn("chat: publish to other nodes failed", "channel", channelID, "kind", env.Kind, "err", err)
	}
}

// receive applies an envelope from the bus.
func (r *room) receive(data []byte) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		r.hub.log.Warn("chat: bad bus envelope", "channel", r.channelID, "err", err)
		return
	}
	if env.Origin == r.hub.origin {
		return // applied when it happened
	}
	if env.Kind == kindMsg && int(env.MsgID>>seqBits)&MaxNodeID == r.hub.opts.NodeID {
		// Another node makes ids with our node id: equal ids would make messages vanish.
		r.hub.nodeClash.Do(func() {
			r.hub.log.Error("chat: another node uses this node's id; give every node its own chat node id", "node_id", r.hub.opts.NodeID)
		})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closedErr == nil {
		r.applyLocked(&env)
	}
}

// applyLocked changes the room as env says and delivers env's events to the connections.
func (r *room) applyLocked(env *envelope) {
	switch env.Kind {
	case kindMsg:
		if len(env.Events) == 1 && r.history.add(historyEntry{id: env.MsgID, userID: env.UserID, event: env.Events[0]}) {
			r.out.append(env.Events[0])
		}
		return
	case kindDelete:
		r.history.remove(env.IDs)
		r.queueDeletion(writeOp{channelID: r.channelID, deleteIDs: env.IDs, at: env.At})
	case kindClear:
		r.history.clear(env.UpTo)
		r.queueDeletion(writeOp{channelID: r.channelID, clearUpTo: env.UpTo, at: env.At})
	case kindRestrict:
		if env.Restriction == nil {
			return
		}
		x := *env.Restriction
		r.restrict[x.UserID] = x
		if x.Kind == KindBan {
			notice := encodeError(refuse(CodeBanned), "", "")
			for c := range r.conns {
				if c.user != nil && c.user.ID == x.UserID {
					c.push(notice)
					c.end(ErrRemoved)
				}
			}
		} else {
			r.sendStateLocked(x.UserID)
		}
	case kindUnrestrict:
		delete(r.restrict, env.UserID)
		r.sendStateLocked(env.UserID)
	case kindSettings:
		if env.Settings == nil {
			return
		}
		r.setSettingsLocked(env.Settings.applyTo(r.settings))
		r.sendStateLocked(0)
	case kindManagerAdd:
		r.managers[env.UserID] = true
		r.sendStateLocked(env.UserID)
	case kindManagerDel:
		delete(r.managers, env.UserID)
		r.sendStateLocked(env.UserID)
	default:
		r.hub.log.Warn("chat: unknown bus envelope kind", "kind", env.Kind)
		return
	}
	for _, ev := range env.Events {
		r.out.append(ev)
	}
}

// queueDeletion hands a deletion to this node's writer: a message this node accepted may
// still be waiting there, and must be stored deleted. (The acting node also writes the
// deletion directly; both are idempotent.)
func (r *room) queueDeletion(op writeOp) {
	if !r.hub.writer.offer(op) {
		r.hub.log.Warn("chat: persistence queue full; deletion relies on the acting node", "channel", r.channelID)
	}
}
