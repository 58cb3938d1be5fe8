package web

import (
	"fmt"
	"net/http"

	"github.com/freelylive/freely/internal/account"
)

var signupFields = []string{"email", "password", "nickname", "handle"}

func (s *Server) signupPage(w http.ResponseWriter, r *http.Request) error {
	if userFrom(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, &Page{Name: "signup", Title: "signup.title", Form: &Form{}})
}

// signup creates the account and its channel (the service sends the verification mail),
// then logs the new user in so they land on the site with the "verify your e-mail" bar.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	in := account.SignUpInput{
		Email:    r.PostForm.Get("email"),
		Password: r.PostForm.Get("password"),
		Nickname: r.PostForm.Get("nickname"),
		Handle:   r.PostForm.Get("handle"),
	}
	f := newForm(r, "email", "nickname", "handle")
	_, err := s.accounts.SignUp(ctx, in)
	if f.addServiceErrors(err, signupFields...) {
		return s.render(w, r, http.StatusUnprocessableEntity, &Page{Name: "signup", Title: "signup.title", Form: f})
	}
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	token, u, sess, err := s.accounts.LogIn(ctx, in.Email, in.Password, s.sessionMeta(r))
	if err != nil {
		return fmt.Errorf("log in after sign-up: %w", err)
	}
	// Someone signing up while logged in (a shared computer) switches accounts: the old
	// session ends rather than lingering in the database.
	if old := stateFrom(ctx).token; old != "" {
		if err := s.accounts.LogOut(ctx, old); err != nil {
			return fmt.Errorf("end previous session: %w", err)
		}
	}
	s.startSession(w, r, token, u, sess)
	s.redirect(w, r, "/", "flash.signed_up")
	return nil
}
