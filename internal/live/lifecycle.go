package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store"
)

// openLocked opens a new session for cs (its publisher just sent the first keyframe).
// cs.mu is held.
func (m *Manager) openLocked(ctx context.Context, cs *channelState, now time.Time) error {
	s, err := m.newSession(ctx, cs.id, now)
	if err != nil {
		return err
	}
	err = m.opts.Store.OpenSession(ctx, s, m.opts.OnOpen)
	if errors.Is(err, store.ErrAlreadyExists) {
		// The database holds an open session this process does not know: left by a crash
		// and not yet recovered, or opened by another node whose publisher moved here.
		adopted, retry, aerr := m.settleUnknownOpenSession(ctx, cs, now)
		if aerr != nil {
			return aerr
		}
		if adopted {
			return nil
		}
		if retry {
			s.ID = 0
			err = m.opts.Store.OpenSession(ctx, s, m.opts.OnOpen)
		}
	}
	if err != nil {
		return fmt.Errorf("live: open session for channel %d: %w", cs.id, err)
	}
	cs.session, cs.recovered, cs.lastSeen = s, false, now
	m.sessionLiveLocked(cs)
	m.publish(cs.id, startedEvent(cs.ch, s))
	m.log.Info("live: session started", "channel_id", cs.id, "handle", cs.ch.Handle, "session_id", s.ID, "title", s.Title)
	return nil
}

// newSession builds a session from the channel's saved stream information.
func (m *Manager) newSession(ctx context.Context, channelID int64, now time.Time) (*Session, error) {
	s := &Session{ChannelID: channelID, StartedAt: now, LastSeenAt: now}
	info, err := m.opts.Store.StreamInfo(ctx, channelID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("live: stream info of channel %d: %w", channelID, err)
	default:
		s.Title, s.Category, s.Tags = info.Title, info.Category, info.Tags
	}
	return s, nil
}

// settleUnknownOpenSession deals with an open session row this process did not open. A
// fresh one (touched within the grace period) is continued: adopted. A stale one is closed
// at its last known time, and the caller retries the insert.
func (m *Manager) settleUnknownOpenSession(ctx context.Context, cs *channelState, now time.Time) (adopted, retry bool, err error) {
	old, err := m.opts.Store.OpenSessionByChannel(ctx, cs.id)
	if errors.Is(err, store.ErrNotFound) {
		return false, true, nil // closed meanwhile
	}
	if err != nil {
		return false, false, fmt.Errorf("live: read open session of channel %d: %w", cs.id, err)
	}
	if now.Sub(old.LastSeenAt) < m.opts.GracePeriod {
		cs.session, cs.recovered, cs.lastSeen = old, false, now
		if err := m.opts.Store.TouchSession(ctx, old.ID, now, 0); err != nil {
			return false, false, fmt.Errorf("live: continue session %d: %w", old.ID, err)
		}
		m.sessionLiveLocked(cs)
		m.log.Info("live: session continued", "channel_id", cs.id, "session_id", old.ID, "reason", "open session found in the database")
		return true, false, nil
	}
	ended, err := m.opts.Store.CloseStaleSession(ctx, old.ID, old.LastSeenAt)
	switch {
	case err == nil:
		m.log.Info("live: stale session closed", "channel_id", cs.id, "session_id", old.ID, "ended_at", ended.EndedAt)
		m.dir.remove(cs.id, old.ID)
		m.publish(cs.id, endedEvent(cs.ch.Handle, ended))
	case errors.Is(err, store.ErrNotFound):
	default:
		return false, false, fmt.Errorf("live: close stale session %d: %w", old.ID, err)
	}
	return false, true, nil
}

// resumeLocked continues cs's open session with a new publisher. cs.mu is held.
func (m *Manager) resumeLocked(ctx context.Context, cs *channelState, now time.Time, reason string) {
	cs.graceGen++
	if cs.grace != nil {
		cs.grace.stop()
		cs.grace = nil
	}
	cs.lastSeen = now
	if cs.recovered {
		// Claim the session so no other node's recovery closes it under us.
		cs.recovered = false
		if err := m.opts.Store.TouchSession(ctx, cs.session.ID, now, 0); err != nil {
			m.log.Error("live: touch resumed session", "session_id", cs.session.ID, "err", err)
		}
		m.sessionLiveLocked(cs)
	}
	m.log.Info("live: session resumed", "channel_id", cs.id, "session_id", cs.session.ID, "reason", reason)
}

// sessionLiveLocked makes cs's session visible in the directory, counts its viewers and
// starts its thumbnails.
func (m *Manager) sessionLiveLocked(cs *channelState) {
	m.dir.put(liveChannelOf(cs.ch, cs.session))
	m.viewers.track(cs.ch.Handle)
	if m.opts.Thumbnails != nil {
		m.opts.Thumbnails.Start(cs.id, cs.session.ID, cs.ch.Handle)
	}
}

// armGraceLocked schedules the end of cs's session after d. cs.mu is held.
func (m *Manager) armGraceLocked(cs *channelState, d time.Duration) {
	cs.graceGen++
	gen := cs.graceGen
	cs.grace = m.schedule(d, func() { m.graceExpired(cs, gen) })
}

