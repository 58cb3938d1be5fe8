package alertweb

import (
	"net/http"
	"time"

	"github.com/freelylive/freely/internal/follow"
)

// statusJSON is a follow button's state.
type statusJSON struct {
	Following bool       `json:"following"`
	Since     *time.Time `json:"since,omitempty"`
	Followers int64      `json:"followers"`
}

func toStatusJSON(st follow.Status) statusJSON {
	out := statusJSON{Following: st.Following, Followers: st.Followers}
	if st.Following {
		since := st.Since
		out.Since = &since
	}
	return out
}

// followedJSON is one entry of the followed-channels panel: public fields only.
type followedJSON struct {
	ChannelID       int64     `json:"channel_id"`
	Handle          string    `json:"handle"`
	DisplayName     string    `json:"display_name"`
	ProfileImageURL string    `json:"profile_image_url,omitempty"`
	FollowedAt      time.Time `json:"followed_at"`
	Live            *liveJSON `json:"live"`
}

type liveJSON struct {
	SessionID int64     `json:"session_id"`
	Title     string    `json:"title"`
	StartedAt time.Time `json:"started_at"`
}

func (h *handlers) listFollows(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	list, err := h.opts.Follows.FollowedChannels(r.Context(), h.viewerID(r), int(min(limit, follow.MaxListLimit)))
	if err != nil {
		return refusal(err)
	}
	out := make([]followedJSON, len(list))
	for i, fc := range list {
		out[i] = followedJSON{
			ChannelID:   fc.ChannelID,
			Handle:      fc.Handle,
			DisplayName: fc.DisplayName,
			FollowedAt:  fc.FollowedAt,
		}
		if fc.ProfileKey != "" && h.opts.MediaURL != nil {
			out[i].ProfileImageURL = h.opts.MediaURL(fc.ProfileKey)
		}
		if fc.Live != nil {
			out[i].Live = &liveJSON{SessionID: fc.Live.SessionID, Title: fc.Live.Title, StartedAt: fc.Live.StartedAt}
		}
	}
	return writeJSON(w, map[string]any{"channels": out})
}

func (h *handlers) followStatus(w http.ResponseWriter, r *http.Request) error {
	ch, err := h.channel(r)
	if err != nil {
		return err
	}
	st, err := h.opts.Follows.Status(r.Context(), h.viewerID(r), ch.ID)
	if err != nil {
		return refusal(err)
	}
	return writeJSON(w, toStatusJSON(st))
}

func (h *handlers) follow(w http.ResponseWriter, r *http.Request) error {
	if err := drainBody(r); err != nil {
		return err
	}
	ch, err := h.channel(r)
	if err != nil {
		return err
	}
	st, err := h.opts.Follows.Follow(r.Context(), h.viewerID(r), ch.ID)
	if err != nil {
		return refusal(err)
	}
	return writeJSON(w, toStatusJSON(st))
}

func (h *handlers) unfollow(w http.ResponseWriter, r *http.Request) error {
	if err := drainBody(r); err != nil {
		return err
	}
	// Unfollowing works on suspended channels too: nobody should be stuck following one.
	ch, err := h.opts.Channels.ChannelByHandle(r.Context(), r.PathValue("handle"))
	if err != nil {
		return err
	}
	st, err := h.opts.Follows.Unfollow(r.Context(), h.viewerID(r), ch.ID)
	if err != nil {
		return refusal(err)
	}
	return writeJSON(w, toStatusJSON(st))
}
