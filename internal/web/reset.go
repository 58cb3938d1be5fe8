package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/freelylive/freely/internal/account"
)

func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, &Page{Name: "forgot", Title: "forgot.title", Form: &Form{}})
}

// forgot asks for a reset mail. The answer is the same whether or not the address has an
// account, so the form cannot be used to find out who is registered.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r, "email")
	err := s.accounts.RequestPasswordReset(r.Context(), r.PostForm.Get("email"))
	if f.addServiceErrors(err, "email") {
		return s.render(w, r, http.StatusUnprocessableEntity, &Page{Name: "forgot", Title: "forgot.title", Form: f})
	}
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	s.redirect(w, r, "/login", "flash.reset_requested")
	return nil
}

// resetPage is where the reset link lands: a form for the new password, carrying the token.
func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) error {
	tokenPageHeaders(w)
	token, ok := linkToken(r.URL.Query().Get("token"))
	if !ok {
		return s.render(w, r, http.StatusBadRequest, &Page{Name: "reset", Title: "reset.title", NoIndex: true,
			Data: tokenPageData{Invalid: true, Reason: "verify.missing_token"}})
	}
	return s.render(w, r, http.StatusOK, &Page{Name: "reset", Title: "reset.title", NoIndex: true, Form: &Form{},
		Data: tokenPageData{Token: token}})
}

// reset sets the new password. The service logs the account out everywhere, this browser
// included, so the user logs in again with the new password.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) error {
	tokenPageHeaders(w)
	token, ok := linkToken(r.PostForm.Get("token"))
	if !ok {
		return s.render(w, r, http.StatusBadRequest, &Page{Name: "reset", Title: "reset.title", NoIndex: true,
			Data: tokenPageData{Invalid: true, Reason: "verify.missing_token"}})
	}
	f := newForm(r)
	err := s.accounts.ResetPassword(r.Context(), token, r.PostForm.Get("password"))
	switch {
	case errors.Is(err, account.ErrInvalidToken):
		return s.render(w, r, http.StatusBadRequest, &Page{Name: "reset", Title: "reset.title", NoIndex: true,
			Data: tokenPageData{Invalid: true, Reason: "reset.invalid_text"}})
	case f.addServiceErrors(err, "password"):
		return s.render(w, r, http.StatusUnprocessableEntity, &Page{Name: "reset", Title: "reset.title", NoIndex: true,
			Form: f, Data: tokenPageData{Token: token}})
	case err != nil:
		return fmt.Errorf("reset password: %w", err)
	}
	s.endSession(w, r)
	s.redirect(w, r, "/login", "flash.password_reset")
	return nil
}
