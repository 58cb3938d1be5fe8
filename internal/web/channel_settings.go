package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/freelylive/freely/internal/channel"
)

type channelSettingsData struct {
	Channel    publicChannel
	Categories []channel.Category
	Chosen     []string // one entry per category select, "" for none
	ProfileURL string
	BannerURL  string
}

var channelSettingsFields = []string{"display_name", "introduction", "categories", "profile_image", "banner_image"}

// channelSettingsPage lets the owner edit the public face of their channel.
func (s *Server) channelSettingsPage(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.ownChannel(r)
	if err != nil {
		return err
	}
	return s.renderChannelSettings(w, r, http.StatusOK, ch, settingsForm(ch))
}

func (s *Server) updateChannelSettings(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	in := channel.SettingsInput{
		DisplayName:   r.PostForm.Get("display_name"),
		Introduction:  r.PostForm.Get("introduction"),
		CategorySlugs: chosenCategories(r.PostForm["categories"]),
	}
	_, err := s.channels.UpdateSettings(r.Context(), u.ID, in)
	f := newForm(r, "display_name", "introduction")
	f.Set("categories", in.CategorySlugs...)
	if f.addServiceErrors(err, channelSettingsFields...) {
		ch, err := s.ownChannel(r)
		if err != nil {
			return err
		}
		return s.renderChannelSettings(w, r, http.StatusUnprocessableEntity, ch, f)
	}
	if err != nil {
		return fmt.Errorf("update channel settings of user %d: %w", u.ID, err)
	}
	s.redirect(w, r, "/settings/channel", "flash.channel_saved")
	return nil
}

// chosenCategories drops the "none" choices and repeats, keeping the order of the selects.
func chosenCategories(values []string) []string {
	out := []string{}
	for _, v := range values {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) uploadChannelProfileImage(w http.ResponseWriter, r *http.Request) error {
	return s.uploadChannelImage(w, r, "profile_image", s.channels.SetProfileImage)
}

func (s *Server) uploadChannelBanner(w http.ResponseWriter, r *http.Request) error {
	return s.uploadChannelImage(w, r, "banner_image", s.channels.SetBannerImage)
}

// uploadChannelImage hands the file in the "image" part to set, which checks it by content,
// re-encodes and stores it; refusals are shown on the settings page under errField.
func (s *Server) uploadChannelImage(w http.ResponseWriter, r *http.Request, errField string,
	set func(ctx context.Context, ownerID int64, img io.Reader) (*channel.Channel, error)) error {
	u := userFrom(r.Context())
	ch, err := s.ownChannel(r)
	if err != nil {
		return err
	}
	f := settingsForm(ch)
	file, ok, err := uploadedFile(r, "image")
	if err != nil {
		return err
	}
	if !ok {
		f.AddError(errField, "field.image_missing")
		return s.renderChannelSettings(w, r, http.StatusUnprocessableEntity, ch, f)
	}
	defer file.Close()
	_, err = set(r.Context(), u.ID, file)
	if f.addServiceErrors(err, channelSettingsFields...) {
		return s.renderChannelSettings(w, r, http.StatusUnprocessableEntity, ch, f)
	}
	if err != nil {
		return fmt.Errorf("set %s of user %d: %w", errField, u.ID, err)
	}
	s.redirect(w, r, "/settings/channel", "flash.channel_image_saved")
	return nil
}

func settingsForm(ch *channel.Channel) *Form {
	f := &Form{values: map[string][]string{}}
	f.Set("display_name", ch.DisplayName)
	f.Set("introduction", ch.Introduction)
	slugs := make([]string, 0, len(ch.Categories))
	for _, c := range ch.Categories {
		slugs = append(slugs, c.Slug)
	}
	f.Set("categories", slugs...)
	return f
}

func (s *Server) ownChannel(r *http.Request) (*channel.Channel, error) {
	u := userFrom(r.Context())
	ch, err := s.channels.ByOwner(r.Context(), u.ID)
	if err != nil {
		return nil, fmt.Errorf("channel of user %d: %w", u.ID, err)
	}
	return ch, nil
}

func (s *Server) renderChannelSettings(w http.ResponseWriter, r *http.Request, status int, ch *channel.Channel, f *Form) error {
	cats, err := s.channels.Categories(r.Context())
	if err != nil {
		return fmt.Errorf("list categories: %w", err)
	}
	chosen := make([]string, channel.MaxCategories)
	copy(chosen, f.Values("categories"))
	return s.render(w, r, status, &Page{
		Name:    "channel_settings",
		Title:   "settings.title",
		NoIndex: true,
		Form:    f,
		Data: channelSettingsData{
			Channel:    toPublicChannel(ch),
			Categories: cats,
			Chosen:     chosen,
			ProfileURL: s.channels.ImageURL(ch.ProfileKey),
			BannerURL:  s.channels.ImageURL(ch.BannerKey),
		},
	})
}
