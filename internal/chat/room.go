package chat

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/chat/filter"
	"github.com/freelylive/freely/internal/chat/protocol"
	"github.com/freelylive/freely/internal/store"
)

// room is one channel's chat on this node: its moderation state, recent history, members
// and outgoing event log. Rooms of the same channel on other nodes stay in step through the
// bus topic chat.{channelID}.
type room struct {
	hub       *Hub
	channelID int64
	ready     chan struct{} // closed once open finished; loadErr says how
	loadErr   error
	refs      int         // holds by Join and moderation calls; guarded by hub.mu
	linger    *time.Timer // closes the room when nobody held it for a while; guarded by hub.mu

	// Set by open, read-only afterwards.
	ownerID   int64
	suspended bool
	sub       bus.Subscription
	out       *fanout
	done      chan struct{}
	stopOnce  sync.Once

	mu        sync.Mutex
	settings  Settings
	filter    *filter.Filter // base list plus the owner's words
	managers  map[int64]bool
	restrict  map[int64]Restriction
	history   *history
	limits    *senderLimits
	conns     map[*Conn]struct{}
	closedErr error
}

func newRoom(h *Hub, channelID int64) *room {
	return &room{
		hub:       h,
		channelID: channelID,
		ready:     make(chan struct{}),
		out:       newFanout(h.opts.SendQueue),
		done:      make(chan struct{}),
		managers:  make(map[int64]bool),
		restrict:  make(map[int64]Restriction),
		history:   newHistory(h.opts.HistorySize),
		limits:    newSenderLimits(h.opts.Limits),
		conns:     make(map[*Conn]struct{}),
	}
}

// open loads the room and starts its goroutines. It subscribes to the bus before loading,
// so no change made elsewhere while it loads is missed (changes are idempotent and applied
// after the load).
func (r *room) open(ctx context.Context) error {
	h := r.hub
	ch, err := h.opts.Channels.ChannelByID(ctx, r.channelID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(CodeNotFound)
	}
	if err != nil {
		return internalError("load channel", err)
	}
	r.ownerID, r.suspended = ch.OwnerID, ch.Suspended
	if r.sub, err = h.bus.Subscribe(ctx, topic(r.channelID)); err != nil {
		return internalError("subscribe to room", err)
	}
	if err := r.load(ctx); err != nil {
		r.sub.Close()
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		r.sub.Close()
		return ErrClosed
	}
	h.wg.Go(r.run)
	h.wg.Go(func() { r.out.coalesce(r.done, h.opts.CoalesceInterval, h.opts.WakeBudget) })
	return nil
}

func (r *room) load(ctx context.Context) error {
	h := r.hub
	settings, err := h.store.ChatSettings(ctx, r.channelID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		settings = &Settings{ChannelID: r.channelID, FilterMode: h.opts.DefaultFilterMode}
	case err != nil:
		return internalError("load chat settings", err)
	}
	managers, err := h.store.Managers(ctx, r.channelID)
	if err != nil {
		return internalError("load managers", err)
	}
	restrictions, err := h.store.Restrictions(ctx, r.channelID, h.now())
	if err != nil {
		return internalError("load restrictions", err)
	}
	recent, err := h.store.RecentMessages(ctx, r.channelID, h.opts.HistorySize)
	if err != nil {
		return internalError("load history", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setSettingsLocked(*settings)
	for _, m := range managers {
		r.managers[m.UserID] = true
	}
	for _, x := range restrictions {
		r.restrict[x.UserID] = x
	}
	r.history.load(recent, len(recent) < h.opts.HistorySize)
	return nil
}

// setSettingsLocked installs settings, recompiling the filter when the owner's words changed.
func (r *room) setSettingsLocked(s Settings) {
	if !s.FilterMode.Valid() {
		s.FilterMode = r.hub.opts.DefaultFilterMode
	}
	if r.filter == nil || !equalWords(r.settings.Words, s.Words) || !equalWords(r.settings.AllowedWords, s.AllowedWords) {
		f, err := r.hub.filter.With(s.Words, s.AllowedWords)
		if err != nil {
			// Words are checked before they are saved; a word that fails here came from an
			// older version's rules. The base list still applies.
			r.hub.log.Warn("chat: owner's filter words rejected", "channel", r.channelID, "err", err)
			f = r.hub.filter
		}
		r.filter = f
	}
	r.settings = s
}

func equalWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// run applies what other nodes publish and does periodic housekeeping until the room stops.
func (r *room) run() {
	defer r.sub.Close()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-r.done:
			return
		case m, ok := <-r.sub.C():
			if !ok {
				r.shutdown(ErrClosed) // the bus closed under us
				return
			}
			r.receive(m.Data)
		case <-tick.C:
			r.housekeep()
		}
	}
}

