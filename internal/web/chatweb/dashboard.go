package chatweb

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/filter"
	"github.com/freelylive/freely/internal/web"
)

// Page sizes of the dashboard's lists (the hub caps them at chat.MaxPageSize).
const (
	auditPageSize = 30
	logPageSize   = 50
)

// dashboardView is the chat dashboard. Everything on it comes from hub calls that only the
// channel owner and site admins pass.
type dashboardView struct {
	Handle       string
	DisplayName  string
	Query        string // "?c=handle" when an admin manages another channel, else ""
	Filter       string
	Words        string // one per line
	Allowed      string
	Managers     []chat.ManagerInfo
	Restrictions []chat.RestrictionInfo
	Audit        []auditRow
	AuditNext    string // URL of the next (older) page, "" on the last
	LogUser      string // what the owner searched for
	LogFound     *account.User
	LogMessages  []logRow
	LogNext      string
	LogNotFound  bool
	Saved        string
}

type auditRow struct {
	At     string
	Actor  string
	Action string // message ID of the action's name
	Target string
	Detail string
}

type logRow struct {
	At      string
	Text    string
	Deleted bool
	Masked  bool
}

// targetChannel is the channel a dashboard request is about: the one named by ?c= or the
// form's channel field (for site admins; the hub refuses everyone else), else the user's own.
func (w *Web) targetChannel(r *http.Request) (*channel.Channel, error) {
	handle := strings.TrimPrefix(strings.TrimSpace(r.FormValue("c")), "@")
	if handle != "" {
		return w.opts.Channels.ByHandle(r.Context(), handle)
	}
	u := w.router.User(r)
	ch, err := w.opts.Channels.ByOwner(r.Context(), u.ID)
	if err != nil {
		return nil, fmt.Errorf("channel of user %d: %w", u.ID, err)
	}
	return ch, nil
}

// dashboardPage shows the chat settings, managers, bans, audit log and chat-log search.
func (w *Web) dashboardPage(rw http.ResponseWriter, r *http.Request) error {
	ch, err := w.targetChannel(r)
	if err != nil {
		return err
	}
	u := w.router.User(r)
	ctx := r.Context()
	settings, err := w.opts.Hub.Settings(ctx, u, ch.ID)
	if err != nil {
		return refusalError(err)
	}
	v := dashboardView{
		Handle:      ch.Handle,
		DisplayName: ch.DisplayName,
		Filter:      string(settings.FilterMode),
		Words:       strings.Join(settings.Words, "\n"),
		Allowed:     strings.Join(settings.AllowedWords, "\n"),
		Saved:       savedFlash(r.URL.Query().Get("saved")),
	}
	if ch.OwnerID != u.ID {
		v.Query = "?c=" + url.QueryEscape(ch.Handle)
	}
	if v.Managers, err = w.opts.Hub.Managers(ctx, u, ch.ID); err != nil {
		return refusalError(err)
	}
	if v.Restrictions, err = w.opts.Hub.Restrictions(ctx, u, ch.ID); err != nil {
		return refusalError(err)
	}
	if err := w.loadAudit(r, u, ch, &v); err != nil {
		return err
	}
	if err := w.loadLog(r, u, ch, &v); err != nil {
		return err
	}
	return w.router.Render(rw, r, http.StatusOK, &web.Page{
		Name:    "chat_dashboard",
		Title:   "chat.dashboard_title",
		Data:    v,
		NoIndex: true,
	})
}

