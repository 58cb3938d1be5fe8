package live

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// directory is this node's picture of every channel live anywhere: fed directly by this
// node's own sessions and by live.* events from other nodes, so the home page and watch
// pages never query the database.
type directory struct {
	mu       sync.RWMutex
	entries  map[int64]*dirEntry
	byHandle map[string]int64
	// endedUpTo remembers the highest ended session id per channel, so a late
	// started/updated event of a finished session cannot bring it back.
	endedUpTo map[int64]int64
}

type dirEntry struct {
	info LiveChannel // Viewers and ThumbnailURL are filled when read
	// remote holds other nodes' reports for this channel.
	remote map[string]remoteStatus
	// peak is the highest total viewer count seen for the session.
	peak int
}

type remoteStatus struct {
	viewers   int
	thumbnail string
	at        time.Time
}

func newDirectory() *directory {
	return &directory{
		entries:   map[int64]*dirEntry{},
		byHandle:  map[string]int64{},
		endedUpTo: map[int64]int64{},
	}
}

// put records a live channel; it reports false when the entry is stale (an older session
// than the one known, or one already ended).
func (d *directory) put(lc LiveChannel) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if lc.SessionID <= d.endedUpTo[lc.ChannelID] {
		return false
	}
	if e, ok := d.entries[lc.ChannelID]; ok {
		if e.info.SessionID > lc.SessionID {
			return false
		}
		if e.info.Handle != lc.Handle {
			delete(d.byHandle, e.info.Handle)
		}
		if e.info.SessionID == lc.SessionID {
			e.info = lc
			d.byHandle[lc.Handle] = lc.ChannelID
			return true
		}
	}
	d.entries[lc.ChannelID] = &dirEntry{info: lc, remote: map[string]remoteStatus{}}
	d.byHandle[lc.Handle] = lc.ChannelID
	return true
}

// update changes the stream information of a channel's current session.
func (d *directory) update(ev *UpdatedEvent) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[ev.ChannelID]
	if !ok || e.info.SessionID != ev.SessionID {
		return false
	}
	e.info.Title = ev.Title
	e.info.Category = ev.Category.category()
	e.info.Tags = slices.Clone(ev.Tags)
	return true
}

// remove forgets the channel if its entry belongs to sessionID or an older session, and
// returns the handle that went away ("" if nothing did).
func (d *directory) remove(channelID, sessionID int64) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if sessionID > d.endedUpTo[channelID] {
		d.endedUpTo[channelID] = sessionID
	}
	e, ok := d.entries[channelID]
	if !ok || e.info.SessionID > sessionID {
		return ""
	}
	delete(d.entries, channelID)
	delete(d.byHandle, e.info.Handle)
	return e.info.Handle
}

// report records another node's status for the channels it lists.
func (d *directory) report(ev *StatusEvent, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, cs := range ev.Channels {
		if e, ok := d.entries[cs.ChannelID]; ok {
			e.remote[ev.Node] = remoteStatus{viewers: max(0, cs.Viewers), thumbnail: cs.ThumbnailURL, at: at}
		}
	}
}

// get returns a copy of the channel's entry and the sum of fresh remote viewer counts.
func (d *directory) get(channelID int64, freshAfter time.Time) (LiveChannel, int, string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.entries[channelID]
	if !ok {
		return LiveChannel{}, 0, "", false
	}
	viewers, thumb := e.remoteTotals(freshAfter)
	return e.info, viewers, thumb, true
}

func (d *directory) channelIDByHandle(handle string) (int64, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.byHandle[strings.ToLower(handle)]
	return id, ok
}

// snapshot returns every entry with its remote totals.
func (d *directory) snapshot(freshAfter time.Time) []dirSnapshot {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]dirSnapshot, 0, len(d.entries))
	for _, e := range d.entries {
		viewers, thumb := e.remoteTotals(freshAfter)
		out = append(out, dirSnapshot{info: e.info, remoteViewers: viewers, remoteThumb: thumb})
	}
	return out
}

type dirSnapshot struct {
	info          LiveChannel
	remoteViewers int
	remoteThumb   string
}

// remoteTotals sums the viewer counts other nodes reported after freshAfter and picks the
// newest thumbnail among them.
func (e *dirEntry) remoteTotals(freshAfter time.Time) (int, string) {
	total, thumb := 0, ""
	var thumbAt time.Time
	for _, r := range e.remote {
		if r.at.Before(freshAfter) {
			continue
		}
		total += r.viewers
		if r.thumbnail != "" && r.at.After(thumbAt) {
			thumb, thumbAt = r.thumbnail, r.at
		}
	}
	return total, thumb
}

// updatePeaks raises each entry's peak to its current total (local counts by handle plus
// fresh remote reports).
func (d *directory) updatePeaks(local map[string]int, freshAfter time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.entries {
		remote, _ := e.remoteTotals(freshAfter)
		if total := local[e.info.Handle] + remote; total > e.peak {
			e.peak = total
		}
	}
}

// peak returns the peak viewers of the channel's current session (0 when not listed).
func (d *directory) peak(channelID int64) int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if e, ok := d.entries[channelID]; ok {
		return e.peak
	}
	return 0
}
