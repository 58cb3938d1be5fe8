package liveweb

import (
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
)

// Status is a channel's public live status, as GET /api/v1/channels/{handle}/live answers it
// and as the status stream pushes it. Its fields are listed one by one so nothing private
// (stream key, owner, e-mail) can slip in by being added to a domain type.
type Status struct {
	Handle   string          `json:"handle"`
	Live     bool            `json:"live"`
	Status   string          `json:"status"` // "live" or "offline"
	Title    string          `json:"title"`
	Category *statusCategory `json:"category"`
	Tags     []string        `json:"tags"`
	Viewers  int             `json:"viewers"`
	// StartedAt is when the broadcast began; nil while offline.
	StartedAt *time.Time `json:"started_at"`
	// PlaylistURL is the Low-Latency HLS playlist (the standard-HLS one is std.m3u8 next to
	// it); "" while offline. Players add ?vs=<random id per page view> so they are counted.
	PlaylistURL  string `json:"playlist_url"`
	ThumbnailURL string `json:"thumbnail_url,omitempty"`

	// session tells a late event of an older broadcast from the current one; endedUpTo is
	// the newest broadcast known to have ended, which no late event may bring back.
	session, endedUpTo int64
}

type statusCategory struct {
	Slug   string `json:"slug"`
	NameKO string `json:"name_ko"`
	NameEN string `json:"name_en"`
}

func toStatusCategory(c *channel.Category) *statusCategory {
	if c == nil {
		return nil
	}
	return &statusCategory{Slug: c.Slug, NameKO: c.NameKO, NameEN: c.NameEN}
}

func eventCategory(c *live.EventCategory) *statusCategory {
	if c == nil {
		return nil
	}
	return &statusCategory{Slug: c.Slug, NameKO: c.NameKO, NameEN: c.NameEN}
}

func offlineStatus(handle string) Status {
	return Status{Handle: handle, Status: "offline", Tags: []string{}}
}

// liveStatus is the status of a live directory entry. playlist is the playlist URL to
// publish (relative for pages, absolute for the API).
func liveStatus(lc live.LiveChannel, playlist string) Status {
	started := lc.StartedAt.UTC()
	tags := lc.Tags
	if tags == nil {
		tags = []string{}
	}
	return Status{
		Handle:       lc.Handle,
		Live:         true,
		Status:       "live",
		Title:        lc.Title,
		Category:     toStatusCategory(lc.Category),
		Tags:         tags,
		Viewers:      lc.Viewers,
		StartedAt:    &started,
		PlaylistURL:  playlist,
		ThumbnailURL: lc.ThumbnailURL,
		session:      lc.SessionID,
	}
}

// statusOf returns the current status of handle from the live directory.
func (w *Web) statusOf(handle, playlist string) Status {
	lc, ok := w.opts.Live.Live(handle)
	if !ok {
		return offlineStatus(handle)
	}
	return liveStatus(lc, playlist)
}

// applyEvent moves st forward by a live.* event of its channel and reports whether it
// changed. Events of a broadcast older than the one st shows are ignored: with several nodes
// a late event must not bring an ended broadcast back.
func applyEvent(st *Status, ev any, playlist string) bool {
	switch e := ev.(type) {
	case *live.StartedEvent:
		if e.SessionID < st.session || e.SessionID <= st.endedUpTo {
			return false
		}
		viewers := 0
		if st.Live && st.session == e.SessionID {
			viewers = st.Viewers // the same broadcast announced again (another node)
		}
		started := e.StartedAt.UTC()
		*st = Status{
			Handle: e.Handle, Live: true, Status: "live", Title: e.Title,
			Category: eventCategory(e.Category), Tags: nonNil(e.Tags), Viewers: viewers,
			StartedAt: &started, PlaylistURL: playlist, session: e.SessionID, endedUpTo: st.endedUpTo,
		}
		return true
	case *live.UpdatedEvent:
		if e.SessionID < st.session || e.SessionID <= st.endedUpTo {
			return false
		}
		if !st.Live || e.SessionID > st.session {
			// The start of this broadcast was missed (the page connected in between, or
			// another node was slow): what the update carries is enough to show it live.
			started := e.UpdatedAt.UTC()
			if st.StartedAt == nil || e.SessionID > st.session {
				st.StartedAt = &started
			}
			st.Live, st.Status, st.PlaylistURL, st.session = true, "live", playlist, e.SessionID
		}
		st.Title, st.Category, st.Tags = e.Title, eventCategory(e.Category), nonNil(e.Tags)
		return true
	case *live.EndedEvent:
		if e.SessionID < st.session {
			return false
		}
		st.endedUpTo = max(st.endedUpTo, e.SessionID)
		if !st.Live {
			return false
		}
		endedUpTo := st.endedUpTo
		*st = offlineStatus(st.Handle)
		st.session, st.endedUpTo = e.SessionID, endedUpTo
		return true
	}
	return false
}

func nonNil(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}
