package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/freelylive/freely/internal/account"
)

type loginData struct {
	Next string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if userFrom(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, &Page{Name: "login", Title: "login.title", Form: &Form{}, Data: loginData{Next: next}})
}

// login replaces any current session with a new one (a fresh token on every log-in, so a
// token planted before log-in is worthless after it) and returns to ?next= if it is local.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	next := safeNext(r.PostForm.Get("next"))
	email, password := r.PostForm.Get("email"), r.PostForm.Get("password")
	f := newForm(r, "email")
	token, u, sess, err := s.accounts.LogIn(ctx, email, password, s.sessionMeta(r))
	switch {
	case errors.Is(err, account.ErrInvalidCredentials):
		f.AddError("", "field.invalid_credentials")
		return s.render(w, r, http.StatusUnauthorized, &Page{Name: "login", Title: "login.title", Form: f, Data: loginData{Next: next}})
	case f.addServiceErrors(err, "email", "password"):
		return s.render(w, r, http.StatusUnprocessableEntity, &Page{Name: "login", Title: "login.title", Form: f, Data: loginData{Next: next}})
	case err != nil:
		return fmt.Errorf("log in: %w", err)
	}
	if old := stateFrom(ctx).token; old != "" {
		if err := s.accounts.LogOut(ctx, old); err != nil {
			return fmt.Errorf("end previous session: %w", err)
		}
	}
	s.startSession(w, r, token, u, sess)
	s.redirect(w, r, next, "flash.logged_in")
	return nil
}

// logout ends the session on the server (the token stops working everywhere) and in the
// browser.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.accounts.LogOut(r.Context(), stateFrom(r.Context()).token); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	s.endSession(w, r)
	s.redirect(w, r, "/", "flash.logged_out")
	return nil
}
