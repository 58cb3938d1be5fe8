package followweb

import (
	"net/http"
	"strconv"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/web"
)

// buttonView is the follow button beside a channel's name.
type buttonView struct {
	Handle    string
	LoggedIn  bool
	Own       bool // the viewer's own channel: count only, no button
	Following bool
	Followers string // formatted: "1,234"
	Count     int64
	CSRF      string
}

func (w *Web) loadButton(r *http.Request, in web.SlotInput) (any, error) {
	ch := in.Channel
	if ch == nil || ch.Suspended {
		return nil, nil
	}
	var viewerID int64
	if in.Viewer != nil {
		viewerID = in.Viewer.ID
	}
	st, err := w.opts.Follows.Status(r.Context(), viewerID, ch.ID)
	if err != nil {
		return nil, err
	}
	return buttonView{
		Handle:    ch.Handle,
		LoggedIn:  in.Viewer != nil,
		Own:       in.Viewer != nil && in.Viewer.ID == ch.OwnerID,
		Following: st.Following,
		Followers: formatCount(st.Followers),
		Count:     st.Followers,
		CSRF:      w.router.CSRFToken(r),
	}, nil
}

// bellView is the top bar's alert bell; anonymous visitors get only the stylesheet.
type bellView struct {
	LoggedIn bool
	Unread   int
	Label    string // "99+" at alert.UnreadCap
}

func (w *Web) loadBell(r *http.Request, in web.SlotInput) (any, error) {
	if in.Viewer == nil {
		return bellView{}, nil
	}
	n, err := w.opts.Alerts.UnreadCount(r.Context(), in.Viewer.ID)
	if err != nil {
		return nil, err
	}
	return bellView{LoggedIn: true, Unread: n, Label: unreadLabel(n)}, nil
}

// panelEntry is one followed channel in the side panel.
type panelEntry struct {
	Handle      string
	DisplayName string
	ImageURL    string
	Live        bool
	LiveTitle   string
}

type panelView struct {
	Entries []panelEntry
	Path    string
}

func (w *Web) loadPanel(r *http.Request, in web.SlotInput) (any, error) {
	if in.Viewer == nil {
		return nil, nil
	}
	list, err := w.opts.Follows.FollowedChannels(r.Context(), in.Viewer.ID, w.opts.PanelLimit)
	if err != nil {
		return nil, err
	}
	v := panelView{Entries: make([]panelEntry, 0, len(list)), Path: r.URL.Path}
	for _, fc := range list {
		v.Entries = append(v.Entries, w.panelEntry(fc))
	}
	return v, nil
}

func (w *Web) panelEntry(fc follow.FollowedChannel) panelEntry {
	e := panelEntry{Handle: fc.Handle, DisplayName: fc.DisplayName, ImageURL: w.opts.ImageURL(fc.ProfileKey)}
	if fc.Live != nil {
		e.Live, e.LiveTitle = true, fc.Live.Title
	}
	return e
}

func unreadLabel(n int) string {
	if n >= alert.UnreadCap {
		return strconv.Itoa(alert.UnreadCap-1) + "+"
	}
	return strconv.Itoa(n)
}

// formatCount writes n with thousands separators: 1234567 → "1,234,567".
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
