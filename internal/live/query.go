package live

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Limits of LiveNow.
const (
	DefaultLiveNowLimit = 50
	MaxLiveNowLimit     = 500
)

// CountViewer records a media playlist request of viewing session viewerSessionID (the ?vs=
// query parameter) on channel handle. The HLS handler calls it on every media playlist
// request; it is cheap, never blocks on I/O, and ignores channels that are not live and ids
// that are empty, longer than MaxViewerIDLen or not [A-Za-z0-9_-].
func (m *Manager) CountViewer(handle, viewerSessionID string) {
	m.viewers.hit(handle, viewerSessionID, m.clock.Now())
}

// Viewers returns the concurrent viewers of the channel with handle: viewing sessions that
// requested a playlist within the viewer TTL, on this node and (as last reported) on others.
// 0 when the channel is not live.
func (m *Manager) Viewers(handle string) int {
	id, ok := m.dir.channelIDByHandle(handle)
	if !ok {
		return 0
	}
	lc, remote, _, ok := m.dir.get(id, m.statusFreshAfter())
	if !ok {
		return 0
	}
	return m.viewers.count(lc.Handle) + remote
}

// Live returns the channel's directory entry while it is live (including its grace period),
// for the watch page header. ok is false when the channel is offline.
func (m *Manager) Live(handle string) (LiveChannel, bool) {
	id, ok := m.dir.channelIDByHandle(handle)
	if !ok {
		return LiveChannel{}, false
	}
	return m.LiveByChannel(id)
}

// LiveByChannel is Live by channel id (the streamer dashboard).
func (m *Manager) LiveByChannel(channelID int64) (LiveChannel, bool) {
	lc, remote, thumb, ok := m.dir.get(channelID, m.statusFreshAfter())
	if !ok {
		return LiveChannel{}, false
	}
	m.complete(&lc, remote, thumb)
	return lc, true
}

// LiveNow lists live channels, most viewers first (longest running first among equals), for
// the home page. limit ≤ 0 means DefaultLiveNowLimit; it is capped at MaxLiveNowLimit. It
// reads memory only; ctx is for future backends.
func (m *Manager) LiveNow(ctx context.Context, limit int) []LiveChannel {
	if limit <= 0 {
		limit = DefaultLiveNowLimit
	}
	limit = min(limit, MaxLiveNowLimit)
	snap := m.dir.snapshot(m.statusFreshAfter())
	out := make([]LiveChannel, len(snap))
	for i, s := range snap {
		out[i] = s.info
		m.complete(&out[i], s.remoteViewers, s.remoteThumb)
	}
	slices.SortFunc(out, func(a, b LiveChannel) int {
		return cmp.Or(
			cmp.Compare(b.Viewers, a.Viewers),
			a.StartedAt.Compare(b.StartedAt),
			cmp.Compare(a.ChannelID, b.ChannelID),
		)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// complete fills in the viewers and thumbnail of a directory entry. The tags slice is
// copied so callers may keep it.
func (m *Manager) complete(lc *LiveChannel, remoteViewers int, remoteThumb string) {
	lc.Viewers = m.viewers.count(lc.Handle) + remoteViewers
	lc.Tags = slices.Clone(lc.Tags)
	lc.ThumbnailURL = remoteThumb
	if m.opts.Thumbnails != nil {
		if url, grabbed := m.opts.Thumbnails.URL(lc.ChannelID); grabbed || remoteThumb == "" {
			lc.ThumbnailURL = url
		}
	}
}

// statusFreshAfter is the oldest report time still counted: three report intervals, so one
// lost report does not make viewers vanish.
func (m *Manager) statusFreshAfter() time.Time {
	return m.clock.Now().Add(-3 * m.opts.StatusInterval)
}

// Session returns a session, open or ended (replays, history).
func (m *Manager) Session(ctx context.Context, id int64) (*Session, error) {
	return m.opts.Store.SessionByID(ctx, id)
}

// History pages a channel's sessions newest first, starting below beforeID (0 for the
// newest); limit is capped at 100.
func (m *Manager) History(ctx context.Context, channelID, beforeID int64, limit int) ([]*Session, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	return m.opts.Store.SessionsByChannel(ctx, channelID, beforeID, limit)
}
