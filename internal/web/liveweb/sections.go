package liveweb

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/web"
)

// playerView is what the channel page's player renders. The page works from it alone until
// the status stream takes over.
type playerView struct {
	Handle      string
	DisplayName string
	Status      Status
	StartedAt   string // RFC 3339, "" while offline
	Playlist    string // the LL-HLS playlist path; the script adds ?vs=
	EventsURL   string
	StatusURL   string
	HLSJS       string // hashed URL of hls.js, "" when the build has none
	Suspended   bool
	Viewers     string // formatted: "1,234"
	Elapsed     string // "1:02:03", for pages read without scripts
}

// loadPlayer fills the channel page's video box.
func (w *Web) loadPlayer(r *http.Request, in web.SlotInput) (any, error) {
	ch := in.Channel
	if ch == nil {
		return nil, nil
	}
	st := w.statusOf(ch.Handle, w.playlistPath(ch.Handle))
	v := playerView{
		Handle:      ch.Handle,
		DisplayName: ch.DisplayName,
		Status:      st,
		Playlist:    w.playlistPath(ch.Handle),
		EventsURL:   "/api/v1/channels/" + ch.Handle + "/live/events",
		StatusURL:   "/api/v1/channels/" + ch.Handle + "/live",
		HLSJS:       w.hlsJS,
		Suspended:   ch.Suspended,
	}
	v.Viewers = formatCount(st.Viewers)
	if st.StartedAt != nil {
		v.StartedAt = st.StartedAt.Format(time.RFC3339)
		v.Elapsed = formatElapsed(w.now().Sub(*st.StartedAt))
	}
	return v, nil
}

// liveCard is one card of the home page's "live now" grid.
type liveCard struct {
	Handle       string
	DisplayName  string
	ProfileURL   string
	Title        string
	Category     *channel.Category
	Tags         []string
	ViewersText  string // formatted: "1,234"
	ThumbnailURL string
	StartedAt    string // RFC 3339
}

type liveGridView struct {
	Cards []liveCard
}

// loadLiveGrid fills the home page's "live now" area; with nobody live it returns nil and
// the page shows its empty state.
func (w *Web) loadLiveGrid(r *http.Request, _ web.SlotInput) (any, error) {
	now := w.opts.Live.LiveNow(r.Context(), w.opts.HomeLimit)
	if len(now) == 0 {
		return nil, nil
	}
	cards := make([]liveCard, 0, len(now))
	for _, lc := range now {
		cards = append(cards, toCard(lc, w.opts.Channels.ImageURL(lc.ProfileKey)))
	}
	return liveGridView{Cards: cards}, nil
}

func toCard(lc live.LiveChannel, profileURL string) liveCard {
	return liveCard{
		Handle:       lc.Handle,
		DisplayName:  lc.DisplayName,
		ProfileURL:   profileURL,
		Title:        lc.Title,
		Category:     lc.Category,
		Tags:         lc.Tags,
		ViewersText:  formatCount(lc.Viewers),
		ThumbnailURL: lc.ThumbnailURL,
		StartedAt:    lc.StartedAt.UTC().Format(time.RFC3339),
	}
}

// formatCount writes n with thousands separators ("12,345"), as both languages do.
func formatCount(n int) string {
	s := strconv.Itoa(max(n, 0))
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// formatElapsed writes a broadcast's running time as H:MM:SS (M:SS under an hour).
func formatElapsed(d time.Duration) string {
	s := int64(max(d, 0) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
