package live

import (
	"context"
	"errors"
	"fmt"

	"github.com/freelylive/freely/internal/store"
)

// EndBroadcast ends the channel's broadcast now, without a grace period: an operator
// suspended the channel, or the streamer ended the broadcast from the dashboard. The session
// closes at the current time (or when its publisher left, if it is in its grace period), the
// media side evicts a connected publisher, and live.ended goes out. A broadcast running on
// another node is closed in the database and that node tears its stream down when it hears
// live.ended. A channel that is not live gives store.ErrNotFound.
func (m *Manager) EndBroadcast(ctx context.Context, channelID int64) error {
	if cs := m.existingState(channelID); cs != nil {
		cs.mu.Lock()
		if cs.session != nil && !cs.recovered {
			defer cs.mu.Unlock()
			return m.endNowLocked(ctx, cs)
		}
		if cs.session != nil {
			// Found open at start-up and not resumed here: it may be running on another
			// node, so it is ended like one (at the current time) below.
			cs.graceGen++
			if cs.grace != nil {
				cs.grace.stop()
				cs.grace = nil
			}
			m.sessionGoneLocked(cs, cs.session.ID, false)
		}
		cs.mu.Unlock()
	}
	s, err := m.opts.Store.OpenSessionByChannel(ctx, channelID)
	if err != nil {
		return fmt.Errorf("live: end broadcast of channel %d: %w", channelID, err)
	}
	ended, err := m.opts.Store.CloseSession(ctx, s.ID, m.clock.Now(), m.dir.peak(channelID))
	if err != nil {
		return fmt.Errorf("live: end broadcast of channel %d: %w", channelID, err)
	}
	handle := ""
	if lc, _, _, ok := m.dir.get(channelID, m.clock.Now()); ok {
		handle = lc.Handle
	} else if ch, err := m.opts.Channels.ChannelByID(ctx, channelID); err == nil {
		handle = ch.Handle
	}
	if gone := m.dir.remove(channelID, s.ID); gone != "" {
		m.viewers.untrack(gone)
	}
	m.log.Info("live: broadcast ended on request", "channel_id", channelID, "session_id", s.ID, "where", "another node")
	m.publish(channelID, endedEvent(handle, ended))
	return nil
}

// endNowLocked closes cs's session at once. cs.mu is held.
func (m *Manager) endNowLocked(ctx context.Context, cs *channelState) error {
	s := cs.session
	cs.graceGen++
	if cs.grace != nil {
		cs.grace.stop()
		cs.grace = nil
	}
	endedAt := cs.lastSeen
	if cs.pub != nil && cs.pub.started {
		endedAt = m.clock.Now()
	}
	ended, err := m.opts.Store.CloseSession(ctx, s.ID, endedAt, m.dir.peak(cs.id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("live: end broadcast of channel %d: %w", cs.id, err)
	}
	m.log.Info("live: broadcast ended on request", "channel_id", cs.id, "session_id", s.ID)
	m.sessionGoneLocked(cs, s.ID, true)
	if ended != nil {
		m.publish(cs.id, endedEvent(cs.handle(), ended))
	}
	return nil
}

// endedElsewhere handles a live.ended event for a session this node runs: another node
// ended it (EndBroadcast there). If the database agrees the session is over, this node
// forgets it and tears its stream down. It reports whether the session was this node's.
func (m *Manager) endedElsewhere(ev *EndedEvent) bool {
	cs := m.existingState(ev.ChannelID)
	if cs == nil {
		return false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.session == nil || cs.session.ID != ev.SessionID {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	s, err := m.opts.Store.SessionByID(ctx, ev.SessionID)
	if err != nil || s.Open() {
		return true // not confirmed: keep running it
	}
	cs.graceGen++
	if cs.grace != nil {
		cs.grace.stop()
		cs.grace = nil
	}
	m.log.Info("live: broadcast ended by another node", "channel_id", cs.id, "session_id", s.ID)
	m.sessionGoneLocked(cs, s.ID, true)
	return true
}