func (r *room) housekeep() {
	now := r.hub.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limits.forget(now, time.Duration(r.settings.SlowSeconds)*time.Second)
	for id, x := range r.restrict {
		if !x.Active(now) {
			delete(r.restrict, id)
		}
	}
}

// shutdown disconnects every connection with err and stops the room's goroutines.
func (r *room) shutdown(err error) {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		r.closedErr = err
		conns := make([]*Conn, 0, len(r.conns))
		for c := range r.conns {
			conns = append(conns, c)
		}
		r.mu.Unlock()
		close(r.done)
		for _, c := range conns {
			c.end(err)
		}
	})
}

// role is what a user may do in a room; higher includes lower.
type role int

const (
	roleReader  role = iota // not logged in
	roleUser                // logged in
	roleManager             // appointed by the owner
	roleOwner               // the channel's owner
	roleAdmin               // a site admin
)

func (r *room) roleLocked(u *account.User) role {
	switch {
	case u == nil:
		return roleReader
	case u.IsAdmin:
		return roleAdmin
	case u.ID == r.ownerID:
		return roleOwner
	case r.managers[u.ID]:
		return roleManager
	}
	return roleUser
}

func (r *room) badgesLocked(u *account.User) []string {
	var b []string
	if u.ID == r.ownerID {
		b = append(b, protocol.BadgeOwner)
	} else if r.managers[u.ID] {
		b = append(b, protocol.BadgeManager)
	}
	if u.IsAdmin {
		b = append(b, protocol.BadgeAdmin)
	}
	return b
}

func (r *room) publicUserLocked(u *account.User) *protocol.User {
	return publicUser(u.ID, u.Nickname, r.badgesLocked(u))
}

// writeRefusalLocked says why u cannot write right now, or nil. Followers-only is checked
// separately (it needs the store).
func (r *room) writeRefusalLocked(u *account.User, now time.Time) *Refusal {
	if u == nil {
		return refuse(CodeNotLoggedIn)
	}
	if !u.Verified() {
		if r.settings.VerifiedOnly {
			return refuse(CodeVerifiedOnly)
		}
		if !r.hub.opts.AllowUnverified {
			return refuse(CodeNotVerified)
		}
	}
	if x, ok := r.restrict[u.ID]; ok && x.Active(now) {
		if x.Kind == KindBan {
			return refuse(CodeBanned)
		}
		return refuseAfter(CodeTimedOut, x.Until.Sub(now))
	}
	return nil
}

// stateLocked encodes the room's state as it applies to u.
func (r *room) stateLocked(u *account.User, now time.Time) []byte {
	self := &protocol.Self{}
	if u != nil {
		self.User = r.publicUserLocked(u)
		self.CanModerate = r.roleLocked(u) >= roleManager
		if x, ok := r.restrict[u.ID]; ok && x.Kind == KindTimeout && x.Active(now) {
			self.TimeoutUntil = x.Until.UnixMilli()
		}
	}
	if refusal := r.writeRefusalLocked(u, now); refusal != nil {
		self.Reason = string(refusal.Code)
	} else if r.settings.FollowersOnly && r.roleLocked(u) < roleManager {
		// Whether u follows, and for long enough, is checked when they send; the client
		// shows the rule.
		self.CanSend, self.Reason = true, string(CodeFollowersOnly)
	} else {
		self.CanSend = true
	}
	return mustMarshal(protocol.State{
		Header:           protocol.NewHeader(protocol.TypeState),
		SlowSeconds:      r.settings.SlowSeconds,
		FollowersOnly:    r.settings.FollowersOnly,
		MinFollowSeconds: int(r.settings.MinFollowAge / time.Second),
		VerifiedOnly:     r.settings.VerifiedOnly,
		Filter:           string(r.settings.FilterMode),
		You:              self,
	})
}

// sendStateLocked queues a fresh state event to each connection of userID (0: all).
func (r *room) sendStateLocked(userID int64) {
	now := r.hub.now()
	for c := range r.conns {
		if userID == 0 || (c.user != nil && c.user.ID == userID) {
			c.push(r.stateLocked(c.user, now))
		}
	}
}
