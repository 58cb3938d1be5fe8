package web

import (
	"fmt"
	"net/http"

	"github.com/freelylive/freely/internal/channel"
)

// The JSON API's response types list their fields explicitly: nothing private (e-mail,
// stream key, password hash, owner id) can slip into a public response by being added to a
// domain struct.

type apiCategory struct {
	Slug   string `json:"slug"`
	NameKO string `json:"name_ko"`
	NameEN string `json:"name_en"`
}

type apiChannel struct {
	Handle          string        `json:"handle"`
	DisplayName     string        `json:"display_name"`
	Introduction    string        `json:"introduction"`
	ProfileImageURL string        `json:"profile_image_url"`
	BannerImageURL  string        `json:"banner_image_url"`
	Categories      []apiCategory `json:"categories"`
	URL             string        `json:"url"`
}

func (s *Server) toAPIChannel(ch *channel.Channel) apiChannel {
	out := apiChannel{
		Handle:          ch.Handle,
		DisplayName:     ch.DisplayName,
		Introduction:    ch.Introduction,
		ProfileImageURL: s.channels.ImageURL(ch.ProfileKey),
		BannerImageURL:  s.channels.ImageURL(ch.BannerKey),
		Categories:      []apiCategory{},
		URL:             s.baseURL + "/c/" + ch.Handle,
	}
	for _, c := range ch.Categories {
		out.Categories = append(out.Categories, apiCategory{Slug: c.Slug, NameKO: c.NameKO, NameEN: c.NameEN})
	}
	return out
}

// apiChannel answers GET /api/v1/channels/{handle} with the channel's public fields.
func (s *Server) apiChannel(w http.ResponseWriter, r *http.Request) error {
	handle, err := channel.NormalizeHandle(r.PathValue("handle"))
	if err != nil {
		return errNotFound
	}
	ch, err := s.channels.ByHandle(r.Context(), handle)
	if err != nil {
		return fmt.Errorf("api channel %q: %w", handle, err)
	}
	s.writeJSON(w, http.StatusOK, s.toAPIChannel(ch))
	return nil
}

type apiMe struct {
	ID            int64      `json:"id"`
	Nickname      string     `json:"nickname"`
	Email         string     `json:"email"` // the user's own address; /me is never public
	EmailVerified bool       `json:"email_verified"`
	AvatarURL     string     `json:"avatar_url"`
	Channel       apiChannel `json:"channel"`
}

// apiMe answers GET /api/v1/me for the logged-in user.
func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	ch, err := s.channels.ByOwner(r.Context(), u.ID)
	if err != nil {
		return fmt.Errorf("api me: channel of user %d: %w", u.ID, err)
	}
	s.writeJSON(w, http.StatusOK, apiMe{
		ID:            u.ID,
		Nickname:      u.Nickname,
		Email:         u.Email,
		EmailVerified: u.Verified(),
		AvatarURL:     s.accounts.AvatarURL(u),
		Channel:       s.toAPIChannel(ch),
	})
	return nil
}
