package liveweb

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/form"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/web"
)

// dashboardView is the streamer dashboard. StreamKey is set only for the owner of a
// verified account: this page is the one place the key is ever rendered.
type dashboardView struct {
	Handle      string
	DisplayName string
	Verified    bool
	Suspended   bool
	StreamKey   string
	RTMPURL     string
	Categories  []channel.Category
	Info        infoForm
	Status      Status
	StartedAt   string // RFC 3339, "" while offline
	Viewers     string // formatted: "1,234"
	Elapsed     string // "1:02:03"
	EventsURL   string
	Saved       string // "info", "key" or "ended" right after the action
}

// infoForm is the stream information form: the values shown and the message IDs of what
// was refused.
type infoForm struct {
	Title, Category, Tags string
	Errors                map[string][]string // field → message IDs
	Invalid               bool
}

func (f infoForm) FieldErrors(field string) []string { return f.Errors[field] }

// errorMessages maps the codes live.Manager.SetStreamInfo refuses with to catalog IDs.
var errorMessages = map[string]string{
	"title_invalid":    "live.err_title",
	"title_too_long":   "live.err_title_len",
	"category_unknown": "field.category_unknown",
	"tag_invalid":      "field.tag_invalid",
	"tag_too_long":     "field.tag_too_long",
	"too_many_tags":    "field.too_many_tags",
}

func infoFormOf(info *live.StreamInfo) infoForm {
	f := infoForm{Title: info.Title}
	if info.Category != nil {
		f.Category = info.Category.Slug
	}
	names := make([]string, len(info.Tags))
	for i, t := range info.Tags {
		names[i] = t.Name
	}
	f.Tags = strings.Join(names, ", ")
	return f
}

// ownChannel returns the logged-in user's channel.
func (w *Web) ownChannel(r *http.Request) (*channel.Channel, error) {
	u := w.router.User(r)
	ch, err := w.opts.Channels.ByOwner(r.Context(), u.ID)
	if err != nil {
		return nil, fmt.Errorf("channel of user %d: %w", u.ID, err)
	}
	return ch, nil
}

