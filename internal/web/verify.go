package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/freelylive/freely/internal/account"
)

// verifyPage is where the e-mailed link lands. It only shows a button: the token is used by
// the POST, so mail scanners that fetch links ahead of the user do not consume it.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) error {
	tokenPageHeaders(w)
	token, ok := linkToken(r.URL.Query().Get("token"))
	if !ok {
		return s.render(w, r, http.StatusBadRequest, &Page{Name: "verify", Title: "verify.title", NoIndex: true,
			Data: tokenPageData{Invalid: true, Reason: "verify.missing_token"}})
	}
	return s.render(w, r, http.StatusOK, &Page{Name: "verify", Title: "verify.title", NoIndex: true,
		Data: tokenPageData{Token: token}})
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	tokenPageHeaders(w)
	invalid := func(reason string) error {
		return s.render(w, r, http.StatusBadRequest, &Page{Name: "verify", Title: "verify.title", NoIndex: true,
			Data: tokenPageData{Invalid: true, Reason: reason}})
	}
	token, ok := linkToken(r.PostForm.Get("token"))
	if !ok {
		return invalid("verify.missing_token")
	}
	_, err := s.accounts.VerifyEmail(r.Context(), token)
	switch {
	case errors.Is(err, account.ErrInvalidToken):
		return invalid("verify.invalid_text")
	case err != nil:
		return fmt.Errorf("verify e-mail: %w", err)
	}
	to := "/"
	if userFrom(r.Context()) == nil {
		to = "/login"
	}
	s.redirect(w, r, to, "flash.verified")
	return nil
}

// resendVerification mails a new verification link to the logged-in, unverified user.
func (s *Server) resendVerification(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	if u.Verified() {
		s.redirect(w, r, "/", "flash.already_verified")
		return nil
	}
	if err := s.accounts.ResendVerification(r.Context(), u.ID); err != nil {
		return fmt.Errorf("resend verification to user %d: %w", u.ID, err)
	}
	s.redirect(w, r, "/", "flash.verification_sent")
	return nil
}
