package web

import (
	"fmt"
	"net/http"

	"github.com/freelylive/freely/internal/channel"
)

// channelView is the public face of a channel. It deliberately does not expose the stream
// key: templates receive only what a visitor may see.
type channelView struct {
	Channel    publicChannel
	ProfileURL string
	BannerURL  string
	IsOwner    bool
}

// publicChannel copies the public fields of a channel, so a template cannot reach the
// stream key or the owner's id by accident.
type publicChannel struct {
	Handle       string
	DisplayName  string
	Introduction string
	Categories   []channel.Category
	Suspended    bool
}

func toPublicChannel(ch *channel.Channel) publicChannel {
	return publicChannel{
		Handle:       ch.Handle,
		DisplayName:  ch.DisplayName,
		Introduction: ch.Introduction,
		Categories:   ch.Categories,
		Suspended:    ch.Suspended,
	}
}

// channelPage is the public page of a channel: banner, picture, name, categories, the player
// and chat slots (filled by the live and chat features) and the introduction.
func (s *Server) channelPage(w http.ResponseWriter, r *http.Request) error {
	handle, err := channel.NormalizeHandle(r.PathValue("handle"))
	if err != nil {
		return errNotFound
	}
	ch, err := s.channels.ByHandle(r.Context(), handle)
	if err != nil {
		return fmt.Errorf("channel page %q: %w", handle, err)
	}
	viewer := userFrom(r.Context())
	in := SlotInput{Viewer: viewer, Channel: ch}
	return s.render(w, r, http.StatusOK, &Page{
		Name:      "channel",
		Title:     "channel.title",
		TitleArgs: []any{ch.DisplayName},
		Data: channelView{
			Channel:    toPublicChannel(ch),
			ProfileURL: s.channels.ImageURL(ch.ProfileKey),
			BannerURL:  s.channels.ImageURL(ch.BannerKey),
			IsOwner:    viewer != nil && viewer.ID == ch.OwnerID,
		},
		Slots: map[string][]Fragment{
			SlotChannelPlayer: s.fillSlot(r, SlotChannelPlayer, in),
			SlotChannelChat:   s.fillSlot(r, SlotChannelChat, in),
			SlotChannelAfter:  s.fillSlot(r, SlotChannelAfter, in),
			// Beside the name: the follow button.
			SlotChannelActions: s.fillSlot(r, SlotChannelActions, in),
		},
	})
}

// myChannel sends the logged-in user to their own channel page.
func (s *Server) myChannel(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	ch, err := s.channels.ByOwner(r.Context(), u.ID)
	if err != nil {
		return fmt.Errorf("channel of user %d: %w", u.ID, err)
	}
	http.Redirect(w, r, "/c/"+ch.Handle, http.StatusSeeOther)
	return nil
}