// dashboardPage shows the streamer dashboard.
func (w *Web) dashboardPage(rw http.ResponseWriter, r *http.Request) error {
	ch, err := w.ownChannel(r)
	if err != nil {
		return err
	}
	info, err := w.opts.Live.StreamInfo(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	saved := r.URL.Query().Get("saved")
	if saved != "info" && saved != "key" && saved != "ended" {
		saved = ""
	}
	return w.renderDashboard(rw, r, http.StatusOK, ch, infoFormOf(info), saved)
}

func (w *Web) renderDashboard(rw http.ResponseWriter, r *http.Request, status int, ch *channel.Channel, f infoForm, saved string) error {
	cats, err := w.opts.Channels.Categories(r.Context())
	if err != nil {
		return fmt.Errorf("dashboard: list categories: %w", err)
	}
	u := w.router.User(r)
	v := dashboardView{
		Handle:      ch.Handle,
		DisplayName: ch.DisplayName,
		Verified:    u.Verified(),
		Suspended:   ch.Suspended,
		RTMPURL:     w.opts.RTMPURL(),
		Categories:  cats,
		Info:        f,
		EventsURL:   "/api/v1/channels/" + ch.Handle + "/live/events",
		Saved:       saved,
	}
	if v.Verified && u.ID == ch.OwnerID {
		v.StreamKey = ch.StreamKey
	}
	if lc, ok := w.opts.Live.LiveByChannel(ch.ID); ok {
		v.Status = liveStatus(lc, w.playlistPath(ch.Handle))
		v.StartedAt = lc.StartedAt.UTC().Format(time.RFC3339)
		v.Elapsed = formatElapsed(w.now().Sub(lc.StartedAt))
	} else {
		v.Status = offlineStatus(ch.Handle)
	}
	v.Viewers = formatCount(v.Status.Viewers)
	return w.router.Render(rw, r, status, &web.Page{
		Name:    "dashboard",
		Title:   "live.dashboard_title",
		Data:    v,
		NoIndex: true,
	})
}

// saveStreamInfo saves title, category and tags. Refused input re-renders the form with
// what was typed and why it was refused; nothing is saved then.
func (w *Web) saveStreamInfo(rw http.ResponseWriter, r *http.Request) error {
	ch, err := w.ownChannel(r)
	if err != nil {
		return err
	}
	f := infoForm{
		Title:    r.PostForm.Get("title"),
		Category: r.PostForm.Get("category"),
		Tags:     r.PostForm.Get("tags"),
	}
	if len(f.Tags) > maxTagInput {
		// Ten tags of thirty characters cannot be this long.
		err = form.New("tags", "too_many_tags")
	} else {
		_, err = w.opts.Live.SetStreamInfo(r.Context(), ch.ID, live.StreamInfoInput{
			Title:        f.Title,
			CategorySlug: f.Category,
			Tags:         splitTags(f.Tags),
		})
	}
	if fes := form.FieldErrors(err); len(fes) > 0 {
		f.Errors, f.Invalid = map[string][]string{}, true
		for _, fe := range fes {
			id, ok := errorMessages[fe.Code]
			if !ok {
				id = "field.invalid"
			}
			f.Errors[fe.Field] = append(f.Errors[fe.Field], id)
		}
		return w.renderDashboard(rw, r, http.StatusUnprocessableEntity, ch, f, "")
	}
	if err != nil {
		return fmt.Errorf("save stream info of channel %d: %w", ch.ID, err)
	}
	http.Redirect(rw, r, "/dashboard?saved=info#stream-info", http.StatusSeeOther)
	return nil
}

// regenerateStreamKey replaces the channel's stream key. The form carries confirm=yes from
// the confirmation step, so a stray click cannot do it.
func (w *Web) regenerateStreamKey(rw http.ResponseWriter, r *http.Request) error {
	if r.PostForm.Get("confirm") != "yes" {
		return &web.StatusError{Status: http.StatusBadRequest, Message: "live.key_confirm"}
	}
	u := w.router.User(r)
	ch, err := w.opts.Channels.RegenerateStreamKey(r.Context(), u.ID)
	if err != nil {
		return fmt.Errorf("regenerate stream key of user %d: %w", u.ID, err)
	}
	w.log.InfoContext(r.Context(), "liveweb: stream key regenerated", "channel_id", ch.ID, "user_id", u.ID,
		"request_id", web.RequestID(r.Context()))
	http.Redirect(rw, r, "/dashboard?saved=key#stream-key", http.StatusSeeOther)
	return nil
}

// endBroadcast ends the streamer's broadcast at once, without the grace period, and drops
// the connected publisher: the way out when a leaked key is being used (reset the key
// first, then end the broadcast). The form carries confirm=yes from the confirmation step.
func (w *Web) endBroadcast(rw http.ResponseWriter, r *http.Request) error {
	if r.PostForm.Get("confirm") != "yes" {
		return &web.StatusError{Status: http.StatusBadRequest, Message: "live.end_confirm"}
	}
	ch, err := w.ownChannel(r)
	if err != nil {
		return err
	}
	err = w.opts.Live.EndBroadcast(r.Context(), ch.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) { // not live (any more): nothing to end
		return fmt.Errorf("end broadcast of channel %d: %w", ch.ID, err)
	}
	w.log.InfoContext(r.Context(), "liveweb: broadcast ended by its streamer", "channel_id", ch.ID,
		"request_id", web.RequestID(r.Context()))
	http.Redirect(rw, r, "/dashboard?saved=ended", http.StatusSeeOther)
	return nil
}

// maxTagInput bounds the tags field before it is split, so a huge paste costs nothing.
const maxTagInput = 1000

// splitTags splits the tags field on commas and '#' (people type "롤, 랭크" as well as
// "#롤 #랭크"); the live manager normalises and validates each tag.
func splitTags(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '#' || r == '＃' || r == '\n' || r == '，' })
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