func (w *Web) loadAudit(r *http.Request, u *account.User, ch *channel.Channel, v *dashboardView) error {
	before := queryID(r, "audit_before")
	entries, err := w.opts.Hub.AuditLog(r.Context(), u, ch.ID, before, auditPageSize)
	if err != nil {
		return refusalError(err)
	}
	names := map[int64]string{}
	name := func(id int64) string {
		if id == 0 {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		n := "#" + strconv.FormatInt(id, 10)
		if w.opts.Users != nil {
			if tu, err := w.opts.Users.UserByID(r.Context(), id); err == nil {
				n = tu.Nickname + " (#" + strconv.FormatInt(id, 10) + ")"
			}
		}
		names[id] = n
		return n
	}
	for _, e := range entries {
		v.Audit = append(v.Audit, auditRow{
			At:     e.At.Local().Format("2006-01-02 15:04:05"),
			Actor:  name(e.ActorID),
			Action: "chat.action_" + string(e.Action),
			Target: name(e.TargetUserID),
			Detail: e.Detail,
		})
	}
	if len(entries) == auditPageSize {
		v.AuditNext = pageURL(r, "audit_before", entries[len(entries)-1].ID)
	}
	return nil
}

// loadLog runs the chat-log search by user (nickname or channel handle) across broadcasts.
func (w *Web) loadLog(r *http.Request, u *account.User, ch *channel.Channel, v *dashboardView) error {
	v.LogUser = strings.TrimSpace(r.URL.Query().Get("user"))
	if v.LogUser == "" {
		return nil
	}
	if len(v.LogUser) > 100 {
		v.LogNotFound = true
		return nil
	}
	target, err := w.opts.Hub.FindUser(r.Context(), u, ch.ID, v.LogUser)
	if isNotFound(err) {
		v.LogNotFound = true
		return nil
	}
	if err != nil {
		return refusalError(err)
	}
	v.LogFound = target
	msgs, err := w.opts.Hub.UserMessages(r.Context(), u, ch.ID, target.ID, queryID(r, "before"), logPageSize)
	if err != nil {
		return refusalError(err)
	}
	for _, m := range msgs {
		v.LogMessages = append(v.LogMessages, logRow{
			At: m.SentAt.Local().Format("2006-01-02 15:04:05"), Text: m.Text,
			Deleted: !m.DeletedAt.IsZero(), Masked: m.Masked,
		})
	}
	if len(msgs) == logPageSize {
		v.LogNext = pageURL(r, "before", msgs[len(msgs)-1].ID)
	}
	return nil
}

// queryID reads a paging id; anything malformed means the first page.
func queryID(r *http.Request, name string) int64 {
	id, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// pageURL is the current dashboard URL with one paging parameter replaced.
func pageURL(r *http.Request, name string, id int64) string {
	q := r.URL.Query()
	q.Set(name, strconv.FormatInt(id, 10))
	q.Del("saved")
	return "/dashboard/chat?" + q.Encode()
}

func savedFlash(s string) string {
	switch s {
	case "appointed", "dismissed", "filter", "unbanned":
		return s
	}
	return ""
}

// back redirects to the dashboard of the channel the form was about, with a flash.
func back(rw http.ResponseWriter, r *http.Request, saved, anchor string) {
	q := url.Values{"saved": {saved}}
	if c := strings.TrimSpace(r.PostForm.Get("c")); c != "" {
		q.Set("c", c)
	}
	http.Redirect(rw, r, "/dashboard/chat?"+q.Encode()+"#"+anchor, http.StatusSeeOther)
}

// appointManager makes the user named by nickname or channel handle a manager.
func (w *Web) appointManager(rw http.ResponseWriter, r *http.Request) error {
	ch, err := w.targetChannel(r)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" || len(name) > 100 {
		return &web.StatusError{Status: http.StatusUnprocessableEntity, Message: "chat.err_name"}
	}
	if _, err := w.opts.Hub.AppointManager(r.Context(), w.router.User(r), ch.ID, name); err != nil {
		return refusalError(err)
	}
	back(rw, r, "appointed", "managers")
	return nil
}

func (w *Web) dismissManager(rw http.ResponseWriter, r *http.Request) error {
	return w.userAction(rw, r, w.opts.Hub.DismissManager, "dismissed", "managers")
}

func (w *Web) unban(rw http.ResponseWriter, r *http.Request) error {
	return w.userAction(rw, r, w.opts.Hub.Unban, "unbanned", "bans")
}

// userAction runs a moderation action on the user id the form names (never a nickname) in
// the dashboard's channel, then goes back to the dashboard section anchor with saved.
func (w *Web) userAction(rw http.ResponseWriter, r *http.Request, act func(ctx context.Context, actor *account.User, channelID, userID int64) error, saved, anchor string) error {
	ch, err := w.targetChannel(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PostForm.Get("user"), 10, 64)
	if err != nil || id <= 0 {
		return &web.StatusError{Status: http.StatusBadRequest, Message: "error.bad_request"}
	}
	if err := act(r.Context(), w.router.User(r), ch.ID, id); err != nil {
		return refusalError(err)
	}
	back(rw, r, saved, anchor)
	return nil
}

// saveFilter sets the filter mode and the owner's words (one per line or comma-separated).
func (w *Web) saveFilter(rw http.ResponseWriter, r *http.Request) error {
	ch, err := w.targetChannel(r)
	if err != nil {
		return err
	}
	mode := filter.Mode(r.PostForm.Get("mode"))
	if !mode.Valid() {
		return &web.StatusError{Status: http.StatusUnprocessableEntity, Message: "chat.err_invalid"}
	}
	words, allowed := splitWords(r.PostForm.Get("words")), splitWords(r.PostForm.Get("allowed"))
	if err := w.opts.Hub.SetFilter(r.Context(), w.router.User(r), ch.ID, mode, words, allowed); err != nil {
		return refusalError(err)
	}
	back(rw, r, "filter", "filter")
	return nil
}

func splitWords(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
