package web

import (
	"fmt"
	"net/http"
)

func (s *Server) profilePage(w http.ResponseWriter, r *http.Request) error {
	f := &Form{values: map[string][]string{}}
	f.Set("nickname", userFrom(r.Context()).Nickname)
	return s.render(w, r, http.StatusOK, &Page{Name: "profile", Title: "profile.title", Form: f, NoIndex: true})
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	f := newForm(r, "nickname")
	_, err := s.accounts.UpdateNickname(r.Context(), u.ID, r.PostForm.Get("nickname"))
	if f.addServiceErrors(err, "nickname") {
		return s.render(w, r, http.StatusUnprocessableEntity, &Page{Name: "profile", Title: "profile.title", Form: f, NoIndex: true})
	}
	if err != nil {
		return fmt.Errorf("update nickname of user %d: %w", u.ID, err)
	}
	s.redirect(w, r, "/profile", "flash.profile_saved")
	return nil
}

// uploadAvatar hands the uploaded file to the account service, which checks it by content,
// re-encodes it and stores it.
func (s *Server) uploadAvatar(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	f := &Form{values: map[string][]string{}}
	f.Set("nickname", u.Nickname)
	rerender := func() error {
		return s.render(w, r, http.StatusUnprocessableEntity, &Page{Name: "profile", Title: "profile.title", Form: f, NoIndex: true})
	}
	file, ok, err := uploadedFile(r, "avatar")
	if err != nil {
		return err
	}
	if !ok {
		f.AddError("avatar", "field.image_missing")
		return rerender()
	}
	defer file.Close()
	_, err = s.accounts.SetAvatar(r.Context(), u.ID, file)
	if f.addServiceErrors(err, "avatar") {
		return rerender()
	}
	if err != nil {
		return fmt.Errorf("set avatar of user %d: %w", u.ID, err)
	}
	s.redirect(w, r, "/profile", "flash.avatar_saved")
	return nil
}
