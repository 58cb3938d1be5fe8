package alertweb

import (
	"net/http"
	"strconv"
	"time"

	"github.com/freelylive/freely/internal/alert"
)

// alertJSON is one alert of the list page: the push payload plus its read time.
type alertJSON struct {
	*alert.PushPayload
	ChannelProfileImageURL string     `json:"channel_profile_image_url,omitempty"`
	ReadAt                 *time.Time `json:"read_at"`
}

func (h *handlers) listAlerts(w http.ResponseWriter, r *http.Request) error {
	before, err := queryInt(r, "before")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	ctx, user := r.Context(), h.viewerID(r)
	list, err := h.opts.Alerts.List(ctx, user, before, int(min(limit, alert.MaxListLimit)))
	if err != nil {
		return refusal(err)
	}
	unread, err := h.opts.Alerts.UnreadCount(ctx, user)
	if err != nil {
		return refusal(err)
	}
	out := make([]*alertJSON, len(list))
	for i, a := range list {
		out[i] = h.alertJSON(*a.Payload(), a.ReadAt)
	}
	resp := map[string]any{"alerts": out, "unread": unread}
	if len(list) > 0 {
		resp["next_before"] = list[len(list)-1].ID
	}
	return writeJSON(w, resp)
}

// alertJSON builds an alert for pages from p (which it may change) and its read time (zero:
// unread).
func (h *handlers) alertJSON(p alert.PushPayload, readAt time.Time) *alertJSON {
	out := &alertJSON{PushPayload: &p}
	if p.ChannelProfileKey != "" && h.opts.MediaURL != nil {
		out.ChannelProfileImageURL = h.opts.MediaURL(p.ChannelProfileKey)
	}
	p.ChannelProfileKey = "" // a storage key, not for pages
	if !readAt.IsZero() {
		out.ReadAt = &readAt
	}
	return out
}

func (h *handlers) unread(w http.ResponseWriter, r *http.Request) error {
	n, err := h.opts.Alerts.UnreadCount(r.Context(), h.viewerID(r))
	if err != nil {
		return refusal(err)
	}
	return writeJSON(w, map[string]int{"unread": n})
}

func (h *handlers) markRead(w http.ResponseWriter, r *http.Request) error {
	if err := drainBody(r); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest(err)
	}
	n, err := h.opts.Alerts.MarkRead(r.Context(), h.viewerID(r), id)
	if err != nil {
		return refusal(err)
	}
	return writeJSON(w, map[string]int{"unread": n})
}

func (h *handlers) markAllRead(w http.ResponseWriter, r *http.Request) error {
	if err := drainBody(r); err != nil {
		return err
	}
	if err := h.opts.Alerts.MarkAllRead(r.Context(), h.viewerID(r)); err != nil {
		return refusal(err)
	}
	return writeJSON(w, map[string]int{"unread": 0})
}
