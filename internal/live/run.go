package live

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/freelylive/freely/internal/bus"
)

// scheduleTick arranges the next round of background work on the manager's clock (so tests
// that move a fake clock see exactly the ticks that time implies). Each tick schedules the
// next; Close stops the chain.
func (m *Manager) scheduleTick(ctx context.Context) {
	m.tickMu.Lock()
	defer m.tickMu.Unlock()
	if m.closing.Load() {
		return
	}
	m.tickTimer = m.schedule(sweepInterval, func() {
		m.tick(ctx)
		m.scheduleTick(ctx)
	})
}

// tick does one round of background work at the clock's current time: expire viewers, take
// peaks and, at their own intervals, record heartbeats and report this node's status.
func (m *Manager) tick(ctx context.Context) {
	now := m.clock.Now()
	counts := m.viewers.sweep(now)
	m.dir.updatePeaks(counts, m.statusFreshAfter())
	if now.Sub(m.lastHeartbeat) >= m.opts.HeartbeatInterval {
		m.lastHeartbeat = now
		m.heartbeat(ctx, now)
	}
	if m.opts.Bus != nil && now.Sub(m.lastStatus) >= m.opts.StatusInterval {
		m.lastStatus = now
		m.publishStatus(ctx, now, counts)
	}
}

// heartbeat records that every session with a connected, started publisher is running, with
// its peak viewers so far. After a crash, the last heartbeat is the recorded end.
func (m *Manager) heartbeat(ctx context.Context, now time.Time) {
	type touch struct {
		id   int64
		peak int
	}
	var touches []touch
	for _, cs := range m.states() {
		cs.mu.Lock()
		if cs.session != nil && cs.pub != nil && cs.pub.started {
			cs.lastSeen = now
			touches = append(touches, touch{cs.session.ID, m.dir.peak(cs.id)})
		}
		cs.mu.Unlock()
	}
	for _, t := range touches {
		tctx, cancel := context.WithTimeout(ctx, storeTimeout)
		if err := m.opts.Store.TouchSession(tctx, t.id, now, t.peak); err != nil && !errors.Is(err, context.Canceled) {
			m.log.Error("live: session heartbeat", "session_id", t.id, "err", err)
		}
		cancel()
	}
}

// publishStatus tells other nodes how many viewers this node counts per channel and where
// the thumbnails of the channels it ingests are.
func (m *Manager) publishStatus(ctx context.Context, now time.Time, counts map[string]int) {
	ev := StatusEvent{EventHeader: EventHeader{V: EventVersion, Type: EventStatus}, Node: m.node, At: now}
	for _, s := range m.dir.snapshot(now) {
		st := ChannelStatus{ChannelID: s.info.ChannelID, Viewers: counts[s.info.Handle]}
		if m.opts.Thumbnails != nil {
			if url, grabbed := m.opts.Thumbnails.URL(s.info.ChannelID); grabbed {
				st.ThumbnailURL = url
			}
		}
		if st.Viewers > 0 || st.ThumbnailURL != "" {
			ev.Channels = append(ev.Channels, st)
		}
	}
	if len(ev.Channels) == 0 {
		return
	}
	data, err := json.Marshal(ev)
	if err != nil {
		m.log.Error("live: encode status", "err", err)
		return
	}
	pctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := m.opts.Bus.Publish(pctx, TopicStatus, data); err != nil && !errors.Is(err, context.Canceled) {
		m.log.Error("live: publish status", "err", err)
	}
}

// consume applies live events from the bus (other nodes' sessions and status reports) to
// the directory. This node's own events come back too; applying them again changes nothing.
func (m *Manager) consume(sub bus.Subscription) {
	for msg := range sub.C() {
		m.apply(msg.Data)
	}
}

func (m *Manager) apply(data []byte) {
	ev, err := DecodeEvent(data)
	if err != nil {
		m.log.Debug("live: ignoring bus message", "err", err)
		return
	}
	switch ev := ev.(type) {
	case *StartedEvent:
		if m.dir.put(LiveChannel{
			ChannelID:   ev.ChannelID,
			Handle:      ev.Handle,
			DisplayName: ev.DisplayName,
			ProfileKey:  ev.ProfileKey,
			SessionID:   ev.SessionID,
			Title:       ev.Title,
			Category:    ev.Category.category(),
			Tags:        ev.Tags,
			StartedAt:   ev.StartedAt,
		}) {
			m.viewers.track(ev.Handle)
		}
	case *UpdatedEvent:
		m.dir.update(ev)
	case *EndedEvent:
		if m.endedElsewhere(ev) {
			return
		}
		if gone := m.dir.remove(ev.ChannelID, ev.SessionID); gone != "" {
			m.viewers.untrack(gone)
		}
	case *StatusEvent:
		if ev.Node != m.node {
			m.dir.report(ev, m.clock.Now())
		}
	}
}