// graceExpired ends cs's session unless a publisher came back meanwhile.
func (m *Manager) graceExpired(cs *channelState, gen uint64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if gen != cs.graceGen || cs.session == nil || m.closing.Load() {
		return
	}
	cs.grace = nil
	if cs.pub != nil {
		// A publisher is connected but has not sent a keyframe yet: it is the reconnect the
		// grace period waits for. Its Started resumes the session, its Ended re-arms.
		return
	}
	s := cs.session
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	var ended *Session
	var err error
	if cs.recovered {
		ended, err = m.opts.Store.CloseStaleSession(ctx, s.ID, cs.lastSeen)
	} else {
		ended, err = m.opts.Store.CloseSession(ctx, s.ID, cs.lastSeen, m.dir.peak(cs.id))
	}
	switch {
	case err == nil:
		m.log.Info("live: session ended", "channel_id", cs.id, "session_id", s.ID,
			"duration", ended.Duration, "peak_viewers", ended.PeakViewers)
		m.sessionGoneLocked(cs, s.ID, true)
		m.publish(cs.id, endedEvent(cs.handle(), ended))
	case errors.Is(err, store.ErrNotFound):
		// Closed elsewhere (an operator, or another node's recovery), which told everyone.
		m.sessionGoneLocked(cs, s.ID, true)
	case errors.Is(err, store.ErrConflict):
		// Another node touched the recovered session: it is live there, with its media.
		// Forget it here but leave it in the directory.
		m.log.Info("live: recovered session is live on another node", "channel_id", cs.id, "session_id", s.ID)
		m.sessionGoneLocked(cs, s.ID, false)
	default:
		m.log.Error("live: end session; retrying", "channel_id", cs.id, "session_id", s.ID, "err", err)
		m.armGraceLocked(cs, closeRetryDelay)
	}
}

// sessionGoneLocked forgets cs's session on this node and stops its thumbnails. With ended
// (the session is over, not merely owned by another node) it also leaves the directory and
// viewer counting, and the media side tears the stream down.
func (m *Manager) sessionGoneLocked(cs *channelState, sessionID int64, ended bool) {
	cs.session, cs.recovered = nil, false
	if m.opts.Thumbnails != nil {
		m.opts.Thumbnails.Stop(cs.id)
	}
	if !ended {
		return
	}
	if gone := m.dir.remove(cs.id, sessionID); gone != "" {
		m.viewers.untrack(gone)
	}
	if handle := cs.handle(); m.opts.Media != nil && handle != "" {
		m.opts.Media.EndSession(handle)
	}
}

func (cs *channelState) handle() string {
	if cs.ch == nil {
		return ""
	}
	return cs.ch.Handle
}

// recoverSessions deals with sessions a previous process left open (it crashed, or was
// stopped while channels were live).
//
// The recorded end of such a session is its LastSeenAt: the last heartbeat while a publisher
// was connected, or the moment the publisher left. That is the last time the broadcast is
// known to have run; the restart time would count the outage as broadcast, the start time
// would erase it. Heartbeats every HeartbeatInterval bound the error.
//
// A session last seen longer than the grace period ago is closed now. A fresher one waits out
// the rest of its grace period as if its publisher had just left, so an encoder that
// reconnects to the restarted server continues the same session. Either close only happens
// if nobody touched the row since it was read, so a session live on another node sharing the
// database is never closed by this node's start-up.
func (m *Manager) recoverSessions(ctx context.Context) error {
	sessions, err := m.opts.Store.OpenSessions(ctx)
	if err != nil {
		return fmt.Errorf("live: list open sessions: %w", err)
	}
	now := m.clock.Now()
	for _, s := range sessions {
		ch, err := m.opts.Channels.ChannelByID(ctx, s.ChannelID)
		if err != nil {
			m.log.Error("live: recover session: channel lookup", "session_id", s.ID, "channel_id", s.ChannelID, "err", err)
			ch = &channel.Channel{ID: s.ChannelID}
		}
		cs := m.state(s.ChannelID)
		cs.mu.Lock()
		if cs.session != nil || cs.pub != nil {
			cs.mu.Unlock() // a publisher got here first; it adopted or will adopt the row
			continue
		}
		cs.ch = publicChannel(ch)
		idle := now.Sub(s.LastSeenAt)
		if idle >= m.opts.GracePeriod {
			err := m.closeStaleLocked(ctx, cs, s)
			cs.mu.Unlock()
			if err != nil {
				return err
			}
			continue
		}
		cs.session, cs.recovered, cs.lastSeen = s, true, s.LastSeenAt
		m.dir.put(liveChannelOf(cs.ch, s))
		m.viewers.track(cs.ch.Handle)
		m.armGraceLocked(cs, m.opts.GracePeriod-idle)
		m.log.Info("live: open session awaits its publisher", "channel_id", s.ChannelID, "session_id", s.ID,
			"last_seen", s.LastSeenAt, "grace_left", m.opts.GracePeriod-idle)
		cs.mu.Unlock()
	}
	return nil
}

// closeStaleLocked closes a recovered session at its last known time. cs.mu is held.
func (m *Manager) closeStaleLocked(ctx context.Context, cs *channelState, s *Session) error {
	ended, err := m.opts.Store.CloseStaleSession(ctx, s.ID, s.LastSeenAt)
	switch {
	case err == nil:
		m.log.Info("live: session left open by a previous run closed", "channel_id", s.ChannelID,
			"session_id", s.ID, "ended_at", ended.EndedAt, "duration", ended.Duration)
		m.publish(cs.id, endedEvent(cs.handle(), ended))
		return nil
	case errors.Is(err, store.ErrNotFound):
		return nil
	case errors.Is(err, store.ErrConflict):
		// Touched since we read it: live on another node.
		m.dir.put(liveChannelOf(cs.ch, s))
		m.viewers.track(cs.ch.Handle)
		return nil
	default:
		return fmt.Errorf("live: close session %d left open: %w", s.ID, err)
	}
}
