package followweb

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/follow"
	"github.com/freelylive/freely/internal/web"
)

// alertItem is one row of the alert list page.
type alertItem struct {
	ID          int64
	Kind        string
	Handle      string
	DisplayName string
	ImageURL    string
	Title       string
	Time        string // RFC 3339 for <time datetime>
	When        string // "2026-11-25 16:30" (UTC), readable without the script
	Unread      bool
}

type alertsView struct {
	Items     []alertItem
	Unread    int
	NextPage  string // "" on the last page
	Paged     bool   // not the first page
	CSRFToken string
}

// followingPage lists the channels the viewer follows, live ones first, with what they are
// streaming.
func (w *Web) followingPage(rw http.ResponseWriter, r *http.Request) error {
	user := w.router.User(r)
	list, err := w.opts.Follows.FollowedChannels(r.Context(), user.ID, follow.MaxListLimit)
	if err != nil {
		return fmt.Errorf("followed channels of user %d: %w", user.ID, err)
	}
	v := panelView{Entries: make([]panelEntry, 0, len(list)), Path: r.URL.Path}
	for _, fc := range list {
		v.Entries = append(v.Entries, w.panelEntry(fc))
	}
	return w.router.Render(rw, r, http.StatusOK, &web.Page{Name: "following", Title: "followweb.following_title", Data: v, NoIndex: true})
}

// alertsPage lists the viewer's alerts, newest first, alert.DefaultListLimit at a time.
func (w *Web) alertsPage(rw http.ResponseWriter, r *http.Request) error {
	before, err := beforeParam(r)
	if err != nil {
		return err
	}
	user := w.router.User(r)
	list, err := w.opts.Alerts.List(r.Context(), user.ID, before, alert.DefaultListLimit)
	if err != nil {
		return fmt.Errorf("alert list of user %d: %w", user.ID, err)
	}
	unread, err := w.opts.Alerts.UnreadCount(r.Context(), user.ID)
	if err != nil {
		return fmt.Errorf("unread count of user %d: %w", user.ID, err)
	}
	v := alertsView{Items: make([]alertItem, 0, len(list)), Unread: unread, Paged: before > 0}
	for _, a := range list {
		v.Items = append(v.Items, alertItem{
			ID:          a.ID,
			Kind:        string(a.Kind),
			Handle:      a.Channel.Handle,
			DisplayName: a.Channel.DisplayName,
			ImageURL:    w.opts.ImageURL(a.Channel.ProfileKey),
			Title:       a.Title,
			Time:        a.OccurredAt.UTC().Format(time.RFC3339),
			When:        a.OccurredAt.UTC().Format("2006-01-02 15:04"),
			Unread:      a.Unread(),
		})
	}
	if len(list) == alert.DefaultListLimit {
		v.NextPage = "/alerts?before=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return w.router.Render(rw, r, http.StatusOK, &web.Page{Name: "alerts", Title: "followweb.alerts_title", Data: v, NoIndex: true})
}

func beforeParam(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("before")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, badRequest("before must be a positive integer")
	}
	return n, nil
}

// markRead marks one of the viewer's alerts read; an alert of someone else is not found.
func (w *Web) markRead(rw http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return badRequest("alert id must be a positive integer")
	}
	user := w.router.User(r)
	if _, err := w.opts.Alerts.MarkRead(r.Context(), user.ID, id); err != nil {
		return fmt.Errorf("mark alert %d read for user %d: %w", id, user.ID, err)
	}
	http.Redirect(rw, r, "/alerts", http.StatusSeeOther)
	return nil
}

func (w *Web) markAllRead(rw http.ResponseWriter, r *http.Request) error {
	user := w.router.User(r)
	if err := w.opts.Alerts.MarkAllRead(r.Context(), user.ID); err != nil {
		return fmt.Errorf("mark all alerts read for user %d: %w", user.ID, err)
	}
	http.Redirect(rw, r, "/alerts", http.StatusSeeOther)
	return nil
}

// followForm follows (follow=1) or unfollows (follow=0) a channel and goes back to it: the
// button without JavaScript. The script calls PUT/DELETE /api/v1/follows/{handle} instead.
func (w *Web) followForm(rw http.ResponseWriter, r *http.Request) error {
	handle, err := channel.NormalizeHandle(r.PathValue("handle"))
	if err != nil {
		return &web.StatusError{Status: http.StatusNotFound, Message: "error.not_found", Err: err}
	}
	ch, err := w.opts.Channels.ChannelByHandle(r.Context(), handle)
	if err != nil {
		return fmt.Errorf("follow form for %q: %w", handle, err)
	}
	user := w.router.User(r)
	switch r.PostForm.Get("follow") {
	case "1":
		_, err = w.opts.Follows.Follow(r.Context(), user.ID, ch.ID)
	case "0":
		_, err = w.opts.Follows.Unfollow(r.Context(), user.ID, ch.ID)
	default:
		return badRequest("follow must be 1 or 0")
	}
	if err != nil {
		return refusal(err)
	}
	http.Redirect(rw, r, "/c/"+url.PathEscape(ch.Handle), http.StatusSeeOther)
	return nil
}
